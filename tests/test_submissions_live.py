"""Issue #4 against real ``kb serve`` processes: the W3C SPARQL 1.1 Protocol update tests on
``/update`` (with a token header the harness adds), ten stewards writing one graph at once, and
``kill -9`` of the whole server during commits (CATALOGUE groups I, L and M2/M3)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Namespace
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from kb.auth import TokenStore
from kb.namespaces import KB_NS
from tests.support.kbserve import KbServe, start_kb_serve
from tests.test_submissions import HOSTILE, graph_var_forms, notes_and_seen

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "tests" / "conformance" / "sparql11-protocol" / "protocol"
CLUSTER = (ROOT / "data/clusters/antwerpen-duurzaam-bouwen.ttl").read_bytes()
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
CLU = "id/cluster/antwerpen-duurzaam-bouwen"


def _update_tests() -> list[tuple[str, list[dict]]]:
    g = Graph().parse(PROTOCOL / "manifest.ttl", format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        name = str(entry).rsplit("#", 1)[-1]
        if not (name.startswith("update_") or ("update" in name and name.startswith("bad_"))):
            continue
        reqs = []
        for req in Collection(g, g.value(g.value(entry, MF.action), HT.requests)):
            headers = {}
            if g.value(req, HT.headers) is not None:
                for h in Collection(g, g.value(req, HT.headers)):
                    headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
            body_node = g.value(req, HT.body)
            body = None
            if body_node is not None:
                enc = str(g.value(body_node, CNT.characterEncoding) or "UTF-8").lower()
                body = str(g.value(body_node, CNT.chars)).encode(enc)
            resp = g.value(req, HT.resp)
            boolean = g.value(resp, MF.expectedBoolean) if resp is not None else None
            reqs.append(
                {
                    "method": str(g.value(req, HT.methodName)),
                    "path": str(g.value(req, HT.absolutePath)),
                    "headers": headers,
                    "body": body,
                    "expected": {
                        str(s).rsplit("#", 1)[-1]
                        for s in (g.objects(resp, MF.expectedStatus) if resp is not None else ())
                    },
                    "boolean": boolean.toPython() if boolean is not None else None,
                }
            )
        tests.append((name, reqs))
    return tests


UPDATE_TESTS = _update_tests()


def admin_token(server: KbServe) -> str:
    return TokenStore(server.store / "clusterkb-tokens.json").create("W3C harness", role="admin")


@pytest.fixture(scope="module")
def w3c(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KbServe, str]]:
    server = start_kb_serve(tmp_path_factory.mktemp("w3c-update"))
    try:
        yield server, admin_token(server)
    finally:
        server.stop()


def test_the_manifest_has_the_update_tests() -> None:
    names = {n for n, _ in UPDATE_TESTS}
    assert len([n for n in names if n.startswith("update_")]) == 7
    assert {"bad_update_get", "bad_multiple_updates", "bad_update_dataset_conflict"} <= names


def _is_update(req: dict) -> bool:
    ctype = req["headers"].get("content-type", "")
    body = req["body"] or b""
    return (
        "sparql-update" in ctype
        or body.startswith(b"update=")
        or "update=" in req["path"]
        or (req["method"] == "POST" and "sparql-query" not in ctype and b"query=" not in body)
    )


@pytest.mark.parametrize(("name", "reqs"), UPDATE_TESTS, ids=[n for n, _ in UPDATE_TESTS])
def test_w3c_update_protocol(w3c: tuple[KbServe, str], name: str, reqs: list[dict]) -> None:
    server, token = w3c
    for req in reqs:
        path = req["path"].replace("/sparql/", "/update", 1) if _is_update(req) else req["path"]
        headers = dict(req["headers"])
        if _is_update(req):
            headers["Authorization"] = f"Bearer {token}"
        r = requests.request(
            req["method"],
            server.url.rstrip("/") + path,
            headers=headers,
            data=req["body"],
            timeout=60,
            allow_redirects=False,
        )
        klass = f"StatusCode{r.status_code // 100}xx"
        assert not req["expected"] or klass in req["expected"], (path, r.status_code, r.text)
        if req["boolean"] is not None:
            assert r.json()["boolean"] is req["boolean"], r.text
    assert requests.get(server.url + "health", timeout=5).status_code == 200


# --- ten stewards, one graph --------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KbServe]:
    s = start_kb_serve(tmp_path_factory.mktemp("stewards"), {"max_literal_bytes": "100000"})
    try:
        yield s
    finally:
        s.stop()


def test_ten_stewards_at_once_lose_nothing_and_interleave_nothing(server: KbServe) -> None:
    ts = TokenStore(server.store / "clusterkb-tokens.json")
    tokens = [ts.create(f"steward {i}", graphs=("clusters/concurrent",)) for i in range(10)]
    url = server.url + "graphs/clusters/concurrent"
    r = requests.put(
        url,
        data=CLUSTER,
        headers={"Authorization": f"Bearer {tokens[0]}", "Content-Type": "text/turtle"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    statuses: list[int] = []
    barrier = threading.Barrier(10)

    def write(i: int) -> None:
        body = f'<{CLU}> <{ALT}> "steward {i}"@nl .\n'.encode()
        barrier.wait()
        resp = requests.post(
            url,
            data=body,
            headers={"Authorization": f"Bearer {tokens[i]}", "Content-Type": "text/turtle"},
            timeout=120,
        )
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 10
    current = Graph().parse(
        data=requests.get(url, headers={"Accept": "application/n-triples"}, timeout=30).text,
        format="nt",
    )
    labels = {str(o) for o in current.objects(None, None) if str(o).startswith("steward ")}
    assert labels == {f"steward {i}" for i in range(10)}
    versions = requests.get(url + "?versions", timeout=30).json()["versions"]
    assert [v["version"] for v in versions] == list(range(1, 12))
    assert all(v["added"] == 1 and v["removed"] == 0 for v in versions[1:])
    assert len({v["steward"] for v in versions[1:]}) == 10
    for v in range(2, 12):
        diff = requests.get(f"{url}?from={v - 1}&to={v}", timeout=30).json()
        assert len(diff["added"]) == 1 and diff["removed"] == []
    audit = [
        json.loads(line)
        for line in (server.store / "clusterkb-audit.jsonl").read_text().splitlines()
    ]
    assert len([e for e in audit if e["outcome"] == "committed"]) == 11


def test_graph_var_in_every_update_form_against_the_real_server(server: KbServe) -> None:
    """``GRAPH ?g`` ranges over the graphs the caller may write (issue 18 item 11)."""
    ts = TokenStore(server.store / "clusterkb-tokens.json")
    admin, own = ts.create("gq admin", role="admin"), ts.create("gq", graphs=("clusters/gq-mine",))
    mine, other = KB_NS + "graph/clusters/gq-mine", KB_NS + "graph/clusters/gq-other"

    def select(q: str) -> list[dict]:
        r = requests.post(
            server.url + "sparql",
            data={"query": q},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        rows: list[dict] = r.json()["results"]["bindings"]
        return rows

    for form, update in graph_var_forms(mine, other).items():
        for g, token in ((mine, own), (other, admin)):
            r = requests.put(
                server.url + "graphs/" + g[len(KB_NS + "graph/") :],
                data=CLUSTER,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"},
                timeout=60,
            )
            assert r.status_code in (200, 201), r.text
        notes = notes_and_seen(select, mine, other)[0]
        r = requests.post(
            server.url + "update",
            data=update.encode(),
            headers={"Authorization": f"Bearer {own}", "Content-Type": "application/sparql-update"},
            timeout=60,
        )
        assert r.status_code == 200 and r.json()["removed"] == notes, (form, r.text)
        expected = set() if form == "DELETE WHERE" else {mine}
        assert notes_and_seen(select, mine, other) == (0, notes, expected), form


# --- kill -9 during commits ---------------------------------------------------------------


def _kill_all(server: KbServe) -> None:
    state = json.loads((server.store / "clusterkb-server.json").read_text())
    os.killpg(server.proc.pid, signal.SIGKILL)
    if state.get("oxigraph_pid"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(state["oxigraph_pid"], signal.SIGKILL)
    server.proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(state["oxigraph_pid"], 0)
        except (ProcessLookupError, TypeError):
            break
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_during_commits_leaves_old_or_new_graph(tmp_path: Path) -> None:
    folder = tmp_path / "crash"
    server = start_kb_serve(folder)
    token = TokenStore(server.store / "clusterkb-tokens.json").create("crash", role="admin")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
    extra = "".join(f'<{CLU}> <{ALT}> "label {i}"@nl .\n' for i in range(400)).encode()
    versions = {0: CLUSTER, 1: CLUSTER + extra}
    base = KB_NS

    def expected(content: bytes) -> Graph:
        return Graph().parse(data=content, format="turtle", publicID=base)

    rng = random.Random(4)
    try:
        for round_ in range(3):
            url = server.url + "graphs/clusters/crash"
            acknowledged: list[int] = []
            stop = threading.Event()

            def hammer(
                url: str = url,
                acknowledged: list[int] = acknowledged,
                stop: threading.Event = stop,
            ) -> None:
                i = 0
                while not stop.is_set():
                    try:
                        r = requests.put(url, data=versions[i % 2], headers=headers, timeout=30)
                    except requests.RequestException:
                        return
                    if r.status_code in (200, 201):
                        acknowledged.append(i % 2)
                    i += 1

            t = threading.Thread(target=hammer)
            t.start()
            time.sleep(2.0 + rng.random() * 2.0)
            _kill_all(server)
            stop.set()
            t.join(60)
            assert acknowledged, f"round {round_}: no write was acknowledged before the kill"
            server = start_kb_serve(folder)
            url = server.url + "graphs/clusters/crash"
            got = Graph().parse(
                data=requests.get(
                    url, headers={"Accept": "application/n-triples"}, timeout=30
                ).text,
                format="nt",
            )
            assert any(isomorphic(got, expected(v)) for v in versions.values()), round_
            # the data and its provenance landed together: the newest snapshot is the graph
            latest = requests.get(url + "?versions", timeout=30).json()["versions"][-1]["version"]
            snap = Graph().parse(
                data=requests.get(
                    f"{url}?version={latest}",
                    headers={"Accept": "application/n-triples"},
                    timeout=30,
                ).text,
                format="nt",
            )
            assert isomorphic(snap, got)
    finally:
        server.stop()


# --- hostile input against the real server --------------------------------------------------


def _quads(server: KbServe) -> int:
    r = requests.post(
        server.url + "sparql",
        data={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def _committed(server: KbServe) -> int:
    path = server.store / "clusterkb-audit.jsonl"
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if '"committed"' in line)


@pytest.mark.parametrize(("media_type", "body", "status"), HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_against_the_real_server(
    server: KbServe, media_type: str, body: bytes, status: int
) -> None:
    token = TokenStore(server.store / "clusterkb-tokens.json").create(
        "hostile", graphs=("clusters/*",)
    )
    before, commits, pid = _quads(server), _committed(server), server.proc.pid
    headers = {"Authorization": f"Bearer {token}"}
    if media_type:
        headers["Content-Type"] = media_type
    r = requests.post(
        server.url + "submissions?graph=clusters/hostile", data=body, headers=headers, timeout=60
    )
    assert r.status_code == status, r.text[:300]
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["detail"] and "Traceback" not in r.text
    assert _quads(server) == before and _committed(server) == commits
    assert requests.get(server.url + "health", timeout=5).status_code == 200
    assert server.proc.poll() is None and server.proc.pid == pid


def test_unauthenticated_and_query_endpoint_writes_against_the_real_server(
    server: KbServe,
) -> None:
    before = _quads(server)
    for method, path, kwargs in (
        ("PUT", "graphs/clusters/x", {"data": CLUSTER, "headers": {"Content-Type": "text/turtle"}}),
        ("DELETE", "graphs/clusters/antwerpen-duurzaam-bouwen", {}),
        (
            "POST",
            "update",
            {"data": "DROP ALL", "headers": {"Content-Type": "application/sparql-update"}},
        ),
    ):
        r = requests.request(method, server.url + path, timeout=30, **kwargs)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    r = requests.post(
        server.url + "sparql",
        data="DROP ALL",
        headers={"Content-Type": "application/sparql-update"},
        timeout=30,
    )
    assert 400 <= r.status_code < 500
    r = requests.get(server.url + "sparql", params={"query": "CLEAR ALL"}, timeout=30)
    assert 400 <= r.status_code < 500
    assert _quads(server) == before
