"""Data dumps: the whole knowledge base and each named graph as N-Triples (gzip), Turtle,
JSON-LD and TriG, with byte sizes, SHA-256 checksums and statistics for VoID. No HTTP here.

Dumps are written into ``{root}/{data_version}/`` (a temporary folder renamed into place, so a
reader never sees half a release) and reused until the store's ``data_version`` changes:
generated when data changed, not on every request. Older versions are removed.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
import shutil
import threading
import urllib.parse
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kb.config import Settings
from kb.formats import Format, formats
from kb.namespaces import DCTERMS as DCT
from kb.namespaces import PC, PREFIXES, RDF_NS, RDFS_NS, SKOS, graph_iri
from kb.store.http import SparqlHttpStore

MANIFEST = "manifest.json"
WHOLE = "clusterkb"

RDF_TYPE = str(RDF_NS.type)
LABELS = (str(SKOS.prefLabel), str(RDFS_NS.label), str(DCT.title))
DATE_PROPERTIES = (
    "https://schema.org/startDate",
    "https://schema.org/endDate",
    "http://www.w3.org/ns/dcat#startDate",
    "http://www.w3.org/ns/dcat#endDate",
)
#: Graphs under ``{namespace}graph/links/`` (the files of ``data/links/``) are linksets.
LINKSET_GRAPHS = "graph/links/"
#: Link targets counted as VoID linksets: name -> (IRI namespace, dataset IRI, homepage).
LINK_TARGETS: dict[str, tuple[str, str, str]] = {
    "nuts": (
        "http://data.europa.eu/nuts/code/",
        "http://data.europa.eu/nuts",
        "https://ec.europa.eu/eurostat/web/nuts",
    ),
    "nace": (
        "http://data.europa.eu/ux2/nace2/",
        "http://data.europa.eu/ux2/nace2",
        "https://op.europa.eu/en/web/eu-vocabularies/dataset/-/resource?uri=http://publications.europa.eu/resource/dataset/nace2",
    ),
    "wikidata": (
        "http://www.wikidata.org/entity/",
        "http://www.wikidata.org/",
        "https://www.wikidata.org/",
    ),
    "ror": ("https://ror.org/", "https://ror.org/", "https://ror.org/"),
    "kbo": (
        "https://org.belgif.be/id/CbeRegisteredEntity/",
        "https://org.belgif.be/",
        "https://org.belgif.be/",
    ),
}


#: The dump formats: rows of the format table; a dump file's ``format`` is the row's key
#: (its usual suffix: ``nt.gz``, ``ttl``, ``jsonld``, ``trig``).
FORMATS: tuple[Format, ...] = formats("ntriples-gzip", "turtle", "jsonld", "trig")
FORMAT_BY_KEY: dict[str, Format] = {f.key: f for f in FORMATS}


@dataclass
class Stats:
    """What VoID and DCAT say about one graph (or the whole knowledge base)."""

    triples: int = 0
    entities: int = 0
    distinct_subjects: int = 0
    distinct_objects: int = 0
    classes: dict[str, int] = field(default_factory=dict)  # class -> instances
    properties: dict[str, int] = field(default_factory=dict)  # property -> triples
    linksets: dict[str, dict[str, int]] = field(default_factory=dict)  # target -> pred -> n
    spatial: list[str] = field(default_factory=list)  # NUTS IRIs named with dct:spatial
    temporal: tuple[str, str] | None = None  # earliest and latest date (ISO)
    title: dict[str, str] = field(default_factory=dict)  # lang -> title
    fingerprint: str = ""  # SHA-256 of the graph's sorted N-Triples: same content, same print
    modified: str = ""  # ISO datetime (UTC) the content last changed (kept while it does not)


@dataclass(frozen=True)
class DumpFile:
    path: str  # relative to the version folder: "clusterkb.ttl", "graph/clusters/x.trig"
    graph: str | None  # the named graph; None for the whole knowledge base
    format: str  # the key of its row in FORMATS
    media_type: str
    bytes: int
    sha256: str


@dataclass
class Dumps:
    version: str
    folder: Path
    generated: str  # ISO datetime (UTC) the dumps were made: the data's modification time
    files: list[DumpFile]
    stats: dict[str, Stats]  # graph IRI (or "" for the whole KB) -> statistics

    def file(self, path: str) -> DumpFile | None:
        return next((f for f in self.files if f.path == path), None)

    def for_graph(self, graph: str | None) -> list[DumpFile]:
        return [f for f in self.files if f.graph == graph]


def graph_name(base: str, graph: str) -> str:
    """``clusters/x`` for ``{base}graph/clusters/x``. Any other graph IRI, or one whose name
    could leave the downloads folder (``..``, empty or dot segments, odd characters), becomes
    ``other/{percent-encoded IRI}``: one safe file name."""
    prefix = graph_iri(base, "")
    if graph.startswith(prefix):
        name = graph[len(prefix) :]
        if all(_SEGMENT.fullmatch(part) for part in name.split("/")):
            return name
    return "other/" + urllib.parse.quote(graph, safe="")


_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_~-]*(?:\.[A-Za-z0-9_~-]+)*")


def downloads_root(settings: Settings) -> Path:
    """The ``downloads`` setting, or a ``downloads`` folder beside the store folder."""
    if settings.downloads:
        return Path(settings.downloads).expanduser().resolve()
    return settings.store_path.parent / "downloads"


_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)


def ensure_dumps(store: SparqlHttpStore, base: str, root: Path) -> Dumps:
    """The dumps of the store's current data version, generated if they do not exist yet."""
    version = store.data_version
    folder = root / version
    existing = _read(folder)
    if existing is not None:
        return existing
    with _locks[str(root.resolve())]:
        existing = _read(folder)
        if existing is not None:
            return existing
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            dumps = _write(store, base, tmp, version, previous=_latest(root))
            tmp.rename(folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        dumps.folder = folder
        _prune(root, keep=version)
        return dumps


def _read(folder: Path) -> Dumps | None:
    try:
        body = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Dumps(
        version=body["version"],
        folder=folder,
        generated=body["generated"],
        files=[DumpFile(**f) for f in body["files"]],
        stats={
            k: Stats(**{**v, "temporal": tuple(v["temporal"]) if v["temporal"] else None})
            for k, v in body["stats"].items()
        },
    )


def _latest(root: Path) -> Dumps | None:
    """The dumps of the previous data version still on disk (for unchanged graphs' dates)."""
    found = [d for d in map(_read, root.iterdir()) if d is not None] if root.is_dir() else []
    return max(found, key=lambda d: d.generated, default=None)


def _prune(root: Path, *, keep: str) -> None:
    for child in root.iterdir():
        if child.name != keep and child.is_dir() and not child.name.startswith(".tmp-"):
            shutil.rmtree(child, ignore_errors=True)


def _write(
    store: SparqlHttpStore, base: str, folder: Path, version: str, *, previous: Dumps | None
) -> Dumps:
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    graphs = store.graphs()
    quads: list[ox.Quad] = []
    if not getattr(store, "graph_scope", None):
        # the embedded store may hold a default graph too; a remote store's public default
        # graph is the merge of the named graphs below (and Virtuoso's graph store has none)
        default = list(ox.parse(store.get_graph(None), format=ox.RdfFormat.N_TRIPLES))
        quads += (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in default)
    files: list[DumpFile] = []
    stats: dict[str, Stats] = {}
    for graph in graphs:
        node = ox.NamedNode(graph)
        triples = list(ox.parse(store.get_graph(graph), format=ox.RdfFormat.N_TRIPLES))
        graph_quads = [ox.Quad(t.subject, t.predicate, t.object, node) for t in triples]
        quads += graph_quads
        stats[graph] = _dated(statistics(triples, base), graph, generated, previous)
        files += _serialize(folder, f"graph/{graph_name(base, graph)}", graph, graph_quads)
    whole = list(dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads))
    stats[""] = _dated(statistics(whole, base), "", generated, previous)
    files = _serialize(folder, WHOLE, None, quads, triples=whole) + files
    dumps = Dumps(version, folder, generated, files, stats)
    manifest = {
        "version": version,
        "generated": generated,
        "files": [asdict(f) for f in files],
        "stats": {k: asdict(v) for k, v in stats.items()},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return dumps


def _serialize(
    folder: Path,
    stem: str,
    graph: str | None,
    quads: list[ox.Quad],
    *,
    triples: list[ox.Triple] | None = None,
) -> list[DumpFile]:
    out = []
    as_triples = triples if triples is not None else [q.triple for q in quads]
    for fmt in FORMATS:
        path = folder / f"{stem}.{fmt.key}"
        path.parent.mkdir(parents=True, exist_ok=True)
        syntax = fmt.oxigraph
        assert syntax is not None
        data: Iterable[Any] = quads if syntax.supports_datasets else as_triples
        prefixes = PREFIXES if syntax in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
        body = ox.serialize(data, format=syntax, prefixes=prefixes)
        assert body is not None
        if fmt.gzip:
            body = gzip.compress(body, mtime=0)
        path.write_bytes(body)
        out.append(
            DumpFile(
                path=f"{stem}.{fmt.key}",
                graph=graph,
                format=fmt.key,
                media_type=fmt.media_type,
                bytes=len(body),
                sha256=hashlib.sha256(body).hexdigest(),
            )
        )
    return out


def _dated(stats: Stats, graph: str, now: str, previous: Dumps | None) -> Stats:
    """``stats`` with its modification time: carried over from the previous dumps when the
    content has the same fingerprint, else ``now``."""
    before = previous.stats.get(graph) if previous else None
    same = before is not None and before.fingerprint == stats.fingerprint and before.modified
    stats.modified = before.modified if same and before else now
    return stats


def statistics(triples: list[ox.Triple], base: str) -> Stats:
    """Counts for VoID and the facts the catalogue needs (titles, NUTS regions, dates)."""
    subjects: set[Any] = set()
    objects: set[Any] = set()
    typed: set[Any] = set()
    classes: Counter[str] = Counter()
    properties: Counter[str] = Counter()
    links: dict[str, Counter[str]] = defaultdict(Counter)
    spatial: set[str] = set()
    dates: list[str] = []
    titles: dict[str, dict[str, str]] = defaultdict(dict)
    kinds: dict[str, str] = {}
    for t in triples:
        s, p, o = t.subject, t.predicate.value, t.object
        subjects.add(s)
        objects.add(o)
        properties[p] += 1
        if p == RDF_TYPE and isinstance(o, ox.NamedNode):
            classes[o.value] += 1
            if isinstance(s, ox.NamedNode):
                typed.add(s)
                if (
                    o.value in (SKOS + "ConceptScheme", PC + "ProvincialCluster")
                    or o.value == "http://www.w3.org/2002/07/owl#Ontology"
                ):
                    kinds[s.value] = o.value
        elif isinstance(o, ox.NamedNode):
            for name, (ns, _ds, _home) in LINK_TARGETS.items():
                if o.value.startswith(ns) and isinstance(s, ox.NamedNode):
                    links[name][p] += 1
            if p == DCT + "spatial" and o.value.startswith(LINK_TARGETS["nuts"][0]):
                spatial.add(o.value)
        elif isinstance(o, ox.Literal):
            if p in LABELS and isinstance(s, ox.NamedNode) and o.language in ("nl", "en"):
                titles[s.value].setdefault(o.language, o.value)
            if p in DATE_PROPERTIES and o.datatype.value.endswith(("#date", "#gYear")):
                dates.append(o.value[:4] + "-01-01" if len(o.value) == 4 else o.value[:10])
    title: dict[str, str] = {}
    for kind in ("http://www.w3.org/2002/07/owl#Ontology", PC + "ProvincialCluster"):
        subject = next((s for s, k in sorted(kinds.items()) if k == kind), None)
        if subject and titles.get(subject):
            title = titles[subject]
            break
    else:
        schemes = [titles[s] for s, k in sorted(kinds.items()) if k.endswith("ConceptScheme")]
        if schemes:
            title = {
                lang: ", ".join(t[lang] for t in schemes if lang in t) for lang in ("nl", "en")
            }
    return Stats(
        triples=len(triples),
        entities=len(typed),
        distinct_subjects=len(subjects),
        distinct_objects=len(objects),
        classes=dict(sorted(classes.items())),
        properties=dict(sorted(properties.items())),
        linksets={k: dict(sorted(v.items())) for k, v in sorted(links.items())},
        spatial=sorted(spatial),
        temporal=(min(dates), max(dates)) if dates else None,
        title={k: v for k, v in title.items() if v},
        fingerprint=hashlib.sha256("\n".join(sorted(str(t) for t in triples)).encode()).hexdigest(),
    )


def open_file(dumps: Dumps, path: str) -> Path:
    """The file of a dump (``path`` as in :attr:`DumpFile.path`), or ``FileNotFoundError``."""
    if dumps.file(path) is None:
        raise FileNotFoundError(path)
    return dumps.folder / path
