"""The web app, through the Flask test client and through a real ``kb serve`` process."""

from __future__ import annotations

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.support.counts import CLUSTERS
from tests.support.kbserve import KbServe as LiveServer

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def test_index_lists_every_cluster(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.data.count(b'href="/id/cluster/') == CLUSTERS


def test_health(client: FlaskClient) -> None:
    body = client.get("/health").get_json()
    assert body["status"] == "ok"


@pytest.mark.parametrize("method", ["get", "post-form", "post-direct"])
def test_sparql_methods(client: FlaskClient, method: str) -> None:
    if method == "get":
        r = client.get("/sparql", query_string={"query": COUNT})
    elif method == "post-form":
        r = client.post("/sparql", data={"query": COUNT})
    else:
        r = client.post("/sparql", data=COUNT, content_type="application/sparql-query")
    assert r.status_code == 200
    assert int(r.get_json()["results"]["bindings"][0]["n"]["value"]) > 1000


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "SERVICE"),
        ("INSERT DATA { <http://a> <http://b> <http://c> }", "updates are not accepted"),
        ("SELECT * WHERE " + "{" * 2000 + "}" * 2000, "nested"),
        ("SELECT * WHERE { ?s ?p }", "syntax error"),
    ],
)
def test_refused_queries_are_400_json(client: FlaskClient, query: str, words: str) -> None:
    r = client.post("/sparql", data={"query": query})
    assert r.status_code == 400
    assert r.get_json()["error"] == "query_rejected"
    assert words in r.get_json()["detail"]
    assert client.get("/health").status_code == 200


def test_oversized_bodies_are_413(client: FlaskClient) -> None:
    r = client.post(
        "/sparql", data=b"x" * (17 * 1024 * 1024), content_type="application/sparql-query"
    )
    assert r.status_code == 413


def test_unknown_route_is_404_json(client: FlaskClient) -> None:
    r = client.get("/nope")
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"


def test_live_server_serves_the_bundled_knowledge_base(live_server: LiveServer) -> None:
    page = requests.get(live_server.url, timeout=10)
    assert page.status_code == 200
    assert b'href="/id/cluster/' in page.content  # the persistent IRIs, answered here by path
    r = requests.post(
        live_server.url + "sparql",
        data={"query": COUNT},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) > 1000
    deep = requests.post(
        live_server.url + "sparql",
        data={"query": "SELECT * WHERE " + "{" * 5000 + "}" * 5000},
        timeout=10,
    )
    assert deep.status_code == 400
    assert requests.get(live_server.url + "health", timeout=5).json()["status"] == "ok"
    assert live_server.proc.poll() is None


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (None, False),
        ("text/html;q=0.5, application/json;q=0.5", False),  # a tie: JSON
        ("text/*;q=0.1, text/html", True),  # the most specific range decides
        ("application/json;q=0.2, text/html;q=0.9", True),
        ("text/html;q=0, */*", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # a browser
    ],
)
def test_error_pages_and_steward_reports_rank_accept_alike(
    client: FlaskClient, accept: str | None, html: bool
) -> None:
    """One Accept ranking (server.accept.preferred) for error pages and submission reports."""
    headers = {"Accept": accept} if accept else {}
    missing = client.get("/no-such-page", headers=headers)
    assert missing.status_code == 404
    assert missing.mimetype == ("text/html" if html else "application/json")
    refused = client.put("/graphs/clusters/x", data=b"x", headers=headers)  # no token
    assert refused.status_code == 401
    assert refused.mimetype == ("text/html" if html else "application/json")


def test_every_error_of_every_route_has_one_shape(app: Flask, client: FlaskClient) -> None:
    """In the style of Datasette's error-shape test: every route, every method, with garbage
    for a body and an unknown thing for each path argument; every error answer is the JSON
    object {"error", "detail", ...} for a JSON client and an HTML page for a browser."""
    import re

    checked: dict[int, int] = {}
    wrong = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:path:)?[^>]+>", "no-such-thing", rule.rule)
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            for accept in ("application/json", "text/html"):
                r = client.open(
                    path,
                    method=method,
                    headers={"Accept": accept},
                    data=b"\x00garbage",
                    content_type="application/x-nothing",
                )
                if r.status_code < 400:
                    continue
                checked[r.status_code] = checked.get(r.status_code, 0) + 1
                if accept == "text/html":
                    ok = r.mimetype == "text/html" and b"<html" in r.data.lower()
                else:
                    body = r.get_json(silent=True)
                    ok = isinstance(body, dict) and {"error", "detail"} <= set(body)
                    ok = ok and r.mimetype == "application/json"
                if not ok:
                    wrong.append((rule.rule, method, accept, r.status_code, r.data[:100]))
    assert wrong == []
    # the sweep meets the error kinds it is about
    assert {400, 401, 404, 405, 415} <= set(checked), checked
    assert sum(checked.values()) > 200, checked
