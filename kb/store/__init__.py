"""The store: one interface (SPARQL 1.1 Query/Update + Graph Store Protocol) over a database.

* :class:`SparqlHttpStore` — the client every part of ClusterKB uses.
* :class:`ManagedOxigraph` — the embedded default: ``oxigraph serve`` on loopback.
* :class:`Dialect` — how a server departs from SPARQL 1.1 (Oxigraph, Virtuoso, generic).
* :func:`open_store` — the store the settings name, for the time of a ``with`` block.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import requests.auth
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from kb.config import Settings
from kb.store.dialect import DIALECTS, OXIGRAPH, REMOTE_REQUEST_TRIPLES, SPARQL11, VIRTUOSO, Dialect
from kb.store.http import SparqlHttpStore, StoreResponse
from kb.store.journal import Journal
from kb.store.oxigraph import ManagedOxigraph, attach, bulk_load, is_served, remove_orphans

__all__ = [
    "DIALECTS",
    "OXIGRAPH",
    "REMOTE_REQUEST_TRIPLES",
    "SPARQL11",
    "VIRTUOSO",
    "Dialect",
    "ManagedOxigraph",
    "SparqlHttpStore",
    "StoreResponse",
    "attach",
    "bulk_load",
    "is_served",
    "open_store",
    "remote_store",
    "remove_orphans",
]


def remote_store(settings: Settings) -> SparqlHttpStore:
    """A client for the SPARQL 1.1 server the settings name (Virtuoso, Fuseki, GraphDB, ...).

    Its public default graph is the merge of the graphs under ``{base}graph/`` (the server's own
    system graphs stay out), and the data version lives in the store, so several front ends
    agree on it. Which graphs those are is read in the background, at most
    ``store_freshness`` seconds old (:mod:`kb.store.scope`).
    """
    auth: requests.auth.AuthBase | None = None
    if settings.store_user:
        cls = HTTPDigestAuth if settings.store_auth == "digest" else HTTPBasicAuth
        auth = cls(settings.store_user, settings.store_password)
    store = SparqlHttpStore(
        settings.store_query_url,
        settings.store_update_url or None,
        settings.store_gsp_url or None,
        dialect=DIALECTS[settings.store_dialect],
        auth=auth,
        timeout=settings.query_timeout,
        graph_scope=f"{settings.base_iri}graph/",
        fresh_for=settings.store_freshness,
    )
    store.journal = Journal(store, lease=settings.store_lease)
    return store


@contextlib.contextmanager
def open_store(settings: Settings) -> Iterator[SparqlHttpStore]:
    """The configured store: a remote SPARQL server, the server a running ``kb serve`` manages
    over the store folder, or a managed Oxigraph started for the duration of the block."""
    if settings.remote_store:
        client = remote_store(settings)
        try:
            yield client
        finally:
            client.close()
        return
    attached = attach(settings.store_path, timeout_s=settings.query_timeout)
    if attached is not None:
        try:
            yield attached
        finally:
            attached.close()
        return
    server = ManagedOxigraph(settings.store_path, timeout_s=settings.query_timeout)
    server.start(watch=False)
    client = server.client()
    try:
        yield client
    finally:
        client.close()
        server.stop()
