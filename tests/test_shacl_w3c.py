"""The W3C SHACL Core test suite, run through ClusterKB's own validation entry point.

Each test passes when :func:`kb.validate.validate` gives the same ``sh:conforms`` and the same
set of results (focus node, path, value, source shape, constraint component, severity) as the
manifest's expected report, compared as graphs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.term import Node

from kb.load import parse_graph
from kb.validate import SH, render_path, validate

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
SUITE = Path(__file__).parent / "conformance" / "shacl-w3c" / "core"

_graphs: dict[str, Graph] = {}


def _load(iri: str) -> Graph:
    if iri not in _graphs:
        path = Path(iri.removeprefix("file://"))
        _graphs[iri] = parse_graph(path, syntax="turtle", base_iri=iri)
    return _graphs[iri]


def _entries(manifest: Path) -> list[tuple[str, Graph, Node]]:
    g = _load(manifest.as_uri())
    found: list[tuple[str, Graph, Node]] = []
    for inc in g.objects(None, MF.include):
        found += _entries(Path(str(inc).removeprefix("file://")))
    for lst in g.objects(None, MF.entries):
        for entry in Collection(g, lst):
            if (entry, RDF.type, SHT.Validate) in g:
                name = str(entry).split("/core/", 1)[-1]
                found.append((name, g, entry))
    return found


CASES = _entries(SUITE / "manifest.ttl")


def test_the_whole_core_suite_is_found() -> None:
    assert len(CASES) == 98


def _normalise(report: Graph, node: Node | None) -> Graph:
    """Keep what the suite compares; name the test file's blank nodes so identity counts."""

    def fixed(term: Node | None) -> Node | None:
        return URIRef(f"urn:bnode:{term}") if isinstance(term, BNode) else term

    out = Graph()
    top = BNode()
    out.add((top, SH.conforms, Literal(bool(report.value(node, SH.conforms).toPython()))))
    for res in report.objects(node, SH.result):
        r = BNode()
        out.add((top, SH.result, r))
        for prop in (
            SH.focusNode,
            SH.value,
            SH.sourceShape,
            SH.sourceConstraintComponent,
            SH.resultSeverity,
        ):
            for obj in report.objects(res, prop):
                out.add((r, prop, fixed(obj)))  # type: ignore[arg-type]
        path = report.value(res, SH.resultPath)
        if path is not None:
            out.add((r, SH.resultPath, Literal(render_path(report, path))))
    return out


@pytest.mark.parametrize(("name", "manifest", "entry"), CASES, ids=[c[0] for c in CASES])
def test_w3c_shacl_core(name: str, manifest: Graph, entry: Node) -> None:
    action = manifest.value(entry, MF.action)
    data = _load(str(manifest.value(action, SHT.dataGraph)))
    shapes = _load(str(manifest.value(action, SHT.shapesGraph)))
    expected_node = manifest.value(entry, MF.result)

    report = validate(data, shapes=shapes, ontology=Graph())

    expected = _normalise(manifest, expected_node)
    report_node = report.graph.value(None, RDF.type, SH.ValidationReport)
    actual = _normalise(report.graph, report_node)
    if to_isomorphic(expected) != to_isomorphic(actual):
        _, missing, extra = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
        pytest.fail(
            f"{name}: reports differ\nmissing:\n{missing.serialize(format='nt')}\n"
            f"unexpected:\n{extra.serialize(format='nt')}"
        )
    assert report.conforms == bool(manifest.value(expected_node, SH.conforms).toPython())
