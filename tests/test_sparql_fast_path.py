"""The GET fast path of ``/sparql`` (:class:`server.sparql.QueryFastPath`): it answers exactly as
the Flask view does — status, headers and body, for answers and for errors — and it is the way
a GET query goes (Flask's request hooks do not run for it)."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.test import Client, TestResponse

from kb.service import Service
from kb.store import SparqlHttpStore
from server import create_app
from tests.conftest import BASE
from tests.support.apps import CONSTRUCT, SELECT, app_with

CASES = [
    ({"query": SELECT}, {"Accept": "application/sparql-results+json"}),
    ({"query": SELECT}, {"Accept": "text/csv;q=0.9, application/sparql-results+xml;q=0.5"}),
    ({"query": SELECT}, {"Accept": "text/tab-separated-values"}),
    ({"query": SELECT, "format": "xml"}, {}),
    ({"query": SELECT + " LIMIT 2"}, {"Accept": "*/*"}),
    ({"query": CONSTRUCT}, {"Accept": "text/turtle"}),
    ({"query": CONSTRUCT}, {"Accept": "application/ld+json"}),
    ({"query": "ASK { ?s ?p ?o }"}, {}),
    ({"query": SELECT, "default-graph-uri": f"{BASE}graph/no-such-graph"}, {}),
    ({"query": SELECT}, {"Accept": "application/x-nothing-offered"}),  # 406
    ({"query": SELECT, "format": "nope"}, {}),  # 400: unknown format
    ({"query": "SELECT * WHERE { ?s ?p }"}, {}),  # 400: syntax
    ({"query": "DROP ALL"}, {}),  # 400: an update
    ({"query": "SELECT * WHERE { SERVICE <http://evil.example/> { ?s ?p ?o } }"}, {}),
    ({"query": "   "}, {}),  # 400: empty
    ({"query": SELECT}, {"Accept": "text/html"}),  # the query UI (Flask's)
]


@pytest.fixture(scope="module")
def uncached(service: Service) -> Flask:
    """An app without the result cache, so that both ways answer every request afresh."""
    return app_with(service, cache_bytes=0, max_rows=30)


def both(app: Flask, query: dict[str, str], headers: dict[str, str]) -> Iterator[TestResponse]:
    """The response through the app (the fast path first) and through the Flask view alone."""
    for wsgi in (app, app.wsgi_app.inner):  # type: ignore[attr-defined]
        yield Client(wsgi).get("/sparql", query_string=query, headers=headers)


def same(a: TestResponse, b: TestResponse) -> None:
    assert a.status == b.status
    assert sorted(a.headers.items()) == sorted(b.headers.items())
    assert a.get_data() == b.get_data()


@pytest.mark.parametrize(("query", "headers"), CASES)
def test_the_fast_path_answers_as_the_view_does(
    uncached: Flask, query: dict[str, str], headers: dict[str, str]
) -> None:
    fast, view = both(uncached, query, headers)
    same(fast, view)


def test_a_store_failure_is_drawn_as_the_view_draws_it(service: Service) -> None:
    clone = copy.copy(service)
    clone._store = SparqlHttpStore("http://127.0.0.1:9/sparql", timeout=2)  # nothing listens
    app = create_app(service=clone)
    fast, view = both(app, {"query": SELECT}, {"Accept": "application/sparql-results+json"})
    assert fast.status_code == 503
    assert fast.json is not None and "cannot reach the store" in fast.json["detail"]
    assert fast.headers["Access-Control-Allow-Origin"] == "*"
    same(fast, view)


def test_get_queries_take_the_fast_path_and_the_rest_flask(service: Service) -> None:
    app = create_app(service=service)
    seen: list[str] = []

    @app.before_request
    def _count() -> None:
        from flask import request

        seen.append(f"{request.method} {request.path}")

    client = Client(app)
    assert client.get("/sparql", query_string={"query": SELECT}).status_code == 200
    assert seen == []  # not through Flask
    assert client.get("/sparql", query_string={"query": "SELECT"}).status_code == 400
    assert seen == []  # its error drawn by the app's error handlers, still without the hooks
    client.post("/sparql", data={"query": SELECT})
    client.get("/sparql", headers={"Accept": "text/turtle"})
    client.head("/sparql", query_string={"query": SELECT})
    client.get("/health")
    assert seen == ["POST /sparql", "GET /sparql", "HEAD /sparql", "GET /health"]
