"""``/sparql`` of a real ``kb serve`` process with strict limits: the W3C SPARQL 1.1 Protocol
suite (every query test and every ``bad_*`` test) and the safety cases of CATALOGUE groups
E, F, G and K (each followed by a check that the server still answers).

The server runs with ``query_timeout=1`` and ``max_rows=50``; the manifest's data files are
loaded into the named graphs the manifest names (``kb load --graph``, through the server).
The manifest's ``update_*`` tests run against ``/update`` (tests/test_submissions_live.py): this
endpoint offers no SPARQL Update (its ``bad_update_*`` tests run here too, and pass because
every update is refused); a test checks that every entry runs in one of the two.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

from tests.support.canary import Canary
from tests.support.kbserve import KbServe, kb, start_kb_serve

PROTOCOL = Path(__file__).parent / "conformance" / "sparql11-protocol" / "protocol"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ROWS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    expected: set[str]
    expected_format: str | None
    expected_boolean: bool | None


@dataclass
class ProtocolTest:
    name: str
    requests: list[HttpRequest]
    graphs: dict[str, Path] = field(default_factory=dict)


def _manifest() -> list[ProtocolTest]:
    g = Graph().parse(PROTOCOL / "manifest.ttl", format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests: list[ProtocolTest] = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        name = str(entry).rsplit("#", 1)[-1]
        if not name.startswith(("query_", "bad_")):
            continue
        test = ProtocolTest(name, [])
        for data in g.objects(entry, UT.graphData):
            file = str(g.value(data, UT.graph)).rsplit("/", 1)[-1]
            test.graphs[str(g.value(data, RDFS.label))] = PROTOCOL / file
        action = g.value(entry, MF.action)
        for req in Collection(g, g.value(action, HT.requests)):
            headers = {}
            for h in Collection(g, g.value(req, HT.headers)) if g.value(req, HT.headers) else []:
                headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
            body_node = g.value(req, HT.body)
            body = None
            if body_node is not None:
                encoding = str(g.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(g.value(body_node, CNT.chars)).encode(encoding.lower())
            resp = g.value(req, HT.resp)
            boolean = g.value(resp, MF.expectedBoolean)
            fmt = g.value(resp, MF.expectedFormat)
            test.requests.append(
                HttpRequest(
                    method=str(g.value(req, HT.methodName)),
                    path=str(g.value(req, HT.absolutePath)),
                    headers=headers,
                    body=body,
                    expected={
                        str(s).rsplit("#", 1)[-1] for s in g.objects(resp, MF.expectedStatus)
                    },
                    expected_format=str(fmt) if fmt is not None else None,
                    expected_boolean=boolean.toPython() if boolean is not None else None,
                )
            )
        tests.append(test)
    return tests


TESTS = _manifest()


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KbServe]:
    server = start_kb_serve(
        tmp_path_factory.mktemp("strict"),
        {"query_timeout": "1", "max_rows": "50", "max_upload_bytes": "200000"},
    )
    try:
        graphs: dict[str, Path] = {}
        for test in TESTS:
            graphs.update(test.graphs)
        for iri, path in sorted(graphs.items()):
            kb("load", "--store", str(server.store), "--graph", iri, str(path))
        yield server
    finally:
        server.stop()


def _alive(server: KbServe, pid: int | None = None) -> None:
    assert requests.get(server.url + "health", timeout=5).json()["status"] == "ok"
    r = requests.post(server.url + "sparql", data={"query": "ASK { ?s ?p ?o }"}, timeout=10)
    assert r.status_code == 200 and r.json()["boolean"] is True
    assert server.proc.poll() is None


def test_the_manifest_has_the_query_and_bad_tests() -> None:
    names = {t.name for t in TESTS}
    assert len([n for n in names if n.startswith("query_")]) == 13
    assert len([n for n in names if n.startswith("bad_")]) == 14
    assert {"query_dataset_full", "bad_query_non_utf8", "bad_update_get"} <= names


def test_every_manifest_entry_is_run_by_a_live_test() -> None:
    """The query and ``bad_*`` entries run here, the ``update_*`` ones against ``/update``
    (tests/test_submissions_live.py): an entry neither collects fails here, so none is
    silently skipped."""
    from tests.test_submissions_live import UPDATE_TESTS

    g = Graph().parse(PROTOCOL / "manifest.ttl", format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    entries = {str(e).rsplit("#", 1)[-1] for e in Collection(g, g.value(manifest, MF.entries))}
    run = {t.name for t in TESTS} | {name for name, _ in UPDATE_TESTS}
    assert len(entries) == 34
    assert entries - run == set()
    assert all(req.expected for t in TESTS for req in t.requests)  # every status is checked


@pytest.mark.parametrize("path", ["/sparql", "/sparql/"])
def test_a_post_without_a_content_type_is_415_naming_both_accepted_types(
    strict: KbServe, path: str
) -> None:
    """``bad_query_missing_form_type`` sent byte for byte over a socket, so no client library
    can add a type on the way."""
    host, port = strict.url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
    body = b"query=ASK%20%7B%7D"
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    head, _, answer = raw.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == b"415", head
    detail = json.loads(answer)["detail"]
    assert "application/sparql-query" in detail
    assert "application/x-www-form-urlencoded" in detail


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_w3c_protocol(strict: KbServe, test: ProtocolTest) -> None:
    for req in test.requests:
        url = strict.url.rstrip("/") + req.path
        r = requests.request(
            req.method, url, headers=req.headers, data=req.body, timeout=30, allow_redirects=False
        )
        klass = f"StatusCode{r.status_code // 100}xx"
        assert klass in req.expected, (r.status_code, r.text[:300])
        if r.status_code >= 400:
            assert r.headers["Content-Type"].startswith("application/json")
            assert set(r.json()) >= {"error", "detail"}
            continue
        media = r.headers["Content-Type"].split(";")[0]
        if req.expected_format == "boolean":
            value = json.loads(r.content)["boolean"]
            assert isinstance(value, bool)
            assert req.expected_boolean is None or value == req.expected_boolean
        elif req.expected_format == "tabular":
            assert "vars" in json.loads(r.content)["head"]
        elif req.expected_format == "RDF":
            Graph().parse(data=r.content, format={"text/turtle": "turtle"}.get(media, media))
    _alive(strict)


# --- safety (CATALOGUE E, F, G, K) ---------------------------------------------------------------


def test_timeout_is_a_clear_503_and_others_keep_being_served(strict: KbServe) -> None:
    """F1: the store stops the query at the deadline; queries sent meanwhile are answered."""
    pid = strict.proc.pid
    heavy: dict[str, requests.Response] = {}

    def run_heavy() -> None:
        heavy["r"] = requests.post(strict.url + "sparql", data={"query": CARTESIAN}, timeout=60)

    thread = threading.Thread(target=run_heavy)
    thread.start()
    light = [
        requests.post(
            strict.url + "sparql",
            data={"query": f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {i + 1}"},
            timeout=30,
        )
        for i in range(5)
    ]
    thread.join(60)
    assert [r.status_code for r in light] == [200] * 5
    r = heavy["r"]
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "query_timeout"
    assert "limit of 1 s" in r.json()["detail"]
    # Oxigraph did not stop this query itself, so the managed store was restarted: the query
    # no longer holds a core.
    assert requests.get(strict.url + "health", timeout=5).json()["restarts"] >= 1
    assert strict.proc.pid == pid
    _alive(strict)


def test_row_cap_truncates_and_says_so(strict: KbServe) -> None:
    """F2: a huge streaming result is cut at max_rows, with the truncation in a header."""
    r = requests.post(strict.url + "sparql", data={"query": ROWS}, timeout=30)
    assert r.status_code == 200
    assert r.headers["X-SPARQL-Truncated"] == "true"
    assert r.headers["X-SPARQL-MaxRows"] == "50"
    assert len(r.json()["results"]["bindings"]) == 50
    c = requests.post(
        strict.url + "sparql",
        data={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
        timeout=30,
    )
    assert c.headers["X-SPARQL-Truncated"] == "true"
    assert len(Graph().parse(data=c.text, format="nt")) == 50
    small = requests.post(strict.url + "sparql", data={"query": "ASK {}"}, timeout=10)
    assert small.headers["X-SPARQL-Truncated"] == "false"
    sd = Graph().parse(
        data=requests.get(strict.url + "sparql", headers={"Accept": "text/turtle"}).text,
        format="turtle",
    )
    kbe = Namespace("https://w3id.org/clusterkb/ns/endpoint#")
    assert int(sd.value(URIRef(strict.url + "sparql"), kbe.maxRows)) == 50
    _alive(strict)


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",  # G1
        "SELECT * {{ SERVICE SILENT <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",  # G2
        "select * {{ service <http://localhost:{port}/> {{ ?s ?p ?o }} }}",  # G2, G4
        "SELECT * {{ \\u0053ERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",  # G3
        "PREFIX c: <http://127.0.0.1:{port}/> SELECT * {{ SERVICE c:x {{ ?s ?p ?o }} }}",
        "SELECT * {{ BIND(<http://127.0.0.1:{port}/> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        "SELECT * {{ OPTIONAL {{ SERVICE <file:///etc/passwd> {{ ?s ?p ?o }} }} }}",  # G4
        "LOAD <http://127.0.0.1:{port}/x.ttl>",  # G8
    ],
)
def test_outbound_triggers_are_refused(strict: KbServe, canary: Canary, template: str) -> None:
    r = requests.post(
        strict.url + "sparql", data={"query": template.format(port=canary.port)}, timeout=10
    )
    assert r.status_code == 400
    assert r.json()["error"] == "query_rejected"
    assert canary.connections == 0
    _alive(strict)


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * FROM <http://127.0.0.1:{port}/g.ttl> WHERE {{ ?s ?p ?o }}",  # G6
        "SELECT * FROM NAMED <http://127.0.0.1:{port}/g.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "SELECT * FROM <file:///etc/passwd> WHERE {{ ?s ?p ?o }}",  # G7
    ],
)
def test_from_names_a_local_graph_and_fetches_nothing(
    strict: KbServe, canary: Canary, template: str
) -> None:
    r = requests.post(
        strict.url + "sparql", data={"query": template.format(port=canary.port)}, timeout=10
    )
    assert r.status_code == 200
    assert r.json()["results"]["bindings"] == []
    assert canary.connections == 0


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("SELECT * WHERE " + "{" * 5000 + "}" * 5000, 400),  # E5
        ("SELECT * WHERE " + "(" * 50_000, 400),  # E5
        ("SELECT * WHERE { VALUES ?x { " + "1 " * 40_000 + "} }", 400),  # E6
        ("SELECT * WHERE { ?s ?p }", 400),  # E1
    ],
    ids=["braces-5000", "parens-50000", "huge-values", "syntax"],
)
def test_hostile_queries_leave_the_server_serving(strict: KbServe, query: str, status: int) -> None:
    pid = strict.proc.pid
    r = requests.post(strict.url + "sparql", data={"query": query}, timeout=10)
    assert r.status_code == status
    assert r.json()["detail"]
    assert strict.proc.pid == pid
    _alive(strict)


def test_oversized_requests(strict: KbServe) -> None:
    """K1: a body over max_upload_bytes is 413; K6: a 1 MB query string is refused."""
    big = requests.post(
        strict.url + "sparql",
        data=b"ASK {}" + b" " * 300_000,
        headers={"Content-Type": "application/sparql-query"},
        timeout=10,
    )
    assert big.status_code == 413
    long_get = requests.get(strict.url + "sparql", params={"query": "#" * 1_000_000}, timeout=10)
    assert 400 <= long_get.status_code < 500
    _alive(strict)
