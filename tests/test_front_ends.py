"""Two ``kb serve`` front ends against one remote store (a private Virtuoso 7): a write through
one is visible through the other at once, and concurrent writes through both lose nothing."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph

from kb.auth import TokenStore
from tests.support import virtuoso
from tests.support.kbserve import KbServe, start_kb_serve

BASE = "http://kb-front-ends.test/"
ROOT = Path(__file__).resolve().parent.parent
CLUSTER = (ROOT / "data/clusters/west-vlaanderen-blauwe-energie.ttl").read_bytes()
# whole-euro amounts ("735400"^^xsd:decimal), which Virtuoso would hand back as integers
# unless written as "735400.0" (README "Remote stores"): appends to this graph must pass
assert re.search(rb'"[0-9]+"\^\^xsd:decimal', CLUSTER)
CLU = f"{BASE}id/cluster/west-vlaanderen-blauwe-energie"
ALT = "http://www.w3.org/2004/02/skos/core#altLabel"


@pytest.fixture(scope="module")
def front_ends(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[KbServe, KbServe, str, KbServe]]:
    """Two front ends as on two hosts, their admin token, and a third without a result cache
    (its queries take the graphs in scope from its background view)."""
    if not virtuoso.available():
        pytest.skip("virtuoso-opensource is not installed (.ci/run installs it)")
    folder = tmp_path_factory.mktemp("front-ends")
    server = virtuoso.Virtuoso(folder / "virtuoso", timeout_s=30)
    server.start()
    fronts: list[KbServe] = []
    try:  # the private Virtuoso stops even when a front end fails to start
        settings = {
            "namespace": BASE,
            "store_query_url": server.sparql_url,
            "store_update_url": f"http://127.0.0.1:{server.http_port}/sparql-auth",
            "store_gsp_url": f"http://127.0.0.1:{server.http_port}/sparql-graph-crud-auth",
            "store_user": "dba",
            "store_password": server.password,
        }
        # as on two hosts: each front end its own folder (writer lock file, audit log), the same
        # token file copied to both; only the store's journal lease orders their writes
        hosts = [folder / "host-one", folder / "host-two", folder / "host-three"]
        token = TokenStore(hosts[0] / "clusterkb-tokens.json").create("front ends", role="admin")
        hosts[1].mkdir(parents=True)
        shutil.copy(hosts[0] / "clusterkb-tokens.json", hosts[1] / "clusterkb-tokens.json")
        fronts.append(start_kb_serve(folder / "one", settings, store=hosts[0]))
        fronts.append(start_kb_serve(folder / "two", settings, store=hosts[1]))
        uncached = settings | {"cache_bytes": 0}
        fronts.append(start_kb_serve(folder / "three", uncached, store=hosts[2]))
        yield fronts[0], fronts[1], token, fronts[2]
    finally:
        for front in fronts:
            front.stop()
        server.stop()


def _count(front: KbServe, graph: str) -> int:
    """Triples in ``graph`` as the front end's SPARQL endpoint answers (cached when it can)."""
    r = requests.post(
        front.url + "sparql",
        data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "default-graph-uri": graph},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_a_write_through_one_is_visible_through_the_other_at_once(
    front_ends: tuple[KbServe, KbServe, str, KbServe],
) -> None:
    one, two, token, _ = front_ends
    graph = f"{BASE}graph/clusters/seen-by-both"
    before = _count(two, graph)  # also fills two's result cache
    assert before == 0
    r = requests.put(
        one.url + "graphs/clusters/seen-by-both",
        data=CLUSTER,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    expected = _count(one, graph)
    assert expected > 100
    assert _count(two, graph) == expected  # not the cached 0: the data version is shared


def test_a_new_graph_through_one_is_in_the_next_union_answer_of_another(
    front_ends: tuple[KbServe, KbServe, str, KbServe],
) -> None:
    """A front end without a result cache answers union queries with the graphs in scope from
    its background view (``store_freshness``, 0.25 s); the front end that writes a new graph
    answers only once that long has passed, so the very next union query through the other
    has the new graph."""
    one, _, token, three = front_ends
    label = "only in the newest graph"
    ask = {"query": f'ASK {{ <{CLU}> <{ALT}> "{label}"@nl }}'}
    json_answer = {"Accept": "application/sparql-results+json"}
    for _ in range(20):  # three's view is being read: it answers from it
        r = requests.get(three.url + "sparql", params=ask, headers=json_answer, timeout=30)
        assert r.json()["boolean"] is False
    started = time.monotonic()
    r = requests.put(
        one.url + "graphs/clusters/newest",
        data=CLUSTER + f'\n<{CLU}> <{ALT}> "{label}"@nl .\n'.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    assert time.monotonic() - started >= 0.25  # settled before it answered
    r = requests.get(three.url + "sparql", params=ask, headers=json_answer, timeout=30)
    assert r.json()["boolean"] is True


def test_concurrent_writes_through_both_lose_nothing(
    front_ends: tuple[KbServe, KbServe, str, KbServe],
) -> None:
    one, two, token, _ = front_ends
    path = "graphs/clusters/both-at-once"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
    r = requests.put(one.url + path, data=CLUSTER, headers=headers, timeout=60)
    assert r.status_code == 201, r.text
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def write(i: int) -> None:
        front = one if i % 2 else two
        body = f'<{CLU}> <{ALT}> "front end write {i}"@nl .\n'.encode()
        barrier.wait()
        resp = requests.post(front.url + path, data=body, headers=headers, timeout=120)
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 8
    for front in (one, two):
        current = Graph().parse(
            data=requests.get(
                front.url + path, headers={"Accept": "application/n-triples"}, timeout=30
            ).text,
            format="nt",
        )
        labels = {str(o) for o in current.objects(None, None) if "front end write" in str(o)}
        assert labels == {f"front end write {i}" for i in range(8)}
    versions = requests.get(two.url + path + "?versions", timeout=30).json()["versions"]
    assert [v["version"] for v in versions] == list(range(1, 10))


def test_a_replace_race_through_both_has_one_winner(
    front_ends: tuple[KbServe, KbServe, str, KbServe],
) -> None:
    """Both front ends replace one graph at once with the same If-Match: one wins, the other
    gets 412 — the check and the write are one step across hosts (the store's writer lease)."""
    one, two, token, _ = front_ends
    path = "graphs/clusters/race"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
    r = requests.put(one.url + path, data=CLUSTER, headers=headers, timeout=60)
    assert r.status_code == 201, r.text
    etag = requests.get(two.url + path, headers={"Accept": "text/turtle"}, timeout=30).headers[
        "ETag"
    ]
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def replace(front: KbServe, label: str) -> None:
        body = CLUSTER + f'\n<{CLU}> <{ALT}> "{label}"@nl .\n'.encode()
        barrier.wait()
        resp = requests.put(
            front.url + path, data=body, headers={**headers, "If-Match": etag}, timeout=120
        )
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=replace, args=x) for x in ((one, "one"), (two, "two"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 412] or sorted(statuses) == [204, 412], statuses
    versions = requests.get(one.url + path + "?versions", timeout=30).json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
