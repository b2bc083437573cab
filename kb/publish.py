"""What the knowledge base publishes: the running service's :class:`Publication` (dumps,
DCAT-AP catalogue, VoID and ontology of the current data version, made once per version) and a
self-contained static release (what a province uploads where a portal harvests it).

``publish(store, settings, outdir, url=...)`` writes::

    OUTDIR/index.html              a small page listing everything (nl/en)
    OUTDIR/catalog.ttl, .rdf       the DCAT-AP catalogue (download URLs under ``url``)
    OUTDIR/void.ttl                the VoID description
    OUTDIR/downloads/...           the dumps (N-Triples gzip, Turtle, JSON-LD, TriG)
    OUTDIR/manifest.json           files, sizes, checksums and statistics
    OUTDIR/SHA256SUMS              ``sha256sum -c`` checks every file

No HTTP here; the dumps come through the store client like everything else.
"""

from __future__ import annotations

import hashlib
import html
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef

from kb import catalogue as cat
from kb import ontology_doc
from kb.config import Settings
from kb.dumps import FORMAT_BY_KEY, MANIFEST, Dumps, downloads_root, ensure_dumps, graph_name
from kb.store.http import SparqlHttpStore
from kb.void import void_graph

#: Serialized catalogue pages kept per data version (a few pages and formats).
MAX_PAGES = 64


@dataclass
class Published:
    """What is published for one data version."""

    version: str
    dumps: Dumps
    catalogue: Graph  # every dataset, no paging
    void: Graph
    pages: dict[tuple[str, str], bytes] = field(default_factory=dict)  # serialized /catalog

    def keep_page(self, key: tuple[str, str], body: bytes) -> None:
        if len(self.pages) < MAX_PAGES:
            self.pages[key] = body

    def resource(self, iri: str) -> Graph | None:
        """The catalogue's triples about ``iri`` (and its blank nodes), or ``None``."""
        node = URIRef(iri)
        if (node, None, None) not in self.catalogue:
            return None
        out = Graph()
        for p, o in self.catalogue.predicate_objects(node):
            out.add((node, p, o))
            for p2, o2 in self.catalogue.predicate_objects(o):
                if not isinstance(o, URIRef):
                    out.add((o, p2, o2))
        for s, p in self.catalogue.subject_predicates(node):
            out.add((s, p, node))
        return out


class Publication:
    """The publication state of one running knowledge base: its :class:`Published` for the
    store's current data version, made when first asked for after the data changed (dumps are
    generated then, never per request) and shared by every request until the next change."""

    def __init__(self, store: SparqlHttpStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        self._current: Published | None = None
        self._ontology: tuple[str, Graph] | None = None

    def current(self) -> Published:
        version = self.store.data_version
        hit = self._current
        if hit is not None and hit.version == version:
            return hit
        with self._lock:
            hit = self._current
            if hit is not None and hit.version == version:
                return hit
            base = self.settings.base_iri
            dumps = ensure_dumps(self.store, base, downloads_root(self.settings))
            made = Published(
                version,
                dumps,
                cat.catalogue_graph(base, dumps, publisher(self.settings)),
                void_graph(base, dumps),
            )
            self._current = made
            return made

    def ontology(self) -> Graph:
        """The ontology document of the current data version (read from the store once per
        version; no dumps are made for it)."""
        version = self.store.data_version
        hit = self._ontology
        if hit is None or hit[0] != version:
            hit = (version, ontology_doc.ontology_graph(self.store, self.settings.base_iri))
            self._ontology = hit
        return hit[1]

    def resource(self, iri: str) -> Graph | None:
        """The catalogue's triples about ``iri`` (for the ``/id/...`` pages of catalogue
        resources), or ``None``; an identifier outside the catalogue's paths never builds
        dumps."""
        base = self.settings.base_iri
        if not iri.startswith(tuple(base + p for p in cat.RESOURCE_PATHS)):
            return None
        return self.current().resource(iri)


@dataclass(frozen=True)
class Release:
    folder: Path
    url: str
    files: int
    bytes: int
    dumps: Dumps


def publisher(settings: Settings) -> cat.Publisher:
    return cat.Publisher(settings.publisher_name, settings.contact_email, settings.licence)


def publish(
    store: SparqlHttpStore, settings: Settings, outdir: Path, *, url: str | None = None
) -> Release:
    """Write the static release into ``outdir`` (which must be empty or absent). ``url`` is
    where it will be served (default: ``{base}release/``)."""
    base = settings.base_iri
    url = url or base + "release/"
    url = url if url.endswith("/") else url + "/"
    if outdir.exists() and any(outdir.iterdir()):
        from kb.errors import ConfigError

        raise ConfigError(f"{outdir} is not empty; publish into a new or empty folder")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clusterkb-publish-") as tmp:
        dumps = ensure_dumps(store, base, Path(tmp))
        shutil.copytree(dumps.folder, outdir / "downloads")
        (outdir / "downloads" / MANIFEST).rename(outdir / MANIFEST)
    site = cat.Site(url + "index.html", url + "downloads/")
    catalogue = cat.catalogue_graph(base, dumps, publisher(settings), site=site)
    catalogue.serialize(outdir / "catalog.ttl", format="turtle", encoding="utf-8")
    catalogue.serialize(outdir / "catalog.rdf", format="xml", encoding="utf-8")
    void_graph(base, dumps, site).serialize(outdir / "void.ttl", format="turtle", encoding="utf-8")
    (outdir / "index.html").write_text(_index(base, url, dumps), encoding="utf-8")
    files = sorted(p for p in outdir.rglob("*") if p.is_file())
    sums = "".join(f"{_sha256(p)}  {p.relative_to(outdir).as_posix()}\n" for p in files)
    (outdir / "SHA256SUMS").write_text(sums, encoding="utf-8")
    size = sum(p.stat().st_size for p in outdir.rglob("*") if p.is_file())
    return Release(outdir, url, len(files) + 1, size, dumps)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _index(base: str, url: str, dumps: Dumps) -> str:
    e = html.escape
    rows = []
    for graph in [None, *sorted(g for g in dumps.stats if g)]:
        name = "clusterkb" if graph is None else graph_name(base, graph)
        for f in dumps.for_graph(graph):
            rows.append(
                f"<tr><td><code>{e(name)}</code></td>"
                f'<td><a href="downloads/{e(f.path)}">{e(FORMAT_BY_KEY[f.format].label)}</a></td>'
                f'<td class="n">{f.bytes:,}</td><td><code>{f.sha256}</code></td></tr>'
            )
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ClusterKB – open data release</title>
<link rel="alternate" type="text/turtle" href="catalog.ttl" title="DCAT-AP">
<link rel="alternate" type="application/rdf+xml" href="catalog.rdf" title="DCAT-AP">
<style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1b}}table{{border-collapse:collapse;width:100%}}td,th{{text-align:left;
padding:.3rem .6rem;border-bottom:1px solid #eee;font-size:.9rem}}td.n{{text-align:right}}
code{{font-size:.8rem}}</style></head><body>
<h1>ClusterKB – open data</h1>
<p lang="nl">Linked open data over het provinciaal innovatieclusterbeleid in Vlaanderen.
Gegenereerd op {e(dumps.generated)} (dataversie <code>{e(dumps.version[:12])}</code>).</p>
<p lang="en">Linked open data on Flemish provincial innovation-cluster policy.
Generated on {e(dumps.generated)}.</p>
<ul>
<li>DCAT-AP 3.0.1 / DCAT-AP VL 3.0: <a href="catalog.ttl">catalog.ttl</a>,
<a href="catalog.rdf">catalog.rdf</a></li>
<li>VoID: <a href="void.ttl">void.ttl</a></li>
<li>SHA-256: <a href="SHA256SUMS">SHA256SUMS</a> (<code>sha256sum -c SHA256SUMS</code>)</li>
<li>Identifiers / identificatoren: <code>{e(base)}id/…</code>;
this release: <code>{e(url)}</code></li>
</ul>
<table><tr><th>graph</th><th>format</th><th>bytes</th><th>SHA-256</th></tr>
{"".join(rows)}
</table></body></html>
"""
