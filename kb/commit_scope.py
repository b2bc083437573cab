"""What a commit is validated with: the shapes in scope, the referenced context, the shapes
that have no target, and the digest of the shapes recorded with it.

A commit's resulting graph is validated with the project's shapes together with the bundled
reference data and a bounded CONSTRUCT of the types and labels of the resources it points to
in *other* graphs, so the cost follows the size of the change, not of the knowledge base. The
shapes' class and objects-of targets are replaced by explicit target nodes (the graph's own
resources), and only results about those count.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from kb import bundled, history
from kb.config import Settings
from kb.namespaces import SH, SKOS
from kb.store.http import SparqlHttpStore
from kb.validate import Report, Result, project_ontology, project_shapes, validate, validate_within

SKOS_PREF = str(SKOS.prefLabel)
RDFS_LABEL = str(RDFS.label)
#: The most referenced resources whose context is fetched for one validation.
MAX_CONTEXT_IRIS = 5000


def check(store: SparqlHttpStore, settings: Settings, result: Graph, target: str | None) -> Report:
    """Validate ``result``, the content a commit gives graph ``target``, with the reference
    data and what it points to elsewhere; only results about its own resources count."""
    base = settings.base_iri
    data = Graph()
    data += result
    data += reference(base)
    data += context(store, base, result, target)
    # Only the result's own resources are focus nodes: the shapes' class and
    # objects-of targets are replaced by explicit target nodes, so the reference data and
    # the context are there for paths and sh:class but are not validated themselves.
    shapes = targeted_shapes(base, result)
    limit = settings.validation_timeout
    report = (
        validate_within(limit, data, shapes=shapes, base=base)
        if limit > 0
        else validate(data, shapes=shapes, base=base)
    )
    keep = {str(x) if isinstance(x, URIRef) else f"_:{x}" for x in result.subjects()}
    keep |= {
        str(x) if isinstance(x, URIRef) else f"_:{x}" for x in shapes.objects(None, SH.targetNode)
    }
    return only_about([(report, keep)])


def context(store: SparqlHttpStore, base: str, result: Graph, target: str | None) -> Graph:
    """Types and labels, from other graphs, of the resources ``result`` points to."""
    ref = reference(base)
    own = set(result.subjects()) | set(ref.subjects())
    iris = sorted(
        {str(o) for _s, p, o in result if isinstance(o, URIRef) and p != RDF.type and o not in own}
    )[:MAX_CONTEXT_IRIS]
    out = Graph()
    exclude = f"FILTER(?g != <{target}>)" if target else ""
    # Measured at 1M triples: a FILTER on ?p takes 20 ms, a second VALUES for ?p 2 s
    # (Oxigraph then scans every quad).
    preds = ", ".join(f"<{p}>" for p in context_predicates(base))
    for i in range(0, len(iris), 500):
        values = " ".join(f"<{iri}>" for iri in iris[i : i + 500])
        out += store.construct(
            f"CONSTRUCT {{ ?x ?p ?o }} WHERE {{ VALUES ?x {{ {values} }} "
            f"GRAPH ?g {{ ?x ?p ?o }} FILTER(?p IN ({preds})) {exclude} }}",
            union_default_graph=False,
        )
    return out


@lru_cache(maxsize=4)
def reference(base: str) -> Graph:
    """The bundled reference data (cached): what submitted data may point to."""
    return bundled.reference_graph(base)


@lru_cache(maxsize=4)
def _untargeted(base: str) -> tuple[Graph, tuple[tuple[Node, frozenset[Node]], ...], tuple]:
    """The project shapes without their class and objects-of targets, and those targets
    (each class with all its subclasses, from the ontology and the shapes)."""
    shapes = project_shapes(base)
    ont = Graph()
    ont += project_ontology(base)
    ont += shapes
    stripped = Graph()
    for t in shapes:
        if t[1] not in (SH.targetClass, SH.targetObjectsOf):
            stripped.add(t)
    by_class = tuple(
        (shape, frozenset(n for n in ont.transitive_subjects(RDFS.subClassOf, cls) if n))
        for shape, cls in shapes.subject_objects(SH.targetClass)
    )
    by_objects = tuple(shapes.subject_objects(SH.targetObjectsOf))
    return stripped, by_class, by_objects


def targeted_shapes(base: str, result: Graph) -> Graph:
    """The project shapes, targeted at the resources of ``result`` only (``sh:targetNode``)."""
    stripped, by_class, by_objects = _untargeted(base)
    g = Graph()
    g += stripped
    typed: dict[Node, set[Node]] = {}
    for s, t in result.subject_objects(RDF.type):
        typed.setdefault(t, set()).add(s)
    for shape, classes in by_class:
        for cls in classes:
            for s in typed.get(cls, ()):
                g.add((shape, SH.targetNode, s))
    for shape, prop in by_objects:
        for o in result.objects(None, prop):
            g.add((shape, SH.targetNode, o))
    return g


@lru_cache(maxsize=4)
def context_predicates(base: str) -> tuple[str, ...]:
    """What validation needs to know about a resource in another graph: its types and labels,
    and every property the shapes follow past the first step of a path (e.g. the helix role
    in ``( org:member org:classification )``)."""
    shapes = project_shapes(base)
    found = {str(RDF.type), SKOS_PREF, RDFS_LABEL}
    for path in shapes.objects(None, SH.path):
        if shapes.value(path, RDF.first) is None:
            continue
        for step in list(Collection(shapes, path))[1:]:
            found |= {str(t) for t in _path_predicates(shapes, step)}
    return tuple(sorted(found))


def _path_predicates(shapes: Graph, node: Node) -> Iterator[URIRef]:
    if isinstance(node, URIRef):
        yield node
        return
    if shapes.value(node, RDF.first) is not None:
        for item in Collection(shapes, node):
            yield from _path_predicates(shapes, item)
        return
    for _p, inner in shapes.predicate_objects(node):
        yield from _path_predicates(shapes, inner)


@lru_cache(maxsize=4)
def shapes_digest(base: str) -> str:
    """Which shapes validated a commit (recorded in its provenance)."""
    return history.fingerprint(project_shapes(base))[:16]


def only_about(reports: list[tuple[Report, set[str]]]) -> Report:
    """One report of the results of each report whose focus node is in its set."""
    seen: set[tuple[str, str | None, str | None, str, str]] = set()
    kept: list[Result] = []
    g = Graph()
    rep = BNode()
    g.add((rep, RDF.type, SH.ValidationReport))
    for report, keep in reports:
        for r in report.results:
            key = (r.focus_node, r.path, r.value, r.component, r.source_shape)
            if r.focus_node in keep and key not in seen:
                seen.add(key)
                kept.append(r)
        for node in report.graph.objects(None, SH.result):
            focus = report.graph.value(node, SH.focusNode)
            shown = str(focus) if isinstance(focus, URIRef) else f"_:{focus}"
            if shown in keep:
                g.add((rep, SH.result, node))
                _copy_cbd(report.graph, node, g)
    results = tuple(
        sorted(kept, key=lambda r: (r.severity != "Violation", r.focus_node, r.path or ""))
    )
    g.add((rep, SH.conforms, Literal(not results)))
    return Report(not results, results, g)


def _copy_cbd(src: Graph, node: Node, dst: Graph, seen: set[Node] | None = None) -> None:
    seen = seen if seen is not None else set()
    if node in seen:
        return
    seen.add(node)
    for p, o in src.predicate_objects(node):
        dst.add((node, p, o))
        if isinstance(o, BNode):
            _copy_cbd(src, o, dst, seen)
