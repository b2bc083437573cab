"""The public SPARQL 1.1 endpoint ``/sparql``: protocol, results, cache, service description, UI.

* Protocol (https://www.w3.org/TR/sparql11-protocol/): GET with ``query=``; POST
  ``application/x-www-form-urlencoded``; POST ``application/sparql-query``; any number of
  ``default-graph-uri`` / ``named-graph-uri`` (they replace the query's own FROM/FROM NAMED).
  Parameters and bodies must be UTF-8. Updates are never accepted here.
* The query service (:class:`kb.query.QueryService`, also behind ``kb query``) checks every
  query (size, nesting depth, SERVICE allow-list, no updates) before it reaches the store, runs
  it under the store's time limit, cuts it at ``max_rows`` and keeps it in the result cache
  (:mod:`kb.cache`). This module reads the protocol, negotiates the format
  (:mod:`server.accept`) and says what the answer is in headers: ``X-Cache: HIT|MISS|OFF``,
  ``X-SPARQL-MaxRows`` / ``X-SPARQL-Rows`` / ``X-SPARQL-Truncated``.
* ``GET /sparql`` without a query: the service description (Turtle, JSON-LD, RDF/XML,
  N-Triples); a browser (HTML preferred) gets the query UI, also with a ``query=`` (permalinks).
* The commonest request — a GET with a query from a client that does not ask for HTML — is
  answered by :class:`QueryFastPath` in front of Flask: the same :func:`answer`, without
  Flask's per-request machinery (see there); everything else goes through the Flask view.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import BadRequest, NotAcceptable, NotFound, UnsupportedMediaType
from werkzeug.http import parse_accept_header

from kb.cache import PerVersion, ResultCache
from kb.errors import QueryRejected, UnsupportedFormat
from kb.linking.partners import Endpoints, partner_graph, showcase_endpoint
from kb.namespaces import PREFIXES
from kb.query import Answer, QueryRequest, QueryService
from kb.results import GRAPH, SOLUTIONS, ResultSyntax, by_format_name, kind_of, syntaxes
from kb.service import Service
from server import examples, kb_service
from server.accept import negotiate
from server.service_description import SD_SYNTAXES, service_description

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

bp = Blueprint("sparql", __name__)

_EXPOSE = "X-Cache, X-SPARQL-MaxRows, X-SPARQL-Truncated, X-SPARQL-Rows"
#: Reads are open to scripts on any origin (no credentials are involved).
_CORS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", _EXPOSE))
_PREFLIGHT = (
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Content-Type, Accept"),
    ("Access-Control-Max-Age", "86400"),
)


@dataclass(frozen=True)
class ProtocolRequest:
    query: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    format: str | None


def init_app(app: Flask) -> None:
    service: Service = app.extensions["kb"]
    app.extensions["kb_query"] = QueryService(
        service.settings,
        lambda: service.store,
        cache=ResultCache(service.settings.cache_bytes),
        restart=service.restart_store,
        partners=(endpoints := Endpoints(service.store, service.settings.base_iri)).current,
    )
    app.extensions["kb_examples"] = PerVersion(
        lambda: service.store.data_version, lambda _: _runnable_examples(service, endpoints)
    )
    app.register_blueprint(bp)
    app.wsgi_app = QueryFastPath(app, app.wsgi_app)  # type: ignore[method-assign]


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
    got = answer(query_service(), req, request.accept_mimetypes)
    return Response(got.body, content_type=got.syntax.content_type, headers=answer_headers(got))


@bp.get("/sparql/examples")
def example_list() -> Response:
    items = [
        {**ex.to_dict(), "permalink": url_for("sparql.example", ident=ex.ident, _external=True)}
        for ex in _examples()
    ]
    return Response(json.dumps(items, ensure_ascii=False), mimetype="application/json")


@bp.get("/sparql/examples/<ident>")
def example(ident: str) -> Response:
    name, _, suffix = ident.partition(".")
    found = examples.by_id(name, _examples())
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


def query_service() -> QueryService:
    qs: QueryService = current_app.extensions["kb_query"]
    return qs


def answer(qs: QueryService, req: ProtocolRequest, accept: MIMEAccept) -> Answer:
    """The request's answer from the query service, in the negotiated format."""
    assert req.query is not None
    fmt = req.format
    return qs.answer(
        QueryRequest(req.query, req.default_graphs, req.named_graphs),
        lambda checked: _negotiate(syntaxes(kind_of(checked.form)), fmt, accept),
    )


def answer_headers(got: Answer) -> list[tuple[str, str]]:
    """What the answer is: ``X-Cache``, and the row cap's ``X-SPARQL-*`` where it applied."""
    headers = [("X-Cache", got.cache)]
    if got.truncated is not None:
        if got.max_rows:
            headers.append(("X-SPARQL-MaxRows", str(got.max_rows)))
        if got.rows is not None:
            headers.append(("X-SPARQL-Rows", str(got.rows)))
        headers.append(("X-SPARQL-Truncated", "true" if got.truncated else "false"))
    return headers


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
                self.app.extensions["kb_query"], req, parse_accept_header(accept, MIMEAccept)
            )
        except Exception as exc:  # drawn by the app, as the view's errors are
            with self.app.request_context(environ):
                failed = self.app.finalize_request(
                    self.app.handle_user_exception(exc), from_error_handler=True
                )
            return failed(environ, start_response)
        headers = [("Content-Type", got.syntax.content_type)]
        if isinstance(got.body, bytes):
            headers.append(("Content-Length", str(len(got.body))))
        headers += [*answer_headers(got), *_CORS, ("Vary", "Accept")]
        start_response("200 OK", headers)
        return [got.body] if isinstance(got.body, bytes) else got.body


# --- service description and UI ----------------------------------------------------------------


def _service_description(fmt: str | None) -> Response:
    syntax = _negotiate(SD_SYNTAXES, fmt, request.accept_mimetypes)
    endpoint = url_for("sparql.sparql", _external=True)
    body = service_description(kb_service(), endpoint, syntax, cache=query_service().cache.enabled)
    return Response(body, content_type=syntax.content_type)


def _examples() -> tuple[examples.Example, ...]:
    """The example queries that can run on this knowledge base now (made once per version)."""
    made: PerVersion[None, tuple[examples.Example, ...]] = current_app.extensions["kb_examples"]
    return made.get(None)


def _runnable_examples(service: Service, endpoints: Endpoints) -> tuple[examples.Example, ...]:
    """Partner examples with a registered partner's endpoint, harvest examples once one is
    harvested; the rest always."""
    if not endpoints.current():
        return examples.available([], False)
    base = service.settings.base_iri
    endpoint = showcase_endpoint(service.store, base)
    prefix = partner_graph("", base)
    harvested = any(g.startswith(prefix) for g in service.store.graphs())
    return examples.available([endpoint] if endpoint else [], harvested)


def _ui(query: str | None = None, selected: str | None = None) -> Response:
    settings = kb_service().settings
    html = render_template(
        "sparql.html",
        endpoint=url_for("sparql.sparql", _external=True),
        examples=(shown := _examples()),
        examples_json=[ex.to_dict() for ex in shown],
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
    "answer_headers",
    "by_format_name",
    "init_app",
    "protocol_request",
    "query_service",
    "read_protocol_request",
]
