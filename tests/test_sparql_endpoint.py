"""``/sparql`` through the Flask test client: protocol misuse, content negotiation (a table of
Accept headers), every result format parsed back, the service description, CORS, the row cap,
streaming and the result cache (also under concurrent writes)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import threading
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from kb.namespaces import KB_NS
from kb.service import Service
from kb.store import SparqlHttpStore, remote_store
from tests.conftest import BACKEND, BASE
from tests.support.apps import CONSTRUCT, SELECT, app_with
from tests.support.counts import CLUSTERS
from tests.support.views import first_view

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
KBE = Namespace("https://w3id.org/clusterkb/ns/endpoint#")


_OX = {
    "turtle": ox.RdfFormat.TURTLE,
    "json-ld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
}


def to_graph(data: bytes, fmt: str) -> Graph:
    """Parse any RDF syntax (with pyoxigraph: rdflib warns on quad formats) into one graph."""
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(data, format=_OX[fmt]))
    nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    return Graph().parse(data=nt.decode(), format="nt")


# --- protocol misuse (CATALOGUE E, H) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        (dict(method="PUT", query_string={"query": "ASK {}"}), 405, ""),
        (dict(method="DELETE"), 405, ""),
        (dict(method="GET", query_string=[("query", "ASK {}"), ("query", "ASK {}")]), 400, "one"),
        (dict(method="POST", data="ASK {}", content_type="text/plain"), 415, "text/plain"),
        (dict(method="POST", data=b"query=ASK%20%7B%7D"), 415, "Content-Type"),
        (
            dict(method="POST", data="INSERT DATA {}", content_type="application/sparql-update"),
            415,
            "updates",
        ),
        (dict(method="GET", query_string={"update": "DROP ALL"}), 400, "updates"),
        (dict(method="POST", data={"update": "DROP ALL"}), 400, "updates"),
        (dict(method="POST", data={"query": "ASK {}", "update": "DROP ALL"}), 400, "updates"),
        (dict(method="GET", query_string={"query": "DROP ALL"}), 400, "updates"),
        (
            dict(
                method="POST",
                data="ASK {}".encode("utf-16"),
                content_type="application/sparql-query; charset=UTF-16",
            ),
            415,
            "UTF-8",
        ),
        (
            dict(method="POST", data=b"ASK { \xff }", content_type="application/sparql-query"),
            400,
            "UTF-8",
        ),
        (dict(method="GET", query_string="query=ASK%20%7B%FF%7D"), 400, "UTF-8"),
        (
            dict(
                method="POST",
                data="query=ASK {}",
                content_type="application/sparql-query",
                query_string={"query": "ASK {}"},
            ),
            400,
            "one",
        ),
        (dict(method="POST", data={"query": ""}), 400, "empty"),
        (dict(method="POST", data={"format": "json"}), 400, "no `query`"),
        (dict(method="GET", query_string={"query": "SELECT * WHERE {\n ?s ?p }"}), 400, "line 2"),
    ],
    ids=lambda v: v if isinstance(v, int) else None,
)
def test_misuse_gets_the_right_4xx(
    client: FlaskClient, kwargs: dict, status: int, words: str
) -> None:
    r = client.open("/sparql", **kwargs)
    assert r.status_code == status, r.data
    body = r.get_json()
    assert set(body) >= {"error", "detail"}
    assert words in body["detail"]
    if status == 405:
        assert set(r.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("path", ["/sparql", "/sparql/"])
def test_a_post_without_a_content_type_is_415_naming_both_accepted_types(
    client: FlaskClient, path: str
) -> None:
    """W3C ``bad_query_missing_form_type`` (a url-encoded body, no type) on the test client;
    tests/test_sparql_live.py sends it to a real server over a socket."""
    r = client.post(path, data=b"query=ASK%20%7B%7D")
    assert "CONTENT_TYPE" not in r.request.environ  # the test client added no type
    assert r.status_code == 415
    detail = r.get_json()["detail"]
    assert "application/sparql-query" in detail
    assert "application/x-www-form-urlencoded" in detail


def test_method_override_headers_are_ignored(client: FlaskClient) -> None:
    """H5: X-HTTP-Method-Override and _method do not turn a read into anything else."""
    r = client.post(
        "/sparql",
        data={"query": "ASK {}", "_method": "PUT"},
        headers={"X-HTTP-Method-Override": "DELETE"},
    )
    assert r.status_code == 200 and r.get_json()["boolean"] is True


def test_trailing_slash_and_head(client: FlaskClient) -> None:
    assert client.get("/sparql/", query_string={"query": "ASK {}"}).status_code == 200
    head = client.head("/sparql", query_string={"query": "ASK {}"})
    assert head.status_code == 200 and head.data == b""


# --- negotiation ------------------------------------------------------------------------------

SELECT_ACCEPT = [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("application/xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0.5, text/tab-separated-values", "text/tab-separated-values"),
    ("text/*;q=0.1, text/csv", "text/csv"),
    (
        "application/sparql-results+xml;q=0.9, application/sparql-results+json;q=0.8",
        "application/sparql-results+xml",
    ),
    ("text/turtle, */*;q=0.1", "application/sparql-results+json"),
    (
        "application/sparql-results+json,application/json,text/javascript,application/javascript",
        "application/sparql-results+json",
    ),
]
GRAPH_ACCEPT = [
    (None, "text/turtle"),
    ("*/*", "text/turtle"),
    ("text/turtle", "text/turtle"),
    ("application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/ld+json"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/trig", "application/trig"),
    ("application/n-quads", "application/n-quads"),
    ("text/turtle;q=0.2, application/rdf+xml;q=0.8", "application/rdf+xml"),
    ("application/rdf+xml, application/xml;q=0.9", "application/rdf+xml"),
]


@pytest.mark.parametrize(("accept", "media"), SELECT_ACCEPT)
def test_select_negotiation(client: FlaskClient, accept: str | None, media: str) -> None:
    headers = {"Accept": accept} if accept else {}
    r = client.post("/sparql", data={"query": SELECT}, headers=headers)
    assert r.status_code == 200
    assert r.mimetype == media
    assert "Accept" in r.headers["Vary"]


@pytest.mark.parametrize(("accept", "media"), GRAPH_ACCEPT)
def test_graph_negotiation(client: FlaskClient, accept: str | None, media: str) -> None:
    headers = {"Accept": accept} if accept else {}
    r = client.post("/sparql", data={"query": CONSTRUCT}, headers=headers)
    assert r.status_code == 200
    assert r.mimetype == media


@pytest.mark.parametrize(
    ("fmt", "media"),
    [
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
        ("xml", "application/sparql-results+xml"),
        ("json", "application/sparql-results+json"),
        ("text/csv", "text/csv"),
    ],
)
def test_format_parameter_overrides_accept(client: FlaskClient, fmt: str, media: str) -> None:
    r = client.get(
        "/sparql", query_string={"query": SELECT, "format": fmt}, headers={"Accept": "text/turtle"}
    )
    assert r.status_code == 200 and r.mimetype == media


@pytest.mark.parametrize(
    ("query", "accept", "fmt"),
    [
        (SELECT, "text/turtle", None),
        (SELECT, "image/png", None),
        (CONSTRUCT, "text/csv", None),
        (SELECT, None, "turtle"),
        (CONSTRUCT, None, "csv"),
        (SELECT, None, "nonsense"),
    ],
)
def test_406_lists_what_is_offered(
    client: FlaskClient, query: str, accept: str | None, fmt: str | None
) -> None:
    params = {"query": query, **({"format": fmt} if fmt else {})}
    r = client.get("/sparql", query_string=params, headers={"Accept": accept} if accept else {})
    assert r.status_code == 406
    detail = r.get_json()["detail"]
    assert "offered" in detail
    offered = detail.split("offered:")[-1]
    assert ("turtle" in offered) == (query == CONSTRUCT) != ("csv" in offered)


# --- every format, parsed back ----------------------------------------------------------------


def _rows(client: FlaskClient, fmt: str) -> list[tuple[str, str]]:
    r = client.get("/sparql", query_string={"query": SELECT, "format": fmt})
    assert r.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
        assert rows[0] == ["s", "l"]
        return [(a, b) for a, b in rows[1:]]
    parsed = ox.parse_query_results(r.data, format=getattr(ox.QueryResultsFormat, fmt.upper()))
    assert [v.value for v in parsed.variables] == ["s", "l"]  # type: ignore[union-attr]
    return [(row["s"].value, row["l"].value) for row in parsed]  # type: ignore[union-attr]


def test_select_formats_carry_the_same_rows(client: FlaskClient) -> None:
    expected = _rows(client, "json")
    assert len(expected) == 2 * CLUSTERS  # every cluster, two labels each
    for fmt in ("xml", "csv", "tsv"):
        assert _rows(client, fmt) == expected


@pytest.mark.parametrize(
    ("fmt", "rdflib"),
    [
        ("turtle", "turtle"),
        ("jsonld", "json-ld"),
        ("rdfxml", "xml"),
        ("trig", "trig"),
        ("nquads", "nquads"),
    ],
)
def test_graph_formats_carry_the_same_graph(client: FlaskClient, fmt: str, rdflib: str) -> None:
    nt = client.get("/sparql", query_string={"query": CONSTRUCT, "format": "ntriples"})
    expected = Graph().parse(data=nt.data, format="nt")
    assert len(expected) == 40
    r = client.get("/sparql", query_string={"query": CONSTRUCT, "format": fmt})
    assert isomorphic(to_graph(r.data, rdflib), expected)


def test_ask_in_every_solutions_format(client: FlaskClient) -> None:
    got = {
        fmt: client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }", "format": fmt}).data
        for fmt in ("json", "xml", "csv", "tsv")
    }
    assert json.loads(got["json"])["boolean"] is True
    assert b"<boolean>true</boolean>" in got["xml"]
    assert got["csv"].split() == [b"_askResult", b"true"]
    assert got["tsv"].split()[-1] == b"true"


def test_describe(client: FlaskClient) -> None:
    iri = KB_NS + "id/cluster/antwerpen-duurzaam-bouwen"
    r = client.get("/sparql", query_string={"query": f"DESCRIBE <{iri}>"})
    g = Graph().parse(data=r.data, format="turtle")
    assert (URIRef(iri), RDF.type, None) in g


def test_dataset_parameters_replace_the_union(client: FlaskClient) -> None:
    graph = KB_NS + "graph/reference/helix-roles"
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    only = client.get("/sparql", query_string={"query": count, "default-graph-uri": graph})
    union = client.get("/sparql", query_string={"query": count})
    n_only = int(only.get_json()["results"]["bindings"][0]["n"]["value"])
    n_union = int(union.get_json()["results"]["bindings"][0]["n"]["value"])
    assert 0 < n_only < n_union
    from_query = client.get(
        "/sparql", query_string={"query": f"SELECT (COUNT(*) AS ?n) FROM <{graph}> {{ ?s ?p ?o }}"}
    )
    assert from_query.get_json()["results"]["bindings"][0]["n"]["value"] == str(n_only)
    named = client.get(
        "/sparql",
        query_string={
            "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
            "named-graph-uri": graph,
        },
    )
    assert [b["g"]["value"] for b in named.get_json()["results"]["bindings"]] == [graph]


# --- service description, UI, CORS ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "rdflib"),
    [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")],
)
def test_service_description(client: FlaskClient, accept: str, rdflib: str) -> None:
    r = client.get("/sparql", headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == accept
    g = to_graph(r.data, rdflib)
    me = next(g.subjects(RDF.type, SD.Service))
    assert g.value(me, SD.endpoint) == me
    assert (me, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (me, SD.feature, SD.UnionDefaultGraph) in g
    formats = {str(o) for o in g.objects(me, SD.resultFormat)}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_CSV" in formats
    assert "http://www.w3.org/ns/formats/JSON-LD" in formats
    assert int(g.value(me, KBE.maxRows)) == 10000
    assert float(g.value(me, KBE.queryTimeout)) == 30.0
    assert g.value(me, KBE.updateSupported).toPython() is False
    assert (me, SD.feature, SD.BasicFederatedQuery) not in g  # SERVICE is refused
    assert len(list(g.objects(None, SD.name))) > 10  # the named graphs


def test_browser_gets_the_ui(client: FlaskClient) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = client.get("/sparql", headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "yasgui/yasgui.min.js" in page and "cdn" not in page.lower()
    assert "PREFIX" not in page or "pc" in page
    permalink = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": accept})
    assert permalink.mimetype == "text/html" and "ASK {}" in permalink.get_data(as_text=True)
    with client.get("/static/yasgui/yasgui.min.js") as js:
        assert js.status_code == 200


def test_cors(client: FlaskClient) -> None:
    r = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://x.eu"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-SPARQL-Truncated" in r.headers["Access-Control-Expose-Headers"]
    pre = client.options(
        "/sparql",
        headers={
            "Origin": "https://x.eu",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert pre.status_code == 200
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]


# --- row cap, streaming -------------------------------------------------------------------------


def test_row_cap(service: Service) -> None:
    c = app_with(service, max_rows=3).test_client()
    r = c.post("/sparql", data={"query": SELECT})
    assert r.headers["X-SPARQL-Truncated"] == "true"
    assert r.headers["X-SPARQL-MaxRows"] == "3"
    assert len(r.get_json()["results"]["bindings"]) == 3
    for fmt, count in (("csv", 4), ("tsv", 4)):
        lines = c.post("/sparql", data={"query": SELECT, "format": fmt}).data.splitlines()
        assert len(lines) == count
    xml = c.post("/sparql", data={"query": SELECT, "format": "xml"}).data
    assert xml.count(b"<result>") == 3
    g = Graph().parse(data=c.post("/sparql", data={"query": CONSTRUCT}).data, format="turtle")
    assert len(g) == 3
    exact = c.post("/sparql", data={"query": SELECT.replace("ORDER BY", "LIMIT 3 #")})
    assert exact.headers["X-SPARQL-Truncated"] == "false"


def test_without_a_cap_results_stream(service: Service) -> None:
    c = app_with(service, max_rows=0, cache_bytes=0).test_client()
    r = c.post("/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert r.is_streamed
    assert r.headers["X-Cache"] == "OFF"
    assert len(r.get_json()["results"]["bindings"]) > 1000
    assert "X-SPARQL-Truncated" not in r.headers


# --- result cache ---------------------------------------------------------------------------------


def test_cache_hits_and_keys(service: Service) -> None:
    c = app_with(service).test_client()
    first = c.post("/sparql", data={"query": SELECT})
    again = c.post("/sparql", data={"query": SELECT})
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.data == again.data
    other = c.post("/sparql", data={"query": SELECT, "format": "csv"})
    assert other.headers["X-Cache"] == "MISS"
    graph = c.post(
        "/sparql",
        data={"query": SELECT, "default-graph-uri": KB_NS + "graph/x"},
    )
    assert graph.headers["X-Cache"] == "MISS"
    off = app_with(service, cache_bytes=0).test_client()
    assert off.post("/sparql", data={"query": SELECT}).headers["X-Cache"] == "OFF"
    assert off.post("/sparql", data={"query": SELECT}).headers["X-Cache"] == "OFF"


#: A graph inside the knowledge base's graph scope (``{base}graph/``): a remote store's public
#: dataset holds only the graphs under it (its own system graphs stay out).
TEST_GRAPH = f"{BASE}graph/test-cache"
LATEST = f"SELECT (MAX(?v) AS ?m) WHERE {{ GRAPH <{TEST_GRAPH}> {{ <urn:c> <urn:v> ?v }} }}"


@pytest.fixture
def scratch_graph(service: Service) -> Iterator[str]:
    service.store.update(f"DROP SILENT GRAPH <{TEST_GRAPH}>")
    yield TEST_GRAPH
    service.store.update(f"DROP SILENT GRAPH <{TEST_GRAPH}>")


def _latest(c: FlaskClient) -> tuple[int, str]:
    r = c.post("/sparql", data={"query": LATEST})
    binding = r.get_json()["results"]["bindings"][0]
    return (int(binding["m"]["value"]) if "m" in binding else -1), r.headers["X-Cache"]


def test_a_write_invalidates_the_cache(service: Service, scratch_graph: str) -> None:
    c = app_with(service).test_client()
    assert _latest(c) == (-1, "MISS")
    assert _latest(c) == (-1, "HIT")
    service.store.update(f"INSERT DATA {{ GRAPH <{scratch_graph}> {{ <urn:c> <urn:v> 1 }} }}")
    assert _latest(c) == (1, "MISS")


def _hammer(service: Service, graph: str) -> tuple[list[str], list[str], int]:
    """Readers hammer one cached query while a writer commits 25 values: (answers older than
    the last write acknowledged before their request started, cache states, last answer)."""
    app = app_with(service)
    acknowledged = -1
    done = threading.Event()
    failures: list[str] = []
    states: list[str] = []

    def read() -> None:
        c = app.test_client()
        while not done.is_set():
            floor = acknowledged
            value, state = _latest(c)
            states.append(state)
            if value < floor:
                failures.append(f"read {value} after write {floor} was acknowledged ({state})")

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for i in range(25):
            service.store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:c> <urn:v> {i} }} }}")
            acknowledged = i
    finally:
        done.set()
        for t in readers:
            t.join()
    return failures, states, _latest(app.test_client())[0]


def test_never_stale_after_an_acknowledged_write(service: Service, scratch_graph: str) -> None:
    """Every answer is at least as new as the last write acknowledged before the request
    started (on Virtuoso too, where the cache key's data version may come from the
    background view)."""
    failures, states, last = _hammer(service, scratch_graph)
    assert not failures
    assert "MISS" in states
    assert last == 24


@pytest.mark.skipif(
    BACKEND == "virtuoso",
    reason="timing: on Virtuoso the first read after a write (data version, then the list of "
    "graphs in scope, then the query: ~85 ms) is ten times slower than a write (~8 ms), so no "
    "two reads share a data version while the writer runs and no read can be a cache HIT; "
    "test_a_write_invalidates_the_cache covers invalidation there",
)
def test_reads_between_writes_are_cache_hits(service: Service, scratch_graph: str) -> None:
    """The staleness check above with a cache that is used: some reads are HITs."""
    failures, states, last = _hammer(service, scratch_graph)
    assert not failures
    assert "HIT" in states and "MISS" in states
    assert last == 24


@contextlib.contextmanager
def _quiet_view(store: SparqlHttpStore) -> Iterator[None]:
    """The background view read once, then not again for 15 s: the store requests counted
    meanwhile are the queries' own."""
    watch = store.scope_watch
    was = watch.fresh_for
    watch.wrote()  # no view read before now is used (as after a write of this front end)
    watch.fresh_for = 30.0  # the reader reads at once, then waits 15 s
    try:
        store.recent_data_version()  # start the reads if they had stopped
        first_view(watch, timeout=10)
        yield
    finally:
        watch.fresh_for = was


@pytest.mark.skipif(BACKEND != "virtuoso", reason="a remote store's background view")
def test_a_cached_query_asks_the_remote_store_nothing(service: Service) -> None:
    """The cache key's data version comes from the background view (kb.store.scope), not
    from a request per query: a HIT sends no request to the store (it sent one, the version
    read, before), a MISS one (two before)."""
    store = service.store
    c = app_with(service).test_client()  # its own, empty result cache
    query = SELECT
    with _quiet_view(store):
        before = store.queries_sent
        r = c.post("/sparql", data={"query": query})
        assert r.headers.get("X-Cache") == "MISS", r.data[:300]
        assert store.queries_sent - before == 1
        before = store.queries_sent
        assert c.post("/sparql", data={"query": query}).headers["X-Cache"] == "HIT"
        assert store.queries_sent - before == 0


@pytest.mark.skipif(BACKEND != "virtuoso", reason="front ends sharing a remote store")
def test_a_write_through_another_front_end_is_seen_once_it_settled(
    service: Service, scratch_graph: str
) -> None:
    """A write through another front end (its own client of the same store) is in this front
    end's next answer once that front end has waited ``store_freshness`` before acknowledging
    it, as every front end does — although this one keys its cache on the background view;
    and a write through this front end is in its very next answer."""
    c = app_with(service).test_client()
    other = remote_store(service.settings)
    try:
        first_view(service.store.scope_watch, timeout=10)
        assert _latest(c)[0] == -1
        assert _latest(c) == (-1, "HIT")
        other.update(f"INSERT DATA {{ GRAPH <{scratch_graph}> {{ <urn:c> <urn:v> 1 }} }}")
        other.settle()  # what its front end does before it acknowledges the write
        assert _latest(c) == (1, "MISS")
        service.store.update(f"INSERT DATA {{ GRAPH <{scratch_graph}> {{ <urn:c> <urn:v> 2 }} }}")
        assert _latest(c) == (2, "MISS")
    finally:
        other.close()
