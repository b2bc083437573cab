"""Every store operation, against both backends: the managed Oxigraph and Virtuoso 7 (Debian's
``virtuoso-opensource``, private on loopback) reached as a remote SPARQL 1.1 server."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from requests.auth import HTTPDigestAuth

from kb.config import load_settings
from kb.errors import QueryRejected, StoreError
from kb.store import ManagedOxigraph, SparqlHttpStore, remote_store
from kb.store.version import StoreClock
from tests.support import virtuoso
from tests.support.views import first_view

_ids = itertools.count()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[virtuoso.Virtuoso]:
    if not virtuoso.available():
        pytest.skip("virtuoso-opensource is not installed (.ci/run installs it)")
    server = virtuoso.Virtuoso(tmp_path_factory.mktemp("virtuoso"), timeout_s=10)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedOxigraph]:
    server = ManagedOxigraph(tmp_path_factory.mktemp("oxigraph") / "store", timeout_s=10)
    server.start()
    yield server
    server.stop()


def virtuoso_store(server: virtuoso.Virtuoso, base: str) -> SparqlHttpStore:
    return remote_store(
        load_settings(
            {
                "namespace": base,
                "store_query_url": server.sparql_url,
                "store_update_url": f"http://127.0.0.1:{server.http_port}/sparql-auth",
                "store_gsp_url": f"http://127.0.0.1:{server.http_port}/sparql-graph-crud-auth",
                "store_user": "dba",
                "store_password": server.password,
                "store_auth": "digest",
            },
            environ={},
        )
    )


@pytest.fixture(params=["oxigraph", "virtuoso"])
def scoped(request: pytest.FixtureRequest) -> Iterator[tuple[SparqlHttpStore, str]]:
    """A store and a fresh base IRI (so tests on the shared servers do not see each other)."""
    base = f"http://kb{next(_ids)}.test/"
    if request.param == "oxigraph":
        server: ManagedOxigraph = request.getfixturevalue("oxigraph_server")
        store = server.client()
        store.graph_scope = f"{base}graph/"
    else:
        store = virtuoso_store(request.getfixturevalue("virtuoso_server"), base)
    yield store, base
    for g in store.graphs():
        store.delete_graph(g)
    store.close()


def test_update_query_count_and_graphs(scoped: tuple[SparqlHttpStore, str]) -> None:
    store, base = scoped
    g1, g2 = f"{base}graph/a", f"{base}graph/b"
    assert store.is_empty()
    store.update(f"INSERT DATA {{ GRAPH <{g1}> {{ <http://e/a> <http://e/p> 'x'@nl }} }}")
    store.update(f"INSERT DATA {{ GRAPH <{g2}> {{ <http://e/b> <http://e/p> 1 }} }}")
    assert not store.is_empty()
    assert store.graphs() == [g1, g2]
    assert store.count(g1) == 1 and store.count() == 2
    rows = store.select("SELECT ?o WHERE { <http://e/a> ?p ?o }")
    assert rows[0]["o"]["value"] == "x" and rows[0]["o"]["xml:lang"] == "nl"
    # the public default graph is the union of the knowledge base's graphs, and only those
    assert store.ask("ASK { <http://e/a> ?p ?o . <http://e/b> ?q ?r }")
    n = int(store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"]["value"])
    assert n == 2
    assert not store.ask("ASK { <http://e/b> ?p ?o }", default_graph_uris=[g1])


def test_graph_store_operations(scoped: tuple[SparqlHttpStore, str]) -> None:
    store, base = scoped
    g = f"{base}graph/gsp"
    store.put_graph(
        g, b"<http://e/a> <http://e/p> <http://e/o> .\n", content_type="application/n-triples"
    )
    store.post_graph(
        g, b"<http://e/a> <http://e/q> <http://e/o> .\n", content_type="application/n-triples"
    )
    assert store.count(g) == 2 and store.graph_exists(g)
    store.put_graph(
        g, b"<http://e/z> <http://e/p> <http://e/o> .\n", content_type="application/n-triples"
    )
    assert store.get_graph(g).split() == b"<http://e/z> <http://e/p> <http://e/o> .".split()
    store.delete_graph(g)
    assert not store.graph_exists(g)


def test_graph_store_writes_through_update_when_a_server_has_no_gsp(
    scoped: tuple[SparqlHttpStore, str],
) -> None:
    store, base = scoped
    store.gsp_url = None
    g = f"{base}graph/no-gsp"
    store.put_graph(g, b'<http://e/a> <http://e/p> "1" .\n', content_type="application/n-triples")
    store.post_graph(g, b'@prefix e: <http://e/> . e:b e:p "2" .', content_type="text/turtle")
    assert store.count(g) == 2 and store.graph_exists(g)
    assert len(store.get_graph(g).strip().splitlines()) == 2
    with pytest.raises(QueryRejected):
        store.post_graph(g, b'<http://e/c> <http://e/p> "x .', content_type="application/n-triples")
    assert store.count(g) == 2
    store.delete_graph(g)
    assert not store.graph_exists(g)


def test_syntax_errors_are_query_rejected(scoped: tuple[SparqlHttpStore, str]) -> None:
    store, _ = scoped
    with pytest.raises(QueryRejected):
        store.select("SELECT * WHERE { ?s ?p }")


def test_a_refused_multi_operation_update_changes_nothing(
    scoped: tuple[SparqlHttpStore, str],
) -> None:
    store, base = scoped
    g = f"{base}graph/atomic"
    store.update(f"INSERT DATA {{ GRAPH <{g}> {{ <http://e/a> <http://e/p> 1 }} }}")
    with pytest.raises(QueryRejected):
        store.update(
            f"DROP GRAPH <{g}> ; INSERT DATA {{ GRAPH <{g}> {{ <http://e/b> <http://e/p> 2 }} }} ;"
            " INSERT DATA { GRAPH <http://e/x> { <http://e/c> <http://e/p> ?broken } }"
        )
    assert store.count(g) == 1


def test_writes_change_the_data_version(scoped: tuple[SparqlHttpStore, str]) -> None:
    store, base = scoped
    g = f"{base}graph/v"
    seen = {store.data_version}
    store.update(f"INSERT DATA {{ GRAPH <{g}> {{ <http://e/a> <http://e/p> 1 }} }}")
    seen.add(store.data_version)
    store.post_graph(
        g, b"<http://e/a> <http://e/p> <http://e/o> .\n", content_type="application/n-triples"
    )
    seen.add(store.data_version)
    store.select("SELECT * { ?s ?p ?o }")
    seen.add(store.data_version)
    assert len(seen) == 3


def test_two_front_ends_share_the_version_of_a_remote_store(
    virtuoso_server: virtuoso.Virtuoso,
) -> None:
    base = f"http://kb{next(_ids)}.test/"
    one, two = virtuoso_store(virtuoso_server, base), virtuoso_store(virtuoso_server, base)
    assert isinstance(one.clock, StoreClock)
    before = two.data_version
    one.update(f"INSERT DATA {{ GRAPH <{base}graph/x> {{ <http://e/a> <http://e/p> 1 }} }}")
    assert two.data_version != before
    assert two.count() == 1
    one.delete_graph(f"{base}graph/x")


def test_concurrent_appends_lose_nothing(scoped: tuple[SparqlHttpStore, str]) -> None:
    store, base = scoped
    g = f"{base}graph/concurrent"

    def writer(i: int) -> None:
        for j in range(10):
            store.update(f"INSERT DATA {{ GRAPH <{g}> {{ <http://e/s{i}> <http://e/p> {j} }} }}")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count(g) == 60


def test_remote_start_up_reports_capabilities(
    virtuoso_server: virtuoso.Virtuoso, tmp_path: Path
) -> None:
    store = virtuoso_store(virtuoso_server, f"http://kb{next(_ids)}.test/")
    notes = store.check_capabilities()
    assert any("SPARQL Update" in n for n in notes)
    assert any("Graph Store Protocol" in n for n in notes)
    store.gsp_url = f"{virtuoso_server.sparql_url}-nothing-here"
    notes = store.check_capabilities()
    assert store.gsp_url is None and any("go through SPARQL Update" in n for n in notes)


def test_move_the_knowledge_base_to_virtuoso_and_back(
    virtuoso_server: virtuoso.Virtuoso, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from kb.cli import main
    from kb.service import load_bundled_in_process

    base = f"http://kb{next(_ids)}.test/"
    embedded = tmp_path / "embedded"
    settings = load_settings({"store": str(embedded), "namespace": base}, environ={})
    total = load_bundled_in_process(embedded, settings)
    dump = tmp_path / "kb.nq"
    runner = CliRunner()
    monkeypatch.setenv("KB_NAMESPACE", base)
    out = runner.invoke(main, ["export", "--store", str(embedded), str(dump)])
    assert out.exit_code == 0, out.output
    assert dump.read_text().count("\n") == total

    remote = {
        "KB_STORE_QUERY_URL": virtuoso_server.sparql_url,
        "KB_STORE_UPDATE_URL": f"http://127.0.0.1:{virtuoso_server.http_port}/sparql-auth",
        "KB_STORE_GSP_URL": f"http://127.0.0.1:{virtuoso_server.http_port}/sparql-graph-crud-auth",
        "KB_STORE_USER": "dba",
        "KB_STORE_PASSWORD": virtuoso_server.password,
    }
    for key, value in remote.items():
        monkeypatch.setenv(key, value)
    out = runner.invoke(main, ["load", str(dump)])
    assert out.exit_code == 0, out.output
    store = virtuoso_store(virtuoso_server, base)
    assert store.count() == total
    assert len(store.graphs()) == len(list(__import__("kb.bundled").bundled.bundled_files()))

    back = tmp_path / "back.nq"
    assert runner.invoke(main, ["export", str(back)]).exit_code == 0
    for key in remote:
        monkeypatch.delenv(key)
    again = tmp_path / "again"
    out = runner.invoke(main, ["load", "--store", str(again), str(back)])
    assert out.exit_code == 0, out.output
    srv = ManagedOxigraph(again)
    srv.start(watch=False)
    try:
        assert srv.client().count() == total
    finally:
        srv.stop()
    for g in store.graphs():
        store.delete_graph(g)


def test_the_time_limit_is_enforced_on_both_backends(scoped: tuple[SparqlHttpStore, str]) -> None:
    from kb.errors import QueryTimeout

    store, base = scoped
    g = f"{base}graph/heavy"
    store.update(
        f"INSERT DATA {{ GRAPH <{g}> {{ "
        + " ".join(f"<http://e/s{i}> <http://e/p> <http://e/o{i}> ." for i in range(80))
        + " } }"
    )
    heavy = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o }"
    with pytest.raises(QueryTimeout):
        store.query(heavy, timeout=2).read()
    assert store.count(g) == 80  # and the store answers the next request


def test_a_query_url_behind_digest_authentication_is_answered(
    virtuoso_server: virtuoso.Virtuoso,
) -> None:
    """Queries go without credentials until a challenge (Virtuoso's /sparql takes anonymous
    queries); a query URL that asks for digest authentication (/sparql-auth) gets them, and
    a wrong password is refused, not mistaken for an empty answer."""
    base = f"http://kb{next(_ids)}.test/"
    store = virtuoso_store(virtuoso_server, base)
    store.query_url = store.update_url or ""
    store.update(f"INSERT DATA {{ GRAPH <{base}graph/a> {{ <http://e/a> <http://e/p> 1 }} }}")
    assert store.count(f"{base}graph/a") == 1
    store.delete_graph(f"{base}graph/a")
    store.close()
    wrong = SparqlHttpStore(
        store.update_url or "", auth=HTTPDigestAuth("dba", "not-the-password"), timeout=10
    )
    with pytest.raises(StoreError, match="401"):
        wrong.count(f"{base}graph/a")
    wrong.close()


def test_an_unread_answer_does_not_spoil_the_next_query(
    scoped: tuple[SparqlHttpStore, str],
) -> None:
    store, base = scoped
    g = f"{base}graph/a"
    for part in range(2):
        triples = " ".join(f"<http://e/{i}> <http://e/p> {i} ." for i in range(part, 2000, 2))
        store.update(f"INSERT DATA {{ GRAPH <{g}> {{ {triples} }} }}")
    for _ in range(3):
        store.query("SELECT * WHERE { ?s ?p ?o }").close()  # dropped unread
        assert store.count(g) == 2000


def test_a_graph_another_client_creates_is_in_the_union_once_its_write_settled(
    scoped: tuple[SparqlHttpStore, str], request: pytest.FixtureRequest
) -> None:
    """A graph written through another client (another front end) is in the next answer once
    that client has settled its write, as the front end does before it answers. On Virtuoso
    the graphs in scope come from a background view at most ``store_freshness`` old: the
    answer right after the write still comes from the view read before it."""
    store, base = scoped
    store.update(f"INSERT DATA {{ GRAPH <{base}graph/a> {{ <http://e/a> <http://e/p> 1 }} }}")
    ask = "ASK { <http://e/b> <http://e/p> 2 }"
    assert not store.ask(ask)
    b = f"INSERT DATA {{ GRAPH <{base}graph/b> {{ <http://e/b> <http://e/p> 2 }} }}"
    if not isinstance(store.clock, StoreClock):  # Oxigraph: the union parameter, no list
        store.update(b)
        assert store.ask(ask)
        return
    other = virtuoso_store(request.getfixturevalue("virtuoso_server"), base)
    for client in (store, other):  # read every 1.5 s: no new read between write and query
        client.scope_watch.fresh_for = 3.0
    first_view(store.scope_watch, timeout=10)
    other.update(b)
    assert not store.ask(ask)  # the view read before the write: not settled yet
    started = time.monotonic()
    other.settle()
    assert time.monotonic() - started > 2.5
    assert store.ask(ask)
    other.close()


def test_a_graph_another_client_creates_is_in_the_next_answer_at_once_without_a_view(
    virtuoso_server: virtuoso.Virtuoso,
) -> None:
    """``store_freshness`` 0: the version is read before every query, so no write needs to
    settle."""
    base = f"http://kb{next(_ids)}.test/"
    store, other = virtuoso_store(virtuoso_server, base), virtuoso_store(virtuoso_server, base)
    for client in (store, other):
        client.scope_watch.fresh_for = 0
    store.update(f"INSERT DATA {{ GRAPH <{base}graph/a> {{ <http://e/a> <http://e/p> 1 }} }}")
    ask = "ASK { <http://e/b> <http://e/p> 2 }"
    assert not store.ask(ask)
    assert not store.ask(ask)  # the version unchanged: the graphs as cached
    other.update(f"INSERT DATA {{ GRAPH <{base}graph/b> {{ <http://e/b> <http://e/p> 2 }} }}")
    started = time.monotonic()
    other.settle()
    assert time.monotonic() - started < 0.01
    assert store.ask(ask)
    store.close()
    other.close()


def test_commit_is_all_or_nothing_on_both_backends(scoped: tuple[SparqlHttpStore, str]) -> None:
    """The store's one commit: a transaction that replaces a graph, appends to another and
    records bookkeeping lands whole; one whose last write the server refuses leaves every
    graph as it was (one request on Oxigraph; the journal on Virtuoso, where the 300 lines
    make several requests)."""
    from kb.store.transaction import Transaction

    store, base = scoped
    g, h = f"{base}graph/a", f"{base}graph/b"
    lines = [f"<http://e/s{i}> <http://e/p> {i} ." for i in range(300)]
    with store.writing():
        store.commit(Transaction().replace(g, lines[:2], before=[]).append(h, lines, before=[]))
    assert (store.count(g), store.count(h)) == (2, 300)
    bad = "<http://e/x> <http://e/p> 'not N-Triples ."
    tx = (
        Transaction()
        .replace(g, lines, before=lambda: lines[:2])
        .append(h, [lines[0]], before=lambda: lines)
        .record(h, [bad], owned=["http://e/x"])
    )
    with store.writing(), pytest.raises((QueryRejected, StoreError)):
        store.commit(tx)
    assert (store.count(g), store.count(h)) == (2, 300)
