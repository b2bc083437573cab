"""A bounded, thread-safe LRU cache of query results, invalidated by the data version.

Keys are ``(data_version, query text, dataset, result format, row cap)``. The data version is
read *before* the query runs (:attr:`kb.store.SparqlHttpStore.data_version`, or on a remote
store the background view's, which is never older than an acknowledged write:
:mod:`kb.store.scope`), and every write bumps it *after* the store acknowledged the write and
*before* the write call returns. So a result computed from data older than an acknowledged
write is always filed under an older version, which no later reader asks for: nothing stale is
served once a write has been acknowledged, and nothing has to be deleted eagerly (old entries
fall out of the LRU).

Values are the bytes of finished results; a result larger than ``max_entry_bytes`` is not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar


@dataclass(frozen=True)
class CachedResult:
    body: bytes
    content_type: str
    rows: int | None
    truncated: bool


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stored: int = 0
    evicted: int = 0


class ResultCache:
    """LRU by total bytes. ``max_bytes=0`` turns the cache off."""

    def __init__(self, max_bytes: int, *, max_entry_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // 8 if max_entry_bytes is None else max_entry_bytes
        self.stats = CacheStats()
        self._entries: OrderedDict[Hashable, CachedResult] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> CachedResult | None:
        if not self.enabled:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.stats.misses += 1
                return None
            self._entries.move_to_end(key)
            self.stats.hits += 1
            return found

    def put(self, key: Hashable, value: CachedResult) -> bool:
        """Keep ``value``; False if it is larger than an entry may be."""
        size = len(value.body)
        if not self.enabled or size > self.max_entry_bytes:
            return False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = value
            self._bytes += size
            self.stats.stored += 1
            while self._bytes > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)
                self.stats.evicted += 1
        return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class PerVersion(Generic[K, V]):
    """A value made from the store once per data version (and key), e.g. the reconciliation
    name index or the link report. The version is read *before* the value is made, so a value
    made while a commit lands is filed under the old version and made again on the next read."""

    def __init__(self, version: Callable[[], str], make: Callable[[K], V]) -> None:
        self._version = version
        self._make = make
        self._lock = threading.Lock()
        self._made: dict[K, tuple[str, V]] = {}

    def get(self, key: K) -> V:
        version = self._version()
        made = self._made.get(key)
        if made is not None and made[0] == version:
            return made[1]
        with self._lock:
            made = self._made.get(key)
            if made is not None and made[0] == version:
                return made[1]
            value = self._make(key)
            self._made[key] = (version, value)
            return value
