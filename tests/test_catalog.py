"""Downloads (sizes, checksums, regenerated only when data change), VoID, the DCAT-AP catalogue
(conneg, Hydra paging, modified_since), its validation against the official DCAT-AP 3.0.1 and
DCAT-AP VL 3.0 shapes, the local MQA score and the static release."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS, VOID, XSD
from werkzeug.test import TestResponse

from kb import catalogue as cat
from kb import mqa
from kb.cli import main
from kb.dumps import ensure_dumps, graph_name
from kb.formats import syntax_by_name
from kb.load import parse, parse_graph
from kb.namespaces import KB_NS, SD
from kb.publish import publish
from kb.service import Service
from kb.store.version import MemoryClock
from tests.conftest import BASE
from tests.support.kbserve import KbServe as LiveServer

HYDRA = cat.HYDRA
FLEMISH = URIRef(cat.FLEMISH_LICENCE)
CC_BY = URIRef("http://publications.europa.eu/resource/authority/licence/CC_BY_4_0")


def body_of(client: FlaskClient, path: str, **kwargs: object) -> TestResponse:
    """GET and close the response (files are streamed; an open one is a ResourceWarning)."""
    with client.get(path, **kwargs) as response:  # type: ignore[arg-type]
        response.get_data()
    return response


def rdf(response: TestResponse) -> Graph:
    return parse_graph(response.data, syntax=syntax_by_name(response.mimetype))


# --- downloads ------------------------------------------------------------------------------


def test_downloads_page_lists_every_graph_with_size_and_checksum(
    client: FlaskClient, service: Service
) -> None:
    page = client.get("/downloads", headers={"Accept": "text/html"}).get_data(as_text=True)
    graphs = service.store.graphs()
    assert graphs
    for graph in graphs:
        name = graph[len(BASE + "graph/") :]
        for ext in ("nt.gz", "ttl", "jsonld", "trig"):
            assert f'href="/downloads/graph/{name}.{ext}"' in page
    for ext in ("nt.gz", "ttl", "jsonld", "trig"):
        assert f'href="/downloads/clusterkb.{ext}"' in page


def test_every_download_matches_its_size_checksum_and_the_store(
    client: FlaskClient, service: Service
) -> None:
    catalogue = rdf(client.get("/catalog.ttl"))
    checked = 0
    for dist in catalogue.subjects(RDF.type, DCAT.Distribution):
        url = str(catalogue.value(dist, DCAT.downloadURL))
        body = body_of(client, url[len(BASE) - 1 :]).data
        assert int(catalogue.value(dist, DCAT.byteSize)) == len(body)  # type: ignore[arg-type]
        checksum = catalogue.value(dist, URIRef("http://spdx.org/rdf/terms#checksum"))
        value = catalogue.value(checksum, URIRef("http://spdx.org/rdf/terms#checksumValue"))
        assert str(value) == hashlib.sha256(body).hexdigest()
        checked += 1
    assert checked == 4 * (len(service.store.graphs()) + 1)


@pytest.mark.parametrize("ext", ["nt.gz", "ttl", "jsonld", "trig"])
def test_the_whole_dump_holds_every_graph(client: FlaskClient, service: Service, ext: str) -> None:
    """The triple dumps (N-Triples, Turtle) hold exactly the distinct triples of all graphs;
    the quad dumps (JSON-LD, TriG) every graph with exactly its triples."""
    body = body_of(client, f"/downloads/clusterkb.{ext}").data
    if ext in ("nt.gz", "ttl"):
        if ext == "nt.gz":
            triples = parse_graph(gzip.decompress(body), syntax="ntriples")
        else:
            triples = parse(body, syntax="turtle").default_graph
        distinct = service.store.select(
            "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o "
            "WHERE { GRAPH ?g { ?s ?p ?o } } }",
        )  # the public dataset: on a remote store, only the graphs under {base}graph/
        assert len(triples) == int(distinct[0]["n"]["value"]) > 3000
        return
    syntax = {"jsonld": "jsonld", "trig": "trig"}[ext]
    ds = parse(body, syntax=syntax)
    for graph in service.store.graphs():
        assert len(ds.graph(URIRef(graph))) == service.store.count(graph)


class FakeStore:
    """Just enough of a store for the dumps: two graphs, a data version."""

    def __init__(self) -> None:
        self.clock = MemoryClock()
        self.data = {BASE + "graph/a": '<http://x/a> <http://x/p> "1" .\n'}

    @property
    def data_version(self) -> str:
        return self.clock.current()

    def graphs(self) -> list[str]:
        return sorted(self.data)

    def get_graph(self, graph: str | None, *, accept: str = "") -> bytes:
        return self.data.get(graph or "", "").encode()


def test_dumps_are_made_once_per_data_version(tmp_path: Path) -> None:
    store = FakeStore()
    first = ensure_dumps(store, BASE, tmp_path)  # type: ignore[arg-type]
    again = ensure_dumps(store, BASE, tmp_path)  # type: ignore[arg-type]
    assert again.folder == first.folder and again.generated == first.generated
    mtime = (first.folder / "clusterkb.ttl").stat().st_mtime_ns
    assert (again.folder / "clusterkb.ttl").stat().st_mtime_ns == mtime
    store.data[BASE + "graph/b"] = (
        "<http://x/b> <http://x/p> <http://data.europa.eu/nuts/code/BE2> .\n"
    )
    store.clock.bump()
    changed = ensure_dumps(store, BASE, tmp_path)  # type: ignore[arg-type]
    assert changed.folder != first.folder
    assert not first.folder.exists()  # the old version is removed
    assert [p.name for p in tmp_path.iterdir()] == [store.data_version]
    assert changed.stats[""].triples == 2
    assert changed.stats[""].linksets == {"nuts": {"http://x/p": 1}}
    assert changed.file("graph/b.ttl") is not None
    a = BASE + "graph/a"
    # graph a did not change: it keeps its fingerprint and its modification date
    assert changed.stats[a].fingerprint == first.stats[a].fingerprint
    assert changed.stats[a].modified == first.stats[a].modified
    assert changed.stats[""].fingerprint != first.stats[""].fingerprint
    since = dt.datetime.fromisoformat(changed.stats[BASE + "graph/b"].modified)
    assert BASE + "graph/b" in cat.datasets(BASE, changed, since)


@pytest.mark.parametrize(
    ("graph", "name"),
    [
        (BASE + "graph/clusters/x", "clusters/x"),
        (BASE + "graph/a.b/c-d_e", "a.b/c-d_e"),
        (
            BASE + "graph/../../etc/passwd",
            "other/" + quote(BASE + "graph/../../etc/passwd", safe=""),
        ),
        (BASE + "graph/a//b", "other/" + quote(BASE + "graph/a//b", safe="")),
        (BASE + "graph/.hidden", "other/" + quote(BASE + "graph/.hidden", safe="")),
        ("http://elsewhere.example/g", "other/http%3A%2F%2Felsewhere.example%2Fg"),
    ],
)
def test_graph_file_names_stay_in_the_downloads_folder(graph: str, name: str) -> None:
    assert graph_name(BASE, graph) == name
    assert ".." not in Path(name).parts


def test_downloads_are_not_regenerated_per_request(client: FlaskClient) -> None:
    first = body_of(client, "/downloads/clusterkb.ttl")
    second = body_of(client, "/downloads/clusterkb.ttl")
    assert first.headers["ETag"] == second.headers["ETag"]
    etag = {"If-None-Match": first.headers["ETag"]}
    assert body_of(client, "/downloads/clusterkb.ttl", headers=etag).status_code == 304


# --- VoID -----------------------------------------------------------------------------------


def _count(service: Service, where: str) -> int:
    rows = service.store.select(
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
        + where
        + " } }",
    )  # the public dataset: on a remote store, only the graphs under {base}graph/
    return int(rows[0]["n"]["value"])


def test_void_statistics_and_linksets_match_the_store(
    client: FlaskClient, service: Service
) -> None:
    g = rdf(client.get("/void", headers={"Accept": "text/turtle"}))
    ds = URIRef(BASE + "void#clusterkb")
    assert int(g.value(ds, VOID.triples)) == _count(service, "")  # type: ignore[arg-type]
    classes = service.store.select(
        "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH ?g { ?s a ?c } }"
    )
    assert int(g.value(ds, VOID.classes)) == int(classes[0]["n"]["value"])  # type: ignore[arg-type]
    for name in ("entities", "properties", "distinctSubjects", "distinctObjects"):
        assert int(g.value(ds, VOID[name])) > 0  # type: ignore[arg-type]
    # the whole knowledge base's linksets (the graphs of data/links/ are linksets of their own)
    linksets = [ls for ls in g.subjects(RDF.type, VOID.Linkset) if (ls, SD.name, None) not in g]
    targets = {}
    for ls in linksets:
        target = str(g.value(ls, VOID.objectsTarget))
        targets[target] = targets.get(target, 0) + int(g.value(ls, VOID.triples))  # type: ignore[arg-type]
    assert set(targets) == {
        "http://data.europa.eu/nuts",
        "http://data.europa.eu/ux2/nace2",
        "http://www.wikidata.org/",
        "https://ror.org/",
        "https://org.belgif.be/",
    }
    for target, ns in (
        ("http://data.europa.eu/nuts", "http://data.europa.eu/nuts/code/"),
        ("http://www.wikidata.org/", "http://www.wikidata.org/entity/"),
        ("https://ror.org/", "https://ror.org/"),
        ("https://org.belgif.be/", "https://org.belgif.be/id/CbeRegisteredEntity/"),
    ):
        expected = _count(
            service,
            f'FILTER(isIRI(?s) && isIRI(?o) && ?p != <{RDF.type}> && STRSTARTS(STR(?o), "{ns}"))',
        )
        assert targets[target] == expected
    assert (ds, VOID.sparqlEndpoint, URIRef(BASE + "sparql")) in g
    assert (ds, VOID.dataDump, URIRef(BASE + "downloads/clusterkb.nt.gz")) in g


# --- the catalogue --------------------------------------------------------------------------

CATALOG_CONNEG = [
    ("/catalog", None, "text/turtle"),
    ("/catalog", "*/*", "text/turtle"),
    ("/catalog.ttl", None, "text/turtle"),
    ("/catalog.rdf", None, "application/rdf+xml"),
    ("/catalog.jsonld", None, "application/ld+json"),
    ("/catalog.nt", None, "application/n-triples"),
    ("/catalog?format=rdf", None, "application/rdf+xml"),
    ("/catalog?format=jsonld", None, "application/ld+json"),
    ("/catalog", "application/rdf+xml", "application/rdf+xml"),
    ("/catalog", "application/ld+json;q=0.9, application/rdf+xml;q=0.5", "application/ld+json"),
    ("/catalog", "text/html, */*;q=0.1", "text/turtle"),
]


@pytest.mark.parametrize(("path", "accept", "media"), CATALOG_CONNEG)
def test_catalogue_conneg(client: FlaskClient, path: str, accept: str | None, media: str) -> None:
    r = client.get(path, headers={"Accept": accept} if accept else {})
    assert r.status_code == 200 and r.mimetype == media
    g = rdf(r)
    assert (URIRef(BASE + "id/catalogus/clusterkb"), RDF.type, DCAT.Catalog) in g
    assert isomorphic(without_paging(g), without_paging(rdf(client.get("/catalog.ttl"))))


def without_paging(g: Graph) -> Graph:
    """The catalogue without its Hydra view (whose IRI is the URL that was asked for)."""
    for view in list(g.subjects(RDF.type, HYDRA.PagedCollection)):
        g.remove((view, None, None))
    return g


def test_catalogue_content(client: FlaskClient, service: Service) -> None:
    g = rdf(client.get("/catalog.ttl"))
    catalog = URIRef(BASE + "id/catalogus/clusterkb")
    datasets = set(g.objects(catalog, DCAT.dataset))
    assert len(datasets) == len(service.store.graphs()) + 1
    svc = URIRef(BASE + "id/dataservice/sparql")
    assert (svc, RDF.type, DCAT.DataService) in g
    assert (svc, DCAT.endpointURL, URIRef(BASE + "sparql")) in g
    for ds in datasets:
        assert g.value(ds, DCTERMS.identifier) is not None
        assert len(set(g.objects(ds, DCAT.contactPoint))) == 1
        assert len(set(g.objects(ds, DCTERMS.publisher))) == 1
        assert (ds, DCTERMS.accessRights, cat.PUBLIC) in g
        assert (ds, DCTERMS.spatial, cat.BELGIUM) in g
        assert g.value(ds, DCTERMS.temporal) is not None
        for dist in g.objects(ds, DCAT.distribution):
            assert (dist, DCTERMS.license, FLEMISH) in g
            assert g.value(dist, DCTERMS.format).startswith(cat.FILE_TYPE)  # type: ignore[union-attr]
            assert g.value(dist, DCAT.mediaType).startswith(cat.IANA)  # type: ignore[union-attr]
            assert g.value(dist, DCAT.byteSize).datatype == XSD.nonNegativeInteger  # type: ignore[union-attr]
            assert g.value(dist, DCTERMS.identifier) is not None
    publisher = g.value(catalog, DCTERMS.publisher)
    assert (publisher, RDF.type, DCTERMS.Agent) in g
    cluster = URIRef(BASE + "id/dataset/clusters--west-vlaanderen-blauwe-energie")
    assert set(g.objects(cluster, DCTERMS.spatial)) == {cat.BELGIUM}
    # spatial coverage from the EU Countries table (DCAT-AP's controlled vocabulary), each
    # entry described in the catalogue itself; the Dutch mirror regions add the Netherlands
    whole = URIRef(BASE + "id/dataset/clusterkb")
    netherlands = URIRef(cat.EU + "country/NLD")
    assert set(g.objects(whole, DCTERMS.spatial)) == {cat.BELGIUM, netherlands}
    for place in set(g.objects(None, DCTERMS.spatial)):
        assert (place, SKOS.inScheme, cat.COUNTRIES) in g
        assert {label.language for label in g.objects(place, SKOS.prefLabel)} == {"nl", "en"}
    assert (netherlands, SKOS.prefLabel, Literal("Nederland", lang="nl")) in g
    assert Literal(
        "ClusterKB – Maritime applications for energy production (West Flanders)", lang="en"
    ) in set(g.objects(cluster, DCTERMS.title))


def test_catalogue_hydra_paging_and_modified_since(client: FlaskClient, service: Service) -> None:
    total = len(service.store.graphs()) + 1
    g = rdf(client.get("/catalog.ttl?page=1"))
    view = next(iter(g.subjects(RDF.type, HYDRA.PagedCollection)))
    assert int(g.value(view, HYDRA.totalItems)) == total  # type: ignore[arg-type]
    assert int(g.value(view, HYDRA.itemsPerPage)) == 100  # type: ignore[arg-type]
    assert g.value(view, HYDRA.nextPage) is None
    assert client.get("/catalog.ttl?page=2").status_code == 404
    assert client.get("/catalog.ttl?page=zero").status_code == 400
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    g = rdf(client.get("/catalog.ttl", query_string={"modified_since": future}))
    assert not set(g.subjects(RDF.type, DCAT.Dataset))
    g = rdf(client.get("/catalog.ttl", query_string={"modified_since": "2000-01-01"}))
    assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == total
    assert client.get("/catalog.ttl?modified_since=yesterday").status_code == 400


def test_hydra_pages_cover_every_dataset_once(client: FlaskClient) -> None:
    from server.catalog import published

    with client.application.test_request_context():
        dumps = published().dumps
    seen: list[URIRef] = []
    pages = cat.page_count(len(dumps.stats), 10)
    assert pages >= 3 and (pages - 1) * 10 < len(dumps.stats) <= pages * 10
    for number in range(1, pages + 1):
        g = cat.catalogue_graph(
            BASE, dumps, page=number, page_size=10, page_url=BASE + "catalog.ttl"
        )
        seen += list(g.subjects(RDF.type, DCAT.Dataset))
        view = URIRef(f"{BASE}catalog.ttl?page={number}")
        assert (view, RDF.type, HYDRA.PagedCollection) in g
        assert str(g.value(view, HYDRA.lastPage)) == f"{BASE}catalog.ttl?page={pages}"
        has_next = g.value(view, HYDRA.nextPage) is not None
        assert has_next == (number < pages)
    assert len(seen) == len(set(seen)) == len(dumps.stats)


# --- validation and MQA against the live server ---------------------------------------------


def test_live_catalogue_passes_dcat_ap_and_dcat_ap_vl(live_server: LiveServer) -> None:
    r = requests.get(live_server.url + "catalog", headers={"Accept": "text/turtle"}, timeout=60)
    assert r.status_code == 200
    catalogue = Graph().parse(data=r.text, format="turtle")
    dcat_ap, vl = mqa.validate_catalogue(catalogue)
    print(dcat_ap.line(), vl.line(), sep="\n")
    assert dcat_ap.violations == 0, dcat_ap.text
    assert vl.violations == 0, vl.text
    # every IRI subject a focus node, the EU vocabularies loaded: no result at any depth is
    # about spatial coverage (NUTS IRIs as dct:spatial gave 44 warnings with 44 nested
    # violations). Left: the recommended geometry (bbox, centroid) of each country, which
    # the EU Countries table does not give, and the publisher, not an EU corporate body.
    places = set(catalogue.objects(None, DCTERMS.spatial))
    geometry = {str(DCAT.bbox), str(DCAT.centroid)}
    for result in (dcat_ap, vl):
        about = {
            (node, path)
            for node, path in result.places
            if path == str(DCTERMS.spatial) or (URIRef(node) in places and path not in geometry)
        }
        assert about == set(), result.text
    (publisher,) = {str(agent) for agent in catalogue.objects(None, DCTERMS.publisher)}
    nested = {node for node, path in dcat_ap.places if path == str(SKOS.inScheme)}
    assert nested <= {publisher}, nested


def test_live_mqa_score_is_excellent(live_server: LiveServer) -> None:
    catalogue = mqa.fetch_catalogue(live_server.url + "catalog")
    reach = mqa.Reachability(mqa.loopback_mapper(KB_NS, live_server.url))
    try:
        result = mqa.score(catalogue, reach)
    finally:
        reach.close()
    print(result.report())
    assert result.total >= 351 and result.rating == "Excellent"
    assert not result.unreachable
    by_name = {i.name: i for i in result.indicators}
    assert by_name["accessURL reachable (HEAD)"].points == 50
    assert by_name["downloadURL reachable (HEAD)"].points == 30
    assert by_name["DCAT-AP compliance (SHACL)"].points == 30
    # the Flemish model licence is not in the EU licence vocabulary: the only points missed
    assert by_name["known licence (EU vocabulary)"].points == 0
    assert result.total == 395
    # with a licence from the EU vocabulary the catalogue scores the maximum
    for s, p, _o in list(catalogue.triples((None, DCTERMS.license, FLEMISH))):
        catalogue.remove((s, p, FLEMISH))
        catalogue.add((s, p, CC_BY))
    catalogue.add((CC_BY, RDF.type, DCTERMS.LicenseDocument))
    catalogue.add((CC_BY, DCTERMS.type, URIRef("http://purl.org/adms/licencetype/Attribution")))
    reach = mqa.Reachability(mqa.loopback_mapper(KB_NS, live_server.url))
    try:
        assert mqa.score(catalogue, reach).total == 405
    finally:
        reach.close()


def test_mqa_never_contacts_other_hosts() -> None:
    mapped = mqa.loopback_mapper("https://data.example.org/", "http://127.0.0.1:9/")
    assert (
        mapped("https://data.example.org/downloads/x.ttl") == "http://127.0.0.1:9/downloads/x.ttl"
    )
    assert mapped("http://localhost:1234/x") == "http://localhost:1234/x"
    assert mapped("https://example.com/x") is None
    reach = mqa.Reachability(mapped)
    assert not reach.ok("https://example.com/x")
    assert reach.results["https://example.com/x"] == "not checked (not loopback)"
    with pytest.raises(ValueError):
        mqa.loopback_mapper("https://a/", "https://example.com/")


def test_kb_mqa_command_prints_every_indicator(live_server: LiveServer) -> None:
    result = CliRunner().invoke(main, ["mqa", live_server.url + "catalog", "--min", "351"])
    assert result.exit_code == 0, result.output
    for name in ("keywords", "accessURL reachable", "DCAT-AP compliance", "modification date"):
        assert name in result.output
    assert "Excellent" in result.output
    assert "DCAT-AP VL 3.0: conforms (0 violations" in result.output


def test_kb_mqa_refuses_other_hosts_and_reports_a_dead_server() -> None:
    other = CliRunner().invoke(main, ["mqa", "https://data.europa.eu/catalog"])
    assert other.exit_code == 2 and "loopback" in other.output
    from tests.support.kbserve import free_port

    dead = CliRunner().invoke(main, ["mqa", f"http://127.0.0.1:{free_port()}/catalog"])
    assert dead.exit_code == 2 and "cannot read the catalogue" in dead.output


# --- the static release ---------------------------------------------------------------------


def test_publish_writes_a_self_contained_release(service: Service, tmp_path: Path) -> None:
    out = tmp_path / "release"
    url = "https://data.example.org/clusterkb/"
    release = publish(service.store, service.settings, out, url=url)
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"index.html", "catalog.ttl", "catalog.rdf", "void.ttl", "SHA256SUMS"} <= names
    assert "downloads/clusterkb.nt.gz" in names
    for line in (out / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    ttl = Graph().parse(out / "catalog.ttl")
    assert isomorphic(ttl, Graph().parse(out / "catalog.rdf"))
    downloads = {str(o) for o in ttl.objects(None, DCAT.downloadURL)}
    assert downloads and all(u.startswith(url + "downloads/") for u in downloads)
    for u in downloads:
        assert (out / u[len(url) :]).is_file()
    index = (out / "index.html").read_text()
    assert 'href="catalog.ttl"' in index and 'href="downloads/clusterkb.ttl"' in index
    assert json.loads((out / "manifest.json").read_text())["version"] == release.dumps.version
    dcat_ap, vl = mqa.validate_catalogue(ttl)
    assert dcat_ap.violations == 0 and vl.violations == 0


def test_kb_publish_command(service: Service, tmp_path: Path) -> None:
    out = tmp_path / "cli-release"
    result = CliRunner().invoke(
        main, ["publish", str(out), "--store", str(service.settings.store_path)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "catalog.ttl").is_file() and (out / "SHA256SUMS").is_file()
    again = CliRunner().invoke(
        main, ["publish", str(out), "--store", str(service.settings.store_path)]
    )
    assert again.exit_code == 2 and "not empty" in again.output


def test_oxigraph_reads_the_trig_dump(client: FlaskClient) -> None:
    quads = list(
        ox.parse(body_of(client, "/downloads/clusterkb.trig").data, format=ox.RdfFormat.TRIG)
    )
    assert len({q.graph_name for q in quads}) > 10


def test_a_write_regenerates_downloads_and_dates_only_what_changed(tmp_path: Path) -> None:
    from kb.config import load_settings
    from server import create_app

    svc = Service(load_settings({"store": str(tmp_path / "store"), "namespace": BASE}, environ={}))
    svc.start(watch=False)
    try:
        client = create_app(service=svc).test_client()
        before = rdf(client.get("/catalog.ttl"))
        version = svc.store.data_version
        new = BASE + "graph/clusters/test-write"
        svc.store.put_graph(
            new,
            f"<{BASE}id/cluster/test-write> <{DCTERMS.spatial}> "
            "<http://data.europa.eu/nuts/code/BE21> .\n".encode(),
            content_type="application/n-triples",
        )
        assert svc.store.data_version != version
        after = rdf(client.get("/catalog.ttl"))
        ds = URIRef(BASE + "id/dataset/clusters--test-write")
        assert (ds, RDF.type, DCAT.Dataset) in after and (ds, RDF.type, DCAT.Dataset) not in before
        unchanged = URIRef(BASE + "id/dataset/reference--sectors")
        assert after.value(unchanged, DCTERMS.modified) == before.value(unchanged, DCTERMS.modified)
        page = client.get("/downloads", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "/downloads/graph/clusters/test-write.ttl" in page
        assert len(list((tmp_path / "downloads").iterdir())) == 1  # the old version is gone
    finally:
        svc.stop()


def test_the_service_description_links_the_void_and_the_catalogue(client: FlaskClient) -> None:
    from rdflib import RDFS, Graph, Namespace, URIRef

    sd_ns = Namespace("http://www.w3.org/ns/sparql-service-description#")
    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    g = Graph().parse(data=r.data, format="turtle")
    dataset = next(g.objects(None, sd_ns.defaultDataset))
    void = g.value(dataset, RDFS.seeAlso)
    assert isinstance(void, URIRef) and str(void).endswith("/void")
    assert client.get("/void", headers={"Accept": "text/turtle"}).status_code == 200
    catalog = {str(o) for o in g.objects(None, RDFS.seeAlso)}
    assert any(c.endswith("/catalog") for c in catalog)


def test_spatial_coverage_is_the_countries_of_the_nuts_regions() -> None:
    nuts = "http://data.europa.eu/nuts/code/"
    assert cat.spatial_coverage([]) == [cat.BELGIUM]
    assert cat.spatial_coverage([nuts + "BE25", nuts + "NL34", nuts + "EL30", "http://x/NL"]) == [
        cat.BELGIUM,
        URIRef(cat.EU + "country/GRC"),  # NUTS writes Greece EL
        URIRef(cat.EU + "country/NLD"),
    ]
