"""Moving a store's identifiers from one namespace to another, in one update request.

Stores loaded before identifiers became persistent hold IRIs minted from the base that followed
host and port (``http://localhost:8080/id/…``, graphs ``http://localhost:8080/graph/…``). The
update built here rewrites, in every graph under the old base, each IRI that starts with it (graph
name, subject, predicate, object) and the IRIs inside the N-Triples snapshots of the history
(literals that contain ``<old…``), keeping blank nodes, language tags and datatypes. It is one
SPARQL Update request, so on a store whose update request is one transaction (Oxigraph; a remote
server the probe found atomic) it lands whole or not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Literal

from kb.errors import StoreError
from kb.store.http import SparqlHttpStore


@dataclass(frozen=True)
class Migration:
    old: str
    new: str
    quads: int  # quads rewritten
    graphs: int  # graphs renamed


def _moved(var: str, old: str, new: str) -> str:
    o, n = _literal(old), _literal(new)
    return (
        f"IF(isIRI({var}) && STRSTARTS(STR({var}), {o}), "
        f"IRI(CONCAT({n}, STRAFTER(STR({var}), {o}))), {var})"
    )


def _touched(old: str) -> str:
    """Every quad of a graph under ``old`` moves (its graph name does, at least)."""
    return f"FILTER(STRSTARTS(STR(?g), {_literal(old)}))"


def _literal(text: str) -> str:
    """A SPARQL string literal (kb.store keeps below kb.history, whose sparql_string is this)."""
    return Literal(text).n3()


def rewrite_request(old: str, new: str) -> str:
    """The SPARQL Update that moves every IRI under ``old`` to ``new`` (graphs under ``old``
    only: a remote server's own system graphs are never touched)."""
    pattern = _literal(re.escape("<" + old))
    replacement = _literal("<" + new.replace("$", "\\$"))
    text = f"REPLACE(STR(?o), {pattern}, {replacement})"
    literal = (
        f"IF(isLiteral(?o) && CONTAINS(STR(?o), {_literal('<' + old)}), "
        f'IF(LANG(?o) != "", STRLANG({text}, LANG(?o)), STRDT({text}, DATATYPE(?o))), '
        f"{_moved('?o', old, new)})"
    )
    return (
        "DELETE { GRAPH ?g { ?s ?p ?o } }\n"
        "INSERT { GRAPH ?g2 { ?s2 ?p2 ?o2 } }\n"
        "WHERE {\n"
        "  GRAPH ?g { ?s ?p ?o }\n"
        f"  {_touched(old)}\n"
        f"  BIND({_moved('?g', old, new)} AS ?g2)\n"
        f"  BIND({_moved('?s', old, new)} AS ?s2)\n"
        f"  BIND({_moved('?p', old, new)} AS ?p2)\n"
        f"  BIND({literal} AS ?o2)\n"
        "}"
    )


def _count(store: SparqlHttpStore, old: str) -> tuple[int, int]:
    rows = store.select(
        "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?g) AS ?graphs) WHERE {\n"
        f"  GRAPH ?g {{ ?s ?p ?o }}\n  {_touched(old)}\n}}",
        union_default_graph=False,
    )
    row = rows[0] if rows else {}
    return (
        int(row.get("n", {}).get("value", 0)),
        int(row.get("graphs", {}).get("value", 0)),
    )


def migrate_namespace(store: SparqlHttpStore, old: str, new: str) -> Migration:
    """Rewrite every IRI under ``old`` as the same path under ``new``; what was changed.

    Refuses when the two overlap (one a prefix of the other: a second run would move the
    moved IRIs again), and checks afterwards that nothing under ``old`` is left."""
    if not old.endswith("/") or not new.endswith("/"):
        raise StoreError("both namespaces must end with a slash")
    if old.startswith(new) or new.startswith(old):
        raise StoreError(f"{old} and {new} overlap: one is a prefix of the other")
    quads, graphs = _count(store, old)
    if quads:
        store.update(rewrite_request(old, new))
        left, _ = _count(store, old)
        if left:
            raise StoreError(f"{left} quads still hold IRIs under {old} after the migration")
    return Migration(old, new, quads, graphs)
