"""What the store sends back, read as callers need it: a query answer streamed with the
store's cancellation message caught, an RDF body as N-Triples lines, a graph in another
syntax. No requests are made here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import pyoxigraph as ox

from kb.errors import QueryRejected, QueryTimeout, StoreError
from kb.formats import syntax_by_name
from kb.store.curl import CurlReply

#: What Oxigraph appends to a result stream when ``--timeout-s`` cancels a running query
#: (the status line, 200, has already gone out by then).
_CANCELLED = b"The SPARQL operation has been cancelled"
#: How much of an answer's end is searched for that message.
_TAIL = 4096


@dataclass
class StoreResponse:
    """A query result as the store sent it: media type and a byte stream read on demand."""

    content_type: str
    _response: CurlReply

    def iter_bytes(self) -> Iterator[bytes]:
        """The body, piece by piece; raises :class:`QueryTimeout` if the store gave up."""
        try:
            # A cancelled answer ends with the message: each piece is passed on once the next
            # has come, and only the last _TAIL bytes are looked at, so the message is never
            # passed on as data and a long answer is not searched (or copied) whole.
            held: bytes | None = None
            tail = b""
            for chunk in self._response.iter_content():
                if held is not None:
                    yield held
                held = chunk
                tail = (tail + chunk[-_TAIL:])[-_TAIL:]
            if _CANCELLED in tail:
                raise QueryTimeout("the query was stopped by the store's time limit")
            if held is not None:
                yield held
        finally:
            self._response.close()

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def close(self) -> None:
        self._response.close()


def ntriples_lines(data: bytes | IO[bytes] | Iterable[bytes], content_type: str) -> list[str]:
    """An RDF document's triples as N-Triples lines (the graph-store fallback over Update)."""
    read = getattr(data, "read", None)
    if isinstance(data, bytes):
        body = data
    elif callable(read):
        body = read()
    else:
        body = b"".join(data)
    syntax = syntax_by_name(content_type)
    try:
        quads = ox.parse(input=body, format=syntax.oxigraph, without_named_graphs=True)
        return [f"{q.subject} {q.predicate} {q.object} ." for q in quads]
    except SyntaxError as exc:
        raise QueryRejected(f"the store refused the data: {exc}") from None


#: What servers call N-Triples besides its registered media type (Virtuoso: ``text/plain``).
_NTRIPLES_ALIASES = ("application/n-triples", "text/plain", "text/ntriples")


def converted(body: bytes, sent: str, wanted: str) -> bytes:
    """``body`` (in the media type ``sent``) in the media type ``wanted``."""
    got = sent.split(";")[0].strip().lower()
    want = wanted.split(";")[0].strip().lower()
    if got == want or not body.strip():
        return body
    if want == "application/n-triples" and got in _NTRIPLES_ALIASES:
        return body
    source = ox.RdfFormat.from_media_type(got)
    target = ox.RdfFormat.from_media_type(want)
    if source is None or target is None:
        raise StoreError(f"the store sent {sent or 'an untyped body'} where {wanted} was asked")
    try:
        quads = ox.parse(body, format=source)
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    except SyntaxError as exc:
        raise StoreError(f"the store sent a graph that cannot be read: {exc}") from None
    return ox.serialize(triples, format=target) or b""
