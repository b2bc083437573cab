"""The ``kb`` command line: exit codes, messages with places, nothing loaded on bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Graph, Namespace

from kb.cli import main
from kb.namespaces import KB_NS
from kb.store import ManagedOxigraph

SH = Namespace("http://www.w3.org/ns/shacl#")
GOOD_NT = b'<http://e/a> <http://e/p> "x" .\n<http://e/b> <http://e/p> "y" .\n'


def _store_quads(path: Path) -> int:
    if not (path / "CURRENT").exists():
        return 0
    store = ox.Store(str(path))
    try:
        return len(store)
    finally:
        del store


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_load_and_query(runner: CliRunner, tmp_path: Path) -> None:
    f = _write(tmp_path, "a.nt", GOOD_NT)
    result = runner.invoke(main, ["load", str(f)])
    assert result.exit_code == 0, result.output
    assert "loaded 2 triples" in result.stderr
    result = runner.invoke(main, ["query", "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"])
    assert result.exit_code == 0, result.output
    assert "http://e/a" in result.stdout and "(2 rows)" in result.stdout


def test_load_into_a_graph_with_relative_iris(runner: CliRunner, tmp_path: Path) -> None:
    f = _write(tmp_path, "a.ttl", b'<id/x/a> <http://e/p> "x" .\n')
    result = runner.invoke(main, ["load", str(f), "--graph", "http://e/g"])
    assert result.exit_code == 0, result.output
    out = runner.invoke(
        main, ["query", "--format", "csv", "SELECT ?s WHERE { GRAPH <http://e/g> { ?s ?p ?o } }"]
    )
    assert KB_NS + "id/x/a" in out.stdout  # relative IRIs resolve against the namespace


def test_graph_option_refused_for_quad_formats(runner: CliRunner, tmp_path: Path) -> None:
    f = _write(tmp_path, "a.nq", b'<http://e/a> <http://e/p> "x" <http://e/g> .\n')
    result = runner.invoke(main, ["load", str(f), "--graph", "http://e/g2"])
    assert result.exit_code == 2
    assert "names its own graphs" in result.stderr


def _bomb() -> bytes:
    ents = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [{ents}]>\n<rdf:RDF xmlns:rdf="http://www.w3'
        '.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="http://e/a">'
        "<rdf:value>&l9;</rdf:value></rdf:Description></rdf:RDF>"
    ).encode()


BAD_FILES = [
    ("bad.ttl", b'@prefix ex: <http://e/> .\nex:a ex:b "abc .\n', ":2:"),
    ("bad.nt", b"<http://e/a> <http://e/b> .\n", ":1:27:"),
    ("bad.nq", b'<http://e/a> <http://e/b> "x" <g> .\n', ":1:"),
    ("bad.trig", b"<http://e/g> { <http://e/a> <http://e/b> }", ":1:"),
    ("bad.jsonld", b'{"@id": ', ":1:9:"),
    ("bad.rdf", b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n<x', ":2:"),
    ("bomb.rdf", _bomb(), ":2:"),
    ("remote.jsonld", b'{\n "@context": "http://127.0.0.1:9/ctx", "@id": "http://e/a"}', ":2:2:"),
    ("file.jsonld", b'{\n "@context": "file:///etc/passwd", "@id": "http://e/a"}', ":2:2:"),
]


@pytest.mark.parametrize("alone", [True, False], ids=["alone", "after-a-good-file"])
@pytest.mark.parametrize(("name", "data", "place"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_input_loads_nothing(
    runner: CliRunner, tmp_path: Path, name: str, data: bytes, place: str, alone: bool
) -> None:
    good = _write(tmp_path, "good.nt", GOOD_NT)
    bad = _write(tmp_path, name, data)
    result = runner.invoke(main, ["load", *([] if alone else [str(good)]), str(bad)])
    assert result.exit_code == 2, result.output
    assert f"{bad}{place}" in result.stderr
    assert _store_quads(Path(os.environ["KB_STORE"])) == 0


def test_a_50_mb_literal_loads_nothing(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "huge.nt"
    with path.open("wb") as fh:
        fh.write(GOOD_NT + b'<http://e/c> <http://e/p> "')
        fh.write(b"z" * (50 * 1024 * 1024))
        fh.write(b'" .\n')
    result = runner.invoke(main, ["load", str(path)])
    assert result.exit_code == 2
    assert f"{path}:3:27: " in result.stderr and "exceeds the limit" in result.stderr
    assert _store_quads(Path(os.environ["KB_STORE"])) == 0


@pytest.mark.parametrize(
    ("line", "place", "words"),
    [
        (
            b'<http://e/c> <http://e/p> "' + b"q" * 1_060_000 + b'" .\n',
            ":3:27:",
            "literal of 1,060,000 bytes",
        ),
        (b"<http://e/" + b"i" * 5000 + b"> <http://e/p> <http://e/o> .\n", ":3:2:", "IRI of 5,009"),
        (
            b'<http://e/c> <http://e/p> "fine" .\n<http://e/c> <http://e/p> "cut .\n',
            ":4:",
            "invalid ntriples",
        ),
    ],
    ids=["long-literal", "long-iri", "syntax-at-the-end"],
)
def test_single_pass_bulk_load_refuses_and_loads_nothing(
    runner: CliRunner, tmp_path: Path, line: bytes, place: str, words: str
) -> None:
    path = _write(tmp_path, "one.nt", GOOD_NT + line)
    result = runner.invoke(main, ["load", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}{place}" in result.stderr and words in result.stderr
    assert _store_quads(Path(os.environ["KB_STORE"])) == 0


def test_load_goes_through_a_running_server(runner: CliRunner, tmp_path: Path) -> None:
    server = ManagedOxigraph(Path(os.environ["KB_STORE"]))
    server.start(watch=False)
    try:
        f = _write(tmp_path, "a.ttl", b'<id/x/a> <http://e/p> "x" .\n')
        result = runner.invoke(main, ["load", str(f), "--graph", "http://e/g"])
        assert result.exit_code == 0, result.output
        assert ", http)" in result.stderr
        assert server.client().count("http://e/g") == 1
        bad = _write(tmp_path, "b.ttl", b'<id/x/b> <http://e/p> "x .\n')
        assert runner.invoke(main, ["load", str(f), str(bad)]).exit_code == 2
        assert server.client().count() == 1
    finally:
        server.stop()


def test_unknown_extension_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    f = _write(tmp_path, "a.txt", GOOD_NT)
    result = runner.invoke(main, ["load", str(f)])
    assert result.exit_code == 2 and "--format" in result.stderr
    assert runner.invoke(main, ["load", "--format", "ntriples", str(f)]).exit_code == 0


# --- validate ------------------------------------------------------------------------------

CONFORMING = b"""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<http://e/a> skos:prefLabel "a" .
"""
SHAPES = b"""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<http://e/S> a sh:NodeShape ; sh:targetSubjectsOf skos:prefLabel ;
  sh:property [ sh:path skos:prefLabel ; sh:languageIn ("nl" "en") ; sh:severity sh:Violation ;
                sh:message "label zonder taal"@nl, "label without language"@en ] .
<http://e/W> a sh:NodeShape ; sh:targetSubjectsOf skos:prefLabel ;
  sh:property [ sh:path skos:definition ; sh:minCount 1 ; sh:severity sh:Warning ] .
"""


def test_validate_exit_codes_and_formats(runner: CliRunner, tmp_path: Path) -> None:
    shapes = _write(tmp_path, "shapes.ttl", SHAPES)
    bad = _write(tmp_path, "bad.ttl", CONFORMING)
    ok = _write(tmp_path, "ok.ttl", CONFORMING.replace(b'"a"', b'"a"@nl'))
    args = ["--alone", "--shapes", str(shapes)]

    result = runner.invoke(main, ["validate", *args, str(bad)])
    assert result.exit_code == 1
    assert "label without language" in result.stdout
    assert (
        "label zonder taal"
        in runner.invoke(main, ["validate", *args, "--lang", "nl", str(bad)]).stdout
    )

    result = runner.invoke(main, ["validate", *args, "--format", "json", str(bad)])
    body = json.loads(result.stdout)
    assert body["violations"] == 1 and body["warnings"] == 1
    assert body["results"][0]["focusNode"] == "http://e/a"
    assert body["results"][0]["message"]["nl"] == "label zonder taal"

    result = runner.invoke(main, ["validate", *args, "--format", "turtle", str(bad)])
    report = Graph().parse(data=result.stdout, format="turtle")
    assert len(list(report.subjects(SH.conforms, None))) == 1

    # warnings alone pass unless --strict
    assert runner.invoke(main, ["validate", *args, str(ok)]).exit_code == 0
    assert runner.invoke(main, ["validate", *args, "--strict", str(ok)]).exit_code == 1

    broken = _write(tmp_path, "broken.ttl", b"<http://e/a> <http://e/p> .")
    result = runner.invoke(main, ["validate", *args, str(broken)])
    assert result.exit_code == 2 and f"{broken}:1:" in result.stderr


# --- query ---------------------------------------------------------------------------------


def test_query_formats_and_errors(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(main, ["load", str(_write(tmp_path, "a.nt", GOOD_NT))])
    q = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s"
    assert runner.invoke(main, ["query", "--format", "csv", q]).stdout.splitlines()[0] == "s,o"
    body = json.loads(runner.invoke(main, ["query", "--format", "json", q]).stdout)
    assert len(body["results"]["bindings"]) == 2
    assert runner.invoke(main, ["query", "ASK { <http://e/a> ?p ?o }"]).stdout.strip() == "true"
    out = runner.invoke(main, ["query", "CONSTRUCT WHERE { ?s ?p ?o }"]).stdout
    assert len(Graph().parse(data=out, format="turtle")) == 2
    qf = _write(tmp_path, "q.rq", q.encode())
    assert "(2 rows)" in runner.invoke(main, ["query", "--file", str(qf)]).stdout

    bad = runner.invoke(main, ["query", "SELECT * WHERE { ?s ?p }"])
    assert bad.exit_code == 2 and "syntax error at line 1" in bad.stderr
    service = runner.invoke(main, ["query", "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }"])
    assert service.exit_code == 2 and "SERVICE" in service.stderr
    assert runner.invoke(main, ["query", "--format", "turtle", q]).exit_code == 2
    assert runner.invoke(main, ["query"]).exit_code == 2


def test_query_goes_through_the_endpoints_query_service(runner: CliRunner, tmp_path: Path) -> None:
    """`kb query` answers through :class:`kb.query.QueryService`, so the endpoint's row cap
    applies too, and says so on stderr (the data on stdout stays a well-formed result)."""
    runner.invoke(main, ["load", str(_write(tmp_path, "a.nt", GOOD_NT))])
    q = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"
    capped = runner.invoke(main, ["query", q], env={"KB_MAX_ROWS": "1"})
    assert capped.exit_code == 0, capped.output
    assert "(1 row)" in capped.stdout and "http://e/a" in capped.stdout
    assert "cut at 1 rows" in capped.stderr
    body = json.loads(
        runner.invoke(main, ["query", "--format", "json", q], env={"KB_MAX_ROWS": "1"}).stdout
    )
    assert [b["s"]["value"] for b in body["results"]["bindings"]] == ["http://e/a"]
    whole = runner.invoke(main, ["query", q], env={"KB_MAX_ROWS": "0"})
    assert "(2 rows)" in whole.stdout and "cut at" not in whole.stderr


def test_kb_serve_prints_one_url_to_open_then_what_listens_where(tmp_path: Path) -> None:
    import re

    import requests

    from tests.support.kbserve import start_kb_serve

    server = start_kb_serve(tmp_path)
    try:
        log = server.log.read_text()
        ready = [line for line in log.splitlines() if line.startswith("ClusterKB is ready")]
        assert ready == [f"ClusterKB is ready — open {server.url}"], log
        after = log[log.index(ready[0]) :].splitlines()[1:5]
        assert [line.split()[0] for line in after] == ["web", "identifiers", "SPARQL", "store"]
        port = server.url.rsplit(":", 1)[1].rstrip("/")
        assert f"127.0.0.1:{port} (this machine only" in after[0]
        assert f"{KB_NS}id/" in after[1]  # the persistent namespace, whatever the port
        # the URL to open is the home page; the store line names the store's own listener
        assert "ClusterKB" in requests.get(server.url, timeout=10).text
        found = re.search(r"on (127\.0\.0\.1:\d+) \(loopback", after[3])
        assert found and str(server.store) in after[3], after[3]
        asked = requests.get(
            f"http://{found.group(1)}/query",
            params={"query": "ASK { GRAPH ?g { ?s ?p ?o } }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=10,
        )
        assert asked.json()["boolean"] is True
    finally:
        server.stop()
