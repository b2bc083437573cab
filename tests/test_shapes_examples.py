"""Every shape's valid and invalid examples under tests/shapes/<ShapeName>/, run automatically.

A ``valid-*.ttl`` example must conform; an ``invalid-*.ttl`` example must produce a result of
severity Violation (Warning, for a warning-only shape) from that shape or one of its property
shapes. Each example is validated together with the bundled reference data and the ontology.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from rdflib import RDF, Graph
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
