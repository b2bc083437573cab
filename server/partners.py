"""``/partners``: the registry of partner datasets (JSON API) and harvests on demand.

``GET /partners`` lists them (public); ``POST /partners`` registers or replaces one,
``DELETE /partners/SLUG`` removes one and ``POST /partners/SLUG/harvest`` harvests it — each
with an admin token (``Authorization: Bearer``), validated and committed with provenance by
:mod:`kb.linking.partners` and :mod:`kb.linking.harvest`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request

from kb.errors import InvalidRequest
from kb.linking import harvest as hv
from kb.linking import partners
from server import kb_service, submissions
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
