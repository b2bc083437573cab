"""Provenance and history of steward commits: PROV-O records, numbered versions, diffs.

Each commit adds, in the *same* transaction as the data (so both land or neither):

* to ``{base}graph/provenance`` (public): the commit as a ``prov:Activity`` — steward
  (``prov:wasAssociatedWith``), start and end time, the source file (``prov:used``: name,
  media type, SHA-256, triple count), the operation, triples added and removed, the validation
  outcome and the digest of the shapes used; the new graph version (``prov:Entity``,
  ``prov:specializationOf`` the graph, ``prov:wasRevisionOf`` the previous one); and
  ``prov:has_provenance`` from each changed subject (at most 1,000) to the commit, so a
  resource's page links to the commits that touched it;
* to ``{base}graph/history``: the version's full content as N-Triples literals
  (``hist:snapshot``; one, or several of whole lines past 2 MB). A snapshot is literals, so
  history never shows up as duplicate data in queries over the union of graphs, and reading
  the current graph costs nothing extra.

A graph's first tracked commit also records its earlier content as version 0.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic

from kb.load import to_rdflib
from kb.namespaces import DCTERMS as DCT
from kb.namespaces import FOAF, HIST, PROV, XSD
from kb.store.http import SparqlHttpStore

DEFAULT_GRAPH = "urn:x-clusterkb:default-graph"
MAX_LINKED_SUBJECTS = 1000


def provenance_graph(base: str) -> str:
    return f"{base}graph/provenance"


def history_graph(base: str) -> str:
    return f"{base}graph/history"


def graph_key(graph: str | None) -> str:
    return graph or DEFAULT_GRAPH


# --- terms and graphs ------------------------------------------------------------------


def nt_lines(g: Graph) -> list[str]:
    return [f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in g]


def to_ntriples(g: Graph) -> str:
    return "\n".join(sorted(nt_lines(g))) + ("\n" if len(g) else "")


def from_ntriples(data: bytes | str) -> Graph:
    g = Graph()
    raw = data.encode("utf-8") if isinstance(data, str) else data
    for t in ox.parse(input=raw, format=ox.RdfFormat.N_TRIPLES):
        g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return g


_BLANK = re.compile(r"_:\S+")


def fingerprint(g: Graph) -> str:
    """A content tag for ETags: the same for the same triples whatever the blank-node labels."""
    h = hashlib.sha256()
    for line in sorted(_BLANK.sub("_:", line) for line in nt_lines(g)):
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()[:32]


def has_bnodes(g: Graph) -> bool:
    return any(isinstance(t, BNode) for triple in g for t in triple)


def diff(old: Graph, new: Graph) -> tuple[Graph, Graph]:
    """(added, removed) from ``old`` to ``new``; blank nodes compared by structure."""
    if has_bnodes(old) or has_bnodes(new):
        _both, removed, added = graph_diff(to_isomorphic(old), to_isomorphic(new))
        return _plain(added), _plain(removed)
    added, removed = Graph(), Graph()
    for t in new:
        if t not in old:
            added.add(t)
    for t in old:
        if t not in new:
            removed.add(t)
    return added, removed


def _plain(g: Graph) -> Graph:
    out = Graph()
    for t in g:
        out.add(t)
    return out


def sparql_string(text: str) -> str:
    return Literal(text).n3()


# --- records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitRecord:
    commit: str
    graph: str | None
    version: int
    previous: str | None  # IRI of the previous version
    operation: str
    agent_id: str
    agent_name: str
    agent_role: str
    started: str
    ended: str
    source_name: str | None
    source_type: str | None
    source_sha256: str | None
    source_triples: int
    added: int
    removed: int
    violations: int
    warnings: int
    shapes_digest: str
    subjects: tuple[str, ...] = ()
    submission_id: str | None = None


#: The largest snapshot literal, in characters: a bigger snapshot is stored as several
#: ``hist:snapshot`` literals of whole N-Triples lines (Virtuoso 7 refuses strings over 10 MB).
SNAPSHOT_PART_CHARS = 2_000_000


def snapshot_parts(g: Graph) -> list[str]:
    """``g`` as N-Triples in parts of at most :data:`SNAPSHOT_PART_CHARS` (whole lines); the
    parts, concatenated in any order, are the graph (each line is one triple)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in sorted(nt_lines(g)):
        if current and size + len(line) + 1 > SNAPSHOT_PART_CHARS:
            parts.append("\n".join(current) + "\n")
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    parts.append("\n".join(current) + ("\n" if current else ""))
    return parts


@dataclass(frozen=True)
class Records:
    """What a commit adds to the provenance and history graphs, as N-Triples lines, and the
    IRIs it owns there (an undo removes what they are subject or object of; the steward's
    own description stays, shared by their other commits)."""

    provenance: list[str]
    history: list[str]
    owned: tuple[str, ...]


def records(rec: CommitRecord, base: str, snapshot: Graph, old_snapshot: Graph | None) -> Records:
    """The triples that record ``rec`` (and version 0 when ``old_snapshot`` is given)."""
    c = URIRef(rec.commit)
    ver = URIRef(f"{rec.commit}/version")
    src = URIRef(f"{rec.commit}/source")
    agent = URIRef(f"{base}id/steward/{rec.agent_id}")
    g = URIRef(graph_key(rec.graph))
    P, H = PROV, HIST

    def when(value: str) -> Literal:
        return Literal(value, datatype=XSD.dateTime)

    prov = Graph()
    for t in (
        (c, RDF.type, P.Activity),
        (c, RDF.type, H.Commit),
        (c, P.startedAtTime, when(rec.started)),
        (c, P.endedAtTime, when(rec.ended)),
        (c, P.wasAssociatedWith, agent),
        (c, P.generated, ver),
        (c, H.operation, Literal(rec.operation)),
        (c, H.graph, g),
        (c, H.triplesAdded, Literal(rec.added)),
        (c, H.triplesRemoved, Literal(rec.removed)),
        (c, H.conforms, Literal(rec.violations == 0)),
        (c, H.violations, Literal(rec.violations)),
        (c, H.warnings, Literal(rec.warnings)),
        (c, H.shapesDigest, Literal(rec.shapes_digest)),
        (agent, RDF.type, P.Agent),
        (agent, FOAF.name, Literal(rec.agent_name)),
        (agent, H.role, Literal(rec.agent_role)),
        (ver, RDF.type, P.Entity),
        (ver, RDF.type, H.GraphVersion),
        (ver, P.specializationOf, g),
        (ver, H.version, Literal(rec.version)),
        (ver, P.wasGeneratedBy, c),
        (ver, P.generatedAtTime, when(rec.ended)),
    ):
        prov.add(t)
    if rec.source_name is not None or rec.source_sha256 is not None:
        for t in (
            (c, P.used, src),
            (src, RDF.type, P.Entity),
            (src, DCT.title, Literal(rec.source_name or "")),
            (src, DCT["format"], Literal(rec.source_type or "")),
            (src, H.sha256, Literal(rec.source_sha256 or "")),
            (src, H.triples, Literal(rec.source_triples)),
        ):
            prov.add(t)
    if rec.previous is not None:
        prov.add((ver, P.wasRevisionOf, URIRef(rec.previous)))
    if rec.submission_id:
        prov.add((c, H.submissionId, Literal(rec.submission_id)))
    for subject in rec.subjects[:MAX_LINKED_SUBJECTS]:
        prov.add((URIRef(subject), P.has_provenance, c))
    hist = Graph()
    hist.add((ver, H.graph, g))
    hist.add((ver, H.version, Literal(rec.version)))
    hist.add((ver, H.commit, c))
    for part in snapshot_parts(snapshot):
        hist.add((ver, H.snapshot, Literal(part)))
    owned = [c, ver, src]
    if old_snapshot is not None:
        v0 = URIRef(f"{rec.commit}/version0")
        owned.append(v0)
        hist.add((v0, H.graph, g))
        hist.add((v0, H.version, Literal(0)))
        for part in snapshot_parts(old_snapshot):
            hist.add((v0, H.snapshot, Literal(part)))
        for t in (
            (v0, RDF.type, P.Entity),
            (v0, RDF.type, H.GraphVersion),
            (v0, P.specializationOf, g),
            (v0, H.version, Literal(0)),
            (ver, P.wasRevisionOf, v0),
        ):
            prov.add(t)
    return Records(nt_lines(prov), nt_lines(hist), tuple(str(x) for x in owned))


# --- reading ---------------------------------------------------------------------------


def latest_version(store: SparqlHttpStore, base: str, graph: str | None) -> tuple[int, str] | None:
    """The newest version of ``graph``: its number and IRI."""
    rows = store.select(
        f"SELECT ?v ?n WHERE {{ GRAPH <{history_graph(base)}> {{ ?v <{HIST}graph> "
        f"<{graph_key(graph)}> ; <{HIST}version> ?n }} }} ORDER BY DESC(?n) LIMIT 1",
        union_default_graph=False,
    )
    if not rows:
        return None
    return int(rows[0]["n"]["value"]), rows[0]["v"]["value"]


def versions(store: SparqlHttpStore, base: str, graph: str | None) -> list[dict[str, Any]]:
    """Every recorded version of ``graph``, oldest first, with who made it and what changed."""
    # Two queries, not one with an OPTIONAL over both graphs: Virtuoso 7's cost estimate of the
    # single query runs to 10^9 s and it refuses to run it (measured).
    found = store.select(
        f"SELECT ?v ?n WHERE {{ GRAPH <{history_graph(base)}> {{ ?v <{HIST}graph> "
        f"<{graph_key(graph)}> ; <{HIST}version> ?n }} }}",
        union_default_graph=False,
    )
    number = {r["v"]["value"]: int(r["n"]["value"]) for r in found}
    details: dict[str, dict[str, Any]] = {}
    names = sorted(number)
    for i in range(0, len(names), 200):
        values = " ".join(f"<{v}>" for v in names[i : i + 200])
        for r in store.select(
            f"""SELECT ?v ?commit ?time ?op ?name ?added ?removed ?file ?sha WHERE {{
  VALUES ?v {{ {values} }}
  GRAPH <{provenance_graph(base)}> {{
    ?v <{PROV}wasGeneratedBy> ?commit . ?commit <{PROV}endedAtTime> ?time ;
       <{HIST}operation> ?op ; <{HIST}triplesAdded> ?added ; <{HIST}triplesRemoved> ?removed ;
       <{PROV}wasAssociatedWith> ?agent . ?agent <{FOAF}name> ?name .
    OPTIONAL {{ ?commit <{PROV}used> ?src . ?src <{DCT}title> ?file ; <{HIST}sha256> ?sha }}
  }}
}}""",
            union_default_graph=False,
        ):
            details[r["v"]["value"]] = r
    out = []
    for v in sorted(number, key=lambda v: number[v]):
        r = details.get(v, {})
        out.append(
            {
                "version": number[v],
                "commit": r.get("commit", {}).get("value"),
                "time": r.get("time", {}).get("value"),
                "operation": r.get("op", {}).get("value", "initial"),
                "steward": r.get("name", {}).get("value"),
                "added": int(r["added"]["value"]) if "added" in r else None,
                "removed": int(r["removed"]["value"]) if "removed" in r else None,
                "file": r.get("file", {}).get("value") or None,
                "sha256": r.get("sha", {}).get("value") or None,
            }
        )
    return out


def snapshot(store: SparqlHttpStore, base: str, graph: str | None, n: int) -> Graph | None:
    rows = store.select(
        f"SELECT ?s WHERE {{ GRAPH <{history_graph(base)}> {{ ?v <{HIST}graph> "
        f"<{graph_key(graph)}> ; <{HIST}version> {int(n)} ; <{HIST}snapshot> ?s }} }}",
        union_default_graph=False,
    )
    if not rows:
        return None
    return from_ntriples("".join(r["s"]["value"] for r in rows))


def find_submission(store: SparqlHttpStore, base: str, submission_id: str) -> list[dict[str, Any]]:
    """Earlier commits made under this submission id (graph, version, commit, source SHA)."""
    rows = store.select(
        f"""SELECT ?c ?g ?n ?sha WHERE {{ GRAPH <{provenance_graph(base)}> {{
  ?c <{HIST}submissionId> {sparql_string(submission_id)} ; <{HIST}graph> ?g ;
     <{PROV}generated> ?v . ?v <{HIST}version> ?n .
  OPTIONAL {{ ?c <{PROV}used> ?src . ?src <{HIST}sha256> ?sha }} }} }}""",
        union_default_graph=False,
    )
    return [
        {
            "commit": r["c"]["value"],
            "graph": None if r["g"]["value"] == DEFAULT_GRAPH else r["g"]["value"],
            "version": int(r["n"]["value"]),
            "sha256": r.get("sha", {}).get("value"),
        }
        for r in rows
    ]


def changed_subjects(added: Graph, removed: Graph) -> tuple[str, ...]:
    subjects = {str(s) for g in (added, removed) for s in g.subjects() if isinstance(s, URIRef)}
    return tuple(sorted(subjects))
