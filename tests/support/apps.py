"""Apps and queries shared by the ``/sparql`` tests."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from kb.config import load_settings
from kb.namespaces import KB_NS
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


@contextmanager
def own_kb(folder: Path, **settings: object) -> Iterator[Service]:
    """A knowledge base of a test module's own (the bundled data in a store under ``folder``,
    Oxigraph), so the shared read-only fixtures never see its writes."""
    values = {"store": str(folder / "store"), "namespace": KB_NS, **settings}
    svc = Service(load_settings(values, environ={}))
    svc.start(watch=False)
    try:
        yield svc
    finally:
        svc.stop()


def app_for(service: Service) -> Flask:
    """The web app over ``service``, in Flask's testing mode."""
    application = create_app(service=service)
    application.config["TESTING"] = True
    return application
