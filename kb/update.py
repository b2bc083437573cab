"""Steward SPARQL 1.1 Update: checked on the parsed algebra, applied to a copy, validated,
then committed like any other write (one update request, all-or-nothing). No HTTP here.

* Size and nesting depth are checked before parsing (as for queries, :mod:`kb.query`).
* ``LOAD`` and ``SERVICE`` are refused (decided on the algebra, so ``\\u0053ERVICE`` does not
  slip through); rdflib never fetches a graph (``SPARQL_LOAD_GRAPHS`` is off).
* The graphs the update reads and writes are copied from the store into an rdflib
  :class:`~rdflib.Dataset` under the writer lock; the update runs on the copy; every graph it
  changed is validated and written back by the writer's one commit (all or nothing).
* ``ALL``, ``NAMED``, ``GRAPH ?g`` mean the graphs the caller may write (never the ontology,
  shapes, provenance and history graphs), in every form (``DELETE WHERE``, ``DELETE/INSERT
  WHERE``, ``WITH``, ``USING NAMED``); a graph named by its IRI may be read whoever owns it.
  Copying them is capped at ``MAX_COPY_TRIPLES``.
* The protocol's ``using-graph-uri`` / ``using-named-graph-uri`` act as ``USING`` /
  ``USING NAMED`` on every operation; an update that has its own ``USING`` or ``WITH`` and
  also gets them is refused, as the SPARQL 1.1 Protocol says.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import rdflib.plugins.sparql
from pyparsing import ParseException
from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.sparql import algebra, parser
from rdflib.plugins.sparql import update as rdf_update
from rdflib.plugins.sparql.evaluate import evalPart
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import QueryContext
from rdflib.term import Variable

from kb.auth import Principal
from kb.errors import QueryRejected
from kb.payload import Payload
from kb.query import PARSE_LOCK, QueryPolicy, allow_deep_parsing, check_size_and_depth
from kb.submit import Change, Outcome, Writer

rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False  # never fetch USING/FROM graphs from the web
MAX_COPY_TRIPLES = 200_000
_ALL = "*"


class _WritableView(Dataset):
    """The copy an update runs on: ``GRAPH ?g`` (and ``ALL``/``NAMED``) range over the named
    graphs ``may_write`` accepts; a graph named by its IRI is still there to read."""

    def __init__(self, may_write: Callable[[str | None], bool]) -> None:
        super().__init__(default_union=False)
        self.may_write = may_write

    def graphs(self, triple: Any = None) -> Generator[Graph, None, None]:
        for c in super().graphs(triple):
            if c.identifier == DATASET_DEFAULT_GRAPH_ID or self.may_write(str(c.identifier)):
                yield c

    # what rdflib's SPARQL evaluation calls, without the deprecation warnings
    contexts = graphs

    @property
    def default_context(self) -> Graph:
        return self.default_graph

    @default_context.setter
    def default_context(self, value: Graph) -> None:
        self._default_context = value


@dataclass
class Plan:
    update: Any  # rdflib's translated Update
    writes: set[str | None] = field(default_factory=set)  # None: the default graph; "*": all
    reads: set[str | None] = field(default_factory=set)


def plan(
    text: str,
    policy: QueryPolicy,
    *,
    using: tuple[str, ...] = (),
    using_named: tuple[str, ...] = (),
    base: str | None = None,
) -> Plan:
    """Parse and check an update; say which graphs it reads and writes."""
    check_size_and_depth(text, policy, "update")
    allow_deep_parsing()
    try:
        with PARSE_LOCK:  # rdflib's grammar is not thread-safe (see kb.query)
            parsed = parser.parseUpdate(text)
            translated = algebra.translateUpdate(parsed, base=base)
    except ParseException as exc:
        raise QueryRejected(
            f"syntax error at line {exc.lineno}, column {exc.col}: {exc.msg}"
        ) from None
    except RecursionError:
        raise QueryRejected("update too deeply nested") from None
    except Exception as exc:  # rdflib raises assorted types on odd input
        raise QueryRejected(f"invalid update: {exc}") from None
    p = Plan(translated)
    for op in translated.algebra:
        _check(op, p, using, using_named)
    return p


def _check(op: CompValue, p: Plan, using: tuple[str, ...], using_named: tuple[str, ...]) -> None:
    name = op.name
    if name == "Load":
        raise QueryRejected("LOAD is not allowed: submit the data itself")
    if any(True for _ in _services(op)):
        raise QueryRejected("SERVICE is not allowed in updates")
    if name in ("InsertData", "DeleteData", "DeleteWhere"):
        if op.triples:
            p.writes.add(None)
        for g in op.quads or {}:
            p.writes.add(_graph(g))
        p.reads |= p.writes
    elif name in ("Clear", "Drop", "Create"):
        ref = op.graphiri
        if name == "Create":
            return  # creating an empty graph changes nothing in a quad store
        p.writes.add(_ALL if ref in ("ALL", "NAMED") else None if ref == "DEFAULT" else str(ref))
    elif name in ("Add", "Move", "Copy"):
        src, dst = (None if g == "DEFAULT" else str(g) for g in op.graph)
        p.reads.add(src)
        p.writes.add(dst)
        if name == "Move":
            p.writes.add(src)
    elif name == "Modify":
        if (using or using_named) and (op.using or op.withClause):
            raise QueryRejected(
                "the request gives using-graph-uri/using-named-graph-uri and the update has "
                "its own USING or WITH: give one or the other"
            )
        if using or using_named:
            op["using"] = [CompValue("UsingClause", default=URIRef(u)) for u in using] + [
                CompValue("UsingClause", named=URIRef(u)) for u in using_named
            ]
        target = str(op.withClause) if op.withClause else None
        for clause in (op.delete, op.insert):
            if not clause:
                continue
            if clause.triples:
                p.writes.add(target)
            for g in clause.quads or {}:
                p.writes.add(_graph(g))
        if op.using:
            for u in op.using:
                p.reads.add(str(u.default or u.named))
        else:
            p.reads.add(target)
            if _graph_vars(op.where):
                p.reads.add(_ALL)
            p.reads |= {str(g) for g in _graph_iris(op.where)}
        p.reads |= p.writes
    else:
        raise QueryRejected(f"unsupported update operation {name}")


def _graph(g: Any) -> str:
    if isinstance(g, Variable):
        return _ALL
    return str(g)


def _walk(node: Any) -> Iterator[CompValue]:
    if isinstance(node, CompValue):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _walk(item)


def _services(op: CompValue) -> Iterator[CompValue]:
    return (n for n in _walk(op) if n.name in ("ServiceGraphPattern", "Service"))


def _graph_vars(where: Any) -> bool:
    return any(n.name == "Graph" and isinstance(n.get("term"), Variable) for n in _walk(where))


def _graph_iris(where: Any) -> Iterator[URIRef]:
    for n in _walk(where):
        if n.name == "Graph" and isinstance(n.get("term"), URIRef):
            yield n["term"]


# --- applying ---------------------------------------------------------------------------


def apply(
    writer: Writer,
    who: Principal,
    p: Plan,
    *,
    text: str,
    dry_run: bool = False,
) -> list[Outcome]:
    """Run the update on a copy of the graphs it touches, validate, commit in one request."""
    import hashlib

    with writer.locked():
        scope = _scope(writer, who, p)
        ds = _WritableView(_writes(writer, who))
        before: dict[str | None, set[Any]] = {}
        total = 0
        for g in scope:
            content = writer.read(g)
            total += len(content)
            if total > MAX_COPY_TRIPLES:
                raise QueryRejected(
                    f"the update touches more than {MAX_COPY_TRIPLES:,} triples; name the graphs "
                    "it reads and writes (no ALL, NAMED or GRAPH ?g over a large store)"
                )
            target = ds.default_graph if g is None else ds.graph(URIRef(g))
            for t in content:
                target.add(t)
            before[g] = set(content)
        try:
            _run(ds, p.update)
        except QueryRejected:
            raise
        except Exception as exc:  # an update that fails at run time: nothing was written
            raise QueryRejected(f"the update failed: {exc}") from None
        writable = _writable(writer, who, ds, scope, p)
        changes: list[Change] = []
        for g in sorted(writable, key=lambda x: x or ""):
            graph = ds.default_graph if g is None else ds.graph(URIRef(g))
            after = set(graph)
            if after == before.get(g, set()):
                continue
            new = Graph()
            for t in after:
                new.add(t)
            changes.append(Change(g, new if len(new) else None))
        data = text.encode("utf-8")
        payload = Payload(
            Graph(),
            "<SPARQL Update>",
            "application/sparql-update",
            hashlib.sha256(data).hexdigest(),
            len(data),
        )
        if not changes:
            return []
        return writer.commit_graphs(
            who, changes, operation="update", payload=payload, dry_run=dry_run
        )


def _writes(writer: Writer, who: Principal) -> Callable[[str | None], bool]:
    """Whether ``who`` may write a graph: what ``GRAPH ?g``, ``ALL`` and ``NAMED`` range over."""
    return lambda g: not writer.reserved(g) and who.may_write(g, writer.base)


def _scope(writer: Writer, who: Principal, p: Plan) -> list[str | None]:
    graphs: set[str | None] = set()
    if _ALL in p.reads or _ALL in p.writes:  # GRAPH ?g, ALL, NAMED: the graphs one may write
        graphs |= set(filter(_writes(writer, who), writer.store.graphs()))
        graphs.add(None)
    graphs |= {g for g in p.reads | p.writes if g != _ALL}
    for g in p.writes - {_ALL}:
        writer.authorize(who, g)
    for g in graphs:
        if g is not None and not writer.reserved(g):
            writer.graph_iri(g)  # refuses unacceptable IRIs
    return sorted(graphs, key=lambda x: x or "")


def _writable(
    writer: Writer, who: Principal, ds: Dataset, scope: list[str | None], p: Plan
) -> set[str | None]:
    if _ALL not in p.writes:
        return {g for g in p.writes}
    names: set[str | None] = {None}
    names |= {str(c.identifier) for c in ds.contexts() if c.identifier != DATASET_DEFAULT_GRAPH_ID}
    names |= set(scope)
    return set(filter(_writes(writer, who), names))


_OPS = {
    "InsertData": rdf_update.evalInsertData,
    "DeleteData": rdf_update.evalDeleteData,
    "Clear": rdf_update.evalClear,
    "Drop": rdf_update.evalDrop,
    "Create": rdf_update.evalCreate,
    "Add": rdf_update.evalAdd,
    "Move": rdf_update.evalMove,
    "Copy": rdf_update.evalCopy,
}


def _run(ds: _WritableView, update: Any) -> None:
    for op in update.algebra:
        ctx = QueryContext(ds, initBindings={})
        ctx.prologue = op.prologue
        if op.name == "Modify":
            _modify(ds, op)
        elif op.name == "DeleteWhere":
            _delete_where(ds, op)
        elif op.name == "Create":
            continue
        else:
            _OPS[op.name](ctx, op)


def _delete_where(ds: _WritableView, u: CompValue) -> None:
    """DELETE WHERE as the DELETE/INSERT it abbreviates (rdflib's own evaluation looks for a
    graph named ``?g`` when the pattern says ``GRAPH ?g``, so it deleted nothing)."""
    where = algebra.BGP(u.triples or [])
    for g, triples in (u.quads or {}).items():
        where = algebra.Join(where, algebra.Graph(g, algebra.BGP(triples)))
    ctx = QueryContext(ds, initBindings={})
    ctx.prologue = u.prologue
    solutions = list(evalPart(ctx, where))
    template = CompValue("DeleteClause", triples=u.triples or [], quads=u.quads or {})
    _fill(ds, ds.default_graph, template, solutions, remove=True)


def _modify(ds: _WritableView, u: CompValue) -> None:
    """DELETE/INSERT ... WHERE with USING/USING NAMED restricting the dataset of the WHERE
    clause (rdflib's own evaluation ignores USING NAMED when it does not load graphs)."""
    if u.using:
        view = _WritableView(ds.may_write)
        for d in u.using:
            if d.default:
                for t in ds.graph(URIRef(d.default)):
                    view.default_graph.add(t)
            else:
                named = view.graph(URIRef(d.named))
                for t in ds.graph(URIRef(d.named)):
                    named.add(t)
        ctx = QueryContext(view, initBindings={})
    else:
        ctx = QueryContext(ds, initBindings={})
        if u.withClause:
            ctx = ctx.pushGraph(ds.graph(URIRef(u.withClause)))
    ctx.prologue = u.prologue
    solutions = list(evalPart(ctx, u.where))
    dg = ds.graph(URIRef(u.withClause)) if u.withClause else ds.default_graph
    if u.delete:
        _fill(ds, dg, u.delete, solutions, remove=True)
    if u.insert:
        _fill(ds, dg, u.insert, solutions, remove=False)


def _fill(
    ds: _WritableView, dg: Graph, clause: CompValue, solutions: list[Any], *, remove: bool
) -> None:
    """Remove or add the template's triples for every solution; ``GRAPH ?g`` in a template
    only reaches a graph the caller may write."""
    fill = rdf_update._fillTemplate
    for c in solutions:
        change = dg.remove if remove else dg.add
        for t in list(fill(clause.triples or [], c)):
            change(t)
        for g, q in (clause.quads or {}).items():
            name = c.get(g) if isinstance(g, Variable) else g
            if name is None or (isinstance(g, Variable) and not ds.may_write(str(name))):
                continue
            target = ds.graph(URIRef(name))
            change_target = target.remove if remove else target.add
            for t in list(fill(q, c)):
                change_target(t)
