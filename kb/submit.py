"""Steward writes: parse -> (lock) read -> validate -> commit all-or-nothing. No HTTP here.

Every write — a submission, a Graph Store Protocol PUT/POST/DELETE, a SPARQL Update, a
rollback — ends in :meth:`Writer.commit_graphs`:

1. under the **writer lock** (a file lock next to the store, so it holds across threads and
   processes on the machine) the current content of each affected graph is read;
2. ``If-Match`` is checked against the graph's ETag (a digest of its content) — 412 if stale;
3. the resulting graph is **validated** with the project's shapes, together with the bundled
   reference data and a bounded CONSTRUCT of the types and labels of the resources it points
   to in *other* graphs — so the cost follows the size of the change, not of the KB. Only
   results about the graph's own subjects count; violations refuse the write;
4. the data, its PROV-O record and the new version's snapshot go to the store in **one**
   SPARQL Update request, which Oxigraph applies atomically: a refused, failed or killed write
   leaves the store as it was.
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
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from kb import bundled, history
from kb.auth import Forbidden, Principal
from kb.config import Settings
from kb.errors import (
    BadGraph,
    Conflict,
    KBError,
    ParseError,
    PreconditionFailed,
    UnsupportedFormat,
    ValidationFailed,
)
from kb.formats import RDF_SYNTAXES, syntax_by_name
from kb.load import Limits, parse
from kb.namespaces import SH, SKOS
from kb.sheets import CSV_TYPE, XLSX_TYPE, parse_sheet
from kb.store.http import SparqlHttpStore
from kb.validate import Report, Result, project_ontology, project_shapes, validate, validate_within

SKOS_PREF = str(SKOS.prefLabel)
RDFS_LABEL = str(RDFS.label)
_IRI = re.compile(r"^(https?|urn):[^\s<>\"{}|\\^`\x00-\x20]+$")
MAX_CONTEXT_IRIS = 5000


@dataclass
class Payload:
    """Parsed input with what provenance needs and where each subject was written."""

    graph: Graph
    source: str
    media_type: str
    sha256: str
    size: int
    text: bytes | None = None  # RDF input, to find line numbers
    rows: dict[str, int] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)

    def locate(self, focus: str, path: str | None) -> dict[str, Any]:
        if focus in self.rows:
            loc: dict[str, Any] = {"row": self.rows[focus]}
            pred = path[1:-1] if path and path.startswith("<") else None
            if pred and (focus, pred) in self.columns:
                loc["column"] = self.columns[(focus, pred)]
            return loc
        if self.text is not None and not focus.startswith("_:"):
            line = _line_of(self.text, focus)
            if line:
                return {"line": line}
        return {}


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


# --- input ------------------------------------------------------------------------------

SHEET_TYPES = (CSV_TYPE, XLSX_TYPE)


def accepted_media_types() -> list[str]:
    return [s.media_type for s in RDF_SYNTAXES] + list(SHEET_TYPES)


def read_payload(
    data: bytes,
    media_type: str | None,
    *,
    settings: Settings,
    source: str | None = None,
    kind: str | None = None,
) -> Payload:
    """Parse an upload by its declared media type (never by guessing): RDF or a template."""
    mt = (media_type or "").split(";", 1)[0].strip().lower()
    name = _safe_name(source)
    digest = hashlib.sha256(data).hexdigest()
    if mt in SHEET_TYPES:
        if not kind:
            raise ParseError(
                "a spreadsheet needs its template kind (kind=clusters|organisations|"
                "memberships|projects|partnerships)",
                source=name,
            )
        sheet = parse_sheet(data, media_type=mt, kind=kind, base=settings.base_iri, source=name)
        return Payload(
            sheet.graph, name, mt, digest, len(data), rows=sheet.rows, columns=sheet.columns
        )
    try:
        syntax = syntax_by_name(mt) if mt else None
    except UnsupportedFormat:
        syntax = None
    if syntax is None:
        raise UnsupportedFormat(
            f"unsupported media type {mt or '(none)'!r}; send one of "
            + ", ".join(accepted_media_types())
        )
    ds = parse(
        data,
        syntax=syntax,
        base_iri=settings.base_iri,
        source=name,
        limits=Limits(settings.max_literal_bytes, settings.max_iri_bytes),
    )
    g = Graph()
    for s, p, o, ctx in ds.quads((None, None, None, None)):
        if ctx is not None and str(getattr(ctx, "identifier", ctx)) not in (
            str(ds.default_graph.identifier),
        ):
            raise ParseError(
                f"the document names graph <{getattr(ctx, 'identifier', ctx)}>; a submission "
                "goes to the one graph it is sent to, so send triples (or the default graph)",
                source=name,
            )
        g.add((s, p, o))
    return Payload(g, name, syntax.media_type, digest, len(data), text=data)


def _safe_name(source: str | None) -> str:
    """A file name fit for the record: its last path part, printable, at most 200 chars."""
    if not source:
        return "<request body>"
    last = re.split(r"[\\/]", source)[-1]
    clean = "".join(ch for ch in last if ch.isprintable() and ch not in "\x00")
    return clean[:200] or "<request body>"


def _line_of(text: bytes, iri: str) -> int | None:
    candidates = [f"<{iri}>".encode()]
    local = re.split(r"[/#]", iri)[-1]
    if local:
        candidates += [f"/{local}>".encode(), f":{local}".encode(), f'"{iri}"'.encode()]
    for needle in candidates:
        pos = text.find(needle)
        while pos >= 0:
            end = pos + len(needle)
            if (
                needle.endswith((b">", b'"'))
                or end >= len(text)
                or not (chr(text[end]).isalnum() or text[end] in b"-_")
            ):
                return text.count(b"\n", 0, pos) + 1
            pos = text.find(needle, end)
    return None


# --- the writer -------------------------------------------------------------------------


@dataclass
class Change:
    """One graph's new content (``None``: the graph is dropped)."""

    graph: str | None
    new: Graph | None
    append: Graph | None = None  # POST: only these triples are inserted


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
                self.store.prepare_writes()
                journal = self.store.journal if self.journaled else None
                # across hosts: the lease in the store's journal
                with journal.held() if journal is not None else contextlib.nullcontext():
                    yield
            finally:
                self._held.depth = 0
                fcntl.flock(fh, fcntl.LOCK_UN)

    @property
    def journaled(self) -> bool:
        """Whether commits go through the store's rollback journal (see kb.store.journal)."""
        return not self.store.atomic_updates and self.store.journal is not None

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
        """Validate ``result`` with the reference data and what it points to elsewhere."""
        data = Graph()
        data += result
        data += reference(self.base)
        data += self.context(result, target)
        # Only the result's own resources are focus nodes: the shapes' class and
        # objects-of targets are replaced by explicit target nodes, so the reference data and
        # the context are there for paths and sh:class but are not validated themselves.
        shapes = targeted_shapes(self.base, result)
        limit = self.settings.validation_timeout
        report = (
            validate_within(limit, data, shapes=shapes, base=self.base)
            if limit > 0
            else validate(data, shapes=shapes, base=self.base)
        )
        keep = {str(x) if isinstance(x, URIRef) else f"_:{x}" for x in result.subjects()}
        keep |= {
            str(x) if isinstance(x, URIRef) else f"_:{x}"
            for x in shapes.objects(None, SH.targetNode)
        }
        return only_about([(report, keep)])

    def context(self, result: Graph, target: str | None) -> Graph:
        """Types and labels, from other graphs, of the resources ``result`` points to."""
        ref = reference(self.base)
        own = set(result.subjects()) | set(ref.subjects())
        iris = sorted(
            {
                str(o)
                for _s, p, o in result
                if isinstance(o, URIRef) and p != RDF.type and o not in own
            }
        )[:MAX_CONTEXT_IRIS]
        out = Graph()
        exclude = f"FILTER(?g != <{target}>)" if target else ""
        # Measured at 1M triples: a FILTER on ?p takes 20 ms, a second VALUES for ?p 2 s
        # (Oxigraph then scans every quad).
        preds = ", ".join(f"<{p}>" for p in context_predicates(self.base))
        for i in range(0, len(iris), 500):
            values = " ".join(f"<{iri}>" for iri in iris[i : i + 500])
            out += self.store.construct(
                f"CONSTRUCT {{ ?x ?p ?o }} WHERE {{ VALUES ?x {{ {values} }} "
                f"GRAPH ?g {{ ?x ?p ?o }} FILTER(?p IN ({preds})) {exclude} }}",
                union_default_graph=False,
            )
        return out

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
        """Validate and write ``changes`` atomically (one update request) under the lock.

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
            parts: list[str] = []
            undo: list[str] = []
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
                    if new is not None and len(new) and validate_data
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
                redo, back = self._update_parts(
                    who, ch, old, new, added, removed, out, started, submission_id
                )
                parts += redo
                undo = back + undo
            if dry_run or not parts:
                return outcomes
            t3 = time.perf_counter()
            if self.journaled:
                assert self.store.journal is not None
                self.store.journal.run(parts, undo)
            else:
                # one request: the store applies it as one transaction
                self.store.update(" ;\n".join(parts))
            for out in outcomes:
                out.committed = True
                out.seconds["commit"] = time.perf_counter() - t3
        return outcomes

    def _update_parts(
        self,
        who: Principal,
        ch: Change,
        old: Graph,
        new: Graph | None,
        added: Graph,
        removed: Graph,
        out: Outcome,
        started: str,
        submission_id: str | None = None,
    ) -> tuple[list[str], list[str]]:
        """The operations that make the change and record it, and (when commits go through
        the journal) the operations that undo them."""
        target = f"GRAPH <{ch.graph}>" if ch.graph else "DEFAULT"
        parts: list[str] = []
        undo: list[str] = []
        if ch.append is not None:
            if len(ch.append):
                parts += self._inserts(ch.graph, ch.append)
        else:
            parts.append(f"DROP SILENT {target}")
            if new is not None and len(new):
                parts += self._inserts(ch.graph, new)
        if self.journaled:
            if ch.append is not None and not history.has_bnodes(added):
                undo += self._inserts(ch.graph, added, delete=True)
            else:
                undo.append(f"DROP SILENT {target}")
                undo += self._inserts(ch.graph, old)
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
            shapes_digest=shapes_digest(self.base),
            subjects=history.changed_subjects(added, removed),
            submission_id=submission_id,
        )
        snapshot = new if new is not None else Graph()
        old_snapshot = old if latest is None and len(old) else None
        parts += history.record_update(self.base, rec, snapshot, old_snapshot)
        if self.journaled:
            undo = history.record_undo(self.base, commit) + undo
        out.version = version
        out.commit = commit
        out.etag = history.fingerprint(snapshot) if len(snapshot) else None
        return parts, undo

    def _inserts(self, graph: str | None, g: Graph, *, delete: bool = False) -> list[str]:
        """``INSERT DATA`` (or ``DELETE DATA``) operations for ``g``, each within the store's
        request size, in the form the store keeps datatypes in."""
        return [
            _insert(graph, self.store.written(lines), delete=delete)
            for lines in _batches(g, self.store.max_request_triples)
        ]

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


def _insert(graph: str | None, lines: list[str], *, delete: bool = False) -> str:
    body = "\n".join(lines)
    inner = body if graph is None else f"GRAPH <{graph}> {{\n{body}\n}}"
    if delete:
        return f"DELETE DATA {{\n{inner}\n}}"
    if any(_BNODE_TERM.search(line) for line in lines):
        # Same effect as INSERT DATA, in the form every server takes blank nodes in
        # (Virtuoso 7 refuses them in INSERT DATA; measured).
        return f"INSERT {{\n{inner}\n}} WHERE {{}}"
    return f"INSERT DATA {{\n{inner}\n}}"


#: A blank node as subject or object of an N-Triples line.
_BNODE_TERM = re.compile(r"^_:|> _:\S+ \.$")


def _batches(g: Graph, size: int | None) -> list[list[str]]:
    """``g``'s triples as N-Triples lines in batches of about ``size`` (None: one batch); the
    triples that share a blank node stay in one batch (a blank node is local to a request)."""
    if not len(g):
        return []
    if size is None:
        return [history.nt_lines(g)]
    parent: dict[BNode, BNode] = {}

    def root(b: BNode) -> BNode:
        while parent.setdefault(b, b) != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    for s, _, o in g:
        if isinstance(s, BNode) and isinstance(o, BNode):
            a, b = root(s), root(o)
            if a != b:
                parent[a] = b
    groups: dict[Node, list[str]] = {}
    plain: list[str] = []
    for t in g:
        line = f"{t[0].n3()} {t[1].n3()} {t[2].n3()} ."
        node = t[0] if isinstance(t[0], BNode) else t[2] if isinstance(t[2], BNode) else None
        if node is None:
            plain.append(line)
        else:
            groups.setdefault(root(node), []).append(line)
    batches: list[list[str]] = []
    current: list[str] = []
    # in N-Triples order, so the requests of a commit are the same every time
    for group in sorted([*(sorted(g) for g in groups.values()), *([x] for x in plain)]):
        if current and len(current) + len(group) > size:
            batches.append(current)
            current = []
        current += group
    if current:
        batches.append(current)
    return batches


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@lru_cache(maxsize=4)
def reference(base: str) -> Graph:
    """The bundled reference data (cached): what submitted data may point to."""
    return bundled.reference_graph(base)


@lru_cache(maxsize=4)
def _untargeted(base: str) -> tuple[Graph, tuple[tuple[Node, frozenset[Node]], ...], tuple]:
    """The project shapes without their class and objects-of targets, and those targets
    (each class with all its subclasses, from the ontology and the shapes)."""
    shapes = project_shapes(base)
    ont = Graph()
    ont += project_ontology(base)
    ont += shapes
    stripped = Graph()
    for t in shapes:
        if t[1] not in (SH.targetClass, SH.targetObjectsOf):
            stripped.add(t)
    by_class = tuple(
        (shape, frozenset(n for n in ont.transitive_subjects(RDFS.subClassOf, cls) if n))
        for shape, cls in shapes.subject_objects(SH.targetClass)
    )
    by_objects = tuple(shapes.subject_objects(SH.targetObjectsOf))
    return stripped, by_class, by_objects


def targeted_shapes(base: str, result: Graph) -> Graph:
    """The project shapes, targeted at the resources of ``result`` only (``sh:targetNode``)."""
    stripped, by_class, by_objects = _untargeted(base)
    g = Graph()
    g += stripped
    typed: dict[Node, set[Node]] = {}
    for s, t in result.subject_objects(RDF.type):
        typed.setdefault(t, set()).add(s)
    for shape, classes in by_class:
        for cls in classes:
            for s in typed.get(cls, ()):
                g.add((shape, SH.targetNode, s))
    for shape, prop in by_objects:
        for o in result.objects(None, prop):
            g.add((shape, SH.targetNode, o))
    return g


@lru_cache(maxsize=4)
def context_predicates(base: str) -> tuple[str, ...]:
    """What validation needs to know about a resource in another graph: its types and labels,
    and every property the shapes follow past the first step of a path (e.g. the helix role
    in ``( org:member org:classification )``)."""
    shapes = project_shapes(base)
    found = {str(RDF.type), SKOS_PREF, RDFS_LABEL}
    for path in shapes.objects(None, SH.path):
        if shapes.value(path, RDF.first) is None:
            continue
        for step in list(Collection(shapes, path))[1:]:
            found |= {str(t) for t in _path_predicates(shapes, step)}
    return tuple(sorted(found))


def _path_predicates(shapes: Graph, node: Node) -> Iterator[URIRef]:
    if isinstance(node, URIRef):
        yield node
        return
    if shapes.value(node, RDF.first) is not None:
        for item in Collection(shapes, node):
            yield from _path_predicates(shapes, item)
        return
    for _p, inner in shapes.predicate_objects(node):
        yield from _path_predicates(shapes, inner)


@lru_cache(maxsize=4)
def shapes_digest(base: str) -> str:
    """Which shapes validated a commit (recorded in its provenance)."""
    return history.fingerprint(project_shapes(base))[:16]


def only_about(reports: list[tuple[Report, set[str]]]) -> Report:
    """One report of the results of each report whose focus node is in its set."""
    seen: set[tuple[str, str | None, str | None, str, str]] = set()
    kept: list[Result] = []
    g = Graph()
    rep = BNode()
    g.add((rep, RDF.type, SH.ValidationReport))
    for report, keep in reports:
        for r in report.results:
            key = (r.focus_node, r.path, r.value, r.component, r.source_shape)
            if r.focus_node in keep and key not in seen:
                seen.add(key)
                kept.append(r)
        for node in report.graph.objects(None, SH.result):
            focus = report.graph.value(node, SH.focusNode)
            shown = str(focus) if isinstance(focus, URIRef) else f"_:{focus}"
            if shown in keep:
                g.add((rep, SH.result, node))
                _copy_cbd(report.graph, node, g)
    results = tuple(
        sorted(kept, key=lambda r: (r.severity != "Violation", r.focus_node, r.path or ""))
    )
    g.add((rep, SH.conforms, Literal(not results)))
    return Report(not results, results, g)


def _copy_cbd(src: Graph, node: Node, dst: Graph, seen: set[Node] | None = None) -> None:
    seen = seen if seen is not None else set()
    if node in seen:
        return
    seen.add(node)
    for p, o in src.predicate_objects(node):
        dst.add((node, p, o))
        if isinstance(o, BNode):
            _copy_cbd(src, o, dst, seen)
