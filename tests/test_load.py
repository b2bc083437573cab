"""Hardened parsing: good input in every syntax, bad input refused with its place, nothing
fetched over the network (a canary listener counts connections)."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kb.errors import InputTooLarge, ParseError
from kb.load import Limits, count_quads, iter_quads, parse, parse_graph
from tests.support.canary import Canary

BASE = "http://example.org/"


GOOD = {
    "turtle": b'@prefix ex: <http://example.org/> .\nex:a ex:p "x"@nl ; ex:q <rel> .\n',
    "ntriples": b'<http://example.org/a> <http://example.org/p> "x"@nl .\n',
    "nquads": b'<http://example.org/a> <http://example.org/p> "x" <http://example.org/g> .\n',
    "trig": b"@prefix ex: <http://example.org/> .\nex:g { ex:a ex:p 1 . }\n",
    "jsonld": b'{"@context": {"ex": "http://example.org/"}, "@id": "ex:a", "ex:p": "x"}',
    "rdfxml": b'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#" xmlns:ex="http://example.org/">\n<rdf:Description rdf:about="a">'
    b"<ex:p>x</ex:p></rdf:Description></rdf:RDF>\n",
}


@pytest.mark.parametrize("syntax", sorted(GOOD))
def test_good_input_parses_in_every_syntax(syntax: str) -> None:
    assert count_quads(GOOD[syntax], syntax=syntax, base_iri=BASE) >= 1


def test_relative_iris_resolve_against_the_base() -> None:
    g = parse_graph(GOOD["turtle"], syntax="turtle", base_iri="http://kb.test/")
    assert (
        URIRef("http://example.org/a"),
        URIRef("http://example.org/q"),
        URIRef("http://kb.test/rel"),
    ) in g


def test_named_graphs_are_kept() -> None:
    ds = parse(GOOD["trig"], syntax="trig", base_iri=BASE)
    assert len(ds.graph(URIRef("http://example.org/g"))) == 1


# (syntax, input, expected line, expected column, words in the message)
BAD = [
    ("turtle", b'@prefix ex: <http://e/> .\nex:a ex:b "abc .\n', 2, None, "turtle"),
    ("turtle", b"ex:s ex:p ex:o .", 1, 1, "prefix ex: has not been declared"),
    ("ntriples", b"<http://e/a> <http://e/b> .\n", 1, 27, "object"),
    ("ntriples", b"<foo> <http://e/p> <http://e/o> .\n", 1, None, "ntriples"),
    ("nquads", b'<http://e/a> <http://e/b> "x" <g> .', 1, None, "IRI"),
    ("trig", b"<http://e/g> { <http://e/a> <http://e/b> }", 1, None, "trig"),
    ("jsonld", b'{"@id": ', 1, 9, "end of file"),
    ("jsonld", b'{"@id": 5, "http://e/p": "x"}', 1, None, "jsonld"),
    (
        "rdfxml",
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n<x',
        2,
        None,
        "not well-formed",
    ),
    (
        "rdfxml",
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        b'<rdf:Description rdf:about="http://e/a"/>\n',
        3,
        None,
        "no element found",
    ),
]


@pytest.mark.parametrize(
    ("syntax", "data", "line", "column", "words"),
    BAD,
    ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)],
)
def test_malformed_input_names_the_place(
    syntax: str, data: bytes, line: int, column: int | None, words: str
) -> None:
    with pytest.raises(ParseError) as err:
        count_quads(data, syntax=syntax, base_iri=None if "foo" in data.decode() else BASE)
    assert err.value.line == line
    if column is not None:
        assert err.value.column == column
    assert words.lower() in err.value.message.lower()


def _laughs(levels: int) -> bytes:
    ents = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, levels + 1)
    )
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [{ents}]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns:ex="http://e/"><rdf:Description rdf:about="http://e/a"><ex:p>&l{levels};'
        "</ex:p></rdf:Description></rdf:RDF>"
    ).encode()


@pytest.mark.parametrize("levels", [5, 9])
def test_entity_expansion_is_refused_before_expanding(levels: int) -> None:
    doc = _laughs(levels)
    assert len(doc) < 1100
    with pytest.raises(ParseError, match="DOCTYPE and entity declarations") as err:
        count_quads(doc, syntax="rdfxml")
    assert err.value.line == 2


def test_external_entities_and_dtds_fetch_nothing(canary: Canary) -> None:
    url = f"http://127.0.0.1:{canary.port}"
    docs = [
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % x SYSTEM "{url}/p"> %x;]><r/>',
        f'<?xml version="1.0"?><!DOCTYPE rdf:RDF SYSTEM "{url}/x.dtd"><rdf:RDF/>',
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    ]
    for doc in docs:
        with pytest.raises(ParseError, match="DOCTYPE"):
            count_quads(doc.encode(), syntax="rdfxml")
    assert canary.connections == 0


@pytest.mark.parametrize(
    "context",
    [
        '"http://127.0.0.1:{port}/ctx"',
        '"file:///etc/passwd"',
        '[{{"ex": "http://e/"}}, "http://127.0.0.1:{port}/ctx"]',
        '{{"@import": "http://127.0.0.1:{port}/ctx"}}',
    ],
)
def test_remote_and_file_jsonld_contexts_are_refused(canary: Canary, context: str) -> None:
    ctx = context.format(port=canary.port)
    doc = f'{{\n  "@context": {ctx},\n  "@id": "http://e/a", "http://e/p": "x"}}'.encode()
    with pytest.raises(ParseError, match="JSON-LD @context") as err:
        count_quads(doc, syntax="jsonld")
    assert (err.value.line, err.value.column) == (2, 3)
    assert canary.connections == 0


def test_a_50_mb_literal_is_refused_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "huge.ttl"
    with path.open("wb") as fh:
        fh.write(b'@prefix ex: <http://e/> .\nex:a ex:p 1 .\nex:b ex:p "')
        fh.write(b"x" * (50 * 1024 * 1024))
        fh.write(b'" .\n')
    with pytest.raises(InputTooLarge) as err:
        count_quads(path, syntax="turtle")
    assert (err.value.line, err.value.column) == (3, 11)
    assert "exceeds the limit of 1,048,576 bytes" in err.value.message


def test_a_literal_over_the_limit_is_refused_with_its_size() -> None:
    doc = (
        b'<http://e/a> <http://e/p> "1" .\n<http://e/a> <http://e/p> "'
        + b"y" * 2_000_000
        + b'" .\n'
    )
    with pytest.raises(InputTooLarge) as err:
        count_quads(doc, syntax="ntriples")
    assert (err.value.line, err.value.column) == (2, 27)
    assert "literal of 2,000,000 bytes" in err.value.message


def test_long_iris_are_refused() -> None:
    doc = f"<http://e/{'a' * 5000}> <http://e/p> <http://e/o> .\n".encode()
    with pytest.raises(InputTooLarge, match="IRI of 5,009"):
        count_quads(doc, syntax="ntriples")
    assert count_quads(doc, syntax="ntriples", limits=Limits(max_iri_bytes=10_000)) == 1


def test_deeply_nested_turtle_parses_without_crashing() -> None:
    depth = 20_000
    doc = "@prefix ex: <http://e/> .\nex:a ex:p " + "[ ex:p " * depth + "1" + " ]" * depth + " .\n"
    assert count_quads(doc, syntax="turtle") == depth + 1


def test_named_graphs_can_be_refused() -> None:
    with pytest.raises(ParseError):
        count_quads(GOOD["trig"], syntax="trig", allow_named_graphs=False)


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(ParseError):
        count_quads(b'<http://e/a> <http://e/p> "\xff\xfe" .\n', syntax="ntriples")


@pytest.mark.parametrize("garbage", [b"\x00\x01\x02", b"\xef\xbb\xbf\xff\xfe{", b"}}}}", b"<"])
@pytest.mark.parametrize("syntax", sorted(GOOD))
def test_garbage_is_a_parse_error_never_a_crash(syntax: str, garbage: bytes) -> None:
    with pytest.raises(ParseError):
        count_quads(garbage, syntax=syntax)


# --- properties ----------------------------------------------------------------------------

# XML 1.0 cannot carry most control characters, so rdflib's RDF/XML writer cannot either.
_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
_iris = st.from_regex(r"http://example\.org/[a-z]{1,8}", fullmatch=True).map(URIRef)
_literals = st.one_of(
    _text.map(Literal),
    # rdflib's JSON-LD writer turns integers past 2**53 into doubles: keep to exact ones.
    st.integers(min_value=-(2**53), max_value=2**53).map(Literal),
    st.tuples(_text, st.sampled_from(["nl", "en", "fr-be"])).map(
        lambda t: Literal(t[0], lang=t[1])
    ),
)
_triples = st.lists(st.tuples(_iris, _iris, st.one_of(_iris, _literals)), max_size=25)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_triples, st.sampled_from(["turtle", "nt", "xml", "json-ld", "trig"]))
def test_parse_of_serialize_is_the_same_graph(triples: list, fmt: str) -> None:
    g = Graph()
    for t in triples:
        g.add(t)
    data = g.serialize(format=fmt, encoding="utf-8")
    syntax = {"nt": "ntriples", "xml": "rdfxml", "json-ld": "jsonld"}.get(fmt, fmt)
    back = parse(data, syntax=syntax, base_iri=BASE)
    merged = Graph()
    for s, p, o, _ in back.quads((None, None, None, None)):
        merged.add((s, p, o))
    assert isomorphic(merged, g)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(sorted(GOOD)))
def test_mutated_input_is_accepted_or_a_parse_error(noise: bytes, syntax: str) -> None:
    """Bytes inserted into good input: either it is still RDF — every quad read survives a
    round trip through N-Quads — or it is refused with a ParseError that says where (a line
    of the input, a column on it); never another exception, never a position outside it."""
    base = GOOD[syntax]
    cut = len(noise) % (len(base) + 1)
    mutated = base[:cut] + noise + base[cut:]
    try:
        quads = list(iter_quads(mutated, syntax=syntax, base_iri=BASE))
    except ParseError as error:
        assert error.reason.strip() and str(error).startswith("<input>")
        if error.line is None:
            # the only position-less refusals measured (5 in 3,000 random mutations): the
            # RDF/XML parser's "Unexpected text event", which carries no position at all
            assert syntax == "rdfxml", error
            return
        lines = re.split(rb"\r\n|\r|\n", mutated)  # the parsers end a line at CR too
        assert 1 <= error.line <= len(lines), error
        if error.column is not None and "Invalid UTF-8" not in error.reason:
            assert 0 <= error.column <= len(lines[error.line - 1]) + 1, error
        # Invalid UTF-8 inside an IRI is reported at the end of the token, whose column pyoxigraph
        # 0.5.13 keeps counting across a line break inside it (measured: line 1, column 25 for a
        # 13-byte first line); the line is right, so only the line is checked there.
        return
    written = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    assert count_quads(written, syntax="nquads") == len(quads)
