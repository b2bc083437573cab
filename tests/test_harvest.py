"""Partners and their endpoints: the registry (CLI and API, stored as data with provenance),
``kb harvest`` from a second real SPARQL server on loopback into the partner's own graph with
PROV-O provenance, and every way a harvest can fail — a time-out, malformed results, a 5xx, a
redirect to another host, an answer over the size cap, hostile content — reported, recorded,
with the previous harvest left in place and no unregistered host contacted. Then federation:
``SERVICE`` to a registered endpoint runs, any other is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef

from kb.auth import Principal, TokenStore
from kb.cli import main
from kb.errors import Forbidden, InvalidRequest, ValidationFailed
from kb.linking import harvest as hv
from kb.linking import partners
from kb.namespaces import KB_NS
from kb.service import Service
from kb.submit import Writer
from tests.support.apps import app_for, own_kb
from tests.support.canary import Canary
from tests.support.partner_servers import SAMPLE_GRAPH, misbehaving, partner_sparql_server

ADMIN = Principal("test-admin", "Test Admin", "admin")
STEWARD = Principal("test-steward", "Stan Steward", "steward", ("clusters/*",))
CAP = 200_000


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    limits = {"harvest_timeout": 2, "harvest_max_bytes": CAP, "max_literal_bytes": 100_000}
    with own_kb(tmp_path_factory.mktemp("harvest"), max_auth_failures=0, **limits) as svc:
        yield svc


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with partner_sparql_server(tmp_path_factory.mktemp("partner") / "store") as url:
        yield url


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    c = Canary()
    yield c
    c.close()


@pytest.fixture(scope="module")
def bad(canary: Canary) -> Iterator[str]:
    with misbehaving(canary.port, CAP * 5) as server:
        yield server.url


@pytest.fixture(scope="module")
def writer(kb: Service) -> Writer:
    return Writer(kb.store, kb.settings)


@pytest.fixture(scope="module")
def app(kb: Service) -> Flask:
    return app_for(kb)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def eccp(kb: Service, writer: Writer, endpoint: str) -> str:
    """The sample partner, registered (its first commit is checked below)."""
    if "eccp" not in partners.read(kb.store):
        partners.register(writer, ADMIN, partners.from_dict(body("eccp", endpoint)))
    return "eccp"


def body(slug: str, endpoint: str, **extra: object) -> dict[str, object]:
    return {
        "slug": slug,
        "name": "ECCP cluster profiles (sample)",
        "lang": "en",
        "region": "http://data.europa.eu/nuts/code/NL34",
        "endpoint": endpoint,
        "graph": SAMPLE_GRAPH,
        "licence": "https://creativecommons.org/licenses/by/4.0/",
        "contact": {"name": "Partner Desk", "email": "desk@eccp.partner.test"},
        "schedule": "weekly",
        **extra,
    }


def graph_of(kb: Service, graph: str) -> Graph:
    data = kb.store.get_graph(graph) if kb.store.graph_exists(graph) else b""
    return Graph().parse(data=data, format="nt")


def records(kb: Service, slug: str) -> list[dict[str, str]]:
    rows = kb.store.select(
        f"SELECT ?h ?outcome ?n ?reason ?start WHERE {{ GRAPH <{hv.harvest_log()}> {{"
        f" ?h <{KB_NS}ns/provinciale-clusters#harvestOutcome> ?outcome ;"
        f" <http://www.w3.org/ns/prov#used> <{partners.partner_iri(slug)}> ;"
        " <http://rdfs.org/ns/void#triples> ?n ; <http://www.w3.org/ns/prov#startedAtTime> ?start"
        " OPTIONAL { ?h <http://www.w3.org/2000/01/rdf-schema#comment> ?reason } } }"
        " ORDER BY ?start",
        union_default_graph=False,
    )
    return [{k: v["value"] for k, v in r.items()} for r in rows]


# --- the registry -------------------------------------------------------------------------


def test_a_partner_is_registered_as_validated_data_with_provenance(
    kb: Service, writer: Writer, endpoint: str
) -> None:
    out = partners.register(writer, ADMIN, partners.from_dict(body("eccp", endpoint)))
    assert out.committed and out.version >= 1
    found = partners.read(kb.store)["eccp"]
    assert found.endpoint == endpoint and found.graph == SAMPLE_GRAPH
    assert found.schedule == "WEEKLY" and found.contact_email == "desk@eccp.partner.test"
    prov = kb.store.ask(
        f"ASK {{ GRAPH ?g {{ ?c <http://www.w3.org/ns/prov#generated> ?v ."
        f" ?v <http://www.w3.org/ns/prov#specializationOf> <{partners.registry_graph()}> }} }}",
        union_default_graph=False,
    )
    assert prov, "the registry's commit has its provenance record"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"}, "query"),  # and a graph
        ({"graph": None, "query": "SELECT * WHERE { ?s ?p ?o }"}, "query"),
        ({"graph": None, "query": None}, "query"),
        ({"schedule": "every tuesday"}, "schedule"),
        ({"name": None}, "name"),
    ],
)
def test_a_bad_registration_names_the_field(change: dict[str, object], where: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        partners.from_dict({**body("x", "http://127.0.0.1:1/query"), **change})
    assert err.value.where == where


def test_the_shapes_refuse_a_partner_the_form_lets_through(writer: Writer, kb: Service) -> None:
    before = partners.read(kb.store)
    for change in ({"region": "https://example.org/elsewhere"}, {"endpoint": "ftp://x/"}):
        partner = partners.from_dict({**body("shaped", "http://127.0.0.1:1/query"), **change})
        with pytest.raises(ValidationFailed):
            partners.register(writer, ADMIN, partner)
    assert partners.read(kb.store) == before


def test_only_an_admin_changes_the_registry(writer: Writer, endpoint: str) -> None:
    with pytest.raises(Forbidden):
        partners.register(writer, STEWARD, partners.from_dict(body("mine", endpoint)))


def test_the_api_registers_lists_and_removes(
    client: FlaskClient, kb: Service, endpoint: str
) -> None:
    admin = TokenStore(kb.settings.tokens_path).create("API Admin", role="admin")
    steward = TokenStore(kb.settings.tokens_path).create("API Steward", graphs=("clusters/*",))
    head = {"Authorization": f"Bearer {admin}"}
    assert client.post("/partners", json=body("api", endpoint)).status_code == 401
    refused = client.post(
        "/partners", json=body("api", endpoint), headers={"Authorization": f"Bearer {steward}"}
    )
    assert refused.status_code == 403
    bad = client.post("/partners", json={**body("api", endpoint), "slug": "no/slash"}, headers=head)
    assert bad.status_code == 400 and bad.get_json()["where"] == "slug"
    made = client.post("/partners", json=body("api", endpoint), headers=head)
    assert made.status_code == 201, made.get_data(as_text=True)
    listed = client.get("/partners").get_json()["partners"]
    assert "api" in {p["slug"] for p in listed}
    assert client.delete("/partners/api", headers=head).status_code == 201
    assert "api" not in {p["slug"] for p in client.get("/partners").get_json()["partners"]}
    assert client.delete("/partners/api", headers=head).status_code == 404


# --- harvesting --------------------------------------------------------------------------------


def test_a_harvest_fills_the_partners_graph_with_provenance(
    kb: Service, writer: Writer, endpoint: str, eccp: str
) -> None:
    done = hv.harvest(writer, ADMIN, "eccp")
    assert done.succeeded, done.reason
    g = graph_of(kb, partners.partner_graph("eccp"))
    assert len(g) == done.triples > 40
    names = {str(o) for o in g.objects(URIRef("https://eccp.partner.test/id/cluster-blue-cluster"))}
    assert {"Blue Cluster", "Cluster bleu", "Blauer Cluster"} <= names
    last = records(kb, "eccp")[-1]
    assert last["outcome"].endswith("geslaagd") and int(last["n"]) == done.triples
    rows = kb.store.select(
        f"SELECT ?endpoint ?query WHERE {{ GRAPH <{hv.harvest_log()}> {{ <{done.record}>"
        " <http://rdfs.org/ns/void#sparqlEndpoint> ?endpoint ;"
        f" <{KB_NS}ns/provinciale-clusters#harvestQuery> ?query }} }}",
        union_default_graph=False,
    )
    assert rows[0]["endpoint"]["value"] == endpoint
    assert SAMPLE_GRAPH in rows[0]["query"]["value"]


def test_a_construct_query_harvests_what_it_constructs(
    kb: Service, writer: Writer, endpoint: str
) -> None:
    query = (
        "PREFIX schema: <https://schema.org/> CONSTRUCT { ?o a schema:Organization ;"
        " schema:name ?n } WHERE { ?o a schema:CollegeOrUniversity ; schema:name ?n }"
    )
    partners.register(
        writer, ADMIN, partners.from_dict(body("universities", endpoint, graph=None, query=query))
    )
    done = hv.harvest(writer, ADMIN, "universities")
    assert done.succeeded, done.reason
    g = graph_of(kb, partners.partner_graph("universities"))
    assert {str(s) for s in g.subjects()} == {
        "https://eccp.partner.test/id/org-ku-leuven",
        "https://eccp.partner.test/id/org-ugent",
    }


WAYS = {
    "slow": "did not answer within",
    "trickle": "within 2 s",
    "malformed": "not acceptable",
    "error": "503",
    "redirect": "redirected (302) to another host",
    "huge": f"over {CAP:,} bytes",
    "entities": "DOCTYPE",
    "remote-context": "not acceptable",
    "huge-literal": "exceeds",
    "own-iris": "ClusterKB's own identifiers",
    "nameless": "partner-data shapes",
    "html": "not RDF",
}


@pytest.mark.parametrize("way", WAYS)
def test_a_failed_harvest_is_reported_and_leaves_the_previous_one(
    kb: Service, writer: Writer, endpoint: str, bad: str, canary: Canary, way: str
) -> None:
    slug = f"bad-{way}"
    partners.register(writer, ADMIN, partners.from_dict(body(slug, endpoint)))
    first = hv.harvest(writer, ADMIN, slug)
    assert first.succeeded
    before = graph_of(kb, partners.partner_graph(slug))
    # the partner's endpoint starts misbehaving
    partners.register(writer, ADMIN, partners.from_dict(body(slug, f"{bad}/{way}")))
    seen = canary.connections
    done = hv.harvest(writer, ADMIN, slug)
    assert not done.succeeded
    assert WAYS[way] in (done.reason or ""), done.reason
    after = graph_of(kb, partners.partner_graph(slug))
    assert len(after) == len(before) and set(after) == set(before)
    last = records(kb, slug)[-1]
    assert last["outcome"].endswith("mislukt") and WAYS[way] in last["reason"]
    assert canary.connections == seen, "an unregistered host was contacted"


def test_an_unregistered_partner_is_never_contacted(writer: Writer) -> None:
    from kb.errors import NotFound

    with pytest.raises(NotFound, match="registered"):
        hv.harvest(writer, ADMIN, "nobody")


def test_kb_harvest_all_and_the_partner_commands(kb: Service, endpoint: str, eccp: str) -> None:
    runner = CliRunner()
    token = TokenStore(kb.settings.tokens_path).create("Cron", role="admin")
    env = {"KB_TOKEN": token, "KB_HARVEST_TIMEOUT": "2", "KB_HARVEST_MAX_BYTES": str(CAP)}
    store = ["--store", str(kb.settings.store_path)]
    query = Path(kb.settings.store_path).parent / "q.rq"
    query.write_text(
        "CONSTRUCT { ?s <https://schema.org/name> ?n } WHERE { ?s <https://schema.org/name> ?n }"
    )
    added = runner.invoke(
        main,
        ["partner", "add", "cli", "--name", "CLI partner", "--region", "NL34", "--endpoint",
         endpoint, "--query-file", str(query), "--licence",
         "https://creativecommons.org/licenses/by/4.0/", "--contact-name", "Desk",
         "--contact-email", "desk@partner.test", "--schedule", "DAILY", *store],
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["partner", "list", "--json", *store], env=env)
    assert "cli" in {p["slug"] for p in json.loads(listed.output)}
    one = runner.invoke(main, ["harvest", "cli", "--json", *store], env=env)
    assert one.exit_code == 0, one.output
    assert json.loads(one.output)["outcome"] == "succeeded"
    every = runner.invoke(main, ["harvest", "--all", "--json", *store], env=env)
    outcomes = [json.loads(line) for line in every.output.splitlines() if line.startswith("{")]
    assert {o["partner"] for o in outcomes} == set(partners.read(kb.store))
    # the bad-* partners fail, so --all exits 1 for cron to notice
    assert every.exit_code == 1
    removed = runner.invoke(main, ["partner", "remove", "cli", *store], env=env)
    assert removed.exit_code == 0 and not kb.store.graph_exists(partners.partner_graph("cli"))
    no_token = runner.invoke(main, ["harvest", "eccp", *store], env={"KB_TOKEN": ""})
    assert no_token.exit_code == 2


# --- federation ---------------------------------------------------------------------------------


def test_service_to_a_registered_endpoint_runs_and_any_other_is_refused(
    client: FlaskClient, endpoint: str, canary: Canary, eccp: str
) -> None:
    # on lines of their own, as people write them: rdflib's parser, which the query check
    # uses, refuses a one-line query with a '#' IRI before a SERVICE (README: federation)
    query = (
        "PREFIX schema: <https://schema.org/>\n"
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        'SELECT ?ours ?theirs WHERE { ?ours skos:prefLabel "De Blauwe Cluster"@nl .\n'
        f'  SERVICE <{endpoint}> {{ ?theirs schema:name "De Blauwe Cluster"@nl }} }}'
    )
    ran = client.get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert ran.status_code == 200, ran.get_data(as_text=True)
    rows = ran.get_json()["results"]["bindings"]
    assert (
        rows and rows[0]["theirs"]["value"] == "https://eccp.partner.test/id/cluster-blue-cluster"
    )
    other = query.replace(endpoint, f"http://127.0.0.1:{canary.port}/sparql")
    seen = canary.connections
    refused = client.get("/sparql", query_string={"query": other})
    assert refused.status_code == 400 and "registered" in refused.get_data(as_text=True)
    assert canary.connections == seen


def test_registry_and_harvest_on_the_store_under_test(
    service: Service, endpoint: str, bad: str
) -> None:
    """The same commits on the backend under test (Oxigraph, or Virtuoso in its pass)."""
    settings = service.settings.replace(harvest_timeout=2.0, harvest_max_bytes=CAP)
    w = Writer(service.store, settings)
    slug = "under-test"
    try:
        partners.register(w, ADMIN, partners.from_dict(body(slug, endpoint)))
        assert partners.read(service.store)[slug].endpoint == endpoint
        done = hv.harvest(w, ADMIN, slug)
        assert done.succeeded, done.reason
        before = graph_of(service, partners.partner_graph(slug))
        assert len(before) == done.triples > 40
        partners.register(w, ADMIN, partners.from_dict(body(slug, f"{bad}/error")))
        failed = hv.harvest(w, ADMIN, slug)
        assert not failed.succeeded and "503" in (failed.reason or "")
        assert set(graph_of(service, partners.partner_graph(slug))) == set(before)
        outcomes = [r["outcome"].rsplit("/", 1)[-1] for r in records(service, slug)]
        assert outcomes == ["geslaagd", "mislukt"]
    finally:
        for g in (partners.registry_graph(), partners.partner_graph(slug), hv.harvest_log()):
            service.store.update(f"DROP SILENT GRAPH <{g}>")


def test_the_partner_examples_run_once_a_partner_is_registered_and_harvested(
    client: FlaskClient, kb: Service, writer: Writer, eccp: str, endpoint: str
) -> None:
    hv.harvest(writer, ADMIN, eccp)
    listed = {item["id"]: item for item in client.get("/sparql/examples").get_json()}
    federation = listed["16-partner-federation"]["query"]
    assert f"SERVICE <{endpoint}>" in federation and "{{" not in federation
    for ident in ("16-partner-federation", "17-partner-harvest"):
        text = client.get(f"/sparql/examples/{ident}.rq").get_data(as_text=True)
        r = client.post(
            "/sparql", data={"query": text}, headers={"Accept": "application/sparql-results+json"}
        )
        assert r.status_code == 200, r.get_data(as_text=True)
        rows = r.get_json()["results"]["bindings"]
        assert rows, ident
    harvested = client.post(
        "/sparql",
        data={"query": client.get("/sparql/examples/17-partner-harvest.rq").get_data(as_text=True)},
        headers={"Accept": "application/sparql-results+json"},
    ).get_json()["results"]["bindings"]
    assert "https://ror.org/05f950310" in {row["ours"]["value"] for row in harvested}


def test_harvested_partner_data_shows_on_the_cluster_page(
    client: FlaskClient, writer: Writer, eccp: str
) -> None:
    hv.harvest(writer, ADMIN, eccp)
    html = client.get("/doc/cluster/vlaams-brabant-regeneratieve-geneeskunde?lang=en").get_data(
        as_text=True
    )
    assert "At partners about North Brabant" in html
    assert 'href="https://eccp.partner.test/id/cluster-brabant-health"' in html
    assert "North Brabant health cluster" in html
