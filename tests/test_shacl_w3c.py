"""The W3C SHACL Core test suite, run through ClusterKB's own validation entry point.

Each test passes when :func:`kb.validate.validate` gives the same ``sh:conforms`` and the same
set of results (focus node, path, value, source shape, constraint component, severity) as the
manifest's expected report, compared as graphs. Each test is also run through ``kb validate``
(``--format turtle`` and ``--format json``) and what the command printed is read back and
compared with the report made in this process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.term import Node

from kb.bundled import read_graph
from kb.cli import main
from kb.load import parse_graph
from kb.namespaces import KB_NS, XSD
from kb.validate import SH, Report, render_path, validate

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


# --- the same suite through the command line: every report format reads back ------------------

CLI_BASE = KB_NS
_BLANK = re.compile(r"_:[A-Za-z0-9]+")


def _files(manifest: Graph, entry: Node) -> tuple[Path, Path]:
    action = manifest.value(entry, MF.action)
    data, shapes = (
        Path(str(manifest.value(action, p)).removeprefix("file://"))
        for p in (SHT.dataGraph, SHT.shapesGraph)
    )
    return data, shapes


def _in_process(data: Path, shapes: Path) -> Report:
    """What ``kb validate --alone --shapes SHAPES DATA`` computes, made here."""
    graph = parse_graph(data, syntax="turtle", base_iri=CLI_BASE)
    return validate(graph, shapes=read_graph([shapes], CLI_BASE), base=CLI_BASE)


def _comparable(report: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The JSON report with blank node labels (fresh in every parse) masked, results sorted."""
    results = sorted(_BLANK.sub("_:b", json.dumps(r, sort_keys=True)) for r in report["results"])
    return {k: v for k, v in report.items() if k != "results"}, results


# rdflib warns about ill-typed literals, and behaves otherwise when its warnings are errors (as
# the suite's setting makes them): the command line is run here as a user runs it.
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("name", "manifest", "entry"), CASES, ids=[c[0] for c in CASES])
def test_w3c_shacl_core_reports_read_back_from_the_cli(
    name: str, manifest: Graph, entry: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_NAMESPACE", CLI_BASE)
    data, shapes = _files(manifest, entry)
    expected = _in_process(data, shapes)
    code = 0 if expected.accepted else 1
    args = ["validate", "--alone", "--shapes", str(shapes), str(data)]
    runner = CliRunner()

    printed = runner.invoke(main, [*args, "--format", "turtle"])
    assert printed.exit_code == code, printed.output
    graph = parse_graph(printed.stdout_bytes, syntax="turtle")  # the strict parser
    assert isomorphic(graph, expected.graph), f"{name}: the Turtle report reads back otherwise"

    printed = runner.invoke(main, [*args, "--format", "json"])
    assert printed.exit_code == code, printed.output
    assert _comparable(json.loads(printed.stdout)) == _comparable(expected.to_dict())


def test_an_ill_typed_value_keeps_its_lexical_form_and_datatype_in_every_format() -> None:
    """``property/or-datatypes-001`` has ``"none"^^xsd:boolean``; rdflib alone prints ``none``."""
    data, shapes = _files(*next((m, e) for n, m, e in CASES if n.endswith("or-datatypes-001")))
    args = [sys.executable, "-m", "kb", "validate", "--alone", "--shapes", str(shapes), str(data)]
    env = {"KB_NAMESPACE": CLI_BASE, "PATH": "/usr/bin:/bin"}
    ill_typed = Literal("none", datatype=XSD.boolean, normalize=False)

    turtle = subprocess.run([*args, "--format", "turtle"], capture_output=True, env=env)
    assert turtle.returncode == 1, turtle.stderr
    values = set(parse_graph(turtle.stdout, syntax="turtle").objects(None, SH.value))
    assert ill_typed in values and all(str(v) != "False" for v in values)

    body = subprocess.run([*args, "--format", "json"], capture_output=True, env=env)
    assert body.returncode == 1, body.stderr
    shown = {r["value"] for r in json.loads(body.stdout)["results"]}
    assert f'"none"^^<{XSD.boolean}>' in shown
