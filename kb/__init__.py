"""ClusterKB's library: the knowledge base without its web front end.

Start here::

    from kb import Service, load_settings

    service = Service(load_settings())      # KB_* settings; see kb.config.SETTINGS
    service.start()                         # the managed Oxigraph (or the remote store)
    rows = service.store.select(
        "PREFIX pc: <https://w3id.org/clusterkb/ns/provinciale-clusters#> "
        "SELECT ?c WHERE { ?c a pc:ProvincialCluster }"
    )
    service.stop()

The nouns, each in its room (the README's *Architecture* section says what may import what):

* :class:`Settings` / :func:`load_settings` (``kb.config``) — every setting, written once.
* :class:`Service` (``kb.service``) — the store a running ClusterKB uses, started and loaded.
* :class:`SparqlHttpStore` (``kb.store``) — the only code that talks to the database; writers
  hand it a :class:`Transaction` and it commits all or nothing (``kb.store.transaction``),
  in the :class:`Dialect` of its backend.
* :class:`Writer` (``kb.submit``) — validated, provenance-recorded writes by stewards;
  :mod:`kb.commit_scope` says what a commit is validated with.
* :class:`QueryService` / :class:`QueryRequest` (``kb.query``) — the SPARQL query service the
  endpoint and ``kb query`` share (checks, cache, row cap, restart on time-out).
* :func:`validate` / :class:`Report` (``kb.validate``) — SHACL validation with readable results.
* :class:`Format` / :data:`FORMATS` (``kb.formats``) — every RDF and result format, one table.
* :class:`KBError` (``kb.errors``) — every error the library raises.

The names are imported on first use, so ``import kb`` stays cheap. Importing the package
registers :mod:`kb.turtle`'s serializers, so Turtle written by this process reads back as the
terms it holds.
"""

from __future__ import annotations

import importlib
from typing import Any

from kb.turtle import register_serializers

register_serializers()

_WHERE = {
    "Settings": "kb.config",
    "load_settings": "kb.config",
    "Service": "kb.service",
    "SparqlHttpStore": "kb.store",
    "Transaction": "kb.store.transaction",
    "Dialect": "kb.store.dialect",
    "Writer": "kb.submit",
    "QueryService": "kb.query",
    "QueryRequest": "kb.query",
    "validate": "kb.validate",
    "Report": "kb.validate",
    "Format": "kb.formats",
    "FORMATS": "kb.formats",
    "KBError": "kb.errors",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'kb' has no attribute {name!r}")
