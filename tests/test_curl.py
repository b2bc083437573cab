"""The libcurl query transport (kb.store.curl) against real HTTP servers on loopback that
misbehave on purpose: silent, stalling, cut short, redirecting, asking for credentials."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kb.errors import QueryTimeout, StoreError, StoreUnavailable
from kb.store import SparqlHttpStore
from kb.store.curl import CurlPool

FORM = ("Content-Type: application/x-www-form-urlencoded",)
Handler = Callable[[BaseHTTPRequestHandler, bytes], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], str]]:
    """Start a loopback HTTP server whose POSTs ``handle(request, body)`` answers."""
    servers: list[ThreadingHTTPServer] = []

    def start(handle: Handler) -> str:
        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                handle(self, body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/sparql"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def answer(request: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    request.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **headers}.items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(body)


def test_the_body_and_headers_arrive_and_connections_are_kept(
    serve: Callable[[Handler], str],
) -> None:
    peers: set[tuple[str, int]] = set()

    def echo(request: BaseHTTPRequestHandler, body: bytes) -> None:
        peers.add(request.client_address)
        answer(request, 200, b"got " + body, **{"Content-Type": "text/plain", "X-Test": "yes"})

    url = serve(echo)
    pool = CurlPool()
    for i in range(5):
        reply = pool.post(url, b"query=%d" % i, FORM, read_timeout=5)
        assert reply.status_code == 200
        assert reply.headers.get("content-type") == "text/plain"
        assert reply.headers["X-TEST"] == "yes"
        assert reply.read() == b"got query=%d" % i
    assert len(peers) == 1  # one kept-alive connection for the five queries
    pool.close()


def test_a_silent_server_is_a_timeout_not_a_hang(serve: Callable[[Handler], str]) -> None:
    release = threading.Event()
    url = serve(lambda request, body: release.wait(30))
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="did not answer in time"):
        CurlPool().post(url, b"query=x", FORM, read_timeout=1)
    assert time.monotonic() - started < 5
    release.set()


def test_an_answer_that_stalls_half_way_is_a_timeout(serve: Callable[[Handler], str]) -> None:
    release = threading.Event()

    def stall(request: BaseHTTPRequestHandler, body: bytes) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "100000")
        request.end_headers()
        request.wfile.write(b"x" * 1000)
        request.wfile.flush()
        release.wait(30)

    reply = CurlPool().post(serve(stall), b"query=x", FORM, read_timeout=1)
    assert reply.status_code == 200
    with pytest.raises(QueryTimeout):
        reply.read()
    release.set()


def test_an_answer_cut_short_is_an_error_not_a_short_result(
    serve: Callable[[Handler], str],
) -> None:
    def cut(request: BaseHTTPRequestHandler, body: bytes) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "100000")
        request.end_headers()
        request.wfile.write(b"x" * 1000)
        request.close_connection = True

    with pytest.raises(StoreUnavailable, match="stopped answering"):
        CurlPool().post(serve(cut), b"query=x", FORM, read_timeout=5).read()


def test_a_closed_port_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="cannot reach the store"):
        CurlPool().post("http://127.0.0.1:9/sparql", b"query=x", FORM, read_timeout=5)


def test_the_body_streams_before_the_server_has_sent_it_all(
    serve: Callable[[Handler], str],
) -> None:
    first_read = threading.Event()

    def slow(request: BaseHTTPRequestHandler, body: bytes) -> None:
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for part in (b"a" * 70000, b"b" * 70000):
            request.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            request.wfile.flush()
            assert first_read.wait(10)  # the rest only once the client has the first part
        request.wfile.write(b"0\r\n\r\n")

    reply = CurlPool().post(serve(slow), b"query=x", FORM, read_timeout=5)
    pieces = reply.iter_content()
    got = next(pieces)
    assert got and set(got) == {ord("a")}
    first_read.set()
    assert got + b"".join(pieces) == b"a" * 70000 + b"b" * 70000


def test_an_answer_dropped_unread_does_not_reach_the_next_query(
    serve: Callable[[Handler], str],
) -> None:
    def big(request: BaseHTTPRequestHandler, body: bytes) -> None:
        answer(request, 200, body * 200_000)

    url = serve(big)
    pool = CurlPool(keep=1)  # one handle: the next query reuses it
    first = pool.post(url, b"A", FORM, read_timeout=5)
    next(first.iter_content())
    first.close()
    assert pool.post(url, b"B", FORM, read_timeout=5).read() == b"B" * 200_000


def test_a_redirect_is_followed_with_the_query(serve: Callable[[Handler], str]) -> None:
    target = serve(lambda request, body: answer(request, 200, b"moved: " + body))

    def moved(request: BaseHTTPRequestHandler, body: bytes) -> None:
        answer(request, 301, b"", Location=target)

    assert CurlPool().post(serve(moved), b"query=x", FORM, read_timeout=5).read() == (
        b"moved: query=x"
    )


def test_basic_credentials_go_with_every_query(serve: Callable[[Handler], str]) -> None:
    token = "Basic " + base64.b64encode(b"reader:s3cret").decode()

    def guarded(request: BaseHTTPRequestHandler, body: bytes) -> None:
        ok = request.headers.get("Authorization") == token
        answer(request, 200 if ok else 401, b"ok" if ok else b"no")

    url = serve(guarded)
    assert CurlPool(user="reader", password="s3cret").post(url, b"q", FORM, read_timeout=5).read()
    assert CurlPool().post(url, b"q", FORM, read_timeout=5).status_code == 401
    wrong = CurlPool(user="reader", password="wrong").post(url, b"q", FORM, read_timeout=5)
    assert wrong.status_code == 401


def test_digest_credentials_wait_for_a_challenge(serve: Callable[[Handler], str]) -> None:
    """An anonymous query URL gets the query, not libcurl's empty first pass of a digest
    exchange (which Virtuoso's /sparql answers with a 406)."""
    seen: list[tuple[str | None, bytes]] = []

    def anonymous(request: BaseHTTPRequestHandler, body: bytes) -> None:
        seen.append((request.headers.get("Authorization"), body))
        answer(request, 200, body)

    pool = CurlPool(user="dba", password="pw", digest=True)
    url = serve(anonymous)
    for _ in range(2):
        assert pool.post(url, b"query=x", FORM, read_timeout=5).read() == b"query=x"
    assert seen == [(None, b"query=x")] * 2
    assert not pool.with_credentials


def test_proxy_settings_in_the_environment_are_ignored(
    serve: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxied: list[bytes] = []
    proxy = serve(lambda request, body: (proxied.append(body), answer(request, 502, b""))[1])
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.removesuffix("/sparql"))
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    url = serve(lambda request, body: answer(request, 200, b"direct"))
    assert CurlPool().post(url, b"q", FORM, read_timeout=5).read() == b"direct"
    assert proxied == []


def test_a_cancelled_answer_is_a_timeout_and_its_message_never_data(
    serve: Callable[[Handler], str],
) -> None:
    """Oxigraph ends an answer its time limit cancelled (the 200 already sent) with a message:
    the answer raises QueryTimeout, and the piece holding the message is never handed on."""
    rows = b'{"head":{"vars":["s"]},"results":{"bindings":[' + b'{"s":{"type":"uri"}},' * 5000
    message = b"The SPARQL operation has been cancelled"
    sent = threading.Event()

    def cancelled(request: BaseHTTPRequestHandler, body: bytes) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/sparql-results+json")
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for part in (rows, message):
            request.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            request.wfile.flush()
            sent.wait(0.2)  # apart, as a cancellation comes later than the rows
        request.wfile.write(b"0\r\n\r\n")

    store = SparqlHttpStore(serve(cancelled), timeout=5)
    got: list[bytes] = []
    with pytest.raises(QueryTimeout, match="time limit"):
        for piece in store.query("SELECT * {}", union_default_graph=False).iter_bytes():
            got.append(piece)
    assert b"".join(got) == rows
    store.close()


def test_an_error_answer_is_reported_with_its_text(serve: Callable[[Handler], str]) -> None:
    """A 5xx body is looked at (for Virtuoso's time-out code) and then reported: both read it."""

    def failing(request: BaseHTTPRequestHandler, body: bytes) -> None:
        answer(request, 500, b"SR325: the transaction was rolled back")

    store = SparqlHttpStore(serve(failing), timeout=5)
    with pytest.raises(StoreError, match="500 to the query: SR325: the transaction"):
        store.query("SELECT * {}", union_default_graph=False).read()
    store.close()
