"""Link discovery a steward can trust: suggestions from a partner's harvested things to ours,
each with a score and its reasons, measured on the labelled linkage sample; a steward accepts
or rejects them (API, CLI, web page), accepted links go into the partner's linkset through the
validated commit with provenance, rejected ones are never suggested again."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from kb.auth import Principal, TokenStore
from kb.cli import main
from kb.errors import Forbidden, InvalidRequest, NotFound
from kb.linking import harvest as hv
from kb.linking import partners
from kb.linking import suggest as sg
from kb.namespaces import KB_NS
from kb.service import Service
from kb.store.oxigraph import ManagedOxigraph
from kb.submit import Writer
from tests.support.apps import app_for, own_kb
from tests.support.partner_servers import SAMPLE_GRAPH, partner_sparql_server
from tests.test_sparql_ui_browser import CHROMIUM, Page, page  # noqa: F401 (fixture)

ADMIN = Principal("test-admin", "Test Admin", "admin")
SAMPLE = Path(__file__).parent / "partners"
LINKAGE_GRAPH = "https://linkage.partner.test/graph/sample"
KU_LEUVEN = "https://ror.org/05f950310"
THEIR_KU_LEUVEN = "https://eccp.partner.test/id/org-ku-leuven"


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with own_kb(tmp_path_factory.mktemp("links")) as svc:
        yield svc


@pytest.fixture(scope="module")
def writer(kb: Service) -> Writer:
    return Writer(kb.store, kb.settings)


def _register(writer: Writer, slug: str, endpoint: str, graph: str) -> None:
    body = {
        "slug": slug,
        "name": f"{slug} (sample)",
        "region": "http://data.europa.eu/nuts/code/NL34",
        "endpoint": endpoint,
        "graph": graph,
        "licence": "https://creativecommons.org/licenses/by/4.0/",
        "contact": {"name": "Desk", "email": "desk@partner.test"},
    }
    partners.register(writer, ADMIN, partners.from_dict(body))
    done = hv.harvest(writer, ADMIN, slug)
    assert done.succeeded, done.reason


@pytest.fixture(scope="module")
def eccp(writer: Writer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with partner_sparql_server(tmp_path_factory.mktemp("eccp") / "store") as url:
        _register(writer, "eccp", url, SAMPLE_GRAPH)
        yield "eccp"


@pytest.fixture(scope="module")
def linkage(writer: Writer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ManagedOxigraph(tmp_path_factory.mktemp("linkage") / "store")
    server.start(watch=False)
    try:
        data = (SAMPLE / "linkage-sample.ttl").read_bytes()
        server.client().put_graph(LINKAGE_GRAPH, data, content_type="text/turtle")
        _register(writer, "linkage", server.url + "/query", LINKAGE_GRAPH)
        yield "linkage"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def app(kb: Service) -> Flask:
    return app_for(kb)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _labels() -> list[dict[str, str]]:
    with (SAMPLE / "linkage-labels.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def linkset_of(kb: Service, slug: str) -> Graph:
    """The partner's linkset (empty when no link is accepted: the graph is then gone)."""
    return Writer(kb.store, kb.settings).read(sg.linkset_graph(slug))


def partner(kb: Service, slug: str) -> partners.Partner:
    return partners.read(kb.store)[slug]


def test_the_labelled_sample_has_enough_pairs_and_hard_negatives() -> None:
    rows = _labels()
    assert sum(1 for r in rows if r["ours"]) >= 100
    assert sum(1 for r in rows if r["how"] == "hard negative") >= 20


def test_suggestions_on_the_labelled_sample_are_precise_and_complete(
    kb: Service, linkage: str
) -> None:
    rows = _labels()
    truth = {r["theirs"]: r["ours"] for r in rows}
    found = sg.suggest(kb.store, partner(kb, linkage))
    right = [s for s in found if truth.get(s.theirs) == s.ours]
    pairs = [t for t, o in truth.items() if o]
    precision = len(right) / len(found)
    recall = len({s.theirs for s in right}) / len(pairs)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    assert all(s.score >= sg.THRESHOLD and s.reasons for s in found)


def test_each_suggestion_says_why(kb: Service, eccp: str) -> None:
    found = {(s.ours, s.theirs): s for s in sg.suggest(kb.store, partner(kb, eccp))}
    ku = found[(KU_LEUVEN, THEIR_KU_LEUVEN)]
    assert ku.score == 1.0 and f"same identifier {KU_LEUVEN}" in ku.reasons
    assert ku.reasons[0].startswith("name 1.00")
    assert ku.features["identifier"] == 1.0
    # a cluster profile: weaker name, but the same region, members, kind and activity
    loose = sg.suggest(kb.store, partner(kb, eccp), threshold=0.5)
    hub = next(
        s for s in loose
        if s.theirs.endswith("cluster-health-flemish-brabant")
        and s.ours.endswith("vlaams-brabant-regeneratieve-geneeskunde")
    )  # fmt: skip
    assert "same region BE24" in hub.reasons
    assert "same activity (NACE division 72)" in hub.reasons
    assert any(r.endswith("shared member(s)") for r in hub.reasons)


def test_accepting_a_link_commits_it_with_provenance_and_rejecting_remembers(
    kb: Service, writer: Writer, eccp: str
) -> None:
    steward = Principal("s1", "Stella Steward", "steward", ("links/*",))
    outsider = Principal("s2", "Otto Outsider", "steward", ("clusters/*",))
    with pytest.raises(Forbidden):
        sg.decide(writer, outsider, eccp, KU_LEUVEN, THEIR_KU_LEUVEN, "accept")
    with pytest.raises(InvalidRequest):
        sg.decide(writer, steward, eccp, KU_LEUVEN, THEIR_KU_LEUVEN, "maybe")
    with pytest.raises(NotFound):
        sg.decide(writer, steward, eccp, KU_LEUVEN, "https://eccp.partner.test/id/none", "accept")
    out = sg.decide(writer, steward, eccp, KU_LEUVEN, THEIR_KU_LEUVEN, "accept")
    assert out.committed
    linkset = linkset_of(kb, eccp)
    assert (URIRef(KU_LEUVEN), SKOS.exactMatch, URIRef(THEIR_KU_LEUVEN)) in linkset
    rows = kb.store.select(
        f"SELECT ?who ?score ?why WHERE {{ GRAPH <{sg.decisions_graph(eccp)}> {{ ?d"
        f" <http://www.w3.org/1999/02/22-rdf-syntax-ns#object> <{THEIR_KU_LEUVEN}> ;"
        " <http://www.w3.org/ns/prov#wasAssociatedWith> ?who ;"
        f" <{KB_NS}ns/provinciale-clusters#linkScore> ?score ;"
        " <http://www.w3.org/2000/01/rdf-schema#comment> ?why } }",
        union_default_graph=False,
    )
    assert rows[0]["who"]["value"].endswith("/id/agent/s1")
    assert float(rows[0]["score"]["value"]) == 1.0 and "same identifier" in rows[0]["why"]["value"]
    pairs = {(s.ours, s.theirs) for s in sg.suggest(kb.store, partner(kb, eccp))}
    assert (KU_LEUVEN, THEIR_KU_LEUVEN) not in pairs, "a decided pair is not suggested again"
    imec = next(s for s in sg.suggest(kb.store, partner(kb, eccp)) if s.theirs_label == "imec")
    sg.decide(writer, steward, eccp, imec.ours, imec.theirs, "reject")
    again = {(s.ours, s.theirs) for s in sg.suggest(kb.store, partner(kb, eccp), threshold=0.0)}
    assert (imec.ours, imec.theirs) not in again
    # changing one's mind: a rejected accepted link leaves the linkset
    sg.decide(writer, steward, eccp, KU_LEUVEN, THEIR_KU_LEUVEN, "reject")
    linkset = linkset_of(kb, eccp)
    assert (URIRef(KU_LEUVEN), SKOS.exactMatch, URIRef(THEIR_KU_LEUVEN)) not in linkset


def test_the_api_lists_and_decides(client: FlaskClient, kb: Service, eccp: str) -> None:
    listed = client.get(f"/partners/{eccp}/suggestions?format=json").get_json()
    assert listed["threshold"] == sg.THRESHOLD and listed["suggestions"]
    first = listed["suggestions"][0]
    decision = {"ours": first["ours"], "theirs": first["theirs"], "decision": "accept"}
    assert client.post(f"/partners/{eccp}/suggestions", json=decision).status_code == 401
    token = TokenStore(kb.settings.tokens_path).create("Link Steward", graphs=("links/*",))
    head = {"Authorization": f"Bearer {token}"}
    bad = client.post(f"/partners/{eccp}/suggestions", json={"ours": 1}, headers=head)
    assert bad.status_code == 400 and bad.get_json()["where"] == "ours"
    assert client.get("/partners/nobody/suggestions").status_code == 404
    assert client.get(f"/partners/{eccp}/suggestions?threshold=2").status_code == 400
    made = client.post(f"/partners/{eccp}/suggestions", json=decision, headers=head)
    assert made.status_code == 201, made.get_data(as_text=True)
    after = client.get(f"/partners/{eccp}/suggestions?format=json").get_json()["suggestions"]
    assert (first["ours"], first["theirs"]) not in {(s["ours"], s["theirs"]) for s in after}
    void = Graph().parse(data=client.get("/void.ttl").data, format="turtle")
    sub = void.value(None, URIRef("http://www.w3.org/ns/sparql-service-description#name"),
                     URIRef(sg.linkset_graph(eccp)))  # fmt: skip
    assert sub is not None
    assert (
        sub,
        URIRef("http://rdfs.org/ns/void#objectsTarget"),
        URIRef(partners.partner_iri(eccp)),
    ) in void


def test_kb_links_suggest_and_decide(kb: Service, eccp: str) -> None:
    runner = CliRunner()
    store = ["--store", str(kb.settings.store_path)]
    listed = runner.invoke(main, ["links", "suggest", eccp, "--json", *store])
    assert listed.exit_code == 0, listed.output
    found = json.loads(listed.output)
    assert found and all(s["reasons"] for s in found)
    token = TokenStore(kb.settings.tokens_path).create("CLI Steward", graphs=("links/*",))
    first = found[0]
    done = runner.invoke(
        main, ["links", "decide", eccp, first["ours"], first["theirs"], "reject", *store],
        env={"KB_TOKEN": token},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "rejected" in done.output


@pytest.mark.skipif(CHROMIUM is None, reason="Debian package `chromium` is missing")
def test_a_steward_accepts_a_link_on_the_page(
    kb: Service,
    app: Flask,
    eccp: str,
    page: Page,  # noqa: F811
) -> None:
    import threading

    from werkzeug.serving import make_server

    # this module's app on a real HTTP server (its store is this module's)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    try:
        token = TokenStore(kb.settings.tokens_path).create("Page Steward", graphs=("links/*",))
        page.call("Page.enable")
        page.call("Page.navigate", url=url + f"partners/{eccp}/suggestions?lang=en")
        page.wait_for("document.readyState === 'complete' && !!document.getElementById('token')")
        first = "document.querySelector('#suggestions tbody tr[data-ours]')"
        assert page.js("document.querySelectorAll('#suggestions tbody tr[data-ours]').length") >= 1
        ours = page.js(f"{first}.dataset.ours")
        theirs = page.js(f"{first}.dataset.theirs")
        page.js(f"document.getElementById('token').value = {json.dumps(token)}")
        page.js(f"{first}.querySelector('button[data-decision=accept]').click()")
        status = page.wait_for(
            f"(() => {{ const s = {first}.querySelector('.status');"
            " return s.textContent && s.textContent !== '…' ? s.textContent : null; })()"
        )
        assert status == "accepted"
        assert (URIRef(ours), SKOS.exactMatch, URIRef(theirs)) in linkset_of(kb, eccp)
        assert page.js("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        server.shutdown()


def test_suggest_and_decide_on_the_store_under_test(
    service: Service, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Harvest, suggest and accept on the backend under test (Oxigraph or Virtuoso)."""
    w = Writer(service.store, service.settings)
    slug = "links-under-test"
    with partner_sparql_server(tmp_path_factory.mktemp("eccp-ut") / "store") as url:
        try:
            _register(w, slug, url, SAMPLE_GRAPH)
            found = {
                (s.ours, s.theirs)
                for s in sg.suggest(service.store, partners.read(service.store)[slug])
            }
            assert (KU_LEUVEN, THEIR_KU_LEUVEN) in found
            assert sg.decide(w, ADMIN, slug, KU_LEUVEN, THEIR_KU_LEUVEN, "accept").committed
            link = f"<{KU_LEUVEN}> ?p <{THEIR_KU_LEUVEN}>"
            assert service.store.ask(
                f"ASK {{ GRAPH <{sg.linkset_graph(slug)}> {{ {link} }} }}",
                union_default_graph=False,
            )
        finally:
            graphs = (partners.registry_graph(), partners.partner_graph(slug), hv.harvest_log(),
                      sg.decisions_graph(slug), sg.linkset_graph(slug))  # fmt: skip
            for g in graphs:
                service.store.update(f"DROP SILENT GRAPH <{g}>")
