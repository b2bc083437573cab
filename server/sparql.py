"""The public SPARQL 1.1 endpoint ``/sparql``: protocol, results, cache, service description, UI.

* Protocol (https://www.w3.org/TR/sparql11-protocol/): GET with ``query=``; POST
  ``application/x-www-form-urlencoded``; POST ``application/sparql-query``; any number of
  ``default-graph-uri`` / ``named-graph-uri`` (they replace the query's own FROM/FROM NAMED).
  Parameters and bodies must be UTF-8. Updates are never accepted here.
* Every query passes :func:`kb.query.check_query` (size, nesting depth, SERVICE allow-list, no
  updates) before it reaches the store; the store enforces the time limit.
* Results are negotiated (:mod:`server.accept`), cut at ``max_rows`` with the headers
  ``X-SPARQL-MaxRows`` / ``X-SPARQL-Truncated``, and kept in the result cache
  (:mod:`kb.cache`), which the response's ``X-Cache: HIT|MISS|OFF`` reports.
* ``GET /sparql`` without a query: the service description (Turtle, JSON-LD, RDF/XML,
  N-Triples); a browser (HTML preferred) gets the query UI, also with a ``query=`` (permalinks).
* The commonest request — a GET with a query from a client that does not ask for HTML — is
  answered by :class:`QueryFastPath` in front of Flask: the same :func:`answer`, without
  Flask's per-request machinery (see there); everything else goes through the Flask view.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import BadRequest, NotAcceptable, NotFound, UnsupportedMediaType
from werkzeug.http import parse_accept_header

from kb.cache import CachedResult, ResultCache
from kb.errors import QueryRejected, QueryTimeout, UnsupportedFormat
from kb.namespaces import PREFIXES
from kb.query import QueryPolicy, check_query
from kb.results import (
    GRAPH,
    SOLUTIONS,
    ResultSyntax,
    by_format_name,
    cap_result,
    kind_of,
    store_syntax,
    syntaxes,
)
from kb.service import Service
from kb.store import SparqlHttpStore, StoreResponse
from server import examples, kb_service
from server.accept import negotiate
from server.service_description import SD_SYNTAXES, service_description

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

bp = Blueprint("sparql", __name__)

_TIMEOUT = (
    "the query ran longer than this endpoint's limit of {limit:g} s and was stopped; narrow it "
    "down (LIMIT, more specific patterns) or ask for less"
)

_EXPOSE = "X-Cache, X-SPARQL-MaxRows, X-SPARQL-Truncated, X-SPARQL-Rows"
#: Reads are open to scripts on any origin (no credentials are involved).
_CORS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", _EXPOSE))
_PREFLIGHT = (
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Content-Type, Accept"),
    ("Access-Control-Max-Age", "86400"),
)


@dataclass(frozen=True)
class Answer:
    """A query's answer for either way in (the Flask view or :class:`QueryFastPath`): the
    body (bytes, or a stream of them) and the headers that say what it is."""

    body: bytes | Iterator[bytes]
    content_type: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ProtocolRequest:
    query: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    format: str | None


def init_app(app: Flask) -> None:
    settings = app.extensions["kb"].settings
    app.extensions["kb_cache"] = ResultCache(settings.cache_bytes)
    app.register_blueprint(bp)
    app.wsgi_app = QueryFastPath(app, app.wsgi_app)  # type: ignore[method-assign]


def result_cache() -> ResultCache:
    cache: ResultCache = current_app.extensions["kb_cache"]
    return cache


@bp.after_request
def _cors(response: Response) -> Response:
    """Reads are open to scripts on any origin (no credentials are involved)."""
    response.headers.update(_CORS)
    if request.method == "OPTIONS":
        response.headers.update(_PREFLIGHT)
    response.vary.add("Accept")
    return response


@bp.route("/sparql", methods=["GET", "POST"], strict_slashes=False)
def sparql() -> Response:
    req = read_protocol_request()
    if req.query is None:
        if request.method == "POST":
            raise QueryRejected("the request has no `query`")
        if _browser_wants_html():
            return _ui()
        return _service_description(req.format)
    if request.method == "GET" and _browser_wants_html():
        return _ui(query=req.query)
    got = answer(kb_service(), result_cache(), req, request.accept_mimetypes)
    return Response(got.body, content_type=got.content_type, headers=list(got.headers))


@bp.get("/sparql/examples")
def example_list() -> Response:
    items = [
        {**ex.to_dict(), "permalink": url_for("sparql.example", ident=ex.ident, _external=True)}
        for ex in examples.load()
    ]
    return Response(json.dumps(items, ensure_ascii=False), mimetype="application/json")


@bp.get("/sparql/examples/<ident>")
def example(ident: str) -> Response:
    name, _, suffix = ident.partition(".")
    found = examples.by_id(name)
    if found is None:
        raise NotFound(f"there is no example query {name!r}")
    if suffix == "rq" or (not suffix and not _browser_wants_html()):
        return Response(found.text, mimetype="application/sparql-query")
    if suffix:
        raise NotFound(f"no .{suffix} form of the example {name!r} (try .rq)")
    return _ui(query=found.text, selected=found.ident)


# --- the protocol --------------------------------------------------------------------------


def read_protocol_request() -> ProtocolRequest:
    """The operation and dataset of a SPARQL Protocol request, or a 4xx saying what is wrong."""
    url_params = _pairs(request.query_string, "the URL")
    body_params: list[tuple[str, str]] = []
    direct: str | None = None
    if request.method == "POST":
        mimetype = request.mimetype
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if mimetype == "application/x-www-form-urlencoded":
            body_params = _pairs(request.get_data(cache=False), "the form body")
        elif mimetype == "application/sparql-query":
            if charset not in ("utf-8", "utf8"):
                raise UnsupportedMediaType(
                    f"application/sparql-query must be UTF-8 encoded, not {charset}"
                )
            direct = _utf8(request.get_data(cache=False), "the query body")
        elif mimetype == "application/sparql-update":
            raise UnsupportedMediaType(
                "updates are not accepted on this endpoint (it is read-only)"
            )
        elif not mimetype:
            raise UnsupportedMediaType(
                "a POST needs a Content-Type: application/sparql-query or "
                "application/x-www-form-urlencoded"
            )
        else:
            raise UnsupportedMediaType(
                f"cannot read a {mimetype} body; send application/sparql-query or "
                "application/x-www-form-urlencoded"
            )
    return protocol_request(url_params + body_params, direct)


def protocol_request(params: list[tuple[str, str]], direct: str | None) -> ProtocolRequest:
    """The request from its parameters (URL and form body) and a direct query body."""
    names = [k for k, _ in params]
    if "update" in names:
        raise QueryRejected("updates are not accepted on this endpoint (it is read-only)")
    queries = [v for k, v in params if k == "query"] + ([direct] if direct is not None else [])
    if len(queries) > 1:
        raise QueryRejected("give exactly one query (this request has several)")
    # Clients repeat it (SPARQLWrapper sends it in the URL and the body): the first one counts.
    formats = [v for k, v in params if k == "format"]
    return ProtocolRequest(
        query=queries[0] if queries else None,
        default_graphs=tuple(v for k, v in params if k == "default-graph-uri"),
        named_graphs=tuple(v for k, v in params if k == "named-graph-uri"),
        format=formats[0] if formats else None,
    )


def answer(
    service: Service, cache: ResultCache, req: ProtocolRequest, accept: MIMEAccept
) -> Answer:
    """Run the request's query (checked, negotiated, cut at ``max_rows``, cached) or raise
    the error that says why not."""
    settings = service.settings
    assert req.query is not None
    checked = check_query(
        req.query,
        QueryPolicy(
            settings.max_query_bytes, settings.max_query_depth, settings.service_allow_list
        ),
    )
    want = _negotiate(syntaxes(kind_of(checked.form)), req.format, accept)
    store = service.store
    # read before the query runs (see kb.cache), and only for the cache: on a remote store
    # each read is a round trip
    version = store.data_version if cache.enabled else None
    key = (
        version,
        checked.text,
        req.default_graphs,
        req.named_graphs,
        want.name,
        settings.max_rows,
    )
    hit = cache.get(key)
    if hit is not None:
        return _respond(hit, "HIT", settings.max_rows)
    got = store_syntax(want, canonical=store.canonical_formats)
    try:
        result = _query(store, checked.text, got, req, checked.has_dataset, version)
    except QueryTimeout:
        # The store did not even start answering within its own limit (+5 s): it did not stop
        # the query, which would go on holding a core. Stop it the hard way.
        service.restart_store("a query outlived the store's time limit")
        raise QueryTimeout(_TIMEOUT.format(limit=settings.query_timeout)) from None
    state = "MISS" if cache.enabled else "OFF"
    chunks = _time_limited(result.iter_bytes(), settings.query_timeout)
    if settings.max_rows or got != want:
        limit = settings.max_rows or (1 << 62)
        capped = cap_result(chunks, got=got, want=want, max_rows=limit, prefixes=PREFIXES)
        entry = CachedResult(capped.body, want.content_type, capped.rows, capped.truncated)
        cache.put(key, entry)
        return _respond(entry, state, settings.max_rows)
    # No row cap: stream the store's bytes straight through (nothing is built in memory), and
    # keep a copy for the cache only while it stays small enough.
    first = next(chunks, b"")  # a time-out before the first byte is still a clean 503
    return Answer(_tee(first, chunks, cache, key, want), want.content_type, (("X-Cache", state),))


def _query(
    store: SparqlHttpStore,
    text: str,
    got: ResultSyntax,
    req: ProtocolRequest,
    own_dataset: bool,
    version: str | None,
) -> StoreResponse:
    return store.query(
        text,
        accept=got.media_type,
        default_graph_uris=req.default_graphs,
        named_graph_uris=req.named_graphs,
        # A dataset (the protocol's or the query's FROM) replaces the union default graph
        # (Oxigraph refuses both at once, and ignores FROM when asked for the union).
        union_default_graph=not (req.default_graphs or req.named_graphs or own_dataset),
        data_version=version,
    )


def _tee(
    first: bytes, rest: Iterator[bytes], cache: ResultCache, key: tuple, want: ResultSyntax
) -> Iterator[bytes]:
    kept: list[bytes] | None = [first] if cache.enabled else None
    size = len(first)
    yield first
    for chunk in rest:
        if kept is not None:
            size += len(chunk)
            if size <= cache.max_entry_bytes:
                kept.append(chunk)
            else:
                kept = None
        yield chunk
    if kept is not None:
        cache.put(key, CachedResult(b"".join(kept), want.content_type, None, False))


def _time_limited(chunks: Iterator[bytes], limit: float) -> Iterator[bytes]:
    try:
        yield from chunks
    except QueryTimeout:
        raise QueryTimeout(_TIMEOUT.format(limit=limit)) from None


def _respond(entry: CachedResult, cache_state: str, max_rows: int) -> Answer:
    headers = [("X-Cache", cache_state)]
    if max_rows:
        headers.append(("X-SPARQL-MaxRows", str(max_rows)))
    if entry.rows is not None:
        headers.append(("X-SPARQL-Rows", str(entry.rows)))
    headers.append(("X-SPARQL-Truncated", "true" if entry.truncated else "false"))
    return Answer(entry.body, entry.content_type, tuple(headers))


def _negotiate(
    offered: tuple[ResultSyntax, ...], fmt: str | None, accept: MIMEAccept
) -> ResultSyntax:
    try:
        return negotiate(offered, accept=accept, format_param=fmt)
    except UnsupportedFormat as exc:
        raise NotAcceptable(exc.message) from None


def _pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    text = _utf8(raw, where)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(f"{where} is not valid UTF-8 once percent-decoded") from None
    return pairs  # other parameters (a client's own, e.g. YASGUI's) are ignored


def _utf8(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{where} is not valid UTF-8 (byte {exc.start})") from None


def _browser_wants_html() -> bool:
    accept = request.accept_mimetypes
    html = accept["text/html"]
    others = [accept[s.media_type] for s in (*syntaxes(SOLUTIONS), *syntaxes(GRAPH))]
    return html > 0 and html > max(others) and "text/html" in accept.values()


# --- the fast path ------------------------------------------------------------------------------


class QueryFastPath:
    """WSGI in front of the Flask app for a ``GET /sparql`` with a query from a client that
    does not ask for HTML — what SPARQL clients send. It runs :func:`answer`, as the view
    does, without Flask's request context, routing, hooks and response object: about 0.5 ms
    of CPU less per query (measured; a light query on Virtuoso takes 2-4 ms). Everything
    else goes to Flask; so does every error, drawn by the app's own error handlers (and
    CORS hook) for this very request, so an answer is the same whichever way it went."""

    def __init__(self, app: Flask, inner: WSGIApplication) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        accept = environ.get("HTTP_ACCEPT", "")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("PATH_INFO") not in ("/sparql", "/sparql/")
            or "text/html" in accept.lower()  # a browser: the query UI (the view decides)
        ):
            return self.inner(environ, start_response)
        try:
            query_string = environ.get("QUERY_STRING", "").encode("latin-1")
            req = protocol_request(_pairs(query_string, "the URL"), None)
        except Exception:
            return self.inner(environ, start_response)  # the view says what is wrong
        if req.query is None:
            return self.inner(environ, start_response)  # the service description
        try:
            got = answer(
                self.app.extensions["kb"],
                self.app.extensions["kb_cache"],
                req,
                parse_accept_header(accept, MIMEAccept),
            )
        except Exception as exc:  # drawn by the app, as the view's errors are
            with self.app.request_context(environ):
                failed = self.app.finalize_request(
                    self.app.handle_user_exception(exc), from_error_handler=True
                )
            return failed(environ, start_response)
        headers = [("Content-Type", got.content_type)]
        if isinstance(got.body, bytes):
            headers.append(("Content-Length", str(len(got.body))))
        headers += [*got.headers, *_CORS, ("Vary", "Accept")]
        start_response("200 OK", headers)
        return [got.body] if isinstance(got.body, bytes) else got.body


# --- service description and UI ----------------------------------------------------------------


def _service_description(fmt: str | None) -> Response:
    syntax = _negotiate(SD_SYNTAXES, fmt, request.accept_mimetypes)
    endpoint = url_for("sparql.sparql", _external=True)
    body = service_description(kb_service(), endpoint, syntax, cache=result_cache().enabled)
    return Response(body, content_type=syntax.content_type)


def _ui(query: str | None = None, selected: str | None = None) -> Response:
    settings = kb_service().settings
    html = render_template(
        "sparql.html",
        endpoint=url_for("sparql.sparql", _external=True),
        examples=examples.load(),
        examples_json=[ex.to_dict() for ex in examples.load()],
        prefixes=PREFIXES,
        query=query,
        selected=selected,
        base=settings.base_iri,
        max_rows=settings.max_rows,
        timeout=settings.query_timeout,
    )
    return Response(html, mimetype="text/html")


__all__ = [
    "Answer",
    "QueryFastPath",
    "answer",
    "by_format_name",
    "init_app",
    "protocol_request",
    "read_protocol_request",
]
