"""One table from error to HTTP status, one JSON error shape; HTML for browsers."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from kb import errors as e
from kb.errors import AuthError, BadGraph, Conflict, Forbidden, PreconditionFailed, ValidationFailed
from server.accept import preferred

log = logging.getLogger(__name__)

STATUS: dict[type[e.KBError], int] = {
    e.ParseError: 400,
    e.InputTooLarge: 413,
    e.UnsupportedFormat: 415,
    e.NotFound: 404,
    e.QueryRejected: 400,
    e.InvalidRequest: 400,
    e.QueryTimeout: 503,
    e.ValidationTimeout: 503,
    e.StoreUnavailable: 503,
    e.StoreError: 502,
    e.ConfigError: 500,
    AuthError: 401,
    Forbidden: 403,
    PreconditionFailed: 412,
    ValidationFailed: 422,
    BadGraph: 400,
    Conflict: 409,
}


def status_for(exc: e.KBError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _wants_html() -> bool:
    """HTML only when the client prefers it to JSON (JSON wins ties and a missing Accept)."""
    offered = ("application/json", "text/html")
    return preferred(request.accept_mimetypes, offered, lambda m: (m,)) == "text/html"


def error_response(status: int, code: str, detail: str, extra: dict | None = None) -> Response:
    if _wants_html():
        html = render_template("error.html", status=status, code=code, detail=detail)
        return Response(html, status=status, mimetype="text/html")
    body = jsonify({"error": code, "detail": detail, **(extra or {})})
    body.status_code = status
    return body


def init_app(app: Flask) -> None:
    @app.errorhandler(e.KBError)
    def kb_error(exc: e.KBError) -> Response:
        body = exc.to_dict()
        return error_response(status_for(exc), body.pop("error"), body.pop("detail"), body)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(exc.code or 500, code, exc.description or "")
        for name, value in exc.get_headers():
            if name.lower() in ("allow", "retry-after"):  # 405 must list the allowed methods
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "the server failed; the error was logged")
