"""Apps and queries shared by the ``/sparql`` tests."""

from __future__ import annotations

import copy

from flask import Flask

from kb.service import Service
from server import create_app

SELECT = (
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT ?s ?l WHERE { ?s a "
    "<https://w3id.org/clusterkb/ns/provinciale-clusters#ProvincialCluster> ; skos:prefLabel ?l }"
    " ORDER BY ?s ?l"
)
CONSTRUCT = "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } ORDER BY ?s ?t LIMIT 40"


def app_with(service: Service, **settings: object) -> Flask:
    """An app over the shared store with other settings (and its own result cache)."""
    clone = copy.copy(service)
    clone.settings = service.settings.replace(**settings)
    application = create_app(service=clone)
    application.config["TESTING"] = True
    return application
