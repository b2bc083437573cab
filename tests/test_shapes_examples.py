"""Every shape's valid and invalid examples under tests/shapes/<ShapeName>/, run automatically.

A ``valid-*.ttl`` example must conform; an ``invalid-*.ttl`` example must produce a result of
severity Violation (Warning, for a warning-only shape) from that shape or one of its property
shapes. Each example is validated together with the bundled reference data and the ontology.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, BNode, Graph
from rdflib.term import Node

from kb import bundled
from kb.load import parse_graph
from kb.namespaces import KB_NS, PCSH
from kb.validate import SH, project_shapes, validate

BASE = KB_NS
EXAMPLES = Path(__file__).parent / "shapes"
FILES = sorted(EXAMPLES.glob("*/*.ttl"))


@cache
def reference() -> Graph:
    return bundled.reference_graph(BASE)


def shapes() -> Graph:
    return project_shapes(BASE)


def _owned(shape: Node) -> set[str]:
    """The shape and its property shapes, as shown in reports."""
    g = shapes()
    owned = {str(shape)} | {str(p) for p in g.objects(shape, SH.property)}
    return owned | {f"_:{p}" for p in g.objects(shape, SH.property)}


def test_every_node_shape_has_a_valid_and_an_invalid_example() -> None:
    names = {
        str(s).split("#")[-1]
        for s in shapes().subjects(RDF.type, SH.NodeShape)
        if str(s).startswith(str(PCSH))
    }
    for name in sorted(names):
        folder = EXAMPLES / name
        assert list(folder.glob("valid-*.ttl")), f"no valid example for {name}"
        assert list(folder.glob("invalid-*.ttl")), f"no invalid example for {name}"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_example(path: Path) -> None:
    example = parse_graph(path, syntax="turtle", base_iri=BASE)
    report = validate(example + reference())
    if path.name.startswith("valid-"):
        own = {str(node) for node in example.subjects()}
        own_warnings = [r for r in report.warnings if r.focus_node in own]
        assert report.accepted and not own_warnings, report.to_text()
        return
    shape = PCSH[path.parent.name]
    assert (shape, RDF.type, SH.NodeShape) in shapes(), f"unknown shape {shape}"
    owned = _owned(shape)
    hits = [r for r in report.results if r.source_shape in owned]
    assert hits, f"{path.name} did not fail {shape}:\n{report.to_text()}"


TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


def _targeted(example: Graph, kind: Node, value: Node) -> set[str]:
    """The focus nodes ``example`` gives a target declaration (classes with rdfs:subClassOf of
    the ontology, as the validator sees them)."""
    data = example + reference() + bundled.ontology_graph(BASE)
    if kind == SH.targetNode:
        return {str(value)}
    if kind == SH.targetSubjectsOf:
        return {str(s) for s in example.subjects(value, None)}
    if kind == SH.targetObjectsOf:
        objects = set(example.objects(None, value))
        return {str(o) for o in objects} | {f"_:{o}" for o in objects if isinstance(o, BNode)}
    classes = set(data.transitive_subjects(RDFS.subClassOf, value))
    nodes = {s for c in classes for s in example.subjects(RDF.type, c)}
    return {str(n) for n in nodes} | {f"_:{n}" for n in nodes if isinstance(n, BNode)}


def test_every_target_of_every_shape_has_an_invalid_example() -> None:
    """A shape that cannot fail for one of its targets checks nothing there: each target
    declaration has an example whose targeted node the shape rejects."""
    missing = []
    examples = {p: parse_graph(p, syntax="turtle", base_iri=BASE) for p in FILES}
    for shape in sorted(shapes().subjects(RDF.type, SH.NodeShape)):
        if not str(shape).startswith(str(PCSH)):
            continue
        owned = _owned(shape)
        invalid = [p for p in FILES if p.parent.name == str(shape).split("#")[-1]]
        invalid = [p for p in invalid if p.name.startswith("invalid-")]
        reports = {p: validate(examples[p] + reference()) for p in invalid}
        for kind in TARGETS:
            for value in shapes().objects(shape, kind):
                if not any(
                    r.focus_node in _targeted(examples[p], kind, value)
                    for p in invalid
                    for r in reports[p].results
                    if r.source_shape in owned
                ):
                    missing.append(f"{shape.split('#')[-1]} {kind.split('#')[-1]} {value}")
    assert not missing, "no invalid example fails these targets:\n" + "\n".join(missing)
