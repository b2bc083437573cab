"""Landing page and health check."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from kb.namespaces import sparql_prologue
from server import kb_service
from server.pages import local_link

bp = Blueprint("ui", __name__)

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
    return render_template(
        "index.html", clusters=clusters, graphs=graphs, base=base, link=local_link(base)
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
