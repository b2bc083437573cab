"""Probes of how a SPARQL server applies updates, run once before the first write: whether a
request is one transaction, and whether it keeps an integral xsd:decimal a decimal. Each probe
writes graphs of its own (front ends started together probe at the same moment)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.errors import StoreError
from kb.namespaces import XSD
from kb.store.journal import JOURNAL_GRAPH

if TYPE_CHECKING:
    from kb.store.http import SparqlHttpStore


@dataclass(frozen=True)
class UpdateBehaviour:
    """What the probe found, and what it means for commits (lines for the log)."""

    atomic: bool
    integral_decimals_kept: bool
    notes: list[str]


def probe_graph() -> str:
    """A graph for one probe alone: front ends started together probe at the same moment."""
    return f"urn:x-clusterkb:probe:{uuid.uuid4().hex}"


def update_behaviour(store: SparqlHttpStore) -> UpdateBehaviour:
    """Probe how the server applies updates: whether a request whose last operation fails
    leaves its first one applied, and whether an integral xsd:decimal stays a decimal."""
    probe, exists = probe_graph(), probe_graph()
    notes = []
    try:
        store.raw_update(f"DROP SILENT GRAPH <{probe}> ; CREATE SILENT GRAPH <{exists}>")
        atomic: bool | None = None
        try:
            store.raw_update(
                f"INSERT DATA {{ GRAPH <{probe}> {{ <{probe}> <{probe}> <{probe}> }} }} ;\n"
                f"CREATE GRAPH <{exists}>"
            )
        except StoreError:
            atomic = not store.ask(
                f"ASK {{ GRAPH <{probe}> {{ ?s ?p ?o }} }}", union_default_graph=False
            )
        store.raw_update(
            f"DROP SILENT GRAPH <{probe}> ; INSERT DATA {{ GRAPH <{probe}> {{ <{probe}> "
            f'<{probe}> "1"^^<{XSD.decimal}> }} }}'
        )
        rows = store.select(
            f"SELECT (DATATYPE(?o) AS ?d) WHERE {{ GRAPH <{probe}> {{ ?s ?p ?o }} }}",
            union_default_graph=False,
        )
        kept = bool(rows) and rows[0]["d"]["value"].endswith("#decimal")
    finally:
        with contextlib.suppress(StoreError):
            store.raw_update(f"DROP SILENT GRAPH <{probe}> ; DROP SILENT GRAPH <{exists}>")
    if atomic:
        notes.append("store: an update request is one transaction: a commit is one request")
    else:
        why = "is applied operation by operation" if atomic is False else "may not be atomic"
        notes.append(
            f"store: an update request {why} (probed): commits go through the rollback "
            f"journal in <{JOURNAL_GRAPH}>, in requests of at most "
            f"{store.dialect.max_request_triples or 'any number of'} triples"
        )
    if not kept:
        notes.append(
            'store: "5"^^xsd:decimal comes back as an xsd:integer (probed): ClusterKB '
            'writes integral decimals as "5.0"'
        )
    return UpdateBehaviour(bool(atomic), kept, notes)
