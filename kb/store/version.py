"""The data version: a token that changes whenever the store's data may have changed.

Caches (query results, downloads, the catalogue) key on it, so they are invalidated exactly when
data is written. Every write through :class:`~kb.store.http.SparqlHttpStore` bumps it *after* the
store acknowledged the write and *before* the write call returns, so no reader sees the old
version once a write is acknowledged.

:class:`FileClock` keeps the version in a file (the embedded store's folder), shared by every
process that writes through this code on the machine; :class:`MemoryClock` is for a single
process.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def current(self) -> str: ...

    def bump(self) -> str: ...


class MemoryClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = uuid.uuid4().hex

    def current(self) -> str:
        return self._version

    def bump(self) -> str:
        with self._lock:
            self._version = uuid.uuid4().hex
            return self._version


class FileClock:
    """Version in ``path`` (written atomically: temporary file + rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            self.bump()

    def current(self) -> str:
        try:
            return self.path.read_text().strip()
        except FileNotFoundError:
            return self.bump()

    def bump(self) -> str:
        version = uuid.uuid4().hex
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(version)
        os.replace(tmp, self.path)
        return version


#: Where :class:`StoreClock` keeps the version: a graph outside every data graph.
VERSION_GRAPH = "urn:x-clusterkb:data-version"


class _Updater(Protocol):
    def raw_update(self, sparql: str) -> None: ...

    def raw_select_one(self, sparql: str) -> str | None: ...


class StoreClock:
    """Version kept in the store itself, so every front end on every host sees the same one.

    Writes through :class:`~kb.store.http.SparqlHttpStore` append :meth:`statement` to their
    own update request, so data and version change in one transaction; graph-store writes bump
    it with a separate request after the store acknowledged them.
    """

    def __init__(self, store: _Updater) -> None:
        self.store = store

    def statement(self, version: str | None = None) -> str:
        v = version or uuid.uuid4().hex
        g = VERSION_GRAPH
        return (
            f"DROP SILENT GRAPH <{g}> ;\n"
            f'INSERT DATA {{ GRAPH <{g}> {{ <{g}> <{g}#version> "{v}" }} }}'
        )

    def current(self) -> str:
        found = self.store.raw_select_one(
            f"SELECT ?v WHERE {{ GRAPH <{VERSION_GRAPH}> {{ <{VERSION_GRAPH}> "
            f"<{VERSION_GRAPH}#version> ?v }} }}"
        )
        return found or self.bump()

    def bump(self) -> str:
        version = uuid.uuid4().hex
        self.store.raw_update(self.statement(version))
        return version
