"""What differs between the SPARQL servers ClusterKB runs on, as one value per backend.

:class:`~kb.store.http.SparqlHttpStore` speaks SPARQL 1.1 to all of them; a :class:`Dialect`
says how this server departs from the common ground (measured on Oxigraph 0.5 and Virtuoso 7;
see DESIGN.md's hazards). Nothing outside ``kb/store/`` reads these flags: the store turns
them into requests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: Triples per update request to a remote store. Virtuoso 7 refuses an INSERT DATA of more than
#: about 2,000 short triples ("SP031 … exceeded 10000 lines of code"), and the time it takes
#: grows with the square of the request: 14 ms for 50 triples, 40 ms for 100, 180 ms for 250,
#: 0.6 s for 500, 2.1 s for 1,000 (measured) — so 100 at a time loads five times faster.
REMOTE_REQUEST_TRIPLES = 100


@dataclass(frozen=True)
class Dialect:
    name: str
    #: URL parameter that makes the default graph the union of all graphs (Oxigraph's
    #: ``union-default-graph``); None: the union is passed as ``default-graph-uri`` values.
    union_default_graph_param: str | None = None
    #: URL parameter carrying a query's time limit in milliseconds (Virtuoso's ``timeout``).
    timeout_param: str | None = None
    #: Ask only for the formats every server writes alike (N-Triples for graphs, SPARQL JSON
    #: for solutions) and convert locally (Virtuoso answers JSON-LD with RDF/JSON).
    canonical_formats: bool = False
    #: One update request is one transaction. A remote server is assumed not to be until the
    #: probe (:meth:`SparqlHttpStore.prepare_writes`) shows it; commits then use the journal.
    atomic_updates: bool = True
    #: The most triples one update request may carry (None: no limit).
    max_request_triples: int | None = None
    #: About the most characters of triples one update request carries (None: no limit); a
    #: longer single triple (a history snapshot part) goes alone.
    max_request_chars: int | None = None
    #: The data version lives in the store, shared by every front end (else: a local clock).
    version_in_store: bool = False
    #: ``INSERT DATA`` may carry blank nodes (Virtuoso 7 refuses them: ``INSERT {…} WHERE {}``).
    blank_nodes_in_insert_data: bool = True

    @property
    def probes_updates(self) -> bool:
        """Whether the server's update behaviour is probed before the first write."""
        return not self.atomic_updates


#: The managed Oxigraph: transactional updates, a union-default-graph switch, any size.
OXIGRAPH = Dialect("oxigraph", union_default_graph_param="union-default-graph")
#: Any SPARQL 1.1 server (Fuseki, GraphDB, …), assumed to share Virtuoso's limits until probed.
SPARQL11 = Dialect(
    "sparql11",
    canonical_formats=True,
    atomic_updates=False,
    max_request_triples=REMOTE_REQUEST_TRIPLES,
    # Virtuoso 7 refuses a string over 10 MB; history snapshots come in parts of 2 M chars
    max_request_chars=2_500_000,
    version_in_store=True,
    blank_nodes_in_insert_data=False,
)
#: Virtuoso 7 (Debian's virtuoso-opensource): SPARQL 1.1 plus its per-query time limit.
VIRTUOSO = replace(SPARQL11, name="virtuoso", timeout_param="timeout")

DIALECTS = {d.name: d for d in (OXIGRAPH, SPARQL11, VIRTUOSO)}
