"""``/reconcile``: the Reconciliation Service API 0.2 (OpenRefine and other clients).

GET without parameters: the manifest (JSON; a browser asking for HTML gets the help page).
GET or POST with ``queries``: a reconciliation batch; with ``extend``: data extension.
``/reconcile/suggest/{entity,type,property}``, ``/reconcile/preview``, ``/reconcile/properties``.
The work is :class:`kb.linking.reconcile.Reconciler`'s; this is request parsing and JSON(P).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request

from kb.errors import InvalidRequest, NotFound
from kb.linking.reconcile import MAX_BATCH, Reconciler
from server.accept import preferred
from server.pages import page_lang, render_page

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,63}$")


def init_app(app: Flask) -> None:
    """The blueprint and the app's :class:`Reconciler` (its name index per data version)."""
    app.extensions["kb_reconciler"] = Reconciler(app.extensions["kb"].store)
    app.register_blueprint(bp)


def reconciler() -> Reconciler:
    found: Reconciler = current_app.extensions["kb_reconciler"]
    return found


def _param(name: str) -> str | None:
    return request.values.get(name)


def answer(body: Any) -> Response:
    """JSON, or JSONP when a valid ``callback`` is given; open to every origin (the API is
    read-only and public, and OpenRefine's browser side calls it from its own origin)."""
    text = json.dumps(body, ensure_ascii=False)
    callback = request.args.get("callback")
    if callback is not None:
        if not _CALLBACK.match(callback):
            raise InvalidRequest("callback must be a JavaScript identifier", where="callback")
        response = Response(f"/**/{callback}({text});", mimetype="text/javascript")
    else:
        response = Response(text, mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("", methods=["GET", "POST"])
def service() -> Response:
    lang = page_lang(request)
    if _param("queries") is not None:
        return answer(reconciler().reconcile_text(_param("queries"), lang))
    if _param("extend") is not None:
        return answer(reconciler().extend_text(_param("extend"), lang))
    if request.method == "POST":
        raise InvalidRequest("a POST needs a 'queries' or an 'extend' parameter", where="body")
    manifest = reconciler().manifest(request.url_root, lang)
    offered = ("application/json", "text/html")
    if (
        "callback" not in request.args
        and request.args.get("format") != "json"
        and (
            preferred(request.accept_mimetypes, offered, lambda m: (m,)) == "text/html"
            and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]
        )
    ):
        return help_page()
    return answer(manifest)


@bp.get("/help")
def help_page() -> Response:
    lang = page_lang(request)
    manifest = reconciler().manifest(request.url_root, lang)
    return render_page(
        "reconcile.html",
        lang,
        "/reconcile/help",
        rdf=False,
        url=request.url_root + "reconcile",
        manifest=manifest,
        batch=MAX_BATCH,
    )


@bp.get("/suggest/entity")
def suggest_entity() -> Response:
    types = request.args.getlist("type")
    try:
        cursor = int(request.args.get("cursor", "0") or 0)
    except ValueError:
        raise InvalidRequest("cursor must be a whole number", where="cursor") from None
    if cursor < 0 or cursor > 10_000:
        raise InvalidRequest("cursor must be between 0 and 10000", where="cursor")
    lang = page_lang(request)
    return answer(
        reconciler().suggest_entities(_param("prefix") or "", types, cursor=cursor, lang=lang)
    )


@bp.get("/suggest/type")
def suggest_type() -> Response:
    return answer(reconciler().suggest_types(_param("prefix") or "", page_lang(request)))


@bp.get("/suggest/property")
def suggest_property() -> Response:
    return answer(reconciler().suggest_properties(_param("prefix") or "", page_lang(request)))


@bp.get("/properties")
def properties() -> Response:
    raw = request.args.get("limit")
    try:
        limit = int(raw) if raw else None
    except ValueError:
        raise InvalidRequest("limit must be a whole number", where="limit") from None
    return answer(reconciler().propose(request.args.get("type"), limit, page_lang(request)))


@bp.get("/preview")
def preview() -> Response:
    iri = (request.args.get("id") or "").strip()
    if not iri:
        raise InvalidRequest("give the id of an entity: /reconcile/preview?id=...", where="id")
    lang = page_lang(request)
    card = reconciler().preview(iri, lang)
    if card is None:
        raise NotFound(f"there is no entity {iri[:200]} to reconcile against")
    html = render_template("reconcile_preview.html", lang=lang, card=card)
    response = Response(html, mimetype="text/html")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
