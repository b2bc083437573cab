"""Links to authorities as first-class data: the linkset graphs of ``data/links/`` (owl:sameAs
only, each link backed by a sourced adms:Identifier), their VoID and DCAT-AP descriptions, and
the link report of ``kb links report`` and the home page — every entity either linked or
stating that no identifier is known, every identifier DOMAIN.md gives linked."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from rdflib import OWL, RDF, Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, SKOS, VOID

from kb import bundled
from kb.cli import main
from kb.linking import authorities as au
from kb.linking.reconcile import Reconciler
from kb.namespaces import KB_NS, SD
from kb.service import Service
from tests.conftest import BACKEND

LINKS = Path(__file__).resolve().parent.parent / "data" / "links"
ADMS_IDENTIFIER = URIRef("http://www.w3.org/ns/adms#identifier")
DOMAIN = Path(__file__).parent / "domain-identifiers.csv"


def _domain_rows() -> list[dict[str, str]]:
    lines = [line for line in DOMAIN.read_text().splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


@pytest.fixture(scope="module")
def report(service: Service) -> au.Report:
    return au.report(service.store)


def test_each_linkset_holds_only_sourced_same_as_links() -> None:
    data = bundled.data_graph(KB_NS)
    for name in ("wikidata", "kbo", "ror"):
        g = Graph().parse(LINKS / f"{name}.ttl")
        namespace = au.AUTHORITIES[name].namespace
        assert len(g) > 0
        assert set(g.predicates()) == {OWL.sameAs}, name
        for s, o in g.subject_objects(OWL.sameAs):
            assert str(o).startswith(namespace), (name, o)
            local = str(o).removeprefix(namespace)
            notations = {
                str(data.value(i, SKOS.notation)).replace(".", "")
                for i in data.objects(s, ADMS_IDENTIFIER)
                if data.value(i, DCTERMS.source) is not None
            }
            assert local in notations, f"{s} -> {o}: no sourced adms:identifier {local}"


def test_no_owl_same_as_outside_the_linksets() -> None:
    for f in bundled.bundled_files(kinds=("data",)):
        if f.graph_name.startswith("links/"):
            continue
        g = Graph().parse(f.path)
        assert not list(g.triples((None, OWL.sameAs, None))), f.path


def test_void_describes_every_linkset_graph(client: FlaskClient, service: Service) -> None:
    g = Graph().parse(data=client.get("/void.ttl").data, format="turtle")
    ds = URIRef(KB_NS + "void#clusterkb")
    targets = {"wikidata": "http://www.wikidata.org/", "kbo": "https://org.belgif.be/"}
    targets["ror"] = "https://ror.org/"
    for name, dataset in targets.items():
        graph = URIRef(f"{KB_NS}graph/links/{name}")
        sub = g.value(None, SD.name, graph)
        assert sub is not None, graph
        assert (sub, RDF.type, VOID.Linkset) in g
        assert (sub, VOID.subjectsTarget, ds) in g
        assert (sub, VOID.objectsTarget, URIRef(dataset)) in g
        assert (sub, VOID.linkPredicate, OWL.sameAs) in g
        links = service.store.select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s <{OWL.sameAs}> ?o }} }}",
            union_default_graph=False,
        )
        assert int(g.value(sub, VOID.triples)) == int(links[0]["n"]["value"]) > 0  # type: ignore[arg-type]
    unknown = g.value(None, SD.name, URIRef(KB_NS + "graph/links/unknown"))
    assert unknown is not None and (unknown, RDF.type, VOID.Linkset) not in g


def test_the_catalogue_lists_each_linkset_as_a_dataset_with_its_distribution(
    client: FlaskClient,
) -> None:
    g = Graph()
    for page in range(1, 50):  # every Hydra page
        response = client.get(f"/catalog.ttl?page={page}")
        if response.status_code == 404:
            break
        g.parse(data=response.data, format="turtle")
    for name, title in (("wikidata", "Wikidata"), ("kbo", "KBO/BCE"), ("ror", "ROR")):
        ds = URIRef(f"{KB_NS}id/dataset/links--{name}")
        assert (ds, RDF.type, DCAT.Dataset) in g, ds
        titles = {str(t) for t in g.objects(ds, DCTERMS.title)}
        assert f"ClusterKB – linkset to {title}" in titles
        assert list(g.objects(ds, DCAT.distribution)), ds


def test_every_entity_is_linked_or_says_no_identifier_is_known(report: au.Report) -> None:
    assert len(report.entities) > 80
    gaps = [(e.label, a) for e, a in report.missing()]
    assert not gaps, f"neither linked nor stated unknown (data/links/unknown.ttl): {gaps}"
    both = [(e.label, a) for e in report.entities for a in e.unknown if e.linked.get(a)]
    assert not both, f"linked and stated unknown at once: {both}"


def test_every_identifier_domain_md_gives_is_linked(report: au.Report, service: Service) -> None:
    by_iri = {e.iri: e for e in report.entities}
    rows = _domain_rows()
    assert len(rows) >= 20
    index = Reconciler(service.store).index()
    for row in rows:
        authority = au.AUTHORITIES[row["authority"]]
        if not row["iri"]:  # not bundled: make sure it really is not
            hits = index.search(row["name"], ["http://www.w3.org/ns/org#Organization"], limit=1)
            assert not hits or hits[0].score < 90, f"{row['name']} is bundled now: link it"
            continue
        entity = by_iri.get(row["iri"])
        assert entity is not None, f"{row['name']}: {row['iri']} is not in the data"
        expected = authority.namespace + row["identifier"]
        assert expected in entity.linked.get(authority.key, []), (
            f"{row['name']} is not linked to {authority.name} {row['identifier']}"
        )


def test_the_report_counts_what_the_data_says(report: au.Report) -> None:
    rows = {r["category"]: r for r in report.rows()}
    regions = rows["region"]["authorities"]
    assert regions["nuts"]["linked"] >= 18  # every NUTS region, not the non-EU ones
    assert "Canada" in regions["nuts"]["unlinked"]
    knowledge = rows["knowledge"]["authorities"]["ror"]
    assert knowledge["linked"] >= 6  # the four ROR universities, imec, iMinds
    assert "VITO (Flemish Institute for Technological Research)" in knowledge["unlinked"]
    assert rows["subsector"]["authorities"]["nace"]["linked"] == rows["subsector"]["entities"]


def test_a_new_link_shows_up_in_the_report_after_the_commit(service: Service) -> None:
    store = service.store
    graph = KB_NS + "graph/test-links"
    vito = KB_NS + "id/organisatie/vito"
    reports = au.Reports(store)
    before = reports.current().of("knowledge")
    assert next(e for e in before if e.iri == vito).state("ror") == "unknown"
    link = f"<{vito}> <{OWL.sameAs}> <https://ror.org/000000000>"
    store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ {link} }} }}")
    try:
        after = next(e for e in reports.current().of("knowledge") if e.iri == vito)
        assert after.state("ror") == "linked"
    finally:
        store.update(f"DROP SILENT GRAPH <{graph}>")


def test_the_home_page_shows_the_link_report(client: FlaskClient) -> None:
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "Links to authorities" in html and "<code>kb links report</code>" in html
    assert "knowledge institutions" in html and "without</summary>" in html
    assert "Links naar autoriteiten" in client.get("/?lang=nl").get_data(as_text=True)


@pytest.mark.skipif(BACKEND != "oxigraph", reason="the command attaches to the managed store")
def test_kb_links_report_text_and_json(service: Service) -> None:
    runner = CliRunner()
    store = str(service.settings.store_path)
    text = runner.invoke(main, ["links", "report", "--store", store, "--strict"])
    assert text.exit_code == 0, text.output
    assert "knowledge institutions" in text.output
    assert "every entity without a link says so" in text.output
    made = runner.invoke(main, ["links", "report", "--store", store, "--format", "json"])
    body = json.loads(made.output)
    assert body["missing"] == []
    assert {c["category"] for c in body["categories"]} >= {"region", "company", "knowledge"}
