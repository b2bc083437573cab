"""``/downloads`` (dumps with sizes and checksums), ``/void`` and ``/catalog`` (DCAT-AP).

Glue over :class:`kb.publish.Publication`, which the app owns: dumps are regenerated when the
store's ``data_version`` changes, never per request; the catalogue and VoID are built from the
dumps' manifest and kept per data version.
``/catalog`` pages its datasets like ckanext-dcat (``?page=``, ``?modified_since=``, Hydra).
"""

from __future__ import annotations

import base64
import datetime as dt

from flask import Blueprint, Flask, Response, current_app, request, send_file
from rdflib import Graph

from kb import catalogue as cat
from kb.dumps import FORMAT_BY_KEY, graph_name
from kb.errors import NotFound, QueryRejected
from kb.publish import Publication, Published, publisher
from server import kb_service
from server.negotiate import HTML, RDF_ONLY, Representation, negotiate
from server.pages import page_lang, rdf_response, render_page

bp = Blueprint("catalog", __name__)


def init_app(app: Flask) -> None:
    service = app.extensions["kb"]
    app.extensions["kb_publication"] = Publication(service.store, service.settings)
    app.register_blueprint(bp)


def publication() -> Publication:
    """The running knowledge base's publication state (made in :func:`init_app`)."""
    made: Publication = current_app.extensions["kb_publication"]
    return made


def published() -> Published:
    """Dumps, catalogue and VoID of the current data version (made once per version)."""
    return publication().current()


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
        made.dumps.folder / entry.path, etag=entry.sha256, conditional=True, max_age=0
    )
    response.headers["Content-Type"] = FORMAT_BY_KEY[entry.format].content_type
    response.headers["Digest"] = "sha-256=" + base64.b64encode(bytes.fromhex(entry.sha256)).decode()
    return response


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
        publisher(settings),
        page=page,
        page_size=size,
        modified_since=since,
        page_url=settings.base_iri + request.full_path.lstrip("/").rstrip("?"),
    )
    response = rdf_response(graph, rep)
    made.keep_page(key, response.get_data())
    return response


def _rdf_bytes(body: bytes, rep: Representation) -> Response:
    return Response(body, content_type=rep.content_type, headers={"Vary": "Accept"})


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
    return publication().resource(iri)
