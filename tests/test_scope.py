"""The background view of the graphs in scope (kb.store.scope), on its own: when a query may use
it, and how long a write waits. The same view against Virtuoso is in tests/test_backends.py and,
through two front ends, in tests/test_front_ends.py."""

from __future__ import annotations

import threading
import time

import pytest

from kb.config import load_settings
from kb.errors import ConfigError, StoreUnavailable
from kb.store import scope
from kb.store.scope import ScopeWatch
from tests.support.views import first_view


class Graphs:
    """A store's graphs in scope, read from a list that the test changes."""

    def __init__(self) -> None:
        self.graphs = ["g1"]
        self.reads = 0
        self.fail = False

    def __call__(self) -> tuple[str, list[str]]:
        self.reads += 1
        if self.fail:
            raise StoreUnavailable("the store is down")
        return f"v{len(self.graphs)}", list(self.graphs)


def test_a_query_uses_the_view_only_while_it_is_young() -> None:
    read = Graphs()
    watch = ScopeWatch(read, fresh_for=0.4)
    try:
        assert first_view(watch) == ["g1"]
        read.graphs = ["g1", "g2"]
        time.sleep(0.5)  # a read every 0.2 s: the view now holds g2
        assert watch.graphs() == ["g1", "g2"]
        assert read.reads >= 3
    finally:
        watch.close()


def test_a_view_read_before_this_process_wrote_is_not_used() -> None:
    watch = ScopeWatch(Graphs(), fresh_for=30)  # one read, then none for 15 s
    try:
        first_view(watch)
        watch.wrote()
        assert watch.graphs() is None  # the query asks the store itself
    finally:
        watch.close()


def test_the_view_carries_the_data_version_it_read_the_graphs_under() -> None:
    """The result cache keys on it instead of asking the store (see kb.query.service); a
    write of this process makes the next query read it from the store."""
    read = Graphs()
    watch = ScopeWatch(read, fresh_for=30)
    try:
        first_view(watch)
        assert watch.view() == ("v1", ["g1"])
        assert watch.version() == "v1"
        watch.wrote()
        assert watch.version() is None and watch.view() is None
    finally:
        watch.close()


def test_a_view_older_than_fresh_for_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    watch = ScopeWatch(Graphs(), fresh_for=0.2)
    try:
        first_view(watch)
        real = time.monotonic
        monkeypatch.setattr(scope.time, "monotonic", lambda: real() + 0.2)
        assert watch.graphs() is None
    finally:
        watch.close()


def test_settle_waits_fresh_for_after_this_threads_write_in_this_request() -> None:
    watch = ScopeWatch(Graphs(), fresh_for=0.3)
    started = time.monotonic()
    watch.settle(since=started)
    assert time.monotonic() - started < 0.05  # this request wrote nothing
    watch.wrote()
    watch.settle(since=started)
    assert time.monotonic() - started >= 0.3
    # a write in another thread (another request) does not hold this request back
    later = time.monotonic()
    thread = threading.Thread(target=watch.wrote)
    thread.start()
    thread.join()
    watch.settle(since=later)
    assert time.monotonic() - later < 0.05
    # closing waits for every write of the process
    watch.settle()
    assert time.monotonic() - later >= 0.25


def test_off_means_no_view_and_no_wait() -> None:
    read = Graphs()
    watch = ScopeWatch(read, fresh_for=0)
    watch.wrote()
    started = time.monotonic()
    watch.settle()
    assert watch.graphs() is None and time.monotonic() - started < 0.05
    time.sleep(0.05)
    assert read.reads == 0


def test_a_failed_read_drops_the_view_and_the_reads_stop_when_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scope, "IDLE_AFTER", 0.3)
    read = Graphs()
    watch = ScopeWatch(read, fresh_for=0.1)
    try:
        first_view(watch)
        read.fail = True
        time.sleep(0.15)
        assert watch.graphs() is None
        read.fail = False
        first_view(watch)
        time.sleep(0.6)  # no query for longer than IDLE_AFTER
        reads = read.reads
        time.sleep(0.2)
        assert read.reads == reads  # stopped
        assert first_view(watch) == ["g1"]  # and started again by the next query
    finally:
        watch.close()


@pytest.mark.parametrize(
    ("value", "message"),
    [(-0.1, "must not be negative, got -0.1"), ("soon", "expected float, got 'soon'")],
)
def test_a_bad_freshness_setting_is_refused_by_name(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=f"'store_freshness'.*{message}"):
        load_settings({"store_freshness": value}, environ={})
    assert load_settings({"store_freshness": "0"}, environ={}).store_freshness == 0
