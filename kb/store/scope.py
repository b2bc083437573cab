"""Which graphs a query on a remote store sees, and the data version, without asking the store
before every query.

On a store without a union-default-graph parameter (Virtuoso), a query's default graph is the
list of public graphs, sent as ``default-graph-uri``. That list changes when a graph is created
or dropped — possibly through another front end — so it has to be current. Asking the store
for its data version before every query costs a second request per query; on Virtuoso 7 any
SPARQL request costs about 2.3 ms of server time, as much as a light query itself (measured).

:class:`ScopeWatch` keeps the list current with bounded staleness instead. While queries come
in, a background thread re-reads the version (and, when it moved, the list) every
``fresh_for / 2`` seconds; a query uses the last view if that view's read was *sent* less than
``fresh_for`` seconds ago and after this process's last write, and otherwise asks the store as
before. Every write waits ``fresh_for`` after it ended before it is acknowledged
(:meth:`ScopeWatch.settle`, called by the front end for each request that wrote and when a
client closes). So if a write was acknowledged before a query arrived at any front end, the
view that query uses was read after the write had ended, and includes it::

    write ends at c  <=  ack - fresh_for  <  query - fresh_for  <  view sent

The view holds the data version it read the list under (the version is read first), and the
same argument holds for it: the version in a view young enough to be used is at least that of
every write acknowledged before the query arrived, so the result cache (:mod:`kb.cache`) may
key on it instead of reading the version again — one store request fewer per query. A write of
this process marks the view stale at once (:meth:`ScopeWatch.wrote`): until a view is read
after it, queries read the version and the list from the store, so a front end's own writes
are in its very next answer.

Only intervals on one host's monotonic clock are compared, so hosts need no clock
synchronisation. Every front end of one store must use the same ``fresh_for``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kb.errors import StoreError

log = logging.getLogger(__name__)

#: Seconds without a query after which the background reads stop (the next query asks the
#: store itself and starts them again).
IDLE_AFTER = 10.0


class ScopeWatch:
    """A recent view of the graphs in scope, read in the background while queries come in.

    ``read`` returns the data version and the graphs in scope under it from the store (two
    requests at most: the version, and the list when the version moved). ``fresh_for`` 0 turns
    the watch off: :meth:`graphs` and :meth:`version` always answer None and :meth:`settle`
    never waits.
    """

    def __init__(self, read: Callable[[], tuple[str, list[str]]], fresh_for: float) -> None:
        self.read = read
        self._wake = threading.Event()
        self.fresh_for = fresh_for
        #: (when its read was sent, (data version, graphs))
        self._view: tuple[float, tuple[str, list[str]]] | None = None
        self._wrote_at = float("-inf")  # when this process's last write ended
        self._local = threading.local()  # when this thread's last write ended
        self._queried_at = float("-inf")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    @property
    def fresh_for(self) -> float:
        return self._fresh_for

    @fresh_for.setter
    def fresh_for(self, seconds: float) -> None:
        """Takes effect at once: a running background reader reads again now."""
        self._fresh_for = max(0.0, seconds)
        self._wake.set()

    def graphs(self) -> list[str] | None:
        """The graphs in scope, if the view is young enough to answer a query that arrives
        now; None: ask the store. Starts the background reads."""
        view = self.view()
        return None if view is None else view[1]

    def version(self) -> str | None:
        """The data version, on the same terms as :meth:`graphs`."""
        view = self.view()
        return None if view is None else view[0]

    def view(self) -> tuple[str, list[str]] | None:
        """(data version, graphs in scope), if the view is young enough to answer a query
        that arrives now and was read after this process's last write; None: ask the store.
        Starts the background reads."""
        if self.fresh_for <= 0:
            return None
        now = time.monotonic()
        self._queried_at = now
        if self._thread is None:
            self._start()
        view = self._view
        if view is None or view[0] <= self._wrote_at or now - view[0] >= self.fresh_for:
            return None
        return view[1]

    def wrote(self) -> None:
        """A write of this process has ended (acknowledged or failed)."""
        now = time.monotonic()
        self._wrote_at = now
        self._local.wrote_at = now

    def settle(self, since: float | None = None) -> None:
        """Wait until every front end's view is younger than the last write: this thread's
        last write if it ended after ``since`` (a request's start), else none; with ``since``
        None, this process's last write."""
        if self.fresh_for <= 0:
            return
        if since is None:
            wrote = self._wrote_at
        else:
            wrote = getattr(self._local, "wrote_at", float("-inf"))
            if wrote < since:
                return
        delay = wrote + self.fresh_for - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def close(self) -> None:
        self._closed.set()
        self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="store-scope", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            while not self._closed.is_set():
                if self.fresh_for <= 0 or time.monotonic() - self._queried_at > IDLE_AFTER:
                    break
                sent = time.monotonic()
                try:
                    self._view = (sent, self.read())
                except StoreError as exc:
                    self._view = None  # queries ask the store themselves, and report it
                    log.debug("reading the graphs in scope failed: %s", exc)
                self._wake.wait(self.fresh_for / 2)
                self._wake.clear()
        finally:
            self._view = None
            with self._lock:
                self._thread = None
