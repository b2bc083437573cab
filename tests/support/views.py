"""Waiting for the background view of the graphs in scope (kb.store.scope)."""

from __future__ import annotations

import time

from kb.store.scope import ScopeWatch


def first_view(watch: ScopeWatch, timeout: float = 5) -> list[str]:
    """The watch's first view, once its background read is in."""
    deadline = time.monotonic() + timeout
    while (graphs := watch.graphs()) is None:
        assert time.monotonic() < deadline, "no view was read"
        time.sleep(0.005)
    return graphs
