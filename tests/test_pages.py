"""Linked-data pages: /id -> /doc (303), conneg by suffix, ?format= and Accept (parsed back as
RDF), HTML in Dutch or English, the ontology at its namespace, concept schemes, 404 and 406."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from werkzeug.test import TestResponse

from kb.bundled import ontology_graph
from kb.formats import syntax_by_name
from kb.load import parse_graph
from kb.namespaces import PC
from kb.service import Service
from tests.conftest import BASE

CLUSTER = "cluster/west-vlaanderen-blauwe-energie"
CLUSTER_IRI = URIRef(BASE + "id/" + CLUSTER)
BE25 = URIRef("http://data.europa.eu/nuts/code/BE25")
DCT_SOURCE = URIRef("http://purl.org/dc/terms/source")
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

PARSERS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
}


def rdf(response: TestResponse) -> Graph:
    """The response parsed back with the project's hardened parser (no remote contexts)."""
    media = response.mimetype
    assert media in PARSERS, media
    return parse_graph(response.data, syntax=syntax_by_name(media))


# (path suffix or query, Accept header, expected media type)
CONNEG = [
    (".ttl", None, "text/turtle"),
    (".jsonld", None, "application/ld+json"),
    (".rdf", None, "application/rdf+xml"),
    (".nt", None, "application/n-triples"),
    ("?format=turtle", None, "text/turtle"),
    ("?format=ttl", None, "text/turtle"),
    ("?format=jsonld", None, "application/ld+json"),
    ("?format=rdfxml", None, "application/rdf+xml"),
    ("?format=application/n-triples", None, "application/n-triples"),
    ("", "text/turtle", "text/turtle"),
    ("", "application/ld+json", "application/ld+json"),
    ("", "application/rdf+xml", "application/rdf+xml"),
    ("", "application/n-triples", "application/n-triples"),
    ("", "text/html;q=0.5, text/turtle", "text/turtle"),
    ("", "application/rdf+xml;q=0.9, application/ld+json", "application/ld+json"),
    ("", "text/*;q=0.2, text/turtle;q=0.8, text/html;q=0.1", "text/turtle"),
    ("", "application/json", "application/ld+json"),
    (".ttl", "application/rdf+xml", "text/turtle"),  # the suffix wins over Accept
    ("?format=nt", "text/turtle", "application/n-triples"),  # ?format= wins over Accept
]


@pytest.mark.parametrize(("tail", "accept", "media"), CONNEG)
def test_doc_conneg_gives_the_description_as_rdf(
    client: FlaskClient, tail: str, accept: str | None, media: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    r = client.get(f"/doc/{CLUSTER}{tail}", headers=headers)
    assert r.status_code == 200
    assert r.mimetype == media
    g = rdf(r)
    assert (CLUSTER_IRI, RDF.type, PC.ProvincialCluster) in g
    assert (CLUSTER_IRI, URIRef("http://purl.org/dc/terms/spatial"), BE25) in g
    # incoming links and the labels of linked things come along
    assert (None, URIRef("http://www.w3.org/ns/org#organization"), CLUSTER_IRI) in g
    assert (BE25, SKOS.prefLabel, Literal("Province of West Flanders", lang="en")) in g


def test_every_rdf_format_carries_the_same_graph(client: FlaskClient) -> None:
    graphs = [rdf(client.get(f"/doc/{CLUSTER}{s}")) for s in (".ttl", ".jsonld", ".rdf", ".nt")]
    for other in graphs[1:]:
        assert isomorphic(graphs[0], other)


@pytest.mark.parametrize(
    ("path", "location"),
    [
        (f"/id/{CLUSTER}", f"/doc/{CLUSTER}"),
        (f"/id/{CLUSTER}.ttl", f"/doc/{CLUSTER}.ttl"),
        (f"/id/{CLUSTER}?lang=en", f"/doc/{CLUSTER}?lang=en"),
        ("/id/conceptscheme/sector", "/doc/conceptscheme/sector"),
        ("/id/dataset/clusterkb", "/doc/dataset/clusterkb"),  # catalogue resources too
    ],
)
def test_identifiers_answer_303_with_their_document(
    client: FlaskClient, path: str, location: str
) -> None:
    r = client.get(path, headers={"Accept": "text/turtle"})
    assert r.status_code == 303
    assert r.headers["Location"].endswith(location)
    assert client.get(r.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/id/cluster/no-such-cluster", HTML_ACCEPT),
        ("/id/cluster/no-such-cluster", "text/turtle"),
        ("/doc/cluster/no-such-cluster", HTML_ACCEPT),
        ("/doc/cluster/no-such-cluster.ttl", "*/*"),
        ("/doc/dataset/no-such-dataset", "*/*"),
        ("/resource?iri=http://example.org/unknown", HTML_ACCEPT),
        ("/resource?iri=http://example.org/<bad>", "*/*"),
        ("/resource", "*/*"),
        ("/resource?iri=relative/iri", "*/*"),
        ("/id/cluster/a%20b%3E%20%7B", "*/*"),
        ("/downloads/no-such-file.ttl", "*/*"),
    ],
)
def test_unknown_identifiers_are_404_pages(client: FlaskClient, path: str, accept: str) -> None:
    r = client.get(path, headers={"Accept": accept})
    assert r.status_code == 404
    if accept == HTML_ACCEPT:
        assert r.mimetype == "text/html"
        assert b"404" in r.data
    else:
        assert r.get_json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        (f"/doc/{CLUSTER}", "image/png"),
        (f"/doc/{CLUSTER}", "application/pdf, text/csv;q=0.5"),
        (f"/doc/{CLUSTER}?format=pdf", None),
        ("/ns/provinciale-clusters?format=csv", None),
        ("/ns/provinciale-clusters", "image/*"),
        ("/catalog", "text/html"),
        ("/catalog?format=html", None),
        ("/void", "application/pdf"),
        ("/downloads", "text/turtle"),
    ],
)
def test_unacceptable_requests_are_406(client: FlaskClient, path: str, accept: str | None) -> None:
    r = client.get(path, headers={"Accept": accept} if accept else {})
    assert r.status_code == 406
    if r.mimetype == "text/html":  # a browser-only Accept gets the error as a page
        assert b"406" in r.data
    else:
        assert r.get_json()["error"] == "not_acceptable"


def test_html_page_in_english(client: FlaskClient) -> None:
    r = client.get(
        f"/doc/{CLUSTER}", headers={"Accept": HTML_ACCEPT, "Accept-Language": "en-GB,en;q=0.9"}
    )
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Content-Language"] == "en"
    assert "Accept-Language" in r.headers["Vary"]
    page = r.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "<h1>Maritime applications for energy production (West Flanders)</h1>" in page
    assert ">spatial coverage</a>" in page  # properties by their label
    assert ">sub-sector</a>" in page  # ontology labels for pc: properties
    assert 'href="/id/organisatie/provincie-west-vlaanderen"' in page  # values linked locally
    assert 'href="http://data.europa.eu/nuts/code/BE25"' in page  # the same thing elsewhere
    assert "https://vito.be/en/blue-accelerator" in page  # the sources of the facts
    assert "Referenced by" in page and "/id/lidmaatschap/wvl-blauw-vives" in page
    assert "VIVES University of Applied Sciences" in page  # memberships named by their member
    assert 'rel="alternate"' in r.headers["Link"] and ".ttl" in r.headers["Link"]


def test_html_page_in_dutch_by_default_and_by_switch(client: FlaskClient) -> None:
    page = client.get(f"/doc/{CLUSTER}", headers={"Accept": HTML_ACCEPT}).get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "<h1>Maritieme toepassingen inzake energieproductie (West-Vlaanderen)</h1>" in page
    assert "Waarnaar verwezen wordt vanuit" in page and "Bronnen" in page
    assert "?lang=en" in page  # the switch
    switched = client.get(
        f"/doc/{CLUSTER}?lang=nl", headers={"Accept": HTML_ACCEPT, "Accept-Language": "en"}
    )
    assert '<html lang="nl">' in switched.get_data(as_text=True)


def test_pages_route_by_path_whatever_the_host(client: FlaskClient) -> None:
    r = client.get(
        f"/doc/{CLUSTER}",
        base_url="https://another-host.example:9443/",
        headers={"Accept": HTML_ACCEPT},
    )
    assert r.status_code == 200
    assert f"<code>{CLUSTER_IRI}</code>" in r.get_data(as_text=True)


def test_external_things_described_here_have_a_page(client: FlaskClient) -> None:
    r = client.get(f"/resource?iri={BE25}&format=ttl")
    g = rdf(r)
    assert (BE25, OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q1123")) in g or any(
        str(o).startswith("http://www.wikidata.org/entity/") for o in g.objects(BE25, OWL.sameAs)
    )
    page = client.get(f"/resource?iri={BE25}", headers={"Accept": HTML_ACCEPT}).get_data(
        as_text=True
    )
    assert "Wikidata" in page and "NUTS" in page


def test_ontology_documents_every_class_and_property(client: FlaskClient) -> None:
    onto = ontology_graph(BASE)
    terms = {
        str(s)[len(str(PC)) :]
        for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in onto.subjects(RDF.type, t)
        if str(s).startswith(str(PC))
    }
    assert len(terms) > 15
    for lang in ("nl", "en"):
        r = client.get(f"/ns/provinciale-clusters?lang={lang}", headers={"Accept": HTML_ACCEPT})
        assert r.status_code == 200
        page = r.get_data(as_text=True)
        anchors = set(re.findall(r'<section class="ld-term" id="([^"]+)"', page))
        assert anchors == terms
        for term in ("ProvincialCluster", "subSector"):
            label = onto.value(PC[term], RDFS.label)
            labels = {str(x) for x in onto.objects(PC[term], RDFS.label) if x.language == lang}
            assert label is not None and labels <= set(re.findall(r">([^<>]+)<", page))


@pytest.mark.parametrize(
    ("tail", "accept"), [(".ttl", None), ("", "text/turtle"), ("?format=rdfxml", None)]
)
def test_ontology_rdf_is_the_bundled_ontology(
    client: FlaskClient, tail: str, accept: str | None
) -> None:
    r = client.get("/ns/provinciale-clusters" + tail, headers={"Accept": accept} if accept else {})
    assert r.status_code == 200
    assert isomorphic(rdf(r), ontology_graph(BASE))


def test_concept_schemes_are_browsable(client: FlaskClient, service: Service) -> None:
    page = client.get("/doc/conceptscheme?lang=en", headers={"Accept": HTML_ACCEPT}).get_data(
        as_text=True
    )
    for scheme in ("sector", "helixrol", "werkstroom"):
        assert f'href="/id/conceptscheme/{scheme}"' in page
    scheme = client.get(
        "/doc/conceptscheme/helixrol?lang=en", headers={"Accept": HTML_ACCEPT}
    ).get_data(as_text=True)
    assert "Concepts in this scheme" in scheme
    for concept in ("overheid", "bedrijfsleven", "academie", "middenveld"):
        assert f'href="/id/concept/helixrol/{concept}"' in scheme
    g = rdf(client.get("/doc/conceptscheme.ttl"))
    schemes = set(g.subjects(RDF.type, SKOS.ConceptScheme))
    rows = service.store.select(
        "SELECT DISTINCT ?s WHERE { ?s a <http://www.w3.org/2004/02/skos/core#ConceptScheme> }"
    )
    assert {str(s) for s in schemes} == {r["s"]["value"] for r in rows}


def test_catalogue_resources_dereference(client: FlaskClient) -> None:
    g = rdf(client.get("/doc/dataset/clusterkb.ttl"))
    ds = URIRef(BASE + "id/dataset/clusterkb")
    assert (ds, RDF.type, URIRef("http://www.w3.org/ns/dcat#Dataset")) in g
    page = client.get("/doc/catalogus/clusterkb", headers={"Accept": HTML_ACCEPT})
    assert page.status_code == 200
