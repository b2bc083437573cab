"""The store's one writer: a Transaction turned into update requests per dialect, and the
store's commit of it (all or nothing) on both backends — see also tests/test_backends.py."""

from __future__ import annotations

from kb.store.dialect import OXIGRAPH, SPARQL11, VIRTUOSO
from kb.store.transaction import Transaction, batches, inserts, redo, undo

A = "<http://e/a> <http://e/p> <http://e/b> ."
B = "<http://e/b> <http://e/p> <http://e/c> ."
BN1 = "_:x <http://e/p> _:y ."
BN2 = "_:y <http://e/p> <http://e/c> ."
BN3 = "<http://e/d> <http://e/p> _:x ."


def test_batches_keep_what_shares_a_blank_node_and_respect_both_limits() -> None:
    lines = [A, BN1, B, BN2, BN3]
    assert batches(lines, None) == [lines]
    for size in (1, 2, 3):
        got = batches(lines, size)
        assert sorted(x for b in got for x in b) == sorted(lines)
        # the three lines joined by _:x and _:y are one group, whatever the size
        assert next(b for b in got if BN1 in b) == sorted([BN1, BN2, BN3])
        assert all(len(b) <= size for b in got if BN1 not in b)
    assert batches(lines, 2) == batches(list(reversed(lines)), 2)  # the same requests each time
    long = '<http://e/a> <http://e/p> "' + "x" * 50 + '" .'
    # a line longer than the limit goes alone; the others fill batches up to it
    assert batches([A, long, B], None, chars=60) == [[long], [A], [B]]
    assert batches([A, long, B], None, chars=100) == [[long], [A, B]]
    assert batches([], 10) == []


def test_insert_form_follows_the_dialect() -> None:
    (ox_insert,) = inserts("http://e/g", [BN1], OXIGRAPH)
    assert ox_insert.startswith("INSERT DATA {") and "GRAPH <http://e/g>" in ox_insert
    (virtuoso,) = inserts("http://e/g", [BN1], VIRTUOSO)
    assert virtuoso.startswith("INSERT {") and virtuoso.endswith("WHERE {}")
    (plain,) = inserts(None, [A], VIRTUOSO)
    assert plain.startswith("INSERT DATA {") and "GRAPH" not in plain
    assert len(inserts("http://e/g", [f"<http://e/{i}> <http://e/p> 1 ." for i in range(250)],
                       SPARQL11)) == 3  # fmt: skip
    (deleted,) = inserts("http://e/g", [A], OXIGRAPH, delete=True)
    assert deleted.startswith("DELETE DATA {")


def test_redo_and_undo_of_each_kind_of_write() -> None:
    tx = (
        Transaction()
        .replace("http://e/g", [A], before=[B])
        .append("http://e/h", [A, B], before=[B])
        .record("http://e/prov", [A], owned=["http://e/commit"])
    )
    assert redo(tx, OXIGRAPH) == [
        "DROP SILENT GRAPH <http://e/g>",
        f"INSERT DATA {{\nGRAPH <http://e/g> {{\n{A}\n}}\n}}",
        f"INSERT DATA {{\nGRAPH <http://e/h> {{\n{A}\n{B}\n}}\n}}",
        f"INSERT DATA {{\nGRAPH <http://e/prov> {{\n{A}\n}}\n}}",
    ]
    back = undo(tx, OXIGRAPH)
    assert back is not None
    # in reverse order: the record's removal, then only the appended line that was new, then
    # the replaced graph's earlier content
    assert "VALUES ?s { <http://e/commit> }" in back[0] and "VALUES ?o" in back[1]
    assert back[2] == f"DELETE DATA {{\nGRAPH <http://e/h> {{\n{A}\n}}\n}}"
    assert back[3:] == ["DROP SILENT GRAPH <http://e/g>", redo(tx, OXIGRAPH)[1].replace(A, B)]
    asked: list[int] = []
    lazy = Transaction().replace("http://e/g", [A], before=lambda: asked.append(1) or [B])
    redo(lazy, OXIGRAPH)
    assert asked == []  # the earlier content is read only when an undo is built
    assert undo(lazy, OXIGRAPH) is not None and asked == [1]
    assert undo(Transaction().append("http://e/g", [A]), OXIGRAPH) is None  # unknown before
    # an appended blank node cannot be deleted by value: the graph is put back instead
    (drop, put_back) = undo(Transaction().append("http://e/g", [BN3], before=[A]), OXIGRAPH) or []
    assert drop == "DROP SILENT GRAPH <http://e/g>" and A in put_back
