"""Real clients against a running ``kb serve``: SPARQLWrapper (what scripts and notebooks use)
and curl-style raw HTTP/1.1 requests written byte for byte."""

from __future__ import annotations

import json
import socket
from urllib.parse import quote, urlsplit

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS
from SPARQLWrapper import CSV, JSON, JSONLD, POST, TURTLE, XML, SPARQLWrapper

from kb.namespaces import KB_NS
from tests.support.counts import CLUSTERS as N_CLUSTERS
from tests.support.kbserve import KbServe as LiveServer

PC = "https://w3id.org/clusterkb/ns/provinciale-clusters#"
CLUSTERS = (
    f"PREFIX pc: <{PC}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    "SELECT ?c ?l WHERE { ?c a pc:ProvincialCluster ; skos:prefLabel ?l FILTER(lang(?l) = 'en') }"
)


def wrapper(live_server: LiveServer, query: str, fmt: str, method: str = "GET") -> SPARQLWrapper:
    sw = SPARQLWrapper(live_server.url + "sparql")
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    sw.setMethod(method)
    return sw


@pytest.mark.parametrize("method", ["GET", POST])
def test_select_json(live_server: LiveServer, method: str) -> None:
    result = wrapper(live_server, CLUSTERS, JSON, method).queryAndConvert()
    assert isinstance(result, dict)
    assert len(result["results"]["bindings"]) == N_CLUSTERS


def test_select_xml(live_server: LiveServer) -> None:
    doc = wrapper(live_server, CLUSTERS, XML).queryAndConvert()
    results = doc.getElementsByTagName("result")  # type: ignore[union-attr]
    assert len(results) == N_CLUSTERS


def test_select_csv(live_server: LiveServer) -> None:
    text = wrapper(live_server, CLUSTERS, CSV).queryAndConvert()
    lines = text.decode().strip().splitlines()  # type: ignore[union-attr]
    assert lines[0] == "c,l" and len(lines) == N_CLUSTERS + 1


def test_ask(live_server: LiveServer) -> None:
    ask = f"ASK {{ ?c a <{PC}ProvincialCluster> }}"
    assert wrapper(live_server, ask, JSON).queryAndConvert()["boolean"] is True  # type: ignore[index]


def test_construct_turtle_and_jsonld(live_server: LiveServer) -> None:
    construct = (
        f"CONSTRUCT {{ ?c a <{PC}ProvincialCluster> }} WHERE {{ ?c a <{PC}ProvincialCluster> }}"
    )
    turtle = wrapper(live_server, construct, TURTLE).queryAndConvert()
    g = Graph().parse(data=turtle, format="turtle")
    assert len(g) == N_CLUSTERS
    response = wrapper(live_server, construct, JSONLD).query().response
    assert response.headers["Content-Type"].startswith("application/ld+json")
    triples = list(ox.parse(response.read(), format=ox.RdfFormat.JSON_LD))
    assert len(triples) == N_CLUSTERS
    assert {t.object.value for t in triples} == {PC + "ProvincialCluster"}


def test_describe(live_server: LiveServer) -> None:
    iri = KB_NS + "id/cluster/west-vlaanderen-blauwe-energie"
    sw = wrapper(live_server, f"DESCRIBE <{iri}>", TURTLE)
    g = Graph().parse(data=sw.queryAndConvert(), format="turtle")
    assert (URIRef(iri), RDF.type, URIRef(PC + "ProvincialCluster")) in g
    assert g.value(URIRef(iri), SKOS.prefLabel) is not None


def raw(live_server: LiveServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (like ``curl --raw``) and read the whole answer."""
    parts = urlsplit(live_server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        out, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2 :]
        body = out
    return int(lines[0].split()[1]), headers, body


def test_raw_get_with_accept(live_server: LiveServer) -> None:
    host = urlsplit(live_server.url).netloc
    status, headers, body = raw(
        live_server,
        f"GET /sparql?query={quote(CLUSTERS)} HTTP/1.1\r\nHost: {host}\r\n"
        "Accept: text/csv\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert len(body.decode().strip().splitlines()) == N_CLUSTERS + 1


def test_raw_post_direct(live_server: LiveServer) -> None:
    host = urlsplit(live_server.url).netloc
    query = b"ASK { ?s ?p ?o }"
    status, headers, body = raw(
        live_server,
        f"POST /sparql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/sparql-query\r\n"
        f"Content-Length: {len(query)}\r\nConnection: close\r\n\r\n".encode()
        + query,
    )
    assert status == 200 and json.loads(body)["boolean"] is True
    assert headers["access-control-allow-origin"] == "*"


def test_raw_misuse(live_server: LiveServer) -> None:
    host = urlsplit(live_server.url).netloc
    status, headers, body = raw(
        live_server,
        f"PATCH /sparql HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status == 405 and "GET" in headers["allow"]
    assert json.loads(body)["error"] == "method_not_allowed"
    status, _, body = raw(
        live_server,
        f"GET /sparql?query=SELECT%20*%20%7B HTTP/1.1\r\nHost: {host}\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert status == 400 and "line 1" in json.loads(body)["detail"]
