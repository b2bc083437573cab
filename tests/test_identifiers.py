"""Persistent identifiers: the same IRIs whatever host or port serves them, every server
answering them by path, and stores of the old scheme (identifiers that followed host and port)
refused and then migrated by `kb migrate`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from kb.config import load_settings
from kb.errors import StoreError
from kb.namespaces import KB_NS
from kb.service import META_FILE, Service, bundled_files, stored_base
from kb.store.migrate import migrate_namespace, rewrite_request
from tests.support.kbserve import KbServe, free_port, start_kb_serve

CLUSTER = "id/cluster/antwerpen-duurzaam-bouwen"


def _subjects(server: KbServe) -> set[str]:
    """Every subject IRI the server's SPARQL endpoint knows."""
    r = requests.post(
        server.url + "sparql",
        data={"query": "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    r.raise_for_status()
    return {b["s"]["value"] for b in r.json()["results"]["bindings"]}


def _page(server: KbServe, path: str) -> requests.Response:
    return requests.get(server.url + path, headers={"Accept": "text/html"}, timeout=10)


def test_the_data_files_write_persistent_iris() -> None:
    """No relative IRI and no base left in the bundled files: what is written is the IRI."""
    for f in bundled_files():
        text = f.path.read_text(encoding="utf-8")
        assert "@base" not in text, f.path
        assert "<id/" not in text, f"{f.path} still holds a relative IRI"


def test_two_ports_give_the_same_iris_and_a_new_port_does_not_strand_a_store(
    tmp_path: Path,
) -> None:
    first = start_kb_serve(tmp_path / "first")
    second = start_kb_serve(tmp_path / "second")
    try:
        assert first.url != second.url
        a, b = _subjects(first), _subjects(second)
        assert a == b and len(a) > 200
        assert sum(s.startswith(KB_NS + "id/") for s in a) > 100
        loopback = [s for s in a if s.startswith(("http://127.0.0.1", "http://localhost"))]
        assert not loopback, loopback[:5]
    finally:
        first.stop()
        second.stop()
    # the first store, served again on a third port: nothing to say, every identifier opens
    again = start_kb_serve(tmp_path / "again", store=first.store)
    try:
        page = _page(again, CLUSTER)
        assert page.status_code == 200 and "Duurzaam bouwen en duurzame" in page.text
        assert page.url == again.url + "doc/cluster/antwerpen-duurzaam-bouwen"
        # links on the page go to this server's pages, by path
        assert 'href="/id/organisatie/kamp-c"' in page.text or 'href="/id/' in page.text
        assert _page(again, "ns/provinciale-clusters").status_code == 200
        assert stored_base(again.store) == KB_NS
    finally:
        again.stop()


def _old_scheme_store(path: Path, old: str) -> int:
    """A store folder as the earlier releases left it: every identifier and graph under the
    host-and-port base ``old``, a history snapshot holding such IRIs, a blank node."""
    settings = load_settings({"store": str(path)}, environ={})
    quads: list[ox.Quad] = []

    def moved(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> object:
        if isinstance(term, ox.NamedNode) and term.value.startswith(KB_NS):
            return ox.NamedNode(old + term.value[len(KB_NS) :])
        return term

    for f in bundled_files():
        graph = ox.NamedNode(old + f.graph(settings.base_iri)[len(KB_NS) :])
        for t in ox.parse(path=str(f.path), format=ox.RdfFormat.TURTLE):
            quads.append(ox.Quad(moved(t.subject), moved(t.predicate), moved(t.object), graph))
    history = ox.NamedNode(old + "graph/history")
    quads.append(
        ox.Quad(
            ox.NamedNode(old + "id/commit/1"),
            ox.NamedNode(KB_NS + "ns/history#snapshot"),
            ox.Literal(f"<{old}{CLUSTER}> <http://e/p> <{old}id/x> .\n", language=None),
            history,
        )
    )
    path.mkdir(parents=True)
    store = ox.Store(str(path))
    store.extend(quads)
    store.flush()
    del store
    (path / META_FILE).write_text(json.dumps({"base": old}))
    return len(quads)


def _kb(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    return subprocess.run(
        [sys.executable, "-m", "kb", *args], env=env, capture_output=True, text=True, timeout=180
    )


def test_a_store_of_the_old_scheme_is_refused_then_migrated(tmp_path: Path) -> None:
    old = "http://localhost:8080/"
    store = tmp_path / "store"
    total = _old_scheme_store(store, old)
    port = str(free_port())
    refused = _kb("serve", "--store", str(store), "--port", port)
    assert refused.returncode == 2, refused.stderr
    assert f"identifiers under {old}" in refused.stderr and "kb migrate" in refused.stderr
    assert "is ready" not in refused.stderr

    done = _kb("migrate", "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert f"moved {total:,} quads" in done.stderr and f"to {KB_NS}" in done.stderr
    assert stored_base(store) == KB_NS
    again = _kb("migrate", "--store", str(store))
    assert again.returncode == 0 and "nothing to do" in again.stderr

    ox_store = ox.Store.read_only(str(store))
    quads = list(ox_store)
    assert len(quads) == total
    terms = [t for q in quads for t in (q.subject, q.predicate, q.object, q.graph_name)]
    assert not any(isinstance(t, ox.NamedNode) and t.value.startswith(old) for t in terms)
    snapshot = next(q.object for q in quads if q.predicate.value.endswith("history#snapshot"))
    assert snapshot.value.startswith(f"<{KB_NS}{CLUSTER}>") and old not in snapshot.value
    # blank nodes still link their parents (a membership's period)
    period = [q for q in quads if q.predicate.value == "http://www.w3.org/ns/org#memberDuring"]
    assert period and all(
        any(p.subject == q.object for p in quads if p is not q) for q in period[:5]
    )
    del ox_store

    server = start_kb_serve(tmp_path / "served", store=store)
    try:
        page = _page(server, CLUSTER)
        assert page.status_code == 200 and "Duurzaam bouwen en duurzame" in page.text
    finally:
        server.stop()


def test_migration_through_the_store_interface(service: Service) -> None:
    """The one update request, against the store under test (Oxigraph or Virtuoso)."""
    store = service.store
    old, new = "http://old-scheme.test/", "http://new-scheme.test/"
    graph = old + "graph/migrating"
    xsd_int = "http://www.w3.org/2001/XMLSchema#int"
    store.update(
        f"INSERT DATA {{ GRAPH <{graph}> {{ <{old}id/a> <http://e/p> <{old}id/b> . "
        f'<{old}id/a> <http://e/q> "see <{old}id/b> ."@en . '
        f'<{old}id/a> <http://e/n> "3"^^<{xsd_int}> . <http://e/x> <{old}ns#p> "plain" }} }}'
    )
    try:
        done = migrate_namespace(store, old, new)
        assert (done.quads, done.graphs) == (4, 1)
        rows = store.select(
            f"SELECT ?s ?p ?o WHERE {{ GRAPH <{new}graph/migrating> {{ ?s ?p ?o }} }}",
            union_default_graph=False,
        )
        got = {(r["s"]["value"], r["p"]["value"], r["o"]["value"]) for r in rows}
        assert got == {
            (new + "id/a", "http://e/p", new + "id/b"),
            (new + "id/a", "http://e/q", f"see <{new}id/b> ."),
            (new + "id/a", "http://e/n", "3"),
            ("http://e/x", new + "ns#p", "plain"),
        }
        lang = store.select(
            f"SELECT (LANG(?o) AS ?l) WHERE {{ GRAPH <{new}graph/migrating> "
            "{ ?s <http://e/q> ?o } }",
            union_default_graph=False,
        )
        assert lang[0]["l"]["value"] == "en"
        assert not store.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", union_default_graph=False)
        # the bundled knowledge base was not touched
        assert store.ask(f"ASK {{ <{KB_NS}{CLUSTER}> ?p ?o }}")
    finally:
        store.update(f"DROP SILENT GRAPH <{new}graph/migrating>")


def test_migration_refuses_overlapping_namespaces(service: Service) -> None:
    with pytest.raises(StoreError, match="overlap"):
        migrate_namespace(service.store, "http://a.test/", "http://a.test/kb/")
    assert "DELETE" in rewrite_request("http://a.test/", "http://b.test/")


def test_kb_base_is_refused_with_what_to_do() -> None:
    from kb.errors import ConfigError

    with pytest.raises(ConfigError, match="kb migrate"):
        load_settings(environ={"KB_BASE": "http://localhost:8080/"})
