"""Partner endpoints for the harvest tests, on loopback: a real SPARQL server (``oxigraph
serve``, managed) loaded with the sample partner dataset, and a server that misbehaves in each
way a harvest must survive, one path per way."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.store.oxigraph import ManagedOxigraph

SAMPLE = Path(__file__).resolve().parent.parent / "partners" / "eccp-profiles.ttl"
SAMPLE_GRAPH = "https://eccp.partner.test/graph/profiles"


@contextmanager
def partner_sparql_server(folder: Path) -> Iterator[str]:
    """A second real SPARQL server with the sample partner data in a named graph (and in the
    default graph); yields its query endpoint URL."""
    server = ManagedOxigraph(folder, timeout_s=30)
    server.start(watch=False)
    try:
        client = server.client()
        data = SAMPLE.read_bytes()
        client.put_graph(SAMPLE_GRAPH, data, content_type="text/turtle")
        client.put_graph(None, data, content_type="text/turtle")
        yield server.url + "/query"
    finally:
        server.stop()


class Misbehaving(http.server.ThreadingHTTPServer):
    """``/{way}``: answers a SPARQL query badly, in that way."""

    daemon_threads = True

    def __init__(self, canary_port: int, big_bytes: int) -> None:
        self.canary_port = canary_port
        self.big_bytes = big_bytes
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Misbehaving

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._answer()

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _answer(self) -> None:
        way = self.path.strip("/").split("?")[0]
        canary = f"http://127.0.0.1:{self.server.canary_port}"
        ok = b'<https://p.test/a> <https://schema.org/name> "A" .\n'
        if way == "slow":
            time.sleep(4)
            self._send(200, ok, "application/n-triples")
        elif way == "trickle":  # headers at once, then a byte a second
            self.send_response(200)
            self.send_header("Content-Type", "application/n-triples")
            self.end_headers()
            for b in ok * 20:
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                time.sleep(0.5)
        elif way == "malformed":
            self._send(
                200, b"<https://p.test/a> <https://schema.org/name> @@@ broken", "text/turtle"
            )
        elif way == "error":
            self._send(503, b"the partner's store is down", "text/plain")
        elif way == "redirect":
            self._send(302, b"", "text/plain", Location=f"{canary}/sparql")
        elif way == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/n-triples")
            self.end_headers()
            line = b'<https://p.test/x> <https://schema.org/name> "' + b"x" * 900 + b'" .\n'
            sent = 0
            try:
                while sent < self.server.big_bytes:
                    self.wfile.write(line)
                    sent += len(line)
            except OSError:
                pass  # the harvester hung up at its cap
        elif way == "entities":
            body = (
                '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY e "boom">'
                f'<!ENTITY x SYSTEM "{canary}/xxe">]>\n'
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
                ' xmlns:s="https://schema.org/"><rdf:Description rdf:about="https://p.test/a">'
                "<s:name>&e;&x;</s:name></rdf:Description></rdf:RDF>"
            )
            self._send(200, body.encode(), "application/rdf+xml")
        elif way == "remote-context":
            body = json.dumps(
                {"@context": f"{canary}/context.jsonld", "@id": "https://p.test/a", "name": "A"}
            )
            self._send(200, body.encode(), "application/ld+json")
        elif way == "huge-literal":
            body = b'<https://p.test/a> <https://schema.org/name> "' + b"y" * 150_000 + b'" .\n'
            self._send(200, body, "application/n-triples")
        elif way == "own-iris":
            body = (
                b"<https://w3id.org/clusterkb/id/cluster/antwerpen-duurzaam-bouwen>"
                b' <https://schema.org/name> "Hijacked" .\n'
            )
            self._send(200, body, "application/n-triples")
        elif way == "nameless":
            rdf_type = b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
            body = b"<https://p.test/a> " + rdf_type + b" <https://schema.org/Organization> .\n"
            self._send(200, body, "application/n-triples")
        elif way == "html":
            self._send(200, b"<html><body>Not a SPARQL endpoint</body></html>", "text/html")
        else:
            self._send(404, b"no such way", "text/plain")


@contextmanager
def misbehaving(canary_port: int, big_bytes: int) -> Iterator[Misbehaving]:
    server = Misbehaving(canary_port, big_bytes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
