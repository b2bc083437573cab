"""Bulk loading of files into the store, all-or-nothing.

Several files, or a syntax whose terms can span lines: every file is read once by the hardened
parser (:mod:`kb.load`) before anything is written, so a bad file anywhere in the list means
nothing is loaded; then each file goes in with the store's own loader. One N-Triples/N-Quads
file (the bulk case): a single read, with the size checks done on the way into pyoxigraph's bulk
loader, which writes nothing when a check or its parser fails (measured: a syntax error at the
end of a 3M-triple file leaves the store unchanged).

The loader is pyoxigraph's in-process bulk loader when no server has the store folder open (as
fast as ``oxigraph load``), else SPARQL Update on the running store: one transaction per batch
of ``HTTP_BATCH`` triples (fewer on a remote store: its dialect's request size), blank nodes turned
into skolem IRIs (``{base}.well-known/genid/``) so that none is split between two requests.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from kb.config import Settings
from kb.errors import UnsupportedFormat
from kb.formats import RdfSyntax, syntax_for_path
from kb.load import CheckedLines, Limits, iter_quads, syntax_error
from kb.namespaces import GENID
from kb.store import SparqlHttpStore, attach, bulk_load, open_store

#: Wraps a file being read so its progress can be shown: (path, label) -> context of a reader.
Progress = Callable[[Path, str], contextlib.AbstractContextManager[IO[bytes]]]


#: Triples per commit when loading through a running server (a remote store's dialect may
#: take fewer per request: REMOTE_REQUEST_TRIPLES).
HTTP_BATCH = 1_000


@dataclass(frozen=True)
class LoadItem:
    path: Path
    syntax: RdfSyntax
    graph: str | None  # None: the default graph (or the graphs a quad format names)


@dataclass(frozen=True)
class LoadReport:
    files: int
    quads: int
    seconds: float
    via: str  # "bulk" | "http"

    @property
    def rate(self) -> float:
        return self.quads / self.seconds if self.seconds else 0.0


@contextlib.contextmanager
def _plain(path: Path, _label: str) -> Iterator[IO[bytes]]:
    with path.open("rb") as fh:
        yield fh


def _quads(item: LoadItem, settings: Settings, stream: IO[bytes]) -> Iterator[ox.Quad]:
    """The file's quads through the hardened parser, with the settings' limits and base."""
    return iter_quads(
        item.path,
        syntax=item.syntax,
        base_iri=settings.base_iri,
        limits=Limits(settings.max_literal_bytes, settings.max_iri_bytes),
        allow_named_graphs=item.graph is None,
        stream=stream,
    )


def plan(paths: Sequence[Path], *, graph: str | None, fmt: str | None) -> list[LoadItem]:
    items = []
    for path in paths:
        syntax = syntax_for_path(path, fmt)
        if graph and syntax.quads:
            raise UnsupportedFormat(
                f"{path}: --graph applies to triple formats; {syntax.name} names its own graphs"
            )
        items.append(LoadItem(path, syntax, graph))
    return items


def check(items: Sequence[LoadItem], settings: Settings, progress: Progress = _plain) -> int:
    """Parse every file completely; raise on the first problem. Returns the number of quads."""
    total = 0
    for item in items:
        with progress(item.path, f"checking {item.path.name}") as stream:
            total += sum(1 for _ in _quads(item, settings, stream))
    return total


def load_files(
    items: Sequence[LoadItem],
    settings: Settings,
    *,
    store: SparqlHttpStore | None = None,
    progress: Progress = _plain,
) -> LoadReport:
    """Check, then load. ``store``: load through it; default: the settings' store (a running
    server over the folder if there is one, else the folder directly)."""
    start = time.perf_counter()
    client = store
    if client is None and not settings.remote_store and _single_pass(items):
        client = attach(settings.store_path, timeout_s=settings.query_timeout)
        if client is None:
            quads = _bulk_single_pass(items[0], settings, progress)
            return LoadReport(1, quads, time.perf_counter() - start, "bulk")
    quads = check(items, settings, progress)
    if client is None and not settings.remote_store:
        client = attach(settings.store_path, timeout_s=settings.query_timeout)
        if client is None:
            for item in items:
                with progress(item.path, f"loading {item.path.name}") as stream:
                    bulk_load(
                        settings.store_path,
                        item.path,
                        format=item.syntax.oxigraph,
                        base_iri=settings.base_iri,
                        graph=item.graph,
                        stream=stream,
                    )
            return LoadReport(len(items), quads, time.perf_counter() - start, "bulk")
    if client is None:
        with open_store(settings) as remote:
            return _load_http(items, remote, settings, quads, start, progress)
    return _load_http(items, client, settings, quads, start, progress)


def _single_pass(items: Sequence[LoadItem]) -> bool:
    return len(items) == 1 and items[0].syntax.name in ("ntriples", "nquads")


def _bulk_single_pass(item: LoadItem, settings: Settings, progress: Progress) -> int:
    """One read of a line-based file: terms checked on the way into the bulk loader, which
    writes nothing if a check or its own parser fails (so no separate checking pass)."""
    limits = Limits(settings.max_literal_bytes, settings.max_iri_bytes)
    with progress(item.path, f"loading {item.path.name}") as stream:
        reader = CheckedLines(
            stream,
            syntax=item.syntax,
            source=str(item.path),
            limits=limits,
            base_iri=settings.base_iri,
        )
        try:
            bulk_load(
                settings.store_path,
                item.path,
                format=item.syntax.oxigraph,
                base_iri=settings.base_iri,
                graph=item.graph,
                stream=reader,
            )
        except SyntaxError as exc:
            raise syntax_error(exc, item.path, str(item.path), item.syntax) from None
    return reader.statements


def _load_http(
    items: Sequence[LoadItem],
    client: SparqlHttpStore,
    settings: Settings,
    quads: int,
    start: float,
    progress: Progress,
) -> LoadReport:
    for item in items:
        with progress(item.path, f"loading {item.path.name}") as stream:
            # The hardened parser resolves relative IRIs against our base (not the store's
            # request URL). One commit per batch (the store's append_batches): a file of up to
            # one batch goes in whole or not at all.
            client.append_batches(_skolemized(item, settings, stream), HTTP_BATCH)
    return LoadReport(len(items), quads, time.perf_counter() - start, "http")


def _skolemized(
    item: LoadItem, settings: Settings, stream: IO[bytes]
) -> Iterator[tuple[str | None, str]]:
    """(graph, N-Triples line) of each quad, blank nodes as skolem IRIs (RDF 1.1 §3.5): a
    blank node must not be split across two requests, and Virtuoso 7 refuses blank nodes in
    INSERT DATA."""
    genid = f"{settings.base_iri}{GENID}{uuid.uuid4().hex}-"
    for q in _quads(item, settings, stream):
        name = item.graph or (
            None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        )
        subject, obj = (
            f"<{genid}{t.value}>" if isinstance(t, ox.BlankNode) else str(t)
            for t in (q.subject, q.object)
        )
        yield name, f"{subject} {q.predicate} {obj} ."
