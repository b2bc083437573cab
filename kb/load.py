"""Hardened parsing of RDF input: every failure is a :class:`ParseError` with line and column.

What is refused, and why (see DESIGN.md §6 and shared/security/CATALOGUE.md groups A–D):

* RDF/XML with a DOCTYPE or entity declarations (entity-expansion bombs, XXE): checked with a
  streaming expat pass *before* the RDF/XML parser sees the document, which also catches
  documents truncated after a complete element.
* JSON-LD with a remote or ``file:`` ``@context``: pyoxigraph is given no document loader, so
  nothing is ever fetched.
* Literals and IRIs over the configured sizes.
* Named graphs where the caller only accepts triples.

Parsing is done by pyoxigraph (streaming, linear time, positions in its errors); rdflib graphs are
built from its quads only when a caller needs one (validation).
"""

from __future__ import annotations

import contextlib
import io
import mmap
import re
import xml.parsers.expat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from kb.errors import InputTooLarge, ParseError
from kb.formats import RdfSyntax, syntax_by_name
from kb.namespaces import RDF_NS, XSD

Input = bytes | str | Path
_CHUNK = 1 << 20
_XSD_STRING = str(XSD.string)
_RDF_LANGSTRING = str(RDF_NS.langString)


@dataclass(frozen=True)
class Limits:
    max_literal_bytes: int = 1_048_576
    max_iri_bytes: int = 4096


def iter_quads(
    data: Input,
    *,
    syntax: RdfSyntax | str,
    base_iri: str | None = None,
    source: str | None = None,
    limits: Limits | None = None,
    allow_named_graphs: bool = True,
    stream: IO[bytes] | None = None,
) -> Iterator[ox.Quad]:
    """Parse ``data`` (bytes, text, or a file path) and yield its quads.

    ``stream`` may be given for a path to read through a wrapper (a progress bar); it must
    read the same bytes. Raises :class:`ParseError` (with line/column where the input has
    them) on the first problem; quads already yielded must then be discarded by the caller.
    """
    syn = syntax if isinstance(syntax, RdfSyntax) else syntax_by_name(syntax)
    limits = limits or Limits()
    name = source or (str(data) if isinstance(data, Path) else "<input>")
    if syn.name == "rdfxml":
        _check_xml(data, name)
    kwargs: dict[str, object] = {
        "format": syn.oxigraph,
        "base_iri": base_iri,
        "without_named_graphs": not allow_named_graphs,
    }
    with contextlib.ExitStack() as stack:
        if isinstance(data, Path):
            kwargs["input"] = stream or stack.enter_context(data.open("rb"))
        else:
            kwargs["input"] = data.encode("utf-8") if isinstance(data, str) else data
        try:
            for quad in ox.parse(**kwargs):  # type: ignore[arg-type]
                _check_terms(quad, limits, data, name)
                yield quad
        except SyntaxError as exc:
            raise _parse_error(exc, data, name, syn) from None
        except MemoryError:
            # pyoxigraph's tokenizer refuses single tokens past 16 MiB.
            line, col = _long_line(data, limits.max_literal_bytes)
            raise InputTooLarge(
                f"a single literal or IRI exceeds the limit of {limits.max_literal_bytes:,} bytes",
                source=name,
                line=line,
                column=col,
            ) from None
        except UnicodeDecodeError as exc:
            raise ParseError(f"input is not UTF-8 ({exc.reason})", source=name) from None
        except OSError as exc:
            raise ParseError(f"cannot read input: {exc.strerror or exc}", source=name) from None


def parse(
    data: Input,
    *,
    syntax: RdfSyntax | str,
    base_iri: str | None = None,
    source: str | None = None,
    limits: Limits | None = None,
    allow_named_graphs: bool = True,
) -> Dataset:
    """Parse into an rdflib :class:`Dataset` (triples in its default graph)."""
    ds = Dataset()
    graphs: dict[str, Graph] = {}
    for q in iter_quads(
        data,
        syntax=syntax,
        base_iri=base_iri,
        source=source,
        limits=limits,
        allow_named_graphs=allow_named_graphs,
    ):
        if isinstance(q.graph_name, ox.DefaultGraph):
            g = ds.default_graph
        else:
            key = q.graph_name.value
            g = graphs.get(key) or graphs.setdefault(key, ds.graph(URIRef(key)))
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return ds


def parse_graph(data: Input, **kwargs: Any) -> Graph:
    """Parse triples only (named graphs refused) into an rdflib :class:`Graph`."""
    ds = parse(data, allow_named_graphs=False, **kwargs)
    g = Graph()
    for triple in ds.default_graph:
        g.add(triple)
    return g


def count_quads(data: Input, **kwargs: Any) -> int:
    """Check ``data`` completely (all refusals above) and return its number of quads."""
    return sum(1 for _ in iter_quads(data, **kwargs))


def to_rdflib(term: object) -> Node:
    """Convert a pyoxigraph term to the rdflib term with the same meaning."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        # normalize=False keeps the lexical form as written ("1"^^xsd:boolean stays "1").
        return Literal(
            term.value, datatype=None if dt == _XSD_STRING else URIRef(dt), normalize=False
        )
    raise ParseError(f"unsupported term {term!r} (RDF-star triples are not accepted)")


class CheckedLines:
    """A reader over N-Triples/N-Quads for a bulk loader that refuses over-long terms on the way.

    Every term of a line-based syntax lies on its line, so a line no longer than the smaller
    limit holds no term over either limit; the rare longer line is parsed on its own and its
    terms are checked exactly. Raises :class:`InputTooLarge` from ``read`` (pyoxigraph's bulk
    loader then stops and writes nothing). Counts the statements it passes through.
    """

    def __init__(
        self,
        raw: IO[bytes],
        *,
        syntax: RdfSyntax,
        source: str,
        limits: Limits,
        base_iri: str | None = None,
    ) -> None:
        self.raw = raw
        self.syntax = syntax
        self.source = source
        self.limits = limits
        self.base_iri = base_iri
        self.threshold = min(limits.max_literal_bytes, limits.max_iri_bytes)
        self.lines = 0  # complete lines seen
        self.statements = 0
        self._partial: list[bytes] = []
        self._partial_len = 0
        # A statement whose terms are all within the limits: one literal, five IRIs (subject,
        # predicate, graph, datatype, object) and the punctuation, language tag and spaces.
        self._longest_allowed = limits.max_literal_bytes + 5 * limits.max_iri_bytes + 256

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size if size and size > 0 else _CHUNK)
        if not chunk:
            if self._partial:
                self._finish(b"".join(self._partial))
                self._partial.clear()
            return chunk
        parts = chunk.split(b"\n")
        for i, part in enumerate(parts[:-1]):
            if i == 0 and self._partial:
                self._partial.append(part)
                part = b"".join(self._partial)
                self._partial.clear()
                self._partial_len = 0
            self._finish(part)
        tail = parts[-1]
        if tail:
            self._partial.append(tail)
            self._partial_len += len(tail)
            if self._partial_len > self._longest_allowed:
                self._refuse(b"".join(self._partial))
        return chunk

    def _finish(self, line: bytes) -> None:
        self.lines += 1
        stripped = line.strip()
        if stripped and not stripped.startswith(b"#"):
            self.statements += 1
        if len(line) > self.threshold:
            self._check_line(line)

    def _check_line(self, line: bytes) -> None:
        try:
            for quad in ox.parse(input=line, format=self.syntax.oxigraph, base_iri=self.base_iri):
                _check_terms(quad, self.limits, line, self.source)
        except InputTooLarge as exc:
            raise InputTooLarge(
                exc.reason, source=self.source, line=self.lines, column=exc.column
            ) from None
        except SyntaxError:
            pass  # the loader's own parser reports syntax errors with their place

    def _refuse(self, line: bytes) -> None:
        quote = line.find(b'"')
        raise InputTooLarge(
            f"a literal or IRI exceeds the limit of {self.limits.max_literal_bytes:,} bytes "
            f"(the statement is longer than {self._longest_allowed:,} bytes)",
            source=self.source,
            line=self.lines + 1,
            column=quote + 1 if quote >= 0 else 1,
        )


def syntax_error(exc: SyntaxError, data: Input, source: str, syntax: RdfSyntax) -> ParseError:
    """A :class:`ParseError` for a pyoxigraph ``SyntaxError`` raised while reading ``data``."""
    return _parse_error(exc, data, source, syntax)


# --- checks -------------------------------------------------------------------------------


def _check_terms(quad: ox.Quad, limits: Limits, data: Input, name: str) -> None:
    obj = quad.object
    if isinstance(obj, ox.Literal):
        value = obj.value
        if (
            len(value) * 4 > limits.max_literal_bytes
            and (size := len(value.encode("utf-8"))) > limits.max_literal_bytes
        ):
            line, col = _locate(data, value[:64].encode("utf-8"))
            col = col - 1 if col and col > 1 else col  # the opening quote, as below
            raise InputTooLarge(
                f"literal of {size:,} bytes (object of {quad.subject} "
                f"{quad.predicate}) exceeds the limit of {limits.max_literal_bytes:,} "
                "bytes",
                source=name,
                line=line,
                column=col,
            )
    elif isinstance(obj, ox.Triple):
        raise ParseError("RDF-star quoted triples are not accepted", source=name)
    for term in (quad.subject, quad.predicate, obj, quad.graph_name):
        if isinstance(term, ox.NamedNode) and len(term.value) > limits.max_iri_bytes:
            line, col = _locate(data, term.value[:64].encode("utf-8"))
            raise InputTooLarge(
                f"IRI of {len(term.value):,} characters exceeds the limit of "
                f"{limits.max_iri_bytes:,}",
                source=name,
                line=line,
                column=col,
            )


class _DoctypeRefused(Exception):
    pass


def _check_xml(data: Input, name: str) -> None:
    """Well-formedness without any DTD: refuses DOCTYPE, entities and truncated documents."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args: object) -> None:
        raise _DoctypeRefused

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    try:
        with _open(data) as fh:
            while chunk := fh.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _DoctypeRefused:
        raise ParseError(
            "DOCTYPE and entity declarations are not accepted in RDF/XML (entity expansion "
            "and external entities are refused)",
            source=name,
            line=parser.CurrentLineNumber,
            column=parser.CurrentColumnNumber + 1,
        ) from None
    except xml.parsers.expat.ExpatError as exc:
        reason = xml.parsers.expat.errors.messages.get(exc.code or 0, str(exc))
        raise ParseError(
            f"not well-formed XML: {reason}", source=name, line=exc.lineno, column=exc.offset + 1
        ) from None


def _open(data: Input) -> IO[bytes]:
    if isinstance(data, Path):
        return data.open("rb")
    return io.BytesIO(data.encode("utf-8") if isinstance(data, str) else data)


_POSITION = re.compile(r"line (\d+) column (\d+)")


def _parse_error(exc: SyntaxError, data: Input, name: str, syn: RdfSyntax) -> ParseError:
    message = str(exc)
    if "LoadDocumentCallback" in message:
        line, col = _locate(data, b'"@context"')
        return ParseError(
            "remote and file: JSON-LD @context references are not accepted; put the context inline",
            source=name,
            line=line,
            column=col,
        )
    line, col = exc.lineno, exc.offset
    if line is None and (m := _POSITION.search(message)):
        line, col = int(m.group(1)), int(m.group(2))
    # pyoxigraph says "Parser error between line 3 column 14 and line 4 column 1: reason";
    # keep the reason and report the start position.
    reason = message.split(": ", 1)[1] if message.startswith("Parser error") else message
    reason = re.sub(r"\s*\(line \d+\)$", "", reason)
    if line is None and syn.name == "jsonld" and (kw := re.search(r"@\w+", reason)):
        # JSON-LD processing errors carry no position: point at the keyword they name.
        line, col = _locate(data, f'"{kw.group(0)}"'.encode())
    # pyoxigraph's lines and columns are 1-based already.
    return ParseError(f"invalid {syn.name}: {reason}", source=name, line=line, column=col)


def _locate(data: Input, needle: bytes) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the first occurrence of ``needle`` in the input."""
    if not needle:
        return None, None
    if isinstance(data, Path):
        with data.open("rb") as fh:
            try:
                buf: bytes | mmap.mmap = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # empty file
                return None, None
            return _line_col(buf, buf.find(needle))
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return _line_col(raw, raw.find(needle))


def _long_line(data: Input, limit: int) -> tuple[int | None, int | None]:
    """The first line longer than ``limit`` and the column of its first quote (or 1)."""
    with _open(data) as fh:
        for number, line in enumerate(iter(lambda: fh.readline(limit + 1), b""), start=1):
            if len(line) > limit:
                rest = fh.readline(limit + 1)
                while rest and not rest.endswith(b"\n"):
                    rest = fh.readline(limit + 1)
                quote = min((i for i in (line.find(b'"'), line.find(b"'")) if i >= 0), default=0)
                return number, quote + 1
    return None, None


def _line_col(buf: bytes | mmap.mmap, pos: int) -> tuple[int | None, int | None]:
    if pos < 0:
        return None, None
    line = bytes(buf[:pos]).count(b"\n") + 1
    start = buf.rfind(b"\n", 0, pos) + 1
    return line, pos - start + 1
