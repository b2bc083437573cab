"""The embedded default store: a managed ``oxigraph serve`` process on loopback.

Oxigraph lets one process open a store folder for writing, cannot cancel a query from Python,
and its server dies on pathological queries (DESIGN.md §6). So ClusterKB never opens the folder
in the serving process: it runs ``oxigraph serve --timeout-s`` as a child, talks to it over
SPARQL/GSP, and a watchdog restarts it when it dies. While no server runs, bulk loads go
straight into the folder with pyoxigraph (the same Rust loader as ``oxigraph load``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

import pyoxigraph as ox

from kb import processes
from kb.errors import StoreError, StoreUnavailable
from kb.store.dialect import OXIGRAPH
from kb.store.http import SparqlHttpStore
from kb.store.version import FileClock

log = logging.getLogger(__name__)

STATE_FILE = "clusterkb-server.json"
VERSION_FILE = "clusterkb-data-version"
UNION_PARAM = OXIGRAPH.union_default_graph_param


class SupportsRead(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def oxigraph_binary() -> str:
    """The ``oxigraph`` executable installed beside this Python (the PyPI package)."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise StoreError("the `oxigraph` command is not installed (pip install oxigraph)")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _folder_lock(location: Path) -> Iterator[None]:
    """Hold the RocksDB LOCK file briefly (fails if a server has the store open)."""
    lock = location / "LOCK"
    if not lock.exists():
        yield
        return
    with lock.open("a") as fh:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StoreError(
                f"the store {location} is open in another process (a running `kb serve` "
                "or `oxigraph serve`); stop it or point --store elsewhere"
            ) from None
        try:
            yield
        finally:
            fcntl.lockf(fh, fcntl.LOCK_UN)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """The store server gets SIGTERM when the process that started it dies, even by
    ``kill -9``, so a crashed ``kb serve`` leaves no server holding the store folder."""
    processes.set_parent_death_signal(signal.SIGTERM)


def stop_abandoned_server(location: Path) -> bool:
    """Stop an ``oxigraph serve`` left over the folder by a ``kb serve`` that died (its state
    file names a dead owner and a live server on this folder). True if one was stopped."""
    try:
        state = json.loads((location / STATE_FILE).read_text())
        owner, child = int(state.get("pid") or 0), int(state.get("oxigraph_pid") or 0)
    except (OSError, ValueError, TypeError):
        return False
    if not child or _alive(owner) or not _alive(child):
        return False
    try:
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if b"serve" not in cmdline or str(location).encode() not in cmdline:
        return False  # the pid was reused by something else: leave it alone
    log.warning("stopping the oxigraph server (pid %d) a dead kb serve left on %s", child, location)
    os.kill(child, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (_alive(child) or not _lock_free(location)):
        time.sleep(0.05)
    if _alive(child):
        os.kill(child, signal.SIGKILL)
    return True


def _lock_free(location: Path) -> bool:
    try:
        with _folder_lock(location):
            return True
    except StoreError:
        return False


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def remove_orphans(location: Path) -> list[Path]:
    """Delete ``bulk-*.sst`` files a killed bulk load left behind (nothing references them)."""
    if not location.exists():
        return []
    removed: list[Path] = []
    with _folder_lock(location):
        for orphan in location.glob("bulk-*.sst"):
            orphan.unlink()
            removed.append(orphan)
    if removed:
        log.warning("removed %d orphan bulk-load files from %s", len(removed), location)
    return removed


def bulk_load(
    location: Path,
    source: Path | bytes,
    *,
    format: ox.RdfFormat,
    base_iri: str | None,
    graph: str | None,
    stream: IO[bytes] | SupportsRead | None = None,
) -> None:
    """Load into the store folder in-process; all-or-nothing (measured: a syntax error at the
    end of a 3M-triple file leaves the store unchanged). The folder must not be in use."""
    location.mkdir(parents=True, exist_ok=True)
    try:
        store = ox.Store(str(location))
    except OSError as exc:
        raise StoreError(f"cannot open the store {location} for loading: {exc}") from exc
    try:
        to_graph = ox.NamedNode(graph) if graph else None
        if isinstance(source, Path):
            store.bulk_load(
                input=stream or source.open("rb"),  # type: ignore[arg-type]
                format=format,
                base_iri=base_iri,
                to_graph=to_graph,
            )
        else:
            store.bulk_load(input=source, format=format, base_iri=base_iri, to_graph=to_graph)
        store.flush()
    finally:
        del store
        FileClock(location / VERSION_FILE).bump()


class ManagedOxigraph:
    """``oxigraph serve`` over ``location`` on a loopback port, restarted when it dies."""

    def __init__(self, location: Path, *, timeout_s: float = 30.0, port: int = 0) -> None:
        self.location = location
        self.timeout_s = timeout_s
        self.port = port or _free_port()
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> SparqlHttpStore:
        return _client(self.url, self.location, self.timeout_s)

    def start(self, *, watch: bool = True) -> None:
        self.location.mkdir(parents=True, exist_ok=True)
        stop_abandoned_server(self.location)
        remove_orphans(self.location)
        with self._lock:
            self._spawn()
        self._write_state()
        if watch:
            self._stop.clear()
            self._watchdog = threading.Thread(
                target=self._watch, name="oxigraph-watchdog", daemon=True
            )
            self._watchdog.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            proc, self._proc = self._proc, None
        if proc:
            processes.stop(proc)
        with contextlib.suppress(FileNotFoundError):
            (self.location / STATE_FILE).unlink()

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def ensure_running(self) -> bool:
        """Restart the server if it has died; True if it had to."""
        with self._lock:
            if self._stop.is_set() or self.alive():
                return False
            code = self._proc.returncode if self._proc else None
            log.error("oxigraph server exited (code %s); restarting", code)
            self._spawn()
            self.restarts += 1
            return True

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.ensure_running()
            except StoreError:
                log.exception("could not restart the oxigraph server")

    def _spawn(self) -> None:
        args = [
            oxigraph_binary(),
            "serve",
            "--location",
            str(self.location),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout-s",
            str(max(1, round(self.timeout_s))),
        ]
        log_path = self.location.parent / f"{self.location.name}.oxigraph.log"
        with log_path.open("ab") as log_file:
            proc = subprocess.Popen(
                args,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-600:]
                raise StoreUnavailable(
                    f"oxigraph server for {self.location} exited at start (code "
                    f"{proc.returncode}): {tail.strip()}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                self._proc = proc
                return
            time.sleep(0.02)
        proc.kill()
        raise StoreUnavailable(f"oxigraph server for {self.location} did not start in 30 s")

    def _write_state(self) -> None:
        state = {
            "url": self.url,
            "pid": os.getpid(),
            "oxigraph_pid": self._proc.pid if self._proc else None,
        }
        (self.location / STATE_FILE).write_text(json.dumps(state))


def _client(url: str, location: Path, timeout_s: float) -> SparqlHttpStore:
    return SparqlHttpStore(
        f"{url}/query",
        f"{url}/update",
        f"{url}/store",
        dialect=OXIGRAPH,
        timeout=timeout_s,
        clock=FileClock(location / VERSION_FILE),
    )


def attach(location: Path, *, timeout_s: float = 30.0) -> SparqlHttpStore | None:
    """A client for the server a running ``kb serve`` manages over ``location``, if any."""
    try:
        state = json.loads((location / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    client = _client(state.get("url", ""), location, timeout_s)
    if client.ping():
        return client
    client.close()
    return None


def is_served(location: Path) -> bool:
    client = attach(location)
    if client is None:
        return False
    client.close()
    return True
