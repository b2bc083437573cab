"""Issue #4 through the Flask test client: tokens, the submission API, the Graph Store Protocol,
SPARQL Update, validation reports, provenance, history, spreadsheets and hostile input.

Every refused write is checked to leave the store exactly as it was (quad count and a digest
of every quad: "NW" in shared/security/CATALOGUE.md). The knowledge base here is its own
(module-scoped), so the shared read-only fixtures never see these writes.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from kb.audit import AuditLog
from kb.auth import TokenStore
from kb.config import load_settings
from kb.namespaces import KB_NS
from kb.service import Service
from server import create_app

BASE = KB_NS
ROOT = Path(__file__).resolve().parent.parent
CLUSTER = (ROOT / "data/clusters/antwerpen-duurzaam-bouwen.ttl").read_bytes()
G = f"{BASE}graph/clusters/steward-test"
MAX_UPLOAD = 600_000


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    store = tmp_path_factory.mktemp("steward") / "store"
    svc = Service(
        load_settings(
            {
                "store": str(store),
                "namespace": BASE,
                "max_upload_bytes": MAX_UPLOAD,
                "max_literal_bytes": 100_000,
                "max_auth_failures": 0,  # the brute-force limit has its own test
            },
            environ={},
        )
    )
    svc.start(watch=False)
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def app(kb: Service) -> Flask:
    application = create_app(service=kb)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def c(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def tokens(kb: Service) -> dict[str, str]:
    ts = TokenStore(kb.settings.tokens_path)
    return {
        "admin": ts.create("Ada Admin", role="admin"),
        "steward": ts.create("Stan Steward", graphs=("clusters/*",)),
        "other": ts.create("Olga Other", graphs=("clusters/other-only",)),
    }


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def digest(kb: Service) -> str:
    """A digest of every quad in the store (Oxigraph keeps blank-node labels stable)."""
    rows = kb.store.select(
        "SELECT ?g ?s ?p ?o WHERE { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } }",
        union_default_graph=False,
    )
    lines = sorted(json.dumps(r, sort_keys=True) for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def graph_of(kb: Service, graph: str) -> Graph:
    g = Graph()
    g.parse(data=kb.store.get_graph(graph).decode(), format="nt")
    return g


# --- tokens -------------------------------------------------------------------------------


def test_tokens_are_stored_only_as_hashes_and_can_be_revoked(tmp_path: Path) -> None:
    ts = TokenStore(tmp_path / "tokens.json")
    secret = ts.create("Tess", graphs=("clusters/x",))
    raw = (tmp_path / "tokens.json").read_text()
    assert secret not in raw and secret[len("ckb_") + 13 :] not in raw
    assert oct((tmp_path / "tokens.json").stat().st_mode & 0o777) == "0o600"
    who = ts.authenticate(secret)
    assert who.name == "Tess" and who.may_write(f"{BASE}graph/clusters/x", BASE)
    assert not who.may_write(f"{BASE}graph/clusters/y", BASE)
    ts.revoke("Tess")
    with pytest.raises(Exception, match="revoked"):
        ts.authenticate(secret)
    assert [t.public()["revoked"] is not None for t in ts.list()] == [True]


# --- who may write ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer "}, 401),
        ({"Authorization": "Bearer ckb_000000000000_" + "A" * 43}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": "Basic YWRtaW46cHc="}, 401),
        ({"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}, 401),
    ],
)
def test_writes_without_a_valid_token_get_401(
    c: FlaskClient, kb: Service, tokens: dict[str, str], headers: dict[str, str], status: int
) -> None:
    before = digest(kb)
    for method, url in (
        ("post", "/submissions?graph=clusters/steward-test"),
        ("put", "/graphs/clusters/steward-test"),
        ("delete", "/graphs/clusters/antwerpen-duurzaam-bouwen"),
        ("post", "/update"),
    ):
        r = getattr(c, method)(
            url, data=CLUSTER, headers={**headers, "Content-Type": "text/turtle"}
        )
        assert r.status_code == status, (method, url, r.get_json())
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.get_json()["error"] == "unauthorized"
    assert digest(kb) == before


def test_revoked_token_and_token_in_url_are_refused(c: FlaskClient, kb: Service) -> None:
    ts = TokenStore(kb.settings.tokens_path)
    secret = ts.create("Rev Oked", graphs=("clusters/*",))
    ts.revoke("Rev Oked")
    before = digest(kb)
    r = c.put(
        "/graphs/clusters/x", data=CLUSTER, headers=auth(secret, **{"Content-Type": "text/turtle"})
    )
    assert r.status_code == 401 and "revoked" in r.get_json()["detail"]
    r = c.put(
        f"/graphs/clusters/x?token={secret}", data=CLUSTER, headers={"Content-Type": "text/turtle"}
    )
    assert r.status_code == 401 and "URL" in r.get_json()["detail"]
    assert digest(kb) == before


def test_outside_the_grant_and_reserved_graphs_get_403(
    c: FlaskClient, kb: Service, tokens: dict[str, str]
) -> None:
    before = digest(kb)
    h = auth(tokens["other"], **{"Content-Type": "text/turtle"})
    assert c.put("/graphs/clusters/steward-test", data=CLUSTER, headers=h).status_code == 403
    h = auth(tokens["admin"], **{"Content-Type": "text/turtle"})
    for reserved in ("shapes/clusters", "ontology/provinciale-clusters", "provenance", "history"):
        r = c.put(f"/graphs/{reserved}", data=CLUSTER, headers=h)
        assert r.status_code == 403, reserved
    r = c.post(
        "/update",
        data=f"DROP GRAPH <{BASE}graph/shapes/clusters>",
        headers=auth(tokens["admin"], **{"Content-Type": "application/sparql-update"}),
    )
    assert r.status_code == 403
    assert digest(kb) == before


# --- submissions -----------------------------------------------------------------------------


def test_dry_run_reports_and_writes_nothing(c: FlaskClient, kb: Service, tokens: dict) -> None:
    before = digest(kb)
    r = c.post(
        "/submissions?graph=clusters/steward-test&dry-run=true",
        data=CLUSTER,
        headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["dryRun"] and not body["committed"] and body["report"]["accepted"]
    assert digest(kb) == before


def test_submission_commits_data_and_provenance_together(
    c: FlaskClient, kb: Service, tokens: dict
) -> None:
    r = c.post(
        "/submissions?graph=clusters/steward-test&filename=antwerpen.ttl",
        data=CLUSTER,
        headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["committed"] and body["version"] >= 1 and body["added"] > 100
    expected = Graph().parse(data=CLUSTER, format="turtle", publicID=BASE)
    assert isomorphic(graph_of(kb, G), expected)
    sha = hashlib.sha256(CLUSTER).hexdigest()
    assert kb.store.ask(
        f"""PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX hist: <https://w3id.org/clusterkb/ns/history#>
        ASK {{ GRAPH <{BASE}graph/provenance> {{
          <{body["commit"]}> a prov:Activity ; prov:wasAssociatedWith ?who ;
             prov:used ?src ; prov:startedAtTime ?t ; hist:triplesAdded ?n ;
             hist:conforms true ; hist:graph <{G}> .
          ?who <http://xmlns.com/foaf/0.1/name> "Stan Steward" .
          ?src <http://purl.org/dc/terms/title> "antwerpen.ttl" ; hist:sha256 "{sha}" ;
               <http://purl.org/dc/terms/format> "text/turtle" .
          <{BASE}id/cluster/antwerpen-duurzaam-bouwen> prov:has_provenance <{body["commit"]}> .
        }} }}"""
    )
    log = list(AuditLog(kb.settings.audit_path).entries())
    assert any(e["outcome"] == "committed" and e["who"] == "Stan Steward" for e in log)
    assert any(e["outcome"] == "unauthorized" for e in log)


def test_shacl_violation_is_refused_with_a_readable_report(
    c: FlaskClient, kb: Service, tokens: dict
) -> None:
    before = digest(kb)
    bad = CLUSTER.replace(b"pc:runBy idorg:provincie-antwerpen ;", b"")
    line = CLUSTER[: CLUSTER.index(b"clu:antwerpen-duurzaam-bouwen\n")].count(b"\n") + 1
    h = auth(tokens["steward"], **{"Content-Type": "text/turtle"})
    r = c.post("/submissions?graph=clusters/steward-test", data=bad, headers=h)
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] == "validation_failed" and not body["committed"]
    (result,) = [x for x in body["report"]["results"] if "runBy" in (x["path"] or "")]
    assert result["focusNode"] == f"{BASE}id/cluster/antwerpen-duurzaam-bouwen"
    assert result["focusLabel"]
    assert result["message"]["nl"] and result["message"]["en"]
    assert result["line"] == line
    # the same report as RDF (sh:ValidationReport) and as HTML
    r = c.post(
        "/submissions?graph=clusters/steward-test", data=bad, headers={**h, "Accept": "text/turtle"}
    )
    assert r.status_code == 422
    rep = Graph().parse(data=r.data, format="turtle")
    sh = "http://www.w3.org/ns/shacl#"
    assert (None, None, URIRef(sh + "ValidationReport")) in rep
    assert len(list(rep.objects(None, URIRef(sh + "result")))) == 1
    r = c.post("/submissions?graph=clusters/steward-test&format=html", data=bad, headers=h)
    assert r.status_code == 422 and b"runBy" in r.data and b"provinciebestuur" in r.data
    assert digest(kb) == before


def test_data_does_not_bring_its_own_shapes(c: FlaskClient, kb: Service, tokens: dict) -> None:
    """O1/G9: shapes inside a submission are data, never rules."""
    rules = CLUSTER + (
        b"\n@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        b"<id/shape/x> a sh:NodeShape ; sh:targetClass pc:ProvincialCluster ;"
        b" sh:property [ sh:path pc:nothing ; sh:minCount 1 ] .\n"
    )
    r = c.post(
        "/submissions?graph=clusters/steward-test&dry-run=true",
        data=rules,
        headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
    )
    assert r.status_code == 200 and r.get_json()["report"]["accepted"]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
<rdf:Description rdf:about="http://e/s"><e:p>&d;</e:p></rdf:Description></rdf:RDF>"""

HOSTILE = [
    ("text/turtle", b'@prefix ex: <http://e/> .\nex:s ex:p "abc .\n', 400),
    ("text/turtle", b"ex:s ex:p ex:o .\n", 400),
    ("application/n-triples", b"<http://e/a> <http://e/b> .\n", 400),
    ("application/n-triples", b"<foo> <http://e/p> <http://e/o> .\n", 400),
    ("application/n-triples", b'<http://e/a> <http://e/b> "\\uZZZZ" .\n', 400),
    ("application/n-triples", b'<http://e/a> <http://e/b> "\xff\xfe" .\n', 400),
    ("application/n-quads", b"<http://e/a> <http://e/b> <http://e/c> <http://e/g> <x> .\n", 400),
    ("application/trig", b"<http://e/g> { <http://e/a> <http://e/b> ", 400),
    ("application/ld+json", b'{"@id": ', 400),
    ("application/ld+json", b'{"@id": 5, "http://e/p": "x"}', 400),
    ("application/ld+json", b'{"@context": "http://127.0.0.1:9/ctx", "@id": "http://e/s"}', 400),
    ("application/ld+json", b'{"@context": "file:///etc/passwd", "@id": "http://e/s"}', 400),
    (
        "application/rdf+xml",
        b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>",
        400,
    ),
    ("application/rdf+xml", BOMB, 400),
    (
        "application/rdf+xml",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        400,
    ),
    ("text/turtle", b"\x00\x01\x02garbage\xff", 400),
    ("text/turtle", b"\xef\xbb\xbf" + "é".encode("utf-16"), 400),
    ("text/turtle", b'<http://e/s> <http://e/p> "' + b"x" * 500_000 + b'" .', 413),
    ("text/turtle", b"[" * 5000 + b"]" * 5000, 400),
    ("application/octet-stream", CLUSTER, 415),
    ("text/html", CLUSTER, 415),
    ("", CLUSTER, 415),
]


@pytest.mark.parametrize(("media_type", "body", "status"), HOSTILE)
def test_hostile_input_gets_a_clear_4xx_and_writes_nothing(
    c: FlaskClient, kb: Service, tokens: dict, media_type: str, body: bytes, status: int
) -> None:
    before = digest(kb)
    headers = auth(tokens["steward"])
    if media_type:
        headers["Content-Type"] = media_type
    for url in ("/submissions?graph=clusters/steward-test", "/graphs/clusters/steward-test"):
        r = c.post(url, data=body, headers=headers)
        assert r.status_code == status, (url, r.get_json())
        err = r.get_json()
        assert err["detail"] and "Traceback" not in err["detail"]
        if status == 400 and media_type not in ("text/turtle",) and err.get("line"):
            assert isinstance(err["line"], int)
    assert digest(kb) == before
    assert c.get("/health").status_code == 200


def test_parse_errors_name_the_line_and_column(c: FlaskClient, tokens: dict) -> None:
    body = b'@prefix ex: <http://e/> .\nex:s ex:p ex:o .\nex:s ex:p "abc .\n'
    r = c.post(
        "/submissions?graph=clusters/steward-test",
        data=body,
        headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
    )
    assert r.status_code == 400
    err = r.get_json()
    assert err["line"] == 3 and err["column"] and "3" in err["detail"]


def test_oversized_upload_is_413(c: FlaskClient, kb: Service, tokens: dict) -> None:
    before = digest(kb)
    body = b"# padding\n" * (MAX_UPLOAD // 10 + 10)
    r = c.post(
        "/submissions?graph=clusters/steward-test",
        data=body,
        headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
    )
    assert r.status_code == 413
    assert digest(kb) == before


@pytest.mark.parametrize(
    "url",
    [
        "/graphs/../x",
        "/graphs/clusters/%2e%2e/x",
        "/graphs/a%00b",
        "/graphs?graph=file:///etc/passwd",
        "/graphs?graph=urn:x/../../y",
        "/graphs?graph=http://e/with space",
        "/graphs?graph=http://e/<x>",
        "/graphs?graph=" + "http://e/" + "x" * 10_000,
        "/graphs?graph=../../etc/passwd",
    ],
)
def test_graph_names_with_path_tricks_are_refused(
    c: FlaskClient, kb: Service, tokens: dict, url: str
) -> None:
    before = digest(kb)
    r = c.put(url, data=CLUSTER, headers=auth(tokens["admin"], **{"Content-Type": "text/turtle"}))
    assert r.status_code in (400, 404), r.data[:200]
    assert digest(kb) == before


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("get", "/sparql?query=INSERT%20DATA%20%7B%3Chttp://e/s%3E%20%3Chttp://e/p%3E%201%7D", {}),
        ("get", "/sparql?update=CLEAR%20ALL", {}),
        ("post", "/sparql", {"data": "DROP ALL", "content_type": "application/sparql-update"}),
        ("post", "/sparql", {"data": {"update": "CLEAR DEFAULT"}}),
        ("post", "/sparql", {"data": {"query": "LOAD <http://127.0.0.1:9/x>"}}),
        ("get", "/update?update=CLEAR%20ALL", {}),
    ],
)
def test_writes_through_the_query_endpoint_are_refused(
    c: FlaskClient, kb: Service, tokens: dict, method: str, url: str, kwargs: dict
) -> None:
    before = digest(kb)
    r = getattr(c, method)(url, headers=auth(tokens["admin"]), **kwargs)
    assert 400 <= r.status_code < 500
    assert digest(kb) == before


# --- the Graph Store Protocol, ETags, history --------------------------------------------------


def test_graph_store_protocol_with_etags_history_and_rollback(
    c: FlaskClient, kb: Service, tokens: dict
) -> None:
    h = auth(tokens["steward"], **{"Content-Type": "text/turtle"})
    url = "/graphs/clusters/gsp-test"
    iri = f"{BASE}graph/clusters/gsp-test"
    assert c.get(url).status_code == 404
    r = c.put(url, data=CLUSTER, headers={**h, "If-None-Match": "*"})
    assert r.status_code == 201, r.get_json()
    r = c.get(url, headers={"Accept": "application/n-triples"})
    etag = r.headers["ETag"]
    assert isomorphic(Graph().parse(data=r.data, format="nt"), graph_of(kb, iri))
    assert c.get(f"/graphs?graph={iri}").headers["ETag"] == etag
    extra = (
        b"<id/cluster/antwerpen-duurzaam-bouwen> "
        b'<http://www.w3.org/2004/02/skos/core#altLabel> "ADB"@nl .'
    )
    r = c.post(url, data=extra, headers={**h, "If-Match": etag})
    assert r.status_code == 200 and r.get_json()["added"] == 1
    # a stale ETag: 412, nothing written
    before = digest(kb)
    r = c.put(url, data=CLUSTER, headers={**h, "If-Match": etag})
    assert r.status_code == 412
    assert digest(kb) == before
    versions = c.get(f"{url}?versions").get_json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["added"] == 1 and versions[1]["steward"] == "Stan Steward"
    diff = c.get(f"{url}?from=1&to=2").get_json()
    assert len(diff["added"]) == 1 and "ADB" in diff["added"][0] and diff["removed"] == []
    v1 = Graph().parse(
        data=c.get(f"{url}?version=1", headers={"Accept": "application/n-triples"}).data,
        format="nt",
    )
    assert isomorphic(v1, Graph().parse(data=CLUSTER, format="turtle", publicID=BASE))
    # only an admin rolls back; the rollback is itself a commit (version 3)
    assert c.put(f"{url}?rollback=1", headers=auth(tokens["steward"])).status_code == 403
    r = c.put(f"{url}?rollback=1", headers=auth(tokens["admin"]))
    assert r.status_code in (200, 201) and r.get_json()["version"] == 3
    assert isomorphic(graph_of(kb, iri), v1)
    assert (
        "history" in c.get(f"{url}?versions", headers={"Accept": "text/html"}).data.decode().lower()
    )
    r = c.delete(url, headers=auth(tokens["steward"]))
    assert r.status_code == 200 and not kb.store.graph_exists(iri)
    assert c.delete(url, headers=auth(tokens["steward"])).status_code == 404


def test_default_graph_and_indirect_naming(c: FlaskClient, kb: Service, tokens: dict) -> None:
    nt = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n"
    h = {"Content-Type": "application/n-triples"}
    assert (
        c.put("/graphs?default", data=nt, headers=auth(tokens["steward"], **h)).status_code == 403
    )
    r = c.put("/graphs?default", data=nt, headers=auth(tokens["admin"], **h))
    assert r.status_code == 200, r.get_json()
    assert (
        b"example.org/s"
        in c.get("/graphs?default", headers={"Accept": "application/n-triples"}).data
    )
    assert c.delete("/graphs?default", headers=auth(tokens["admin"])).status_code == 200
    r = c.put("/graphs?graph=urn:x-test:indirect", data=nt, headers=auth(tokens["admin"], **h))
    assert r.status_code == 201
    assert kb.store.graph_exists("urn:x-test:indirect")


# --- SPARQL Update ------------------------------------------------------------------------------


def test_sparql_update_is_validated_and_refuses_load_and_service(
    c: FlaskClient, kb: Service, tokens: dict
) -> None:
    h = auth(tokens["steward"], **{"Content-Type": "application/sparql-update"})
    c.put(
        "/graphs/clusters/upd",
        data=CLUSTER,
        headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
    )
    before = digest(kb)
    pc = "https://w3id.org/clusterkb/ns/provinciale-clusters#"
    breaking = f"DELETE WHERE {{ GRAPH <{BASE}graph/clusters/upd> {{ ?c <{pc}runBy> ?o }} }}"
    r = c.post("/update", data=breaking, headers=h)
    assert r.status_code == 422 and r.get_json()["report"]["violations"] >= 1
    insert = f"INSERT {{ GRAPH <{BASE}graph/clusters/upd> {{ ?s ?p ?o }} }}"
    for refused in (
        "LOAD <http://127.0.0.1:9/x.ttl>",
        f"{insert} WHERE {{ SERVICE <http://127.0.0.1:9/> {{ ?s ?p ?o }} }}",
        f"{insert} WHERE {{ \\u0053ERVICE <http://127.0.0.1:9/> {{ ?s ?p ?o }} }}",
        "INSERT DATA { " + "{" * 300 + "}" * 300 + " }",
        "CLEAR XYZ",
    ):
        r = c.post("/update", data=refused, headers=h)
        assert r.status_code == 400, (refused, r.get_json())
    assert (
        c.post("/update", data=breaking, headers={**h, "Content-Type": "text/plain"}).status_code
        == 415
    )
    assert digest(kb) == before
    note = "http://www.w3.org/2004/02/skos/core#note"
    ok = f"DELETE WHERE {{ GRAPH <{BASE}graph/clusters/upd> {{ ?m <{note}> ?n }} }}"
    r = c.post("/update?dry-run=true", data=ok, headers=h)
    assert r.status_code == 200 and digest(kb) == before
    r = c.post("/update", data=ok, headers=h)
    assert r.status_code == 200 and r.get_json()["removed"] > 0
    assert not kb.store.ask(f"ASK {{ GRAPH <{BASE}graph/clusters/upd> {{ ?m <{note}> ?n }} }}")


NOTE = "http://www.w3.org/2004/02/skos/core#note"


def graph_var_forms(mine: str, other: str) -> dict[str, str]:
    """Each update form with ``GRAPH ?g``: notes deleted from, and ``?g`` recorded in, the
    graphs ``?g`` ranges over (issue 18 item 11: it means the graphs the caller may write)."""
    pattern = f"GRAPH ?g {{ ?m <{NOTE}> ?n }}"
    seen = f"GRAPH <{mine}> {{ ?m <urn:x-test:seen-in> ?g }}"
    return {
        "DELETE WHERE": f"DELETE WHERE {{ {pattern} }}",
        "DELETE/INSERT WHERE": f"DELETE {{ {pattern} }} INSERT {{ {seen} }} WHERE {{ {pattern} }}",
        "WITH": f"WITH <{mine}> DELETE {{ {pattern} }} INSERT {{ ?m <urn:x-test:seen-in> ?g }} "
        f"WHERE {{ {pattern} }}",
        "USING NAMED": f"DELETE {{ {pattern} }} INSERT {{ {seen} }} "
        f"USING NAMED <{mine}> USING NAMED <{other}> WHERE {{ {pattern} }}",
    }


def notes_and_seen(select: Any, mine: str, other: str) -> tuple[int, int, set[str]]:
    def count(g: str) -> int:
        q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s <{NOTE}> ?o }} }}"
        return int(select(q)[0]["n"]["value"])

    rows = select(f"SELECT DISTINCT ?o WHERE {{ GRAPH <{mine}> {{ ?s <urn:x-test:seen-in> ?o }} }}")
    return count(mine), count(other), {r["o"]["value"] for r in rows}


@pytest.mark.parametrize("form", list(graph_var_forms("", "")))
def test_graph_var_in_an_update_means_the_graphs_the_caller_may_write(
    c: FlaskClient, kb: Service, tokens: dict, form: str
) -> None:
    mine, other = f"{BASE}graph/clusters/gq-mine", f"{BASE}graph/clusters/gq-other"
    own = TokenStore(kb.settings.tokens_path).create(f"gq {form}", graphs=("clusters/gq-mine",))
    turtle = {"Content-Type": "text/turtle"}
    for path, token in (("clusters/gq-mine", own), ("clusters/gq-other", tokens["admin"])):
        r = c.put(f"/graphs/{path}", data=CLUSTER, headers=auth(token, **turtle))
        assert r.status_code in (200, 201), r.get_json()
    before = notes_and_seen(kb.store.select, mine, other)
    assert before[0] > 0 and before[1] == before[0] and before[2] == set()
    update = graph_var_forms(mine, other)[form]
    r = c.post(
        "/update", data=update, headers=auth(own, **{"Content-Type": "application/sparql-update"})
    )
    assert r.status_code == 200 and r.get_json()["removed"] == before[0], r.get_json()
    after = notes_and_seen(kb.store.select, mine, other)
    assert after == (0, before[1], set() if form == "DELETE WHERE" else {mine})


# --- spreadsheets -------------------------------------------------------------------------------

MEMBERSHIPS = (
    "id,member,cluster,role,start_date,end_date,note_nl,note_en,source\n"
    "test-lid-1,kamp-c,antwerpen-duurzaam-bouwen,overheid,2019,,Lid,Member,https://example.org/a\n"
    "test-lid-2,vito,antwerpen-duurzaam-bouwen,academie,2020-03-01,2022-12-31,,,https://example.org/b\n"
)


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_templates_are_downloadable(c: FlaskClient) -> None:
    from openpyxl import load_workbook

    for kind in ("clusters", "organisations", "memberships", "projects", "partnerships"):
        r = c.get(f"/submissions/templates/{kind}.csv")
        assert r.status_code == 200 and r.data.decode().startswith("id,")
        r = c.get(f"/submissions/templates/{kind}.xlsx")
        wb = load_workbook(io.BytesIO(r.data))
        assert wb.worksheets[0].cell(1, 1).value == "id"
    assert c.get("/submissions/templates/nope.csv").status_code == 404
    page = c.get("/submissions", headers={"Accept": "text/html"}).data.decode()
    assert "sessionStorage" in page and "memberships.xlsx" in page


def test_csv_and_xlsx_memberships_become_rdf(c: FlaskClient, kb: Service, tokens: dict) -> None:
    h = auth(tokens["steward"], **{"Content-Type": "text/csv"})
    r = c.post(
        "/submissions?graph=clusters/sheet-test&kind=memberships", data=MEMBERSHIPS, headers=h
    )
    assert r.status_code == 201, r.get_json()
    g = graph_of(kb, f"{BASE}graph/clusters/sheet-test")
    lid = URIRef(f"{BASE}id/lidmaatschap/test-lid-1")
    assert (
        lid,
        URIRef("http://www.w3.org/ns/org#member"),
        URIRef(f"{BASE}id/organisatie/kamp-c"),
    ) in g
    rows = [line.split(",") for line in MEMBERSHIPS.strip().splitlines()]
    xlsx = _xlsx([[cell or None for cell in row] for row in rows])
    h = auth(
        tokens["steward"],
        **{"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    r = c.post("/submissions?graph=clusters/sheet-test2&kind=memberships", data=xlsx, headers=h)
    assert r.status_code == 201, r.get_json()
    assert isomorphic(graph_of(kb, f"{BASE}graph/clusters/sheet-test2"), g)


@pytest.mark.parametrize(
    ("sheet", "where", "status"),
    [
        ("id,member,cluster\nx,kamp-c,antwerpen-duurzaam-bouwen\n", "missing required column", 400),
        (MEMBERSHIPS.replace("2019", "last year"), "row 2, column E (start_date)", 400),
        (
            MEMBERSHIPS.replace("kamp-c", '=HYPERLINK("http://evil")'),
            "row 2, column B (member)",
            400,
        ),
        (
            MEMBERSHIPS.replace("https://example.org/b", "not a url"),
            "row 3, column I (source)",
            400,
        ),
        (MEMBERSHIPS.replace("kamp-c", "no-such-organisation"), "B (member)", 422),
    ],
)
def test_bad_spreadsheets_say_row_and_column(
    c: FlaskClient, kb: Service, tokens: dict, sheet: str, where: str, status: int
) -> None:
    before = digest(kb)
    h = auth(tokens["steward"], **{"Content-Type": "text/csv"})
    r = c.post("/submissions?graph=clusters/sheet-bad&kind=memberships", data=sheet, headers=h)
    assert r.status_code == status, r.get_json()
    text = json.dumps(r.get_json())
    if status == 422:
        results = r.get_json()["report"]["results"]
        assert any(x.get("row") == 2 and where in (x.get("column") or "") for x in results), results
    else:
        assert where in text
    assert digest(kb) == before


def test_xlsx_formula_is_refused(c: FlaskClient, kb: Service, tokens: dict) -> None:
    rows = [line.split(",") for line in MEMBERSHIPS.strip().splitlines()]
    rows[1][4] = "=YEAR(TODAY())"
    h = auth(
        tokens["steward"],
        **{"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    before = digest(kb)
    r = c.post(
        "/submissions?graph=clusters/sheet-bad&kind=memberships", data=_xlsx(rows), headers=h
    )
    assert r.status_code == 400 and "formula" in r.get_json()["detail"]
    assert "E (start_date)" in r.get_json()["detail"]
    r = c.post(
        "/submissions?graph=clusters/sheet-bad&kind=memberships", data=b"PK\x03\x04junk", headers=h
    )
    assert r.status_code == 400
    assert digest(kb) == before


# --- property: a refused submission leaves the store unchanged -------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=len(CLUSTER) - 1), min_size=1, max_size=4),
    junk=st.binary(min_size=0, max_size=8),
)
def test_property_refused_submission_leaves_store_unchanged(
    c: FlaskClient, kb: Service, tokens: dict, cuts: list[int], junk: bytes
) -> None:
    data = bytearray(CLUSTER)
    for pos in sorted(cuts, reverse=True):
        del data[pos : pos + 40]
        data[pos:pos] = junk
    before = digest(kb)
    r = c.post(
        "/submissions?graph=clusters/property-test",
        data=bytes(data),
        headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
    )
    assert r.status_code < 500
    if r.status_code >= 400:
        assert digest(kb) == before


def test_resource_pages_link_to_the_commits_that_touched_them(
    c: FlaskClient, kb: Service, tokens: dict
) -> None:
    r = c.post(
        "/submissions?graph=clusters/page-link",
        data=CLUSTER,
        headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
    )
    commit = r.get_json()["commit"]
    page = c.get("/id/cluster/antwerpen-duurzaam-bouwen", headers={"Accept": "text/html"})
    assert page.status_code in (200, 303)
    if page.status_code == 303:
        page = c.get(page.headers["Location"], headers={"Accept": "text/html"})
    assert commit.split("/")[-1] in page.data.decode()


def test_a_retried_submission_with_the_same_id_is_stored_once(
    c: FlaskClient, kb: Service, tokens: dict
) -> None:
    h = auth(tokens["steward"], **{"Content-Type": "text/turtle", "Idempotency-Key": "sub-42"})
    extra = b'<id/cluster/x> <http://www.w3.org/2004/02/skos/core#altLabel> "once"@nl .'
    c.put(
        "/graphs/clusters/idem",
        data=CLUSTER,
        headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
    )
    first = c.post("/graphs/clusters/idem", data=extra, headers=h)
    assert first.status_code == 200 and first.get_json()["added"] == 1
    before = digest(kb)
    again = c.post("/graphs/clusters/idem", data=extra, headers=h)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert again.get_json()["commit"] == first.get_json()["commit"]
    assert digest(kb) == before
    other = c.post("/graphs/clusters/idem", data=extra + b"\n", headers=h)
    assert other.status_code == 409
    assert digest(kb) == before


def test_token_guessing_gets_429(app: Flask, c: FlaskClient, tokens: dict) -> None:
    limiter = app.extensions["kb_auth_limiter"]
    limiter.limit = 3
    elsewhere = {"REMOTE_ADDR": "10.9.9.9"}
    try:
        h = {"Content-Type": "text/turtle", "Authorization": "Bearer ckb_guess"}
        codes = [
            c.put("/graphs/clusters/guess", data=CLUSTER, headers=h, environ_base=elsewhere)
            for _ in range(5)
        ]
        assert [r.status_code for r in codes] == [401, 401, 401, 429, 429]
        r = c.put(
            "/graphs/clusters/guess",
            data=CLUSTER,
            headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
            environ_base=elsewhere,
        )
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        ok = c.put(
            "/graphs/clusters/guess?dry-run=true",
            data=CLUSTER,
            headers=auth(tokens["steward"], **{"Content-Type": "text/turtle"}),
        )
        assert ok.status_code == 200  # other addresses are not affected
    finally:
        limiter.limit = 0


@pytest.mark.parametrize(
    ("media_type", "fmt"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_every_rdf_syntax_is_accepted(
    c: FlaskClient, tokens: dict, media_type: str, fmt: str
) -> None:
    g = Graph().parse(data=CLUSTER, format="turtle", publicID=BASE)
    # triples in the default graph: N-Triples is N-Quads, Turtle is TriG
    body = g.serialize(format={"nquads": "nt", "trig": "turtle"}.get(fmt, fmt))
    r = c.post(
        "/submissions?graph=clusters/syntaxes&dry-run=true",
        data=body,
        headers=auth(tokens["steward"], **{"Content-Type": media_type}),
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["report"]["accepted"] and r.get_json()["added"] == len(g)
