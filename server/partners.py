"""``/partners``: the registry of partner datasets (JSON API) and harvests on demand.

``GET /partners`` lists them (public); ``POST /partners`` registers or replaces one,
``DELETE /partners/SLUG`` removes one and ``POST /partners/SLUG/harvest`` harvests it — each
with an admin token (``Authorization: Bearer``), validated and committed with provenance by
:mod:`kb.linking.partners` and :mod:`kb.linking.harvest`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, render_template, request

from kb.errors import InvalidRequest, NotFound
from kb.linking import harvest as hv
from kb.linking import partners
from kb.linking import suggest as sg
from server import kb_service, submissions
from server.accept import preferred
from server.pages import page_lang
from server.submissions import guarded, principal, respond, writer

bp = Blueprint("partners", __name__, url_prefix="/partners")
bp.after_request(submissions._audit)  # writes go to the audit log like every other


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("")
def listing() -> Response:
    found = partners.read(kb_service().store, kb_service().settings.base_iri)
    return jsonify({"partners": [p.to_dict() for p in found.values()]})


@bp.post("")
def register() -> Response:
    who = principal()
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidRequest("the body is a JSON object describing the partner", where="body")
    partner = partners.from_dict(body, kb_service().settings.base_iri)
    dry = request.args.get("dry_run", "").lower() in ("1", "true", "yes")
    return guarded(
        lambda: respond([partners.register(writer(), who, partner, dry_run=dry)], status=None)
    )


@bp.delete("/<slug>")
def remove(slug: str) -> Response:
    who = principal()
    return guarded(lambda: respond([partners.remove(writer(), who, slug)]))


@bp.post("/<slug>/harvest")
def harvest(slug: str) -> Response:
    who = principal()
    done = hv.harvest(writer(), who, slug)
    response = jsonify(done.to_dict())
    response.status_code = 200 if done.succeeded else 502
    return response


def _partner(slug: str) -> partners.Partner:
    found = partners.read(kb_service().store, kb_service().settings.base_iri).get(slug)
    if found is None:
        raise NotFound(f"there is no registered partner {slug!r}")
    return found


@bp.get("/<slug>/suggestions")
def suggestions(slug: str) -> Response:
    """Suggested links to the partner's harvested things (JSON; a browser gets the page where a
    steward accepts or rejects them)."""
    partner = _partner(slug)
    raw = request.args.get("threshold")
    try:
        threshold = float(raw) if raw else sg.THRESHOLD
    except ValueError:
        raise InvalidRequest("threshold is a number between 0 and 1", where="threshold") from None
    if not 0 <= threshold <= 1:
        raise InvalidRequest("threshold is a number between 0 and 1", where="threshold")
    lang = page_lang(request)
    found = sg.suggest(kb_service().store, partner, threshold=threshold, lang=lang)
    html = preferred(request.accept_mimetypes, ("application/json", "text/html"), lambda m: (m,))
    if html == "text/html" and request.args.get("format") != "json":
        return Response(
            render_template(
                "link_suggestions.html",
                lang=lang,
                tr=lambda nl, en: nl if lang == "nl" else en,
                partner=partner,
                suggestions=[s.to_dict() for s in found],
                threshold=threshold,
            ),
            mimetype="text/html",
        )
    return jsonify(
        {"partner": slug, "threshold": threshold, "suggestions": [s.to_dict() for s in found]}
    )


@bp.post("/<slug>/suggestions")
def decide(slug: str) -> Response:
    """A steward's decision: ``{"ours": IRI, "theirs": IRI, "decision": "accept"|"reject"}``."""
    who = principal()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest("the body is {ours, theirs, decision} as JSON", where="body")
    for key in ("ours", "theirs", "decision"):
        if not isinstance(body.get(key), str):
            raise InvalidRequest(f"{key!r} is required (a string)", where=key)
    _partner(slug)
    return guarded(
        lambda: respond(
            [sg.decide(writer(), who, slug, body["ours"], body["theirs"], body["decision"])]
        )
    )
