"""Steward writes: parse -> (lock) read -> validate -> commit all-or-nothing. No HTTP here.

Every write — a submission, a Graph Store Protocol PUT/POST/DELETE, a SPARQL Update, a
rollback — ends in :meth:`Writer.commit_graphs`:

1. under the **writer lock** (a file lock next to the store, so it holds across threads and
   processes on the machine) the current content of each affected graph is read;
2. ``If-Match`` is checked against the graph's ETag (a digest of its content); a stale one refuses;
3. the resulting graph is **validated** as :mod:`kb.commit_scope` says (the project's shapes,
   the reference data, the types and labels of what it points to in other graphs; only
   results about its own resources count): violations refuse the write;
4. the data, its PROV-O record and the new version's snapshot (:mod:`kb.history`) form one
   :class:`~kb.store.transaction.Transaction`, which the store commits all or nothing
   (:meth:`SparqlHttpStore.commit <kb.store.http.SparqlHttpStore.commit>`): a refused, failed
   or killed write leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rdflib import Graph

from kb import commit_scope, history
from kb.auth import Principal
from kb.config import Settings
from kb.errors import (
    BadGraph,
    Conflict,
    Forbidden,
    KBError,
    PreconditionFailed,
    ValidationFailed,
)
from kb.payload import Payload
from kb.store.http import SparqlHttpStore
from kb.store.transaction import Transaction
from kb.validate import Report

_IRI = re.compile(r"^(https?|urn):[^\s<>\"{}|\\^`\x00-\x20]+$")


@dataclass
class Outcome:
    graph: str | None
    operation: str
    committed: bool
    dry_run: bool
    report: Report | None
    payload: Payload | None = None
    added: int = 0
    removed: int = 0
    version: int | None = None
    commit: str | None = None
    etag: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        report: dict[str, Any] | None = None
        if self.report is not None:
            report = self.report.to_dict()
            for r in report["results"]:
                if self.payload is not None:
                    r.update(self.payload.locate(r["focusNode"], r["path"]))
        return {
            "graph": self.graph or "default",
            "operation": self.operation,
            "committed": self.committed,
            "dryRun": self.dry_run,
            "version": self.version,
            "commit": self.commit,
            "added": self.added,
            "removed": self.removed,
            "source": self.payload.source if self.payload else None,
            "sha256": self.payload.sha256 if self.payload else None,
            "report": report,
            **({"replayed": True} if self.replayed else {}),
        }

    def to_text(self, lang: str = "en") -> str:
        """The report as text, then where in the input each result's focus node was written."""
        if self.report is None:
            return ""
        lines = [self.report.to_text(lang)]
        report = self.to_dict()["report"]
        for r in report["results"] if report else []:
            where = (
                f"row {r['row']}" + (f", column {r['column']}" if r.get("column") else "")
                if r.get("row")
                else f"line {r['line']}"
                if r.get("line")
                else ""
            )
            if where:
                lines.append(f"{where}: {r['focusNode']} {r['path'] or ''}")
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: what was committed, or that nothing was written and why."""
        if self.committed:
            return (
                f"committed {self.graph or 'default graph'} version {self.version}: "
                f"{self.added} added, {self.removed} removed ({self.commit})"
            )
        return "dry run: nothing written" if self.dry_run else "refused: nothing written"


@dataclass
class Change:
    """One graph's new content (``None``: the graph is dropped)."""

    graph: str | None
    new: Graph | None
    append: Graph | None = None  # POST: only these triples are inserted
    # False: the caller validated the content with shapes of its own (a partner's harvest is
    # checked with the partner-data shapes, not the project's)
    validate: bool = True


class Writer:
    def __init__(self, store: SparqlHttpStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.base = settings.base_iri
        self.lock_path = steward_dir(settings) / "clusterkb-write.lock"
        self._thread_lock = threading.Lock()
        self._held = threading.local()

    # --- rules ---------------------------------------------------------------------------

    def graph_iri(self, name: str | None) -> str | None:
        """``name`` (relative to ``{base}graph/``) or an absolute IRI, checked."""
        if name is None:
            return None
        if len(name.encode("utf-8")) > self.settings.max_iri_bytes:
            raise BadGraph(f"graph name longer than {self.settings.max_iri_bytes} bytes")
        if ":" not in name:
            parts = name.split("/")
            if not all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", p) for p in parts):
                raise BadGraph(
                    f"{name!r} is not a graph name: use path segments of letters, digits, "
                    "'.', '_' and '-' (no empty, '.' or '..' segments)"
                )
            name = f"{self.base}graph/{name}"
        if not _IRI.match(name) or "/../" in name or name.endswith("/.."):
            raise BadGraph(f"{name!r} is not an acceptable graph IRI (http, https or urn)")
        return name

    def reserved(self, graph: str | None) -> bool:
        if graph is None:
            return False
        b = f"{self.base}graph/"
        return graph.startswith((b + "ontology/", b + "shapes/")) or graph in (
            history.provenance_graph(self.base),
            history.history_graph(self.base),
        )

    def authorize(self, who: Principal, graph: str | None) -> None:
        if self.reserved(graph):
            raise Forbidden(
                f"<{graph}> is maintained by ClusterKB itself (ontology, shapes, provenance, "
                "history) and cannot be written through the API"
            )
        if not who.may_write(graph, self.base):
            what = f"<{graph}>" if graph else "the default graph"
            raise Forbidden(f"the token of {who.name} does not grant writing {what}")

    # --- locking -------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The writer lock (re-entrant within a thread)."""
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, self.lock_path.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            self._held.depth = 1
            try:
                with self.store.writing():  # across hosts: the store's writer lease
                    yield
            finally:
                self._held.depth = 0
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --- reading -------------------------------------------------------------------------

    def read(self, graph: str | None) -> Graph:
        if graph is not None and not self.store.graph_exists(graph):
            return Graph()
        return history.from_ntriples(self.store.get_graph(graph))

    def etag(self, graph: str | None) -> str | None:
        g = self.read(graph)
        return history.fingerprint(g) if len(g) or graph is None else None

    # --- validation ----------------------------------------------------------------------

    def check(self, result: Graph, target: str | None) -> Report:
        """Validate ``result`` as a commit to ``target`` would be (:mod:`kb.commit_scope`)."""
        return commit_scope.check(self.store, self.settings, result, target)

    # --- committing ----------------------------------------------------------------------

    def commit_graphs(
        self,
        who: Principal,
        changes: list[Change],
        *,
        operation: str,
        payload: Payload | None = None,
        dry_run: bool = False,
        if_match: str | None = None,
        if_none_match: str | None = None,
        validate_data: bool = True,
        submission_id: str | None = None,
    ) -> list[Outcome]:
        """Validate and write ``changes`` in one transaction (the store's commit) under the
        lock.

        With a ``submission_id`` a retried request is not applied twice: if a commit with that
        id exists, its outcome is returned (``replayed``) and nothing is written; the same id
        with other content is a :class:`Conflict`."""
        for ch in changes:
            self.authorize(who, ch.graph)
        if submission_id is not None and not re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", submission_id):
            raise BadGraph("a submission id is 1-128 letters, digits, '.', '_', ':' or '-'")
        started = _now()
        with self.locked():
            if submission_id is not None and not dry_run:
                earlier = history.find_submission(self.store, self.base, submission_id)
                if earlier:
                    return _replayed(earlier, changes, operation, payload)
            outcomes: list[Outcome] = []
            tx = Transaction()
            for ch in changes:
                t0 = time.perf_counter()
                old = self.read(ch.graph)
                _preconditions(old, ch.graph, if_match, if_none_match)
                new = ch.new
                if ch.append is not None:
                    new = Graph()
                    new += old
                    new += ch.append
                t1 = time.perf_counter()
                c1 = time.process_time()
                report = (
                    self.check(new, ch.graph)
                    if new is not None and len(new) and validate_data and ch.validate
                    else None
                )
                t2 = time.perf_counter()
                added, removed = history.diff(old, new if new is not None else Graph())
                out = Outcome(
                    ch.graph,
                    operation,
                    False,
                    dry_run,
                    report,
                    payload,
                    len(added),
                    len(removed),
                    seconds={
                        "read": t1 - t0,
                        "validate": t2 - t1,
                        "validate_cpu": time.process_time() - c1,
                    },
                )
                outcomes.append(out)
                if report is not None and not report.accepted:
                    raise ValidationFailed(out)
                if dry_run:
                    continue
                self._write(tx, who, ch, old, new, added, removed, out, started, submission_id)
            if dry_run or not tx:
                return outcomes
            t3 = time.perf_counter()
            self.store.commit(tx)  # all or nothing
            for out in outcomes:
                out.committed = True
                out.seconds["commit"] = time.perf_counter() - t3
        return outcomes

    def _write(
        self,
        tx: Transaction,
        who: Principal,
        ch: Change,
        old: Graph,
        new: Graph | None,
        added: Graph,
        removed: Graph,
        out: Outcome,
        started: str,
        submission_id: str | None = None,
    ) -> None:
        """Add to ``tx`` the writes that make the change and record it."""

        def before() -> list[str]:  # only a journaled commit asks
            return history.nt_lines(old)

        if ch.append is not None:
            if len(ch.append):
                tx.append(ch.graph, history.nt_lines(ch.append), before=before)
        else:
            tx.replace(ch.graph, history.nt_lines(new) if new is not None else [], before=before)
        latest = history.latest_version(self.store, self.base, ch.graph)
        version = latest[0] + 1 if latest else 1
        commit = f"{self.base}id/commit/{uuid.uuid4()}"
        payload = out.payload
        rec = history.CommitRecord(
            commit=commit,
            graph=ch.graph,
            version=version,
            previous=latest[1] if latest else None,
            operation=out.operation,
            agent_id=who.id,
            agent_name=who.name,
            agent_role=who.role,
            started=started,
            ended=_now(),
            source_name=payload.source if payload else None,
            source_type=payload.media_type if payload else None,
            source_sha256=payload.sha256 if payload else None,
            source_triples=len(payload.graph) if payload else 0,
            added=len(added),
            removed=len(removed),
            violations=len(out.report.violations) if out.report else 0,
            warnings=len(out.report.warnings) if out.report else 0,
            shapes_digest=commit_scope.shapes_digest(self.base),
            subjects=history.changed_subjects(added, removed),
            submission_id=submission_id,
        )
        snapshot = new if new is not None else Graph()
        old_snapshot = old if latest is None and len(old) else None
        records = history.records(rec, self.base, snapshot, old_snapshot)
        tx.record(history.provenance_graph(self.base), records.provenance, owned=records.owned)
        tx.record(history.history_graph(self.base), records.history, owned=records.owned)
        out.version = version
        out.commit = commit
        out.etag = history.fingerprint(snapshot) if len(snapshot) else None

    # --- the operations ------------------------------------------------------------------

    def put(self, who: Principal, graph: str | None, payload: Payload, **kw: Any) -> Outcome:
        """Replace ``graph`` with the payload (keywords as :meth:`commit_graphs`)."""
        return self.commit_graphs(
            who, [Change(graph, payload.graph)], operation="put", payload=payload, **kw
        )[0]

    def post(self, who: Principal, graph: str | None, payload: Payload, **kw: Any) -> Outcome:
        return self.commit_graphs(
            who,
            [Change(graph, None, append=payload.graph)],
            operation="post",
            payload=payload,
            **kw,
        )[0]

    def delete(self, who: Principal, graph: str | None, **kw: Any) -> Outcome:
        return self.commit_graphs(who, [Change(graph, None)], operation="delete", **kw)[0]

    def rollback(self, who: Principal, graph: str | None, version: int) -> Outcome:
        if not who.is_admin:
            raise Forbidden("only an admin may roll a graph back")
        content = history.snapshot(self.store, self.base, graph, version)
        if content is None:
            raise KBError(f"{graph or 'the default graph'} has no version {version}")
        payload = Payload(
            content,
            f"version {version}",
            "application/n-triples",
            hashlib.sha256(history.to_ntriples(content).encode()).hexdigest(),
            0,
        )
        return self.commit_graphs(
            who, [Change(graph, content)], operation=f"rollback to v{version}", payload=payload
        )[0]


def _replayed(
    earlier: list[dict[str, Any]], changes: list[Change], operation: str, payload: Payload | None
) -> list[Outcome]:
    sha = payload.sha256 if payload else None
    wanted = {ch.graph for ch in changes}
    if {e["graph"] for e in earlier} != wanted or (
        sha and any(e["sha256"] != sha for e in earlier)
    ):
        raise Conflict(
            "this submission id was already used for other data or another graph; use a new id"
        )
    outs = []
    for e in earlier:
        out = Outcome(e["graph"], operation, True, False, None, payload)
        out.version, out.commit, out.replayed = e["version"], e["commit"], True
        outs.append(out)
    return outs


def steward_dir(settings: Settings) -> Path:
    """Where tokens, the audit log and the writer lock live: next to (in) the store folder."""
    return settings.store_path


def _preconditions(
    old: Graph, graph: str | None, if_match: str | None, if_none_match: str | None
) -> None:
    current = history.fingerprint(old) if len(old) or graph is None else None
    if if_match is not None:
        tags = {t.strip().strip('"').removeprefix('W/"') for t in if_match.split(",")}
        if current is None or ("*" not in tags and current not in tags):
            raise PreconditionFailed(
                f"the graph has changed since you read it (its ETag is now "
                f"{(current and repr(current)) or 'absent'}); read it again and retry"
            )
    if if_none_match is not None and current is not None:
        tags = {t.strip().strip('"') for t in if_none_match.split(",")}
        if "*" in tags or current in tags:
            raise PreconditionFailed("the graph already exists (If-None-Match)")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
