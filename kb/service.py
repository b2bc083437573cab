"""The running knowledge base: its store (managed Oxigraph or a remote SPARQL server), with the
bundled ontology, shapes and data loaded into an empty store. No HTTP here."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kb.bundled import BundledFile, bundled_files
from kb.config import Settings, display_host
from kb.errors import StoreError
from kb.formats import syntax_for_path
from kb.ingest import LoadItem, load_files
from kb.load import Limits, iter_quads
from kb.store import ManagedOxigraph, SparqlHttpStore, remote_store
from kb.store.oxigraph import VERSION_FILE
from kb.store.version import FileClock
from kb.validate import start_validation_worker

log = logging.getLogger(__name__)
_RESTART_LOCK = threading.Lock()
META_FILE = "clusterkb.json"
_ANY_INTERFACE = ("0.0.0.0", "::", "")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.managed: ManagedOxigraph | None = None
        self._store: SparqlHttpStore | None = None

    @property
    def running(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> SparqlHttpStore:
        if self._store is None:
            raise StoreError("the knowledge base has not been started")
        return self._store

    def start(self, *, echo: Callable[[str], None] = log.info, watch: bool = True) -> None:
        s = self.settings
        if s.validation_timeout > 0:
            start_validation_worker()
        if s.remote_store:
            self._store = remote_store(s)
            for line in self._store.check_capabilities():
                echo(line)
            if self._store.is_empty():
                # under the writer lease: front ends started together load it once
                with self._store.exclusive():
                    if self._store.is_empty():
                        echo("the store is empty: loading the bundled knowledge base")
                        load_files(bundled_items(s), s, store=self._store)
                        self._store.settle()
            return
        path = s.store_path
        if _folder_is_empty(path):
            echo(f"the store {path} is empty: loading the bundled knowledge base")
            started = time.perf_counter()
            load_bundled_in_process(path, s)
            record_base(path, s.base_iri)
            echo(f"loaded in {time.perf_counter() - started:.1f} s")
        else:
            _check_base(path, s.base_iri)
        self.managed = ManagedOxigraph(path, timeout_s=s.query_timeout)
        self.managed.start(watch=watch)
        self._store = self.managed.client()

    def stop(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        if self.managed is not None:
            self.managed.stop()
            self.managed = None

    def restart_store(self, reason: str) -> bool:
        """Kill and restart the managed Oxigraph server (same port, same folder), for a query
        its ``--timeout-s`` did not stop (measured with oxigraph 0.5.13: a 4-way cartesian
        COUNT or a large ORDER BY runs on past the limit, holding a core). In-flight queries
        of other clients fail (the store is unavailable) and may be retried. False for a
        remote store."""
        managed = self.managed
        if managed is None:
            return False
        with _RESTART_LOCK:
            log.error("restarting the oxigraph server: %s", reason)
            managed.stop()
            managed.start(watch=True)
            managed.restarts += 1
        return True

    def describe(self) -> str:
        if self.settings.remote_store:
            return self.settings.store_query_url
        return f"{self.settings.store_path} via {self.managed.url if self.managed else '-'}"

    def banner(self) -> str:
        """What `kb serve` prints once it listens: the one URL to open, then what listens where."""
        settings = self.settings
        host, port = settings.host, settings.port
        shown = display_host(host)
        open_url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
        reach = (
            "every interface"
            if host in _ANY_INTERFACE
            else "this machine only"
            if host in _LOOPBACK
            else host
        )
        if settings.remote_store:
            store = f"remote SPARQL store, queries to {settings.store_query_url}"
            if settings.store_update_url:
                store += f", updates to {settings.store_update_url}"
        else:
            managed = self.managed
            where = managed.url.removeprefix("http://") if managed else "-"
            store = (
                f"Oxigraph over {settings.store_path}, on {where} (loopback; ends with kb serve)"
            )
        rows = [
            ("web app", f"{host or '*'}:{port} ({reach}; waitress, {settings.threads} threads)"),
            ("identifiers", f"{settings.base_iri}id/… (persistent, served here by path)"),
            ("SPARQL", f"{open_url}sparql (query), {open_url}update (stewards)"),
            ("store", store),
        ]
        lines = [f"ClusterKB is ready — open {open_url}"]
        lines += [f"  {name:<12} {value}" for name, value in rows]
        return "\n".join(lines)


def load_bundled_in_process(path: Path, settings: Settings) -> int:
    """Every bundled file into its graph, in one transaction (all or nothing)."""
    quads: list[ox.Quad] = []
    for f in bundled_files():
        graph = ox.NamedNode(f.graph(settings.base_iri))
        quads += (
            ox.Quad(q.subject, q.predicate, q.object, graph)
            for q in iter_quads(
                f.path,
                syntax=syntax_for_path(f.path),
                base_iri=settings.base_iri,
                allow_named_graphs=False,
                limits=Limits(max_literal_bytes=1 << 24),
            )
        )
    path.mkdir(parents=True, exist_ok=True)
    store = ox.Store(str(path))
    try:
        store.extend(quads)
        store.flush()
    finally:
        del store
        FileClock(path / VERSION_FILE).bump()
    return len(quads)


def bundled_items(settings: Settings) -> list[LoadItem]:
    return [_item(f, settings) for f in bundled_files()]


def _item(f: BundledFile, settings: Settings) -> LoadItem:
    return LoadItem(f.path, syntax_for_path(f.path), f.graph(settings.base_iri))


def _folder_is_empty(path: Path) -> bool:
    if not (path / "CURRENT").exists():
        return True
    store = ox.Store(str(path))
    try:
        return next(iter(store), None) is None
    finally:
        del store


def _check_base(path: Path, base: str) -> None:
    """Refuse to serve a store loaded under the old scheme, whose identifiers followed host and
    port (``http://localhost:8080/id/…``): none of them would open, and a partner's links
    would point nowhere. ``kb migrate`` converts it once, in place."""
    loaded_with = stored_base(path)
    if loaded_with and loaded_with != base:
        raise StoreError(
            f"the store {path} holds identifiers under {loaded_with}, the old base that "
            f"followed host and port; identifiers are now under the persistent namespace {base}. "
            f"Convert the store once, in one transaction (nothing else changes): "
            f"kb migrate --store {path}"
        )


def record_base(path: Path, base: str) -> None:
    """Record beside the store the base its identifiers are under."""
    (path / META_FILE).write_text(json.dumps({"base": base}))


def stored_base(path: Path) -> str | None:
    """The base IRI a store folder was loaded under, as recorded beside it (None: unknown)."""
    try:
        found = json.loads((path / META_FILE).read_text()).get("base")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) and found else None
