"""Queries over libcurl (pycurl): the request behind nearly every page and ``/sparql`` answer.

Measured on loopback against Virtuoso 7, a light query (answered in about 1 ms): urllib3 spends
0.63 ms of CPU per round trip and takes 1.8 ms; pycurl spends 0.10 ms and takes 1.1 ms. On a
machine that the front end shares with the database, that CPU is most of what a front end adds
to a query.

* **Pooled handles.** Each handle keeps its connection to the store alive between queries; a
  handle serves one query at a time.
* **Streamed answers.** The transfer runs through a multi handle that is driven as the caller
  reads, so a large result is never held here whole, and an answer dropped unread closes its
  connection (it is never handed to the next query).
* **Time limits.** Connecting: ``connect_timeout``; after that, ``read_timeout`` without a byte
  from the store raises :class:`~kb.errors.QueryTimeout`.
* **Credentials.** Basic ones go with every request. Digest ones only after the query URL
  asked for them (a 401): a URL that takes anonymous queries (Virtuoso's ``/sparql``) costs
  no extra round trip.
* **Nothing else.** No proxy (loopback traffic never goes through one), HTTP(S) only, no
  compression (asked for gzip, Virtuoso closes the connection after each answer); redirects
  are followed (at most 5), keeping the POST.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence

import pycurl
from requests.structures import CaseInsensitiveDict

from kb.errors import QueryTimeout, StoreUnavailable

#: libcurl's "timed out" code: a connect time-out when no connection was made, else a read.
_TIMED_OUT = pycurl.E_OPERATION_TIMEDOUT
_CANNOT_CONNECT = (pycurl.E_COULDNT_CONNECT, pycurl.E_COULDNT_RESOLVE_HOST)


class _Handle:
    """An easy handle in its own multi handle (which holds the kept-alive connection)."""

    def __init__(self) -> None:
        self.easy = pycurl.Curl()
        self.multi = pycurl.CurlMulti()
        self.authenticated = False
        easy = self.easy
        easy.setopt(pycurl.NOSIGNAL, 1)  # threads: no SIGALRM for time-outs
        easy.setopt(pycurl.PROXY, "")  # never through a proxy, whatever the environment says
        easy.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        easy.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        easy.setopt(pycurl.FOLLOWLOCATION, 1)
        easy.setopt(pycurl.MAXREDIRS, 5)
        easy.setopt(pycurl.POSTREDIR, pycurl.REDIR_POST_ALL)
        easy.setopt(pycurl.TCP_NODELAY, 1)
        easy.setopt(pycurl.BUFFERSIZE, 256 << 10)  # fewer, larger pieces of a long answer

    def authenticate(self, user: str, password: str, digest: bool) -> None:
        self.easy.setopt(
            pycurl.HTTPAUTH, pycurl.HTTPAUTH_DIGEST if digest else pycurl.HTTPAUTH_BASIC
        )
        self.easy.setopt(pycurl.USERNAME, user)
        self.easy.setopt(pycurl.PASSWORD, password)
        self.authenticated = True

    def close(self) -> None:
        self.multi.close()
        self.easy.close()


class CurlPool:
    """Pooled libcurl handles for POSTs to one store; see the module's doc."""

    def __init__(
        self,
        *,
        user: str | None = None,
        password: str | None = None,
        digest: bool = False,
        keep: int = 32,
    ) -> None:
        self._user = user
        self._password = password or ""
        self._digest = digest
        #: Whether credentials go with every query: basic ones always; digest ones once the
        #: query URL asked for them (libcurl then sends each POST's first, challenged pass
        #: without its body, and a server that takes anonymous queries would get no query)
        self.with_credentials = user is not None and not digest
        self._keep = keep
        self._free: list[_Handle] = []
        self._lock = threading.Lock()
        self._closed = False

    def post(
        self,
        url: str,
        body: bytes,
        headers: Sequence[str],
        *,
        read_timeout: float,
        connect_timeout: float = 5.0,
    ) -> CurlReply:
        """Send the POST; return once the status and headers are in (the body streams)."""
        reply = self._send(url, body, headers, read_timeout, connect_timeout)
        if reply.status_code == 401 and self._user is not None and not self.with_credentials:
            reply.close()
            self.with_credentials = True  # from now on, for every query
            reply = self._send(url, body, headers, read_timeout, connect_timeout)
        return reply

    def _send(
        self,
        url: str,
        body: bytes,
        headers: Sequence[str],
        read_timeout: float,
        connect_timeout: float,
    ) -> CurlReply:
        with self._lock:
            handle = self._free.pop() if self._free else None
        if handle is None:
            handle = _Handle()
        try:
            if self.with_credentials and not handle.authenticated and self._user is not None:
                handle.authenticate(self._user, self._password, self._digest)
            easy = handle.easy
            easy.setopt(pycurl.URL, url)
            easy.setopt(pycurl.HTTPHEADER, [*headers, "Expect:"])  # no 100-continue round trip
            easy.setopt(pycurl.POSTFIELDS, body)
            easy.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(connect_timeout * 1000)))
            reply = CurlReply(self, handle, url, read_timeout)
        except BaseException:
            handle.close()
            raise
        try:
            reply.wait_for_head()
        except BaseException:
            reply.close()
            raise
        return reply

    def give_back(self, handle: _Handle) -> None:
        with self._lock:
            if not self._closed and len(self._free) < self._keep:
                self._free.append(handle)
                return
        handle.close()  # over the limit, or in use when the pool was closed

    def close(self) -> None:
        with self._lock:
            self._closed = True
            handles, self._free = self._free, []
        for handle in handles:
            handle.close()


class CurlReply:
    """One answer: ``status_code`` and ``headers`` at once, the body as the caller reads it."""

    def __init__(self, pool: CurlPool, handle: _Handle, url: str, read_timeout: float) -> None:
        self._pool = pool
        self._handle: _Handle | None = handle
        self._url = url
        self._read_timeout = read_timeout
        self._chunks: deque[bytes] = deque()
        self._head: list[bytes] = []
        self._finished = False
        self._text: str | None = None
        self.status_code = 0
        self.headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        handle.easy.setopt(pycurl.WRITEFUNCTION, self._chunks.append)
        handle.easy.setopt(pycurl.HEADERFUNCTION, self._on_header)
        handle.multi.add_handle(handle.easy)

    def _on_header(self, line: bytes) -> None:
        # a challenge answered or a redirect followed starts another block: the last one counts
        if line.startswith(b"HTTP/"):
            self._head = [line]
        else:
            self._head.append(line)

    def wait_for_head(self) -> None:
        self._pump(lambda: bool(self._chunks))
        if self._finished:
            self.status_code = self._final_status
        else:
            self.status_code = int(self._head[0].split()[1]) if self._head else 0
        for raw in self._head[1:]:
            name, sep, value = raw.decode("latin-1").partition(":")
            if sep:
                self.headers[name.strip()] = value.strip()

    def _pump(self, enough: Callable[[], bool]) -> None:
        """Drive the transfer until ``enough()`` or its end."""
        handle = self._handle
        if handle is None or self._finished:
            return
        multi = handle.multi
        idle_since = time.monotonic()
        while not enough():
            while True:
                code, running = multi.perform()
                if code != pycurl.E_CALL_MULTI_PERFORM:
                    break
            if not running:
                self._finish(handle)
                return
            if enough():
                return
            wait = multi.timeout()  # ms; -1: libcurl has no timer of its own running
            if multi.select(min(1.0, wait / 1000) if wait >= 0 else 1.0) > 0:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > self._read_timeout:
                self.close()
                raise QueryTimeout(
                    f"the store did not answer in time (nothing for {self._read_timeout:g} s)"
                )

    def _finish(self, handle: _Handle) -> None:
        _, _, failed = handle.multi.info_read()
        self._final_status = int(handle.easy.getinfo(pycurl.RESPONSE_CODE))
        connected = handle.easy.getinfo(pycurl.CONNECT_TIME) > 0
        handle.multi.remove_handle(handle.easy)
        self._finished = True
        self._handle = None
        self._pool.give_back(handle)
        if failed:
            _, code, message = failed[0]
            if code in _CANNOT_CONNECT or (code == _TIMED_OUT and not connected):
                raise StoreUnavailable(f"cannot reach the store at {self._url}: {message}")
            if code == _TIMED_OUT:
                raise QueryTimeout(f"the store did not answer in time ({message})")
            raise StoreUnavailable(f"the store stopped answering: {message}")

    def iter_content(self) -> Iterator[bytes]:
        """The body as it arrives (what has arrived is handed on in one piece)."""
        chunks = self._chunks
        while True:
            if not chunks:
                self._pump(lambda: bool(chunks))
                if not chunks:
                    return
            if len(chunks) == 1:
                yield chunks.popleft()
            else:
                joined = b"".join(chunks)
                chunks.clear()
                yield joined

    def read(self) -> bytes:
        return b"".join(self.iter_content())

    @property
    def text(self) -> str:
        """The body as text (kept: an error answer is looked at, then reported)."""
        if self._text is None:
            self._text = self.read().decode("utf-8", errors="replace")
        return self._text

    def close(self) -> None:
        """Drop the rest of the answer (an unfinished transfer closes its connection)."""
        handle, self._handle = self._handle, None
        self._chunks.clear()
        if handle is not None:
            handle.multi.remove_handle(handle.easy)
            self._pool.give_back(handle)
