"""A rollback journal and writer lease for stores that do not apply an update request atomically.

Oxigraph runs a multi-operation SPARQL Update request as one transaction, so a commit that is
one request lands whole or not at all. Virtuoso 7 runs such a request operation by operation
(measured: a failing last operation leaves the earlier ones applied), refuses an ``INSERT DATA``
of more than about 2,000 triples and a string over 10 MB — so a large commit must be several
requests anyway. On such stores every commit goes through this journal, kept in the store
itself (graph ``urn:x-clusterkb:journal``, outside the public dataset), so it holds for any
number of front ends on any number of hosts:

1. **Lease.** A writer adds its entry (holder, start time from the store's own clock) and reads
   the journal. It holds the lease when no *other live* entry is there; otherwise the oldest
   waiter keeps its entry and polls, every younger one withdraws and retries after a random
   back-off. Because every writer adds its entry *before* it reads, two writers can never both
   see themselves alone (mutual exclusion needs nothing from the store but read-your-writes).
   While held, a heartbeat thread renews the entry every quarter of ``lease`` seconds; an entry
   not renewed for ``lease`` seconds is expired (its writer died or lost the store).
2. **Undo first.** Before the first change, the writer stores the undo requests (the graph's
   old content, the deletion of the commit's provenance and history records) in its entry and
   marks it ``ready``.
3. **Redo.** The commit's requests run in order. If one fails, the undo requests run at once
   and the caller gets the error: nothing of the commit stays.
4. **Release.** The entry and its undo go. A commit counts only once its entry is gone.

An expired entry marked ``ready`` is a commit whose writer never finished: the next writer to
hold the lease runs its undo, then deletes it (and at start-up, ``recover``). Every request in a
commit's redo and undo is idempotent, so running an undo twice, or after part of the redo,
ends in the state before the commit.

What it does not give: other readers may see a commit's first requests before its last one
lands (no isolation), and a commit of a writer that dies is visible until its lease expires and
the next writer undoes it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from rdflib import Literal

from kb.errors import StoreError, StoreUnavailable

if TYPE_CHECKING:
    from kb.store.http import SparqlHttpStore

log = logging.getLogger(__name__)

JOURNAL_GRAPH = "urn:x-clusterkb:journal"
J = "https://w3id.org/clusterkb/ns/journal#"
_G = f"<{JOURNAL_GRAPH}>"
#: Entries this process holds or is acquiring (any other entry of this process is stale).
_LIVE: set[str] = set()


class StoreBusy(StoreUnavailable):
    """Another writer held the lease for longer than we may wait."""


def _time(value: str) -> datetime:
    # Virtuoso writes NOW() without a zone, Oxigraph with one: compare like with like.
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


class Journal:
    def __init__(self, store: SparqlHttpStore, *, lease: float = 30.0, wait: float = 60.0) -> None:
        self.store = store
        self.lease = lease
        self.wait = wait
        self.holder = f"{socket.gethostname()} {os.getpid()}"
        self._entry: str | None = None
        self._renewed = 0.0
        self._lost = False
        self._stop = threading.Event()
        self._mutex = threading.Lock()
        self._heartbeat: threading.Thread | None = None

    # --- the lease -----------------------------------------------------------------------

    @property
    def holding(self) -> bool:
        """Whether this journal object holds the writer lease now."""
        return self._entry is not None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the writer lease for the block (not re-entrant: the caller nests)."""
        with self._mutex:  # one lease per journal object, whichever thread asks
            self._acquire()
            try:
                yield
            finally:
                self._release()

    def _acquire(self) -> None:
        entry = f"urn:x-clusterkb:journal/{uuid.uuid4()}"
        deadline = time.monotonic() + self.wait
        delay, inserted = 0.02, False
        _LIVE.add(entry)
        try:
            while True:
                if not inserted:
                    self._insert_entry(entry)
                    inserted = True
                entries = self._entries()
                mine = entries.get(entry)
                if mine is None:
                    # waited past the lease: another writer cleared the entry as expired
                    if time.monotonic() > deadline:
                        raise StoreError("the store does not show the journal entry it accepted")
                    inserted = False
                    continue
                others = {e: v for e, v in entries.items() if e != entry}
                live = {e: v for e, v in others.items() if not self._expired(e, v)}
                if not live:
                    self._entry, self._renewed, self._lost = entry, time.monotonic(), False
                    for e, v in others.items():
                        self._recover(e, v)
                    break
                if time.monotonic() > deadline:
                    holders = ", ".join(sorted(v["holder"] for v in live.values()))
                    raise StoreBusy(
                        f"another writer ({holders}) has held the store for over "
                        f"{self.wait:.0f} s: try again later"
                    )
                if min((v["started"], e) for e, v in live.items()) < (mine["started"], entry):
                    self._delete_entry(entry)  # a longer waiter goes first
                    inserted = False
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 0.5)
        except BaseException:
            if inserted and self._entry is None:
                with contextlib.suppress(StoreError):
                    self._delete_entry(entry)
            _LIVE.discard(entry)
            raise
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name="journal-heartbeat", daemon=True)
        self._heartbeat.start()

    def _release(self) -> None:
        entry = self._entry
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
            self._heartbeat = None
        self._entry = None
        if entry is not None:
            try:
                self._delete_entry(entry)
            except StoreError as exc:
                # It expires by itself; an unfinished commit in it is undone then.
                log.warning("could not remove journal entry %s: %s", entry, exc)
            _LIVE.discard(entry)

    def _beat(self) -> None:
        while not self._stop.wait(self.lease / 4):
            entry = self._entry
            if entry is None:
                return
            try:
                self.store.raw_update(
                    f"DELETE {{ GRAPH {_G} {{ <{entry}> <{J}started> ?s }} }} "
                    f"INSERT {{ GRAPH {_G} {{ <{entry}> <{J}started> ?n }} }} "
                    f"WHERE {{ GRAPH {_G} {{ <{entry}> <{J}started> ?s }} BIND(NOW() AS ?n) }}"
                )
                self._renewed = time.monotonic()
            except StoreError as exc:
                log.warning("could not renew the journal lease: %s", exc)

    def check(self) -> None:
        """Raise unless the lease is still ours (called before each request of a commit)."""
        if self._entry is None:
            raise StoreError("a commit was attempted without the writer lease")
        if time.monotonic() - self._renewed > self.lease * 0.75:
            self._lost = True
        if self._lost:
            raise StoreUnavailable(
                "the writer lease could not be renewed in time (the store is slow or "
                "unreachable): the commit is undone"
            )

    # --- committing ----------------------------------------------------------------------

    def run(self, redo: list[str], undo: list[str]) -> None:
        """Run ``redo`` (a commit's update requests) so that all of it stays or none of it."""
        entry = self._entry
        if entry is None:
            raise StoreError("a commit was attempted without the writer lease")
        for i, text in enumerate(undo):
            self.check()
            self.store.raw_update(
                f"INSERT DATA {{ GRAPH {_G} {{ <{entry}/undo/{i}> <{J}entry> <{entry}> ; "
                f"<{J}n> {i} ; <{J}text> {Literal(text).n3()} }} }}"
            )
        self.store.raw_update(f"INSERT DATA {{ GRAPH {_G} {{ <{entry}> <{J}ready> true }} }}")
        try:
            for request in redo:
                self.check()
                self.store.update(request)
        except BaseException:
            self._undo(entry, undo)
            raise
        # committed: the undo is no longer wanted (the entry goes at release)
        self._clear_undo(entry)

    def _undo(self, entry: str, undo: list[str]) -> None:
        for attempt in range(3):
            try:
                for request in undo:
                    self.store.update(request)
            except StoreError as exc:
                log.warning("undo of an unfinished commit failed (attempt %d): %s", attempt, exc)
                time.sleep(0.5 * (attempt + 1))
                continue
            self._clear_undo(entry)
            return
        log.error(
            "the undo of an unfinished commit failed three times; it stays in the journal "
            "and runs when the next writer takes the lease"
        )

    def recover(self) -> None:
        """Undo the commits of writers that died (taking and giving back the lease)."""
        with self.held():
            pass

    # --- the journal graph ---------------------------------------------------------------

    def _insert_entry(self, entry: str) -> None:
        self.store.raw_update(
            f"INSERT {{ GRAPH {_G} {{ <{entry}> a <{J}Entry> ; <{J}holder> "
            f"{Literal(self.holder).n3()} ; <{J}started> ?n }} }} WHERE {{ BIND(NOW() AS ?n) }}"
        )

    def _delete_entry(self, entry: str) -> None:
        """The entry and what is left of its undo, in one request."""
        self.store.raw_update(
            self._clear_undo_ops(entry) + " ;\n"
            f"DELETE {{ GRAPH {_G} {{ <{entry}> ?p ?o }} }} "
            f"WHERE {{ GRAPH {_G} {{ <{entry}> ?p ?o }} }}"
        )

    def _clear_undo(self, entry: str) -> None:
        self.store.raw_update(self._clear_undo_ops(entry))

    @staticmethod
    def _clear_undo_ops(entry: str) -> str:
        # the ready mark first: an entry without it is never undone
        return (
            f"DELETE DATA {{ GRAPH {_G} {{ <{entry}> <{J}ready> true }} }} ;\n"
            f"DELETE {{ GRAPH {_G} {{ ?u ?p ?o }} }} "
            f"WHERE {{ GRAPH {_G} {{ ?u <{J}entry> <{entry}> ; ?p ?o }} }}"
        )

    def _entries(self) -> dict[str, dict[str, str]]:
        rows = self.store.select(
            f"SELECT ?e ?holder ?started ?ready (NOW() AS ?now) WHERE {{ GRAPH {_G} {{ "
            f"?e a <{J}Entry> ; <{J}holder> ?holder ; <{J}started> ?started "
            f"OPTIONAL {{ ?e <{J}ready> ?ready }} }} }}",
            union_default_graph=False,
        )
        out: dict[str, dict[str, str]] = {}
        for r in rows:
            e = r["e"]["value"]
            started = r["started"]["value"]
            if e in out and out[e]["started"] >= started:
                continue  # a renewal seen half-way: keep the newer time
            out[e] = {
                "holder": r["holder"]["value"],
                "started": started,
                "now": r["now"]["value"],
                "ready": r.get("ready", {}).get("value", ""),
            }
        return out

    def _expired(self, e: str, v: dict[str, str]) -> bool:
        age = (_time(v["now"]) - _time(v["started"])).total_seconds()
        if age > self.lease:
            return True
        host, _, pid = v["holder"].rpartition(" ")
        if host != socket.gethostname() or not pid.isdigit():
            return False
        if int(pid) == os.getpid():
            return e not in _LIVE  # left behind by this process
        # a writer on this machine: expired as soon as its process is gone
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _recover(self, entry: str, v: dict[str, str]) -> None:
        if v["ready"] in ("true", "1"):
            rows = self.store.select(
                f"SELECT ?n ?text WHERE {{ GRAPH {_G} {{ ?u <{J}entry> <{entry}> ; "
                f"<{J}n> ?n ; <{J}text> ?text }} }}",
                union_default_graph=False,
            )
            undo = [r["text"]["value"] for r in sorted(rows, key=lambda r: int(r["n"]["value"]))]
            log.warning(
                "undoing an unfinished commit of %s (%d requests) left in the journal",
                v["holder"],
                len(undo),
            )
            for request in undo:
                self.store.update(request)
        self._delete_entry(entry)
