"""Fixtures: settings over temporary folders, a started knowledge base, the app, its client,
the CLI runner, and a real ``kb serve`` process. Nothing is built at import time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from kb.config import Settings, load_settings
from kb.service import Service
from server import create_app
from tests.support.canary import Canary

BASE = "http://localhost:8080/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"store": str(tmp_path / "store"), "base": BASE}, environ={})


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
    svc = Service(load_settings({"store": str(store), "base": BASE}, environ=remote_store_env))
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
    monkeypatch.setenv("KB_BASE", BASE)
    return CliRunner()


@pytest.fixture
def canary() -> Iterator[Canary]:
    """A loopback listener that must see no connection (nothing is ever fetched)."""
    c = Canary()
    yield c
    c.close()


class LiveServer:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.proc = proc
        self.log = log


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, remote_store_env: dict[str, str]
) -> Iterator[LiveServer]:
    """``kb serve`` as a user runs it: its own process, a real port, the bundled data (in the
    store under test)."""
    folder = tmp_path_factory.mktemp("live")
    port = free_port()
    log = folder / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")} | remote_store_env
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kb",
                "serve",
                "--store",
                str(folder / "store"),
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://localhost:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            pytest.fail(f"kb serve exited: {log.read_text()}")
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"kb serve did not start: {log.read_text()}")
    yield LiveServer(url, proc, log)
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
