"""Whole ``Content-Type`` values, not only the media type: every download, every RDF document
format and every SPARQL result format, through the Flask test client and a real ``kb serve``.

The expected value is written out here (not taken from :mod:`kb.formats`), so a registry that
builds it wrongly fails; ``charset`` appears once, and only on text formats.
"""

from __future__ import annotations

import pytest
import requests
from flask.testing import FlaskClient
from rdflib import URIRef

from tests.support.kbserve import KbServe

TURTLE = "text/turtle; charset=utf-8"
JSONLD = "application/ld+json; charset=utf-8"
RDFXML = "application/rdf+xml; charset=utf-8"
NTRIPLES = "application/n-triples"

#: Each download, by suffix: the value a client must be sent.
DOWNLOADS = {
    "nt.gz": "application/gzip",
    "ttl": TURTLE,
    "jsonld": JSONLD,
    "trig": "application/trig",
}

#: RDF documents by suffix (the catalogue, VoID and resource pages offer the same four).
DOCUMENTS = {".ttl": TURTLE, ".rdf": RDFXML, ".jsonld": JSONLD, ".nt": NTRIPLES}

#: SPARQL results by ?format= name.
RESULTS = {
    "json": "application/sparql-results+json; charset=utf-8",
    "xml": "application/sparql-results+xml; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
GRAPH_RESULTS = {"turtle": TURTLE, "ntriples": NTRIPLES, "jsonld": JSONLD, "rdfxml": RDFXML}


def _downloads(get) -> list[str]:  # type: ignore[no-untyped-def]
    """The path of every download the catalogue lists (every graph, every format)."""
    from kb.load import parse_graph

    r = get("/catalog.ttl")
    assert r.status_code == 200
    body = r.content if hasattr(r, "content") else r.data
    catalogue = parse_graph(body, syntax="turtle")
    urls = catalogue.objects(None, URIRef("http://www.w3.org/ns/dcat#downloadURL"))
    return sorted(str(u).split("/downloads/", 1)[1] for u in urls)


def _check_all(get) -> list[str]:  # type: ignore[no-untyped-def]
    """Every whole Content-Type that differs from what it must be, as readable lines."""
    wrong: list[str] = []

    def expect(path: str, value: str, **kwargs: object) -> None:
        r = get(path, **kwargs)
        got = r.headers.get("Content-Type")
        r.close()  # streamed files
        if r.status_code != 200 or got != value:
            wrong.append(f"{path} {kwargs or ''}: {r.status_code} {got!r}, wanted {value!r}")

    seen = set()
    for path in _downloads(get):
        fmt = next(f for f in DOWNLOADS if path.endswith("." + f))
        seen.add(fmt)
        expect(f"/downloads/{path}", DOWNLOADS[fmt])
    assert seen == set(DOWNLOADS), f"downloads offered in {seen}"
    for doc in ("/catalog", "/void"):
        for suffix, value in DOCUMENTS.items():
            expect(doc + suffix, value)
        expect(doc, TURTLE, headers={"Accept": "text/turtle"})
    page = "/ns/provinciale-clusters"
    for suffix, value in DOCUMENTS.items():
        expect(page + suffix, value)
    expect(page, "text/html; charset=utf-8", headers={"Accept": "text/html"})
    select = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
    for name, value in RESULTS.items():
        expect("/sparql", value, query_string={"query": select, "format": name})
    construct = "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"
    for name, value in GRAPH_RESULTS.items():
        expect("/sparql", value, query_string={"query": construct, "format": name})
    return wrong


def test_every_content_type_is_whole_and_right_through_the_app(client: FlaskClient) -> None:
    assert _check_all(client.get) == []


@pytest.mark.slow
def test_every_content_type_is_whole_and_right_on_a_real_server(live_server: KbServe) -> None:
    def get(path: str, query_string: dict | None = None, **kwargs: object) -> requests.Response:
        url = live_server.url + path.lstrip("/")
        return requests.get(url, params=query_string, timeout=60, **kwargs)  # type: ignore[arg-type]

    assert _check_all(get) == []
