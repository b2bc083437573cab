"""The query service: one read-only SPARQL query from its text to the bytes of its answer.

:meth:`QueryService.answer` is the whole of it, for every way in — the ``/sparql`` view, its
WSGI fast path and ``kb query``:

1. the query is checked (:func:`kb.query.check_query`: size, depth, SERVICE allow-list, no
   updates) before anything reaches the store;
2. the caller chooses the result format for the query's form (content negotiation, or the
   CLI's ``--format``);
3. the result cache (:mod:`kb.cache`) is asked under the data version read *before* the query
   runs, so nothing computed from older data is served after an acknowledged write;
4. the store runs the query (its own time limit applies); a store that did not even start
   answering within that limit did not stop the query, and is restarted the hard way;
5. the answer is cut at ``max_rows`` (and converted where the store was asked for another
   format) and kept in the cache; with no row cap the store's bytes stream straight through,
   a copy kept for the cache while it stays small enough.

No HTTP here: what the answer is (cache state, rows, whether it was cut) is a value that
``server/`` turns into headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from kb.cache import CachedResult, ResultCache
from kb.config import Settings
from kb.errors import QueryTimeout
from kb.namespaces import PREFIXES
from kb.query.check import CheckedQuery, QueryPolicy, check_query
from kb.results import ResultSyntax, cap_result, store_syntax
from kb.store import SparqlHttpStore

TIMEOUT = (
    "the query ran longer than this endpoint's limit of {limit:g} s and was stopped; narrow it "
    "down (LIMIT, more specific patterns) or ask for less"
)

#: The cache states an answer reports: served from the cache, computed and kept, no cache.
HIT, MISS, OFF = "HIT", "MISS", "OFF"


@dataclass(frozen=True)
class QueryRequest:
    """A query and the dataset the request names (the protocol's ``default-graph-uri`` /
    ``named-graph-uri``, which replace the query's own FROM / FROM NAMED)."""

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    """A query's answer: the body (bytes, or a stream of them while it is read from the store),
    its format, and what the cache and the row cap did. ``truncated`` is None when the body
    streams uncounted (no row cap); then ``rows`` is None too."""

    body: bytes | Iterator[bytes]
    syntax: ResultSyntax
    cache: str  # HIT | MISS | OFF
    max_rows: int
    rows: int | None = None  # None for ASK, or when not counted
    truncated: bool | None = None

    def read(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else b"".join(self.body)


#: Chooses the answer's format for a checked query (content negotiation, ``--format``); may
#: raise to refuse the request.
Chooser = Callable[[CheckedQuery], ResultSyntax]


class QueryService:
    """Answers read-only queries on one store with one set of limits.

    ``store`` gives the store to query at call time (a managed store may be restarted
    underneath). ``cache`` None or of size 0: no result cache. ``restart`` is called with a
    reason when the store did not stop a query at its time limit; None where the caller does
    not own the store's process.

    The ``/sparql`` view and its fast path share one service per app, with the app's result
    cache and :meth:`kb.service.Service.restart_store`. ``kb query`` makes its own, with the
    same check, store query, time limit and row cap but no cache (one process answers one
    query, and cannot reach a running server's cache) and no restart (a store it started is
    stopped when the command ends; one a ``kb serve`` manages is not its to restart).
    """

    def __init__(
        self,
        settings: Settings,
        store: Callable[[], SparqlHttpStore],
        *,
        cache: ResultCache | None = None,
        restart: Callable[[str], object] | None = None,
        partners: Callable[[], frozenset[str]] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.cache = cache if cache is not None else ResultCache(0)
        self.restart = restart
        self.partners = partners  # the registered endpoints a SERVICE may call
        self.policy = QueryPolicy(
            settings.max_query_bytes, settings.max_query_depth, settings.service_allow_list
        )

    def check(self, text: str) -> CheckedQuery:
        policy = self.policy
        if self.partners is not None and "service" in text.lower():
            policy = replace(policy, service_endpoints=self.partners())
        return check_query(text, policy)

    def answer(self, req: QueryRequest, choose: Chooser) -> Answer:
        """Run the request's query (checked, in the chosen format, cut at ``max_rows``,
        cached) or raise the error that says why not."""
        checked = self.check(req.query)
        want = choose(checked)
        store = self.store()
        cache = self.cache
        max_rows = self.settings.max_rows
        # read before the query runs (see kb.cache), and only for the cache: on a remote store
        # each read is a round trip, so the background view's version is taken where it is
        # young enough (kb.store.scope says why it is never older than an acknowledged write)
        version = None
        if cache.enabled:
            version = store.recent_data_version() or store.data_version
        key = (version, checked.text, req.default_graphs, req.named_graphs, want.name, max_rows)
        hit = cache.get(key)
        if hit is not None:
            return _from_entry(hit, want, HIT, max_rows)
        got = store_syntax(want, canonical=store.canonical_formats)
        limit = self.settings.query_timeout
        try:
            result = store.query(
                checked.text,
                accept=got.media_type,
                default_graph_uris=req.default_graphs,
                named_graph_uris=req.named_graphs,
                # A dataset (the protocol's or the query's FROM) replaces the union default
                # graph (Oxigraph refuses both at once, and ignores FROM when asked for the
                # union).
                union_default_graph=not (
                    req.default_graphs or req.named_graphs or checked.has_dataset
                ),
                data_version=version,
            )
        except QueryTimeout:
            # The store did not even start answering within its own limit (+5 s): it did not
            # stop the query, which would go on holding a core. Stop it the hard way.
            if self.restart is not None:
                self.restart("a query outlived the store's time limit")
            raise QueryTimeout(TIMEOUT.format(limit=limit)) from None
        state = MISS if cache.enabled else OFF
        chunks = _time_limited(result.iter_bytes(), limit)
        if max_rows or got != want:
            capped = cap_result(
                chunks, got=got, want=want, max_rows=max_rows or (1 << 62), prefixes=PREFIXES
            )
            entry = CachedResult(capped.body, want.content_type, capped.rows, capped.truncated)
            cache.put(key, entry)
            return _from_entry(entry, want, state, max_rows)
        # No row cap: stream the store's bytes straight through (nothing is built in memory),
        # and keep a copy for the cache only while it stays small enough.
        first = next(chunks, b"")  # a time-out before the first byte is still a clean error
        return Answer(_tee(first, chunks, cache, key, want), want, state, max_rows)


def _from_entry(entry: CachedResult, want: ResultSyntax, state: str, max_rows: int) -> Answer:
    return Answer(entry.body, want, state, max_rows, entry.rows, entry.truncated)


def _tee(
    first: bytes, rest: Iterator[bytes], cache: ResultCache, key: tuple, want: ResultSyntax
) -> Iterator[bytes]:
    kept: list[bytes] | None = [first] if cache.enabled else None
    size = len(first)
    yield first
    for chunk in rest:
        if kept is not None:
            size += len(chunk)
            if size <= cache.max_entry_bytes:
                kept.append(chunk)
            else:
                kept = None
        yield chunk
    if kept is not None:
        cache.put(key, CachedResult(b"".join(kept), want.content_type, None, False))


def _time_limited(chunks: Iterator[bytes], limit: float) -> Iterator[bytes]:
    try:
        yield from chunks
    except QueryTimeout:
        raise QueryTimeout(TIMEOUT.format(limit=limit)) from None
