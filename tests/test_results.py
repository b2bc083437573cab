"""kb.results: the result writers (checked by parsing back with pyoxigraph) and the row cap."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.errors import StoreError
from kb.results import by_format_name, cap_result, write_solutions

VARS = ["a", "b"]
ROWS = [
    [ox.NamedNode("http://e/1"), ox.Literal('x, "y"\n', language="nl")],
    [ox.BlankNode("b0"), None],
    [None, ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))],
]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_writers_round_trip(fmt: str) -> None:
    body = b"".join(write_solutions(VARS, ROWS, by_format_name(fmt, "solutions")))
    parsed = ox.parse_query_results(body, format=getattr(ox.QueryResultsFormat, fmt.upper()))
    assert [[row[v] for v in VARS] for row in parsed] == ROWS  # type: ignore[union-attr]


@given(st.lists(text, max_size=5))
def test_json_and_xml_round_trip_any_text(values: list[str]) -> None:
    rows = [[ox.Literal(v), None] for v in values]
    for fmt in ("json", "xml"):
        body = b"".join(write_solutions(VARS, rows, by_format_name(fmt, "solutions")))
        parsed = ox.parse_query_results(body, format=getattr(ox.QueryResultsFormat, fmt.upper()))
        assert [[r[v] for v in VARS] for r in parsed] == rows  # type: ignore[union-attr]


def test_csv_quotes() -> None:
    body = b"".join(write_solutions(VARS, ROWS, by_format_name("csv", "solutions")))
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert rows == [VARS, ["http://e/1", 'x, "y"\n'], ["_:b0", ""], ["", "42"]]


def test_cap_passes_the_store_bytes_through_when_nothing_is_cut() -> None:
    json_fmt = by_format_name("json", "solutions")
    body = b"".join(write_solutions(VARS, ROWS, json_fmt))
    chunks = iter([body[:7], body[7:]])
    capped = cap_result(chunks, got=json_fmt, want=json_fmt, max_rows=3)
    assert capped.body == body and capped.rows == 3 and not capped.truncated
    cut = cap_result(iter([body]), got=json_fmt, want=json_fmt, max_rows=2)
    assert cut.truncated and cut.rows == 2


def test_cap_graph() -> None:
    nt = "".join(f'<http://e/{i}> <http://e/p> "{i}" .\n' for i in range(10)).encode()
    fmt = by_format_name("ntriples", "graph")
    ttl = by_format_name("turtle", "graph")
    capped = cap_result(iter([nt]), got=fmt, want=ttl, max_rows=4, prefixes={"e": "http://e/"})
    assert capped.truncated and capped.rows == 4
    assert len(list(ox.parse(capped.body, format=ox.RdfFormat.TURTLE))) == 4
    assert b"@prefix e:" in capped.body


def test_cap_json_cut_stays_valid_and_long_answers_are_streamed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole-answer path: a cut answer parses back with the first rows; an answer longer than
    JSON_FAST_BYTES takes the streaming path and is cut there (not read whole)."""
    json_fmt = by_format_name("json", "solutions")
    rows = [[ox.Literal(str(i)), None] for i in range(500)]
    body = b"".join(write_solutions(VARS, rows, json_fmt))
    cut = cap_result(iter([body]), got=json_fmt, want=json_fmt, max_rows=7)
    parsed = ox.parse_query_results(cut.body, format=ox.QueryResultsFormat.JSON)
    assert [[r[v] for v in VARS] for r in parsed] == rows[:7]  # type: ignore[union-attr]
    monkeypatch.setattr("kb.results.JSON_FAST_BYTES", 1000)
    pulled: list[int] = []

    def endless() -> Iterator[bytes]:
        yield body[: body.index(b"[", body.index(b"bindings")) + 1]
        for i in itertools.count():
            pulled.append(i)
            yield b'{"a": {"type": "literal", "value": "x"}},'

    streamed = cap_result(endless(), got=json_fmt, want=json_fmt, max_rows=5)
    assert streamed.truncated and streamed.rows == 5 and len(pulled) < 1000


@pytest.mark.parametrize(
    "bad",
    [
        b"{",
        b'{"head": {"vars": []}, "results": {}}',
        b'{"boolean": "yes"}',
        b"[1]",
        b'{"results": {"bindings": []}}',
        b'{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": ]}}',
    ],
)
def test_cap_json_refuses_what_is_not_sparql_json(bad: bytes) -> None:
    json_fmt = by_format_name("json", "solutions")
    with pytest.raises(StoreError, match="cannot be read"):
        cap_result(iter([bad]), got=json_fmt, want=json_fmt, max_rows=5)
