"""Landing page and health check."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request

from kb.linking.authorities import AUTHORITIES, Reports
from kb.namespaces import sparql_prologue
from server import kb_service
from server.pages import local_link, page_lang

bp = Blueprint("ui", __name__)


def init_app(app: Flask) -> None:
    """The blueprint and the link report the home page shows (made once per data version)."""
    app.extensions["kb_link_reports"] = Reports(app.extensions["kb"].store)
    app.register_blueprint(bp)


CLUSTERS = (
    sparql_prologue(("pc", "skos"))
    + """
SELECT ?cluster ?label WHERE {
  ?cluster a pc:ProvincialCluster ; skos:prefLabel ?label .
  FILTER(lang(?label) = "nl")
} ORDER BY ?label
"""
)


@bp.get("/")
def index() -> str:
    store = kb_service().store
    clusters = store.select(CLUSTERS)
    graphs = store.graphs()
    base = kb_service().settings.base_iri
    lang = page_lang(request)
    reports: Reports = current_app.extensions["kb_link_reports"]
    return render_template(
        "index.html",
        clusters=clusters,
        graphs=graphs,
        base=base,
        link=local_link(base),
        lang=lang,
        links=reports.current(lang).rows(lang),
        authorities=AUTHORITIES,
    )


@bp.get("/health")
def health() -> Response:
    service = kb_service()
    ok = service.store.ping()
    body = jsonify(
        {
            "status": "ok" if ok else "degraded",
            "store": service.describe(),
            "restarts": service.managed.restarts if service.managed else 0,
        }
    )
    body.status_code = 200 if ok else 503
    return body
