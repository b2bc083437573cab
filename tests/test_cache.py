"""kb.cache.ResultCache: a byte-bounded LRU."""

from __future__ import annotations

from kb.cache import CachedResult, ResultCache


def entry(n: int) -> CachedResult:
    return CachedResult(b"x" * n, "text/csv", 1, False)


def test_lru_by_bytes() -> None:
    cache = ResultCache(100, max_entry_bytes=60)
    assert cache.put("a", entry(40)) and cache.put("b", entry(40))
    assert cache.get("a") is not None  # a is now the most recently used
    assert cache.put("c", entry(40))  # 120 > 100: b goes
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.size_bytes == 80 and len(cache) == 2
    assert cache.stats.evicted == 1


def test_entries_over_the_bound_are_not_kept() -> None:
    cache = ResultCache(800)  # entries up to 1/8: 100 bytes
    assert not cache.put("big", entry(101))
    assert cache.put("ok", entry(100))


def test_replacing_a_key_keeps_the_count_right() -> None:
    cache = ResultCache(100, max_entry_bytes=100)
    cache.put("a", entry(50))
    cache.put("a", entry(30))
    assert cache.size_bytes == 30 and len(cache) == 1


def test_off() -> None:
    cache = ResultCache(0)
    assert not cache.enabled
    assert not cache.put("a", entry(1))
    assert cache.get("a") is None
