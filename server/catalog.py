"""``/downloads`` (dumps with sizes and checksums), ``/void`` and ``/catalog`` (DCAT-AP).

Dumps are regenerated when the store's ``data_version`` changes, never per request; the
catalogue and VoID are built from the dumps' manifest and cached per data version.
``/catalog`` pages its datasets like ckanext-dcat (``?page=``, ``?modified_since=``, Hydra).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from flask import Blueprint, Response, request, send_file
from rdflib import Graph

from kb import catalogue as cat
from kb.dumps import FORMAT_BY_KEY, Dumps, downloads_root, ensure_dumps, graph_name
from kb.errors import NotFound, QueryRejected
from server import kb_service
from server.negotiate import HTML, RDF_ONLY, Representation, negotiate
from server.pages import page_lang, rdf_response, render_page

bp = Blueprint("catalog", __name__)

_DOWNLOAD_TYPES = {
    "nt.gz": "application/gzip",
    "ttl": "text/turtle; charset=utf-8",
    "jsonld": "application/ld+json",
    "trig": "application/trig; charset=utf-8",
}


@dataclass
class Published:
    dumps: Dumps
    catalogue: Graph  # every dataset, no paging
    void: Graph
    pages: dict[tuple[str, str], bytes] = field(default_factory=dict)  # serialized /catalog


_lock = threading.Lock()
_cache: dict[str, Published] = {}


def publisher() -> cat.Publisher:
    s = kb_service().settings
    return cat.Publisher(s.publisher_name, s.contact_email, s.licence)


def published() -> Published:
    """Dumps, catalogue and VoID of the current data version (made once per version)."""
    service = kb_service()
    version = service.store.data_version
    key = f"{id(service)}:{version}"
    hit = _cache.get(key)
    if hit is not None:
        return hit
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit
        base = service.settings.base_iri
        dumps = ensure_dumps(service.store, base, downloads_root(service.settings))
        made = Published(
            dumps, cat.catalogue_graph(base, dumps, publisher()), cat.void_graph(base, dumps)
        )
        _cache.clear()
        _cache[key] = made
        return made


@bp.get("/downloads")
def downloads() -> Response:
    negotiate(request, (HTML,))
    made = published()
    base = kb_service().settings.base_iri
    lang = page_lang(request)
    groups = [("", made.dumps.for_graph(None))] + [
        (graph_name(base, g), made.dumps.for_graph(g)) for g in sorted(made.dumps.stats) if g
    ]
    return render_page(
        "downloads.html",
        lang,
        "/downloads",
        rdf=False,
        groups=groups,
        dumps=made.dumps,
        formats=FORMAT_BY_KEY,
        base=base,
    )


@bp.get("/downloads/<path:name>")
def download(name: str) -> Response:
    made = published()
    entry = made.dumps.file(name)
    if entry is None:
        raise NotFound(f"there is no download {name!r}; see /downloads")
    response = send_file(
        made.dumps.folder / entry.path,
        mimetype=_DOWNLOAD_TYPES[entry.format],
        etag=entry.sha256,
        conditional=True,
        max_age=0,
    )
    response.headers["Digest"] = "sha-256=" + _b64(entry.sha256)
    return response


def _b64(hexdigest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hexdigest)).decode()


@bp.get("/void")
@bp.get("/void<any('.ttl', '.rdf', '.jsonld', '.nt'):suffix>")
def void(suffix: str | None = None) -> Response:
    rep = negotiate(request, RDF_ONLY, suffix=suffix)
    return rdf_response(published().void, rep)


@bp.get("/catalog")
@bp.get("/catalog<any('.ttl', '.rdf', '.jsonld', '.nt'):suffix>")
def catalog(suffix: str | None = None) -> Response:
    rep = negotiate(request, RDF_ONLY, suffix=suffix)
    made = published()
    key = (rep.name, request.full_path)
    body = made.pages.get(key)
    if body is not None:
        return _rdf_bytes(body, rep)
    page = _int_arg("page", 1)
    since = _since()
    settings = kb_service().settings
    size = settings.catalog_page_size
    total = len(cat.datasets(settings.base_iri, made.dumps, since))
    if page > cat.page_count(total, size):
        raise NotFound(f"page {page} is past the last page ({cat.page_count(total, size)})")
    graph = cat.catalogue_graph(
        settings.base_iri,
        made.dumps,
        publisher(),
        page=page,
        page_size=size,
        modified_since=since,
        page_url=settings.base_iri + request.full_path.lstrip("/").rstrip("?"),
    )
    response = rdf_response(graph, rep)
    if len(made.pages) < 64:  # a few pages and formats per data version
        made.pages[key] = response.get_data()
    return response


def _rdf_bytes(body: bytes, rep: Representation) -> Response:
    response = Response(body, mimetype=rep.media_type)
    if rep.media_type.startswith("text/"):
        response.content_type = f"{rep.media_type}; charset=utf-8"
    response.headers["Vary"] = "Accept"
    return response


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise QueryRejected(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _since() -> dt.datetime | None:
    raw = request.args.get("modified_since")
    if raw is None:
        return None
    try:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise QueryRejected(
            f"modified_since must be an ISO 8601 date or date-time, not {raw!r}"
        ) from None


def catalogue_resource(iri: str) -> Graph | None:
    """The catalogue's triples about ``iri`` (for the ``/id/...`` pages of catalogue
    resources), or ``None``."""
    from rdflib import URIRef

    base = kb_service().settings.base_iri
    if not iri.startswith(tuple(base + p for p in cat.RESOURCE_PATHS)):
        return None  # never build dumps just to answer an unknown identifier
    graph = published().catalogue
    node = URIRef(iri)
    if (node, None, None) not in graph:
        return None
    out = Graph()
    for p, o in graph.predicate_objects(node):
        out.add((node, p, o))
        for p2, o2 in graph.predicate_objects(o):
            if not isinstance(o, URIRef):
                out.add((o, p2, o2))
    for s, p in graph.subject_predicates(node):
        out.add((s, p, node))
    return out
