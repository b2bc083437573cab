"""The Reconciliation Service API 0.2 at ``/reconcile``: every answer validates against the
standard's JSON Schema, names are found regardless of case, accents, word order, legal form
and language, ``match`` is given only when unambiguous, and bad requests get a 400 naming the
part — through the test client and a real ``kb serve``, on the store under test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from kb.linking import schemas
from kb.linking.names import key, variants
from kb.linking.reconcile import MAX_BATCH
from kb.namespaces import KB_NS
from kb.service import Service
from tests.support.kbserve import KbServe

EXAMPLES = Path(__file__).parent / "conformance" / "reconciliation-0.2" / "examples"
ORG = "http://www.w3.org/ns/org#Organization"
CLUSTER_TYPE = "https://w3id.org/clusterkb/ns/provinciale-clusters#ProvincialCluster"
LOCATION = "http://purl.org/dc/terms/Location"
KU_LEUVEN = "https://ror.org/05f950310"
VITO = KB_NS + "id/organisatie/vito"
BLUE_CLUSTER = KB_NS + "id/organisatie/de-blauwe-cluster"
ANTWERP = "http://data.europa.eu/nuts/code/BE21"
CLUSTER = KB_NS + "id/cluster/antwerpen-duurzaam-bouwen"


def _examples(kind: str, validity: str) -> list[Path]:
    return sorted((EXAMPLES / kind / validity).glob("*.json"))


def reconcile(client: FlaskClient, batch: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = client.post("/reconcile", data={"queries": json.dumps(batch)}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert schemas.problem("reconciliation-result-batch", body) is None
    return body


def top(client: FlaskClient, name: str, **query: Any) -> dict[str, Any]:
    result = reconcile(client, {"q": {"query": name, **query}})["q"]["result"]
    assert result, f"no candidate for {name!r}"
    found: dict[str, Any] = result[0]
    return found


# --- the standard's schemas and examples --------------------------------------------------


@pytest.mark.parametrize("kind", schemas.KINDS)
def test_the_standards_examples_pass_and_fail_its_schemas(kind: str) -> None:
    valid, invalid = _examples(kind, "valid"), _examples(kind, "invalid")
    assert valid or invalid, f"no examples for {kind}"
    for path in valid:
        assert schemas.problem(kind, json.loads(path.read_text())) is None, path.name
    for path in invalid:
        assert schemas.problem(kind, json.loads(path.read_text())) is not None, path.name


@pytest.mark.parametrize("path", _examples("reconciliation-query-batch", "invalid"), ids=str)
def test_the_invalid_query_examples_are_refused_with_400(client: FlaskClient, path: Path) -> None:
    response = client.post("/reconcile", data={"queries": path.read_text()})
    assert response.status_code == 400
    assert response.get_json()["where"].startswith("queries")


def test_the_manifest_validates_and_points_at_this_server(client: FlaskClient) -> None:
    response = client.get("/reconcile")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    manifest = response.get_json()
    assert schemas.problem("manifest", manifest) is None
    assert manifest["versions"] == ["0.2"]
    assert manifest["identifierSpace"] == KB_NS + "id/"
    assert manifest["view"]["url"] == "http://localhost/resource?iri={{id}}"
    assert manifest["suggest"]["entity"]["service_url"] == "http://localhost/reconcile"
    english = client.get("/reconcile", headers={"Accept-Language": "en"}).get_json()
    assert english["defaultTypes"][0]["name"] == "organisation"


def test_jsonp_only_with_a_javascript_identifier(client: FlaskClient) -> None:
    ok = client.get("/reconcile?callback=jQuery_12.cb")
    assert ok.mimetype == "text/javascript"
    assert ok.get_data(as_text=True).startswith("/**/jQuery_12.cb({")
    bad = client.get("/reconcile?callback=alert(1)//")
    assert bad.status_code == 400 and bad.get_json()["where"] == "callback"


def test_a_browser_gets_the_help_page_with_the_url_to_paste(client: FlaskClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = client.get("/reconcile", headers={"Accept": browser})
    assert page.mimetype == "text/html"
    assert "http://localhost/reconcile</code>" in page.get_data(as_text=True)
    assert client.get("/reconcile?format=json", headers={"Accept": browser}).is_json
    assert client.get("/reconcile", headers={"Accept": "*/*"}).is_json  # OpenRefine's Java


# --- matching -------------------------------------------------------------------------------


def test_keys_ignore_case_accents_word_order_punctuation_and_legal_form() -> None:
    assert key("Umicore NV") == key("N.V. umicore") == key("UMICORE")
    assert key("Université de Gand") == key("universite gand de")
    assert key("Sioen Industries nv") == key("industries, SIOEN")
    assert key("nv") == "nv"  # a legal form alone is kept
    assert variants("Vereniging van de Vlaamse Provincies (VVP)") == {
        key("Vereniging van de Vlaamse Provincies (VVP)"),
        key("Vereniging van de Vlaamse Provincies"),
        "vvp",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("KU Leuven", KU_LEUVEN),
        ("ku leuven", KU_LEUVEN),
        ("Leuven KU", KU_LEUVEN),  # word order
        ("KU Lueven", KU_LEUVEN),  # a typo
        ("KÜ Lëuven", KU_LEUVEN),  # accents the name does not have
        ("VITO", VITO),  # the part in parentheses
        ("Vlaamse Instelling voor Technologisch Onderzoek", VITO),
        ("de blauwe cluster", BLUE_CLUSTER),
        ("The Blue Cluster", BLUE_CLUSTER),  # its English label
    ],
)
def test_organisations_are_found_by_name(client: FlaskClient, name: str, expected: str) -> None:
    assert top(client, name, type=ORG)["id"] == expected


def test_an_exact_unambiguous_name_is_a_match_and_a_typo_is_not(client: FlaskClient) -> None:
    exact = top(client, "KU Leuven", type=ORG)
    assert exact["match"] is True and exact["score"] == 100
    assert exact["type"][0] == {"id": ORG, "name": "organisatie"}
    assert {"id": "name_similarity", "value": 100.0} in exact["features"]
    typo = top(client, "Kuu Leuvn", type=ORG)
    assert typo["id"] == KU_LEUVEN and typo["match"] is False


def test_two_entities_of_one_name_are_no_match_until_the_type_decides(
    client: FlaskClient,
) -> None:
    # "Provincie Antwerpen" names the NUTS region and the provincial government
    result = reconcile(client, {"q": {"query": "Provincie Antwerpen"}})["q"]["result"]
    assert result[0]["score"] == result[1]["score"] == 100
    assert not any(c["match"] for c in result)
    region = top(client, "Provincie Antwerpen", type=LOCATION)
    assert region["id"] == ANTWERP and region["match"] is True
    english = top(client, "Province of Antwerp", type=LOCATION)
    assert english["id"] == ANTWERP


def test_properties_weigh_in_and_are_reported_as_features(client: FlaskClient) -> None:
    agreeing = top(
        client,
        "Provincie Antwerpen",
        type=ORG,
        properties=[{"pid": "region", "v": "BE21"}],
    )
    assert agreeing["id"] == KB_NS + "id/organisatie/provincie-antwerpen"
    assert {"id": "property_region", "value": True} in agreeing["features"]
    assert agreeing["match"] is True
    disagreeing = top(
        client, "KU Leuven", type=ORG, properties=[{"pid": "region", "v": "Provincie Limburg"}]
    )
    assert disagreeing["id"] == KU_LEUVEN
    assert {"id": "property_region", "value": False} in disagreeing["features"]
    assert disagreeing["match"] is False and disagreeing["score"] == 70


def test_a_query_by_enterprise_number_alone(client: FlaskClient) -> None:
    for number in ("0419.052.173", "0419052173", "BE 0419 052 173"):
        batch = {"q": {"properties": [{"pid": "enterprise_number", "v": number}]}}
        result = reconcile(client, batch)["q"]["result"]
        assert [c["id"] for c in result] == [KU_LEUVEN], number
        assert result[0]["match"] is True


def test_a_batch_answers_every_query_with_its_own_limit_and_type(client: FlaskClient) -> None:
    batch = {
        f"q{i}": {"query": name, "limit": 2, "type": [ORG, CLUSTER_TYPE], "type_strict": "any"}
        for i, name in enumerate(["KU Leuven", "VITO", "duurzaam bouwen", "imec"])
    }
    body = reconcile(client, batch)
    assert set(body) == set(batch)
    assert all(len(answer["result"]) <= 2 for answer in body.values())
    assert body["q2"]["result"][0]["id"] == CLUSTER
    nothing = reconcile(client, {"q": {"query": "zzzzqqqq xxyy", "type": ORG}})
    assert nothing == {"q": {"result": []}}


def test_the_index_follows_every_commit(client: FlaskClient, service: Service) -> None:
    store = service.store
    graph = KB_NS + "graph/test-reconcile"
    iri = KB_NS + "id/organisatie/test-reconcile-zwaluw"
    top(client, "KU Leuven")  # the index is built
    store.update(
        f"INSERT DATA {{ GRAPH <{graph}> {{ <{iri}> a <http://www.w3.org/ns/org#FormalOrganization>"
        ' ; <http://www.w3.org/2004/02/skos/core#prefLabel> "Zwaluwstaart Métaalbewerking"@nl } }'
    )
    try:  # found at once, accents or not
        found = top(client, "zwaluwstaart metaalbewerking", type=ORG)
        assert found["id"] == iri and found["match"] is True
    finally:
        store.update(f"DROP SILENT GRAPH <{graph}>")
    result = reconcile(client, {"q": {"query": "Zwaluwstaart Metaalbewerking", "type": ORG}})
    assert iri not in [c["id"] for c in result["q"]["result"]]


# --- suggest, preview, data extension --------------------------------------------------------


def test_suggest_completes_names_types_and_properties(client: FlaskClient) -> None:
    entities = client.get("/reconcile/suggest/entity?prefix=prov antw").get_json()
    assert schemas.problem("suggest-entities-response", entities) is None
    assert KB_NS + "id/organisatie/provincie-antwerpen" in [e["id"] for e in entities["result"]]
    typed = client.get(f"/reconcile/suggest/entity?prefix=antw&type={LOCATION}").get_json()
    assert [e["id"] for e in typed["result"]] == [ANTWERP]
    second = client.get("/reconcile/suggest/entity?prefix=prov&cursor=1").get_json()
    first = client.get("/reconcile/suggest/entity?prefix=prov").get_json()
    assert second["result"][0] == first["result"][1]
    types = client.get("/reconcile/suggest/type?prefix=clus").get_json()
    assert schemas.problem("suggest-types-response", types) is None
    assert CLUSTER_TYPE in [t["id"] for t in types["result"]]
    props = client.get("/reconcile/suggest/property?prefix=ondernem").get_json()
    assert schemas.problem("suggest-properties-response", props) is None
    assert [p["id"] for p in props["result"]] == ["enterprise_number"]


def test_the_preview_card_shows_the_entity(client: FlaskClient) -> None:
    card = client.get(f"/reconcile/preview?id={KU_LEUVEN}&lang=en")
    assert card.status_code == 200 and card.mimetype == "text/html"
    html = card.get_data(as_text=True)
    assert "<h1>KU Leuven</h1>" in html and "province or region" in html
    assert client.get("/reconcile/preview?id=http://nowhere.test/x").status_code == 404
    assert client.get("/reconcile/preview").status_code == 400


def test_data_extension_fetches_province_sector_identifiers_and_members(
    client: FlaskClient,
) -> None:
    proposal = client.get("/reconcile/properties", query_string={"type": ORG, "limit": 3}).json
    assert schemas.problem("data-extension-property-proposal", proposal) is None
    assert len(proposal["properties"]) == 3 and proposal["type"] == ORG
    wanted = ["region", "sector", "same_as", "enterprise_number", "members", "website"]
    query = {"ids": [KU_LEUVEN, CLUSTER, "http://nowhere.test/x"]}
    query["properties"] = [{"id": p} for p in wanted]  # type: ignore[misc]
    response = client.post("/reconcile", data={"extend": json.dumps(query)})
    assert response.status_code == 200
    body = response.get_json()
    assert schemas.problem("data-extension-response", body) is None
    assert [m["id"] for m in body["meta"]] == wanted
    ku = body["rows"][KU_LEUVEN]
    assert {"id": "http://data.europa.eu/nuts/code/BE24", "name": "Provincie Vlaams-Brabant"} in (
        ku["region"]
    )
    assert ku["enterprise_number"] == [{"str": "0419.052.173"}]
    assert "https://org.belgif.be/id/CbeRegisteredEntity/0419052173" in [
        v["id"] for v in ku["same_as"]
    ]
    cluster = body["rows"][CLUSTER]
    assert {"id": ANTWERP, "name": "Provincie Antwerpen"} in cluster["region"]
    assert KB_NS + "id/organisatie/kamp-c" in [v["id"] for v in cluster["members"]]
    assert body["rows"]["http://nowhere.test/x"] == {p: [] for p in wanted}
    limited = {"ids": [CLUSTER], "properties": [{"id": "members", "settings": {"limit": "2"}}]}
    one = client.post("/reconcile", data={"extend": json.dumps(limited)}).get_json()
    assert len(one["rows"][CLUSTER]["members"]) == 2


# --- bad requests --------------------------------------------------------------------------


BAD_BATCHES = {
    "malformed JSON": ('{"q0": {"query": "KU Leuven"', "queries"),
    "not an object": ('["KU Leuven"]', "queries.(top level)"),
    "too many queries": (
        json.dumps({f"q{i}": {"query": "x"} for i in range(10_000)}),
        "queries",
    ),
    "1 MB query string": (json.dumps({"q": {"query": "x" * 1_000_000}}), "queries"),
    "long name": (json.dumps({"q": {"query": "x" * 5_000}}), "queries.q.query"),
    "unknown type": (json.dumps({"q": {"query": "x", "type": "Person"}}), "queries.q.type"),
    "unknown property": (
        json.dumps({"q": {"query": "x", "properties": [{"pid": "shoe_size", "v": 42}]}}),
        "queries.q.properties.0.pid",
    ),
    "negative limit": (json.dumps({"q": {"query": "x", "limit": -1}}), "queries.q.limit"),
    "empty batch": ("{}", "queries"),
    "blank name": (json.dumps({"q": {"query": "  "}}), "queries.q"),
}


@pytest.mark.parametrize("case", BAD_BATCHES)
def test_bad_batches_get_a_400_naming_the_part(client: FlaskClient, case: str) -> None:
    text, where = BAD_BATCHES[case]
    response = client.post("/reconcile", data={"queries": text})
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "bad_request" and body["where"] == where
    assert body["detail"]


def test_the_batch_limit_is_what_the_service_allows(client: FlaskClient) -> None:
    full = {f"q{i}": {"query": "KU Leuven", "limit": 1} for i in range(MAX_BATCH)}
    assert len(reconcile(client, full)) == MAX_BATCH


def test_bad_extension_and_suggest_requests_get_a_400(client: FlaskClient) -> None:
    cases = [
        client.post("/reconcile", data={"extend": "{"}),
        client.post("/reconcile", data={"extend": json.dumps({"ids": []})}),
        client.post(
            "/reconcile",
            data={"extend": json.dumps({"ids": ["x y"], "properties": [{"id": "region"}]})},
        ),
        client.post(
            "/reconcile",
            data={"extend": json.dumps({"ids": [CLUSTER], "properties": [{"id": "nope"}]})},
        ),
        client.post("/reconcile", data={"nothing": "here"}),
        client.get("/reconcile/suggest/entity?prefix=" + "a" * 5000),
        client.get("/reconcile/suggest/entity?prefix=a&cursor=-1"),
        client.get("/reconcile/suggest/entity?prefix=a&type=Person"),
        client.get("/reconcile/properties?limit=lots"),
    ]
    for response in cases:
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["error"] == "bad_request"


# --- a real server ----------------------------------------------------------------------------


def test_a_real_server_speaks_the_protocol_over_http(live_server: KbServe) -> None:
    url = live_server.url + "reconcile"
    manifest = requests.get(url, timeout=30).json()
    assert schemas.problem("manifest", manifest) is None
    assert manifest["view"]["url"] == live_server.url + "resource?iri={{id}}"
    batch = {"q0": {"query": "KU Leuvn", "type": ORG}, "q1": {"query": "imec"}}
    posted = requests.post(url, data={"queries": json.dumps(batch)}, timeout=30)
    assert posted.status_code == 200
    body = posted.json()
    assert schemas.problem("reconciliation-result-batch", body) is None
    assert body["q0"]["result"][0]["id"] == KU_LEUVEN
    got = requests.get(url, params={"queries": json.dumps(batch)}, timeout=30).json()
    assert got == body
    huge = requests.post(url, data={"queries": "x" * 1_000_000}, timeout=30)
    assert huge.status_code == 400
    view = manifest["view"]["url"].replace("{{id}}", KU_LEUVEN)
    assert requests.get(view, timeout=30).status_code == 200
    assert requests.get(url, timeout=30).status_code == 200  # the server keeps serving
