"""Fixtures: settings over temporary folders, a started knowledge base, the app, its client,
the CLI runner, and a real ``kb serve`` process. Nothing is built at import time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from kb.config import Settings, load_settings
from kb.namespaces import KB_NS
from kb.service import Service
from server import create_app
from tests.support.canary import Canary
from tests.support.kbserve import KbServe, start_kb_serve

BASE = KB_NS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"store": str(tmp_path / "store"), "namespace": BASE}, environ={})


#: Which store the app-level tests run against: ``oxigraph`` (the embedded default) or
#: ``virtuoso`` (a private Virtuoso 7 on loopback, reached as a remote SPARQL server).
#: `.ci/run` runs the suite once with each.
BACKEND = os.environ.get("KB_TEST_STORE", "oxigraph")


@pytest.fixture(scope="session")
def remote_store_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """KB_* settings of a private Virtuoso when the suite runs against Virtuoso, else {}."""
    if BACKEND != "virtuoso":
        yield {}
        return
    from tests.support import virtuoso

    if not virtuoso.available():
        pytest.fail("KB_TEST_STORE=virtuoso but virtuoso-opensource is not installed")
    server = virtuoso.Virtuoso(tmp_path_factory.mktemp("virtuoso"), timeout_s=30)
    server.start()
    yield {
        "KB_STORE_QUERY_URL": server.sparql_url,
        "KB_STORE_UPDATE_URL": f"http://127.0.0.1:{server.http_port}/sparql-auth",
        "KB_STORE_GSP_URL": f"http://127.0.0.1:{server.http_port}/sparql-graph-crud-auth",
        "KB_STORE_USER": "dba",
        "KB_STORE_PASSWORD": server.password,
    }
    server.stop()


@pytest.fixture(scope="session")
def service(
    tmp_path_factory: pytest.TempPathFactory, remote_store_env: dict[str, str]
) -> Iterator[Service]:
    """The bundled knowledge base in the store under test, shared by read-only tests."""
    store = tmp_path_factory.mktemp("kb") / "store"
    svc = Service(load_settings({"store": str(store), "namespace": BASE}, environ=remote_store_env))
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def app(service: Service) -> Flask:
    application = create_app(service=service)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KB_STORE", str(tmp_path / "cli-store"))
    monkeypatch.setenv("KB_NAMESPACE", BASE)
    return CliRunner()


@pytest.fixture
def canary() -> Iterator[Canary]:
    """A loopback listener that must see no connection (nothing is ever fetched)."""
    c = Canary()
    yield c
    c.close()


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, remote_store_env: dict[str, str]
) -> Iterator[KbServe]:
    """``kb serve`` as a user runs it: its own process, a real port, the bundled data (in the
    store under test)."""
    settings = {key.removeprefix("KB_").lower(): value for key, value in remote_store_env.items()}
    server = start_kb_serve(tmp_path_factory.mktemp("live"), settings)
    yield server
    server.stop()
