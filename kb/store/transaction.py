"""A write to the store as a value: what a commit replaces, appends, drops and records.

Writers (submissions, the Graph Store Protocol, ``kb load`` through a server, rollbacks)
build a :class:`Transaction` of N-Triples lines and hand it to
:meth:`SparqlHttpStore.commit <kb.store.http.SparqlHttpStore.commit>`; only this module turns
it into SPARQL Update text (:func:`redo`, :func:`undo`), in the form the store's
:class:`~kb.store.dialect.Dialect` takes: batches within its request size, blank nodes kept
together and outside ``INSERT DATA`` where the server refuses them there, datatypes written
as the server keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from kb.store.dialect import Dialect

Kind = Literal["replace", "append", "record"]
Before = Sequence[str] | Callable[[], Sequence[str]] | None

#: A blank node as subject or object of an N-Triples line (the label, without ``_:``).
_SUBJECT_BNODE = re.compile(r"^_:(\S+)")
_OBJECT_BNODE = re.compile(r" _:(\S+) \.$")


@dataclass(frozen=True)
class Write:
    kind: Kind
    graph: str | None  # None: the default graph
    lines: Sequence[str]  # N-Triples lines ("<s> <p> <o> ."); for replace the new content
    #: replace/append: the graph's content before, or a function giving it (called only when
    #: an undo is needed: a journaled commit); None: not known, so the transaction must be
    #: applied by one request or an atomic store
    before: Before = None
    #: record: the IRIs this write owns; its undo removes every triple of ``graph`` with one
    #: of them as subject or object (descriptions shared with other records stay)
    owned: Sequence[str] = ()


@dataclass
class Transaction:
    """Writes applied all or nothing by :meth:`SparqlHttpStore.commit`, in order."""

    writes: list[Write] = field(default_factory=list)

    def replace(
        self, graph: str | None, lines: Sequence[str], *, before: Before = None
    ) -> Transaction:
        """``graph`` holds exactly ``lines`` afterwards (none: the graph is dropped)."""
        self.writes.append(Write("replace", graph, lines, before))
        return self

    def append(
        self, graph: str | None, lines: Sequence[str], *, before: Before = None
    ) -> Transaction:
        """``lines`` are added to ``graph``."""
        self.writes.append(Write("append", graph, lines, before))
        return self

    def record(self, graph: str, lines: Sequence[str], *, owned: Sequence[str]) -> Transaction:
        """Bookkeeping (provenance, history): ``lines`` added to ``graph``; undone by removing
        what the ``owned`` IRIs are subject or object of."""
        self.writes.append(Write("record", graph, lines, owned=tuple(owned)))
        return self

    def __bool__(self) -> bool:
        return bool(self.writes)


def redo(
    tx: Transaction, dialect: Dialect, written: Callable[[Iterable[str]], list[str]] = list
) -> list[str]:
    """The update operations that apply ``tx``, in order."""
    out: list[str] = []
    for w in tx.writes:
        if w.kind == "replace":
            out.append(f"DROP SILENT {_target(w.graph)}")
        out += inserts(w.graph, w.lines, dialect, written)
    return out


def undo(
    tx: Transaction, dialect: Dialect, written: Callable[[Iterable[str]], list[str]] = list
) -> list[str] | None:
    """The update operations that undo ``tx`` (after all or part of :func:`redo` ran), or
    None when a write's earlier content is unknown."""
    out: list[str] = []
    for w in tx.writes:
        if w.kind == "record":
            out = _unrecord(w) + out
            continue
        if w.before is None:
            return None
        before = w.before() if callable(w.before) else w.before
        back = [f"DROP SILENT {_target(w.graph)}", *inserts(w.graph, before, dialect, written)]
        if w.kind == "append":
            had = set(before)
            new = [line for line in w.lines if line not in had]
            if not any(_has_bnode(line) for line in new):
                back = inserts(w.graph, new, dialect, written, delete=True)
        out = back + out
    return out


def _target(graph: str | None) -> str:
    return f"GRAPH <{graph}>" if graph else "DEFAULT"


def inserts(
    graph: str | None,
    lines: Sequence[str],
    dialect: Dialect,
    written: Callable[[Iterable[str]], list[str]] = list,
    *,
    delete: bool = False,
) -> list[str]:
    """``INSERT DATA`` (or ``DELETE DATA``) operations for ``lines``, each within the
    dialect's request size, triples sharing a blank node in one operation."""
    out = []
    for batch in batches(lines, dialect.max_request_triples, dialect.max_request_chars):
        body = "\n".join(written(batch))
        inner = body if graph is None else f"GRAPH <{graph}> {{\n{body}\n}}"
        if delete:
            out.append(f"DELETE DATA {{\n{inner}\n}}")
        elif not dialect.blank_nodes_in_insert_data and any(_has_bnode(x) for x in batch):
            # the same effect, in the form such a server takes blank nodes in
            out.append(f"INSERT {{\n{inner}\n}} WHERE {{}}")
        else:
            out.append(f"INSERT DATA {{\n{inner}\n}}")
    return out


def batches(lines: Sequence[str], size: int | None, chars: int | None = None) -> list[list[str]]:
    """``lines`` in batches of at most ``size`` lines and about ``chars`` characters (None: no
    limit); the lines that share a blank node stay in one batch (a blank node is local to an
    operation). Sorted, so that the requests of a commit are the same every time."""
    if not lines:
        return []
    if size is None and chars is None:
        return [list(lines)]
    parent: dict[str, str] = {}

    def root(b: str) -> str:
        while parent.setdefault(b, b) != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    groups: dict[str, list[str]] = {}
    plain: list[list[str]] = []
    for line in lines:
        s, o = _SUBJECT_BNODE.match(line), _OBJECT_BNODE.search(line)
        if s and o and root(s.group(1)) != root(o.group(1)):
            parent[root(s.group(1))] = root(o.group(1))
    for line in lines:
        node = _SUBJECT_BNODE.match(line) or _OBJECT_BNODE.search(line)
        if node is None:
            plain.append([line])
        else:
            groups.setdefault(root(node.group(1)), []).append(line)
    out: list[list[str]] = []
    current: list[str] = []
    length = 0
    for group in sorted([*(sorted(g) for g in groups.values()), *plain]):
        grows = sum(len(x) + 1 for x in group)
        if current and (
            (size is not None and len(current) + len(group) > size)
            or (chars is not None and length + grows > chars)
        ):
            out.append(current)
            current, length = [], 0
        current += group
        length += grows
    if current:
        out.append(current)
    return out


def _has_bnode(line: str) -> bool:
    return bool(_SUBJECT_BNODE.match(line) or _OBJECT_BNODE.search(line))


def _unrecord(w: Write) -> list[str]:
    if not w.owned:
        return []
    values = " ".join(f"<{iri}>" for iri in w.owned)
    g = f"<{w.graph}>"
    return [
        f"DELETE {{ GRAPH {g} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {g} "
        f"{{ VALUES ?s {{ {values} }} ?s ?p ?o }} }}",
        f"DELETE {{ GRAPH {g} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {g} "
        f"{{ VALUES ?o {{ {values} }} ?s ?p ?o }} }}",
    ]
