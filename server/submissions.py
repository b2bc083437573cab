"""Steward writes over HTTP: ``/submissions`` here, the Graph Store Protocol at ``/graphs``
(:mod:`server.graph_store`) and the authenticated SPARQL 1.1 Update endpoint ``/update``
(:mod:`server.sparql_update`), all on this module's blueprint, which also holds what they share:
tokens, the audit log, and one way to answer a write. Routes and request/response glue only:
the work is done by :mod:`kb.submit`, :mod:`kb.update` and :mod:`kb.history`.

Every write needs ``Authorization: Bearer <token>`` (401 without, 403 outside the grant), is
validated with the project's shapes (422 with the report on violations), may be a dry run
(``?dry-run=true``), honours ``If-Match`` (412 when stale) and is recorded in the audit log.
Tokens are never accepted in the URL.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    render_template,
    request,
)
from rdflib import Graph
from werkzeug.exceptions import BadRequest, NotFound, TooManyRequests, UnsupportedMediaType

from kb.audit import AuditLog
from kb.auth import Principal, TokenStore
from kb.errors import AuthError, ValidationFailed
from kb.formats import formats, named
from kb.payload import accepted_media_types, read_payload
from kb.sheets import TEMPLATES, XLSX_TYPE, template_csv, template_xlsx
from kb.submit import Outcome, Writer
from server.accept import preferred

bp = Blueprint("submissions", __name__)

#: The RDF formats a report or a graph is sent in: media type -> rdflib serializer.
RDF_FORMATS = formats("turtle", "jsonld", "ntriples", "rdfxml")
RDF_OUT = {f.media_type: str(f.rdflib) for f in RDF_FORMATS}


def init_app(app: Flask) -> None:
    service = app.extensions["kb"]
    settings = service.settings
    app.extensions["kb_writer"] = Writer(service.store, settings)
    app.extensions["kb_tokens"] = TokenStore(settings.tokens_path)
    app.extensions["kb_audit"] = AuditLog(settings.audit_path)
    app.extensions["kb_auth_limiter"] = FailureLimiter(settings.max_auth_failures)
    from server import graph_store, sparql_update  # noqa: F401  (their routes are on bp)

    app.register_blueprint(bp)


def writer() -> Writer:
    w: Writer = current_app.extensions["kb_writer"]
    return w


def tokens() -> TokenStore:
    t: TokenStore = current_app.extensions["kb_tokens"]
    return t


# --- authentication and the audit log ----------------------------------------------------


class FailureLimiter:
    """Failed token checks per address in a sliding minute (I7: brute force gets 429).
    Per server process: a guard against guessing, not an accounting."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, addr: str, now: float) -> deque[float]:
        q = self._failures.setdefault(addr, deque())
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def check(self, addr: str) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            q = self._recent(addr, now)
            if len(q) >= self.limit:
                raise TooManyRequests(
                    f"{len(q)} failed token checks from this address in the last minute; "
                    "try again later",
                    retry_after=int(q[0] + self.window - now) + 1,
                )

    def failed(self, addr: str) -> None:
        if self.limit <= 0:
            return
        with self._lock:
            self._recent(addr, time.monotonic()).append(time.monotonic())
            if len(self._failures) > 10_000:  # forget the quiet addresses
                for key in [k for k, v in self._failures.items() if not v][:5_000]:
                    del self._failures[key]


def principal() -> Principal:
    limiter: FailureLimiter = current_app.extensions["kb_auth_limiter"]
    addr = request.remote_addr or "-"
    limiter.check(addr)
    try:
        return _principal()
    except AuthError:
        limiter.failed(addr)
        raise


def _principal() -> Principal:
    if "token" in request.args or "access_token" in request.args:
        raise AuthError(
            "tokens are not accepted in the URL (they end up in logs); use the Authorization header"
        )
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if header and scheme.lower() != "bearer":
        raise AuthError("use 'Authorization: Bearer <token>'")
    who = tokens().authenticate(value.strip() or None)
    g.kb_who = who
    return who


def _is_write() -> bool:
    if request.endpoint in ("submissions.page", "submissions.template"):
        return False
    if request.endpoint == "submissions.update":
        return True  # also an update attempted with GET
    return request.method in ("PUT", "POST", "DELETE", "PATCH")


_OUTCOMES = {
    401: "unauthorized",
    403: "forbidden",
    409: "conflict",
    412: "conflict",
    422: "refused",
    429: "throttled",
}


@bp.after_request
def _audit(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ClusterKB"'
    if not _is_write():
        return response
    who: Principal | None = g.get("kb_who")
    status = response.status_code
    outcome = (
        g.get("kb_outcome")
        or _OUTCOMES.get(status)
        or ("rejected" if 400 <= status < 500 else "error" if status >= 500 else "ok")
    )
    entry: dict[str, Any] = {
        "who": who.name if who else None,
        "token": who.id if who else None,
        "role": who.role if who else None,
        "remote": request.remote_addr,
        "method": request.method,
        "path": request.path,
        "graph": g.get("kb_graph"),
        "status": status,
        "outcome": outcome,
    }
    if g.get("kb_commit"):
        entry["commit"] = g.kb_commit
    if g.get("kb_source"):
        entry["source"] = g.kb_source
    if status >= 400 and response.is_json:
        body = response.get_json(silent=True) or {}
        entry["detail"] = str(body.get("detail", ""))[:300]
    current_app.extensions["kb_audit"].record(**entry)
    return response


# --- responses ----------------------------------------------------------------------------


def submission_id() -> str | None:
    """A client-chosen id that makes a retried write safe (``Idempotency-Key``)."""
    return request.headers.get("Idempotency-Key") or request.args.get("submission-id") or None


def dry_run() -> bool:
    return request.args.get("dry-run", request.args.get("dry_run", "")).lower() in (
        "1",
        "true",
        "yes",
    )


def wants() -> str:
    fmt = request.args.get("format")
    if fmt == "json":
        return "application/json"
    if fmt in ("html", *(f.name for f in RDF_FORMATS)):
        return named(fmt).media_type
    offered = ("application/json", "text/html", *RDF_OUT)
    return preferred(request.accept_mimetypes, offered, lambda m: (m,)) or "application/json"


def respond(outcomes: list[Outcome], *, status: int | None = None) -> Response:
    """The outcome(s) of a write as JSON, RDF (the sh:ValidationReport) or HTML."""
    first = outcomes[0] if outcomes else None
    if first is not None:
        g.kb_outcome = "dry-run" if first.dry_run else "committed" if first.committed else "refused"
        g.kb_commit = ", ".join(o.commit for o in outcomes if o.commit) or None
    code = status or (200 if not first or first.dry_run or not first.committed else 201)
    if first is not None and first.report is not None and not first.report.accepted:
        code = 422
    chosen = wants()
    if chosen in RDF_OUT:
        report = first.report.graph if first and first.report else Graph()
        return Response(report.serialize(format=RDF_OUT[chosen]), code, mimetype=chosen)
    if chosen == "text/html":
        html = render_template("submission_report.html", outcomes=[o.to_dict() for o in outcomes])
        return Response(html, code, mimetype="text/html")
    body: dict[str, Any] = (
        first.to_dict()
        if len(outcomes) == 1 and first
        else {"outcomes": [o.to_dict() for o in outcomes]}
    )
    if code == 422 and first is not None and first.report is not None:
        n = len(first.report.violations)
        body = {
            "error": "validation_failed",
            "detail": f"the data has {n} SHACL violation(s); nothing was written",
            **body,
        }
    response = jsonify(body)
    response.status_code = code
    if len(outcomes) == 1 and first and first.etag:
        response.headers["ETag"] = f'"{first.etag}"'
    return response


def guarded(fn: Any) -> Response:
    try:
        result: Response = fn()
        return result
    except ValidationFailed as exc:
        return respond([exc.outcome], status=422)


# --- /submissions -------------------------------------------------------------------------


@bp.get("/submissions")
def page() -> str:
    return render_template(
        "submissions.html",
        kinds=list(TEMPLATES),
        templates={k: [c for c in t.columns] for k, t in TEMPLATES.items()},
        media_types=accepted_media_types(),
    )


@bp.get("/submissions/templates/<kind>.<ext>")
def template(kind: str, ext: str) -> Response:
    if kind not in TEMPLATES or ext not in ("csv", "xlsx"):
        raise NotFound(f"no template {kind}.{ext}; kinds: {', '.join(TEMPLATES)} (.csv, .xlsx)")
    if ext == "csv":
        body, mt = template_csv(kind), "text/csv"
    else:
        body, mt = template_xlsx(kind), XLSX_TYPE
    return Response(
        body,
        mimetype=mt,
        headers={"Content-Disposition": f'attachment; filename="{kind}.{ext}"'},
    )


@bp.post("/submissions")
def submit() -> Response:
    who = principal()
    w = writer()
    name = request.args.get("graph") or request.form.get("graph")
    if not name:
        raise BadRequest("say which graph the data goes to: ?graph=NAME (e.g. clusters/x)")
    graph = w.graph_iri(name)
    g.kb_graph = graph
    w.authorize(who, graph)
    mode = (request.args.get("mode") or request.form.get("mode") or "replace").lower()
    if mode not in ("replace", "append"):
        raise BadRequest("mode is replace (the default) or append")
    kind = request.args.get("kind") or request.form.get("kind")
    upload = request.files.get("file")
    if upload is not None:
        data = upload.read()
        media_type = upload.mimetype or ""
        if media_type in ("", "application/octet-stream"):
            media_type = request.form.get("media_type", "") or media_type
        filename = upload.filename
    else:
        if request.mimetype == "multipart/form-data":
            raise BadRequest("the form has no 'file' part")
        data = request.get_data(cache=False)
        media_type = request.mimetype
        filename = request.args.get("filename")
    g.kb_source = filename
    if not media_type or media_type in ("application/octet-stream",):
        raise UnsupportedMediaType(
            "say what the file is with its media type; accepted: "
            + ", ".join(accepted_media_types())
        )
    payload = read_payload(data, media_type, settings=w.settings, source=filename, kind=kind)

    def run() -> Response:
        fn = w.put if mode == "replace" else w.post
        out = fn(
            who,
            graph,
            payload,
            dry_run=dry_run(),
            if_match=request.headers.get("If-Match"),
            submission_id=submission_id(),
        )
        return respond([out], status=200 if out.replayed else None)

    return guarded(run)
