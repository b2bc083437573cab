"""The store interface against a real managed Oxigraph server."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kb.errors import QueryRejected, QueryTimeout, StoreError
from kb.store import ManagedOxigraph, SparqlHttpStore, attach, bulk_load, remove_orphans

G = "http://example.org/g"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ManagedOxigraph]:
    srv = ManagedOxigraph(tmp_path / "store", timeout_s=2)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def store(server: ManagedOxigraph) -> Iterator[SparqlHttpStore]:
    client = server.client()
    yield client
    client.close()


def test_update_query_and_count(store: SparqlHttpStore) -> None:
    assert store.is_empty()
    store.update(f"INSERT DATA {{ GRAPH <{G}> {{ <http://e/a> <http://e/p> 'x'@nl }} }}")
    store.update("INSERT DATA { <http://e/b> <http://e/p> 1 }")
    assert store.count(G) == 1
    assert store.count() == 2
    assert store.graphs() == [G]
    rows = store.select("SELECT ?o WHERE { <http://e/a> ?p ?o }")
    assert rows == [{"o": {"type": "literal", "value": "x", "xml:lang": "nl"}}]
    # the default graph of queries is the union of all graphs unless a dataset is named
    assert store.ask("ASK { <http://e/a> ?p ?o }")
    assert not store.ask("ASK { <http://e/a> ?p ?o }", union_default_graph=False)
    assert not store.ask("ASK { <http://e/b> ?p ?o }", default_graph_uris=[G])


def test_graph_store_protocol(store: SparqlHttpStore) -> None:
    store.put_graph(
        G, b"<http://e/a> <http://e/p> <http://e/o> .\n", content_type="application/n-triples"
    )
    store.post_graph(
        G, b"<http://e/a> <http://e/q> <http://e/o> .\n", content_type="application/n-triples"
    )
    assert store.count(G) == 2
    assert store.graph_exists(G)
    store.put_graph(
        G, b"<http://e/z> <http://e/p> <http://e/o> .\n", content_type="application/n-triples"
    )
    assert store.get_graph(G).strip() == b"<http://e/z> <http://e/p> <http://e/o> ."
    store.delete_graph(G)
    assert not store.graph_exists(G)


def test_bad_data_through_gsp_changes_nothing(store: SparqlHttpStore) -> None:
    store.put_graph(
        G, b"<http://e/a> <http://e/p> <http://e/o> .\n", content_type="application/n-triples"
    )
    with pytest.raises(QueryRejected, match="line 2"):
        store.post_graph(
            G,
            b'<http://e/b> <http://e/p> "ok" .\n<http://e/c> <http://e/p> "x .',
            content_type="application/n-triples",
        )
    assert store.count(G) == 1


def test_construct_returns_a_graph(store: SparqlHttpStore) -> None:
    store.update("INSERT DATA { <http://e/a> <http://e/p> <http://e/o> }")
    g = store.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert len(g) == 1


def test_syntax_errors_are_query_rejected(store: SparqlHttpStore) -> None:
    with pytest.raises(QueryRejected, match="syntax error"):
        store.query("SELECT * WHERE { ?s ?p }")


def test_the_store_stops_a_query_at_its_timeout(store: SparqlHttpStore) -> None:
    store.update(
        "INSERT DATA { "
        + " ".join(f"<http://e/s{i}> <http://e/p> <http://e/o{i}> ." for i in range(80))
        + " }"
    )
    started = time.monotonic()
    heavy = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o }"
    with pytest.raises(QueryTimeout):
        store.query(heavy).read()
    assert time.monotonic() - started < 10
    assert store.ask("ASK { ?s ?p ?o }")  # and the store answers the next query


def test_a_dead_server_is_restarted(server: ManagedOxigraph, store: SparqlHttpStore) -> None:
    store.update("INSERT DATA { <http://e/a> <http://e/p> <http://e/o> }")
    assert server._proc is not None
    os.kill(server._proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (server.alive() and store.ping()):
        time.sleep(0.1)
    assert server.restarts == 1
    assert store.count() == 1  # acknowledged data survived the crash


def test_a_second_process_cannot_open_a_served_store(server: ManagedOxigraph) -> None:
    with pytest.raises(StoreError, match="open in another process"):
        remove_orphans(server.location)
    with pytest.raises(StoreError):
        bulk_load(
            server.location,
            b"<http://e/a> <http://e/p> <http://e/o> .",
            format=ox.RdfFormat.N_TRIPLES,
            base_iri=None,
            graph=None,
        )


def test_attach_finds_the_running_server(server: ManagedOxigraph) -> None:
    client = attach(server.location)
    assert client is not None and client.ping()
    client.close()
    server.stop()
    assert attach(server.location) is None


def test_orphan_bulk_files_are_removed_at_start(tmp_path: Path) -> None:
    location = tmp_path / "store"
    bulk_load(
        location,
        b"<http://e/a> <http://e/p> <http://e/o> .",
        format=ox.RdfFormat.N_TRIPLES,
        base_iri=None,
        graph=None,
    )
    orphan = location / "bulk-000123.sst"
    orphan.write_bytes(b"left by a killed bulk load")
    srv = ManagedOxigraph(location)
    srv.start(watch=False)
    try:
        assert not orphan.exists()
        assert srv.client().count() == 1
    finally:
        srv.stop()


def test_bulk_load_is_all_or_nothing(tmp_path: Path) -> None:
    location = tmp_path / "store"
    good = b"".join(b'<http://e/s%d> <http://e/p> "%d" .\n' % (i, i) for i in range(50_000))
    with pytest.raises(SyntaxError):
        bulk_load(
            location,
            good + b'<http://e/x> <http://e/p> "cut .\n',
            format=ox.RdfFormat.N_TRIPLES,
            base_iri=None,
            graph=None,
        )
    assert len(ox.Store(str(location))) == 0


def test_unreachable_store_is_a_clear_error() -> None:
    client = SparqlHttpStore("http://127.0.0.1:9/query", timeout=1)
    assert not client.ping()
    with pytest.raises(StoreError, match="cannot reach the store"):
        client.select("SELECT * {}")


def test_every_write_changes_the_data_version(server: ManagedOxigraph) -> None:
    writer, reader = server.client(), server.client()  # two clients share the version
    seen = {reader.data_version}
    writer.update("INSERT DATA { <http://e/a> <http://e/p> <http://e/o> }")
    seen.add(reader.data_version)
    writer.post_graph(
        G, b"<http://e/a> <http://e/p> <http://e/o> .\n", content_type="application/n-triples"
    )
    seen.add(reader.data_version)
    writer.delete_graph(G)
    seen.add(reader.data_version)
    writer.select("SELECT * { ?s ?p ?o }")
    seen.add(reader.data_version)
    assert len(seen) == 4


@pytest.mark.parametrize(
    "name", ["http://e/g> } } ; DROP ALL ; #", "../x", "http://e/a b", "", 'http://e/"']
)
def test_graph_names_cannot_break_out_of_a_request(store: SparqlHttpStore, name: str) -> None:
    store.update("INSERT DATA { GRAPH <http://e/keep> { <http://e/a> <http://e/p> 1 } }")
    for call in (store.count, store.graph_exists):
        with pytest.raises(QueryRejected, match="not an absolute IRI"):
            call(name)
    assert store.count() == 1


def test_a_killed_kb_serve_leaves_no_process_behind(tmp_path: Path) -> None:
    """kill -9 of `kb serve`: every process it started ends with it — the store server and
    the validation worker with what multiprocessing starts beside it — and the store folder
    is free for the next start."""
    from kb.store.oxigraph import _lock_free
    from tests.support.kbserve import descendants, running, start_kb_serve

    server = start_kb_serve(tmp_path)
    deadline = time.monotonic() + 30
    children = descendants(server.proc.pid)
    while time.monotonic() < deadline and len(children) < 3:  # the worker may still be spawning
        time.sleep(0.1)
        children = descendants(server.proc.pid)
    kinds = " | ".join(children.values())
    assert "oxigraph" in kinds and "multiprocessing" in kinds, children
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
        any(running(pid) for pid in children) or not _lock_free(server.store)
    ):
        time.sleep(0.05)
    assert {pid: cmd for pid, cmd in children.items() if running(pid)} == {}
    assert _lock_free(server.store)
    restarted = ManagedOxigraph(server.store)
    restarted.start(watch=False)
    try:
        assert restarted.client().count() > 1000
    finally:
        restarted.stop()


def test_an_abandoned_store_server_is_stopped_at_start(tmp_path: Path) -> None:
    import json
    import subprocess

    from kb.store.oxigraph import STATE_FILE, oxigraph_binary, stop_abandoned_server
    from tests.support.kbserve import free_port

    location = tmp_path / "store"
    location.mkdir()
    orphan = subprocess.Popen(
        [
            oxigraph_binary(),
            "serve",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{free_port()}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(0.5)
    dead_owner = subprocess.Popen(["true"])
    dead_owner.wait()
    (location / STATE_FILE).write_text(
        json.dumps({"url": "http://127.0.0.1:9", "pid": dead_owner.pid, "oxigraph_pid": orphan.pid})
    )
    srv = ManagedOxigraph(location)
    srv.start(watch=False)  # stops the orphan, which holds the folder, then starts
    try:
        assert orphan.wait(10) is not None
        assert srv.client().ping()
    finally:
        srv.stop()
    assert not stop_abandoned_server(location)


def _alive(pid: int) -> bool:
    from kb.store.oxigraph import _alive as alive

    return alive(pid)
