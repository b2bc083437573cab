"""The one format table: every format the knowledge base reads, writes, offers or publishes.

Each :class:`Format` row says, once: its short name, media type, label, kind of content, file
suffixes, the other media types and names that mean it, the EU file-type code (for DCAT-AP),
the W3C format IRI, the rdflib and pyoxigraph names, and whether the file is gzipped.
Negotiation (``server/negotiate.py``, ``server/accept.py``), parsing (:mod:`kb.load`), the
SPARQL result formats (:mod:`kb.results`), the dumps (:mod:`kb.dumps`), the catalogue
(:mod:`kb.catalogue`), submissions and the spreadsheet templates take what they need from here,
and :attr:`Format.content_type` is the one place a ``Content-Type`` value is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kb.errors import UnsupportedFormat

#: Kinds of content. ``GRAPH`` rows hold RDF (``quads`` says whether named graphs too).
GRAPH = "graph"
SOLUTIONS = "solutions"
SPREADSHEET = "spreadsheet"
PAGE = "page"

W3C_FORMATS = "http://www.w3.org/ns/formats/"


@dataclass(frozen=True)
class Format:
    name: str  # short name: the CLI's --format, ?format=, the row's key
    media_type: str
    label: str
    kind: str  # GRAPH, SOLUTIONS, SPREADSHEET or PAGE
    suffixes: tuple[str, ...]  # file suffixes with the dot, the usual one first
    aliases: tuple[str, ...] = ()  # other media types that name this very format
    also_serves: tuple[str, ...] = ()  # broader media types a client may be given this for
    names: tuple[str, ...] = ()  # other short names (``?format=``, ``--format``)
    file_type: str | None = None  # EU file-type authority code (DCAT-AP dct:format)
    w3c: str | None = None  # local name under http://www.w3.org/ns/formats/
    rdflib: str | None = None  # rdflib parser/serializer name
    oxigraph: ox.RdfFormat | None = None
    results: ox.QueryResultsFormat | None = None  # pyoxigraph reads these solutions
    quads: bool = False  # a GRAPH format that can carry named graphs
    gzip: bool = False  # the file is this format, gzipped

    @property
    def suffix(self) -> str:
        """The usual file suffix, with the dot (``.ttl``)."""
        return self.suffixes[0]

    @property
    def extensions(self) -> tuple[str, ...]:
        return self.suffixes

    @property
    def key(self) -> str:
        """The usual suffix without the dot (``ttl``, ``nt.gz``): a dump file's format key."""
        return self.suffix[1:]

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` of a body in this format, charset stated once for text."""
        if self.gzip:
            return "application/gzip"
        mt = self.media_type
        text = mt.startswith("text/") or mt.endswith(("+xml", "json"))
        return f"{mt}; charset=utf-8" if text else mt

    @property
    def format_iri(self) -> str:
        """The W3C format IRI (https://www.w3.org/ns/formats/)."""
        if self.w3c is None:
            raise UnsupportedFormat(f"{self.name} has no W3C format IRI")
        return W3C_FORMATS + self.w3c

    @property
    def accepts(self) -> tuple[str, ...]:
        """The media types an ``Accept`` header may ask this for: its own first."""
        return (self.media_type, *self.aliases, *self.also_serves)

    def means(self, key: str) -> bool:
        """Whether ``key`` (a name, suffix or media type, lower case) names this format."""
        return key in (self.name, self.key, self.media_type, *self.names, *self.aliases)


@dataclass(frozen=True)
class RdfSyntax(Format):
    """A row that holds RDF: pyoxigraph and rdflib read and write it."""

    rdflib: str = ""
    oxigraph: ox.RdfFormat = ox.RdfFormat.N_TRIPLES


FORMATS: tuple[Format, ...] = (
    Format(
        "json",
        "application/sparql-results+json",
        "SPARQL JSON",
        SOLUTIONS,
        (".srj",),
        also_serves=("application/json", "text/javascript", "application/javascript"),
        w3c="SPARQL_Results_JSON",
        results=ox.QueryResultsFormat.JSON,
    ),
    Format(
        "xml",
        "application/sparql-results+xml",
        "SPARQL XML",
        SOLUTIONS,
        (".srx",),
        also_serves=("application/xml", "text/xml"),
        w3c="SPARQL_Results_XML",
        results=ox.QueryResultsFormat.XML,
    ),
    Format(
        "csv", "text/csv", "CSV", SOLUTIONS, (".csv",), file_type="CSV", w3c="SPARQL_Results_CSV"
    ),
    Format(
        "tsv",
        "text/tab-separated-values",
        "TSV",
        SOLUTIONS,
        (".tsv",),
        file_type="TSV",
        w3c="SPARQL_Results_TSV",
        results=ox.QueryResultsFormat.TSV,
    ),
    RdfSyntax(
        "turtle",
        "text/turtle",
        "Turtle",
        GRAPH,
        (".ttl",),
        aliases=("application/x-turtle", "application/turtle"),
        names=("ttl",),
        file_type="RDF_TURTLE",
        w3c="Turtle",
        rdflib="turtle",
        oxigraph=ox.RdfFormat.TURTLE,
    ),
    RdfSyntax(
        "ntriples",
        "application/n-triples",
        "N-Triples",
        GRAPH,
        (".nt",),
        aliases=("text/plain",),
        names=("nt",),
        file_type="RDF_N_TRIPLES",
        w3c="N-Triples",
        rdflib="nt",
        oxigraph=ox.RdfFormat.N_TRIPLES,
    ),
    RdfSyntax(
        "jsonld",
        "application/ld+json",
        "JSON-LD",
        GRAPH,
        (".jsonld", ".json-ld"),
        aliases=("application/x-json+ld",),
        also_serves=("application/json",),
        names=("json-ld", "json"),
        file_type="JSON_LD",
        w3c="JSON-LD",
        rdflib="json-ld",
        oxigraph=ox.RdfFormat.JSON_LD,
        quads=True,
    ),
    RdfSyntax(
        "rdfxml",
        "application/rdf+xml",
        "RDF/XML",
        GRAPH,
        (".rdf", ".owl", ".xml"),
        also_serves=("application/xml", "text/xml"),
        names=("xml",),
        file_type="RDF_XML",
        w3c="RDF_XML",
        rdflib="xml",
        oxigraph=ox.RdfFormat.RDF_XML,
    ),
    RdfSyntax(
        "trig",
        "application/trig",
        "TriG",
        GRAPH,
        (".trig",),
        file_type="RDF_TRIG",
        w3c="TriG",
        rdflib="trig",
        oxigraph=ox.RdfFormat.TRIG,
        quads=True,
    ),
    RdfSyntax(
        "nquads",
        "application/n-quads",
        "N-Quads",
        GRAPH,
        (".nq",),
        names=("nq",),
        file_type="RDF_N_QUADS",
        w3c="N-Quads",
        rdflib="nquads",
        oxigraph=ox.RdfFormat.N_QUADS,
        quads=True,
    ),
    RdfSyntax(
        "ntriples-gzip",
        "application/n-triples",
        "N-Triples (gzip)",
        GRAPH,
        (".nt.gz",),
        file_type="RDF_N_TRIPLES",
        oxigraph=ox.RdfFormat.N_TRIPLES,
        gzip=True,
    ),
    Format(
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel",
        SPREADSHEET,
        (".xlsx",),
        file_type="XLSX",
    ),
    Format(
        "html",
        "text/html",
        "HTML",
        PAGE,
        (".html",),
        also_serves=("application/xhtml+xml",),
        names=("htm",),
        file_type="HTML",
    ),
)

_BY_NAME = {f.name: f for f in FORMATS}


def named(name: str) -> Format:
    """The row with this short name (a programming error if there is none)."""
    return _BY_NAME[name]


def formats(*names: str) -> tuple[Format, ...]:
    return tuple(_BY_NAME[n] for n in names)


def rdf_syntaxes(*names: str) -> tuple[RdfSyntax, ...]:
    rows = formats(*names)
    assert all(isinstance(f, RdfSyntax) for f in rows), names
    return tuple(f for f in rows if isinstance(f, RdfSyntax))


def by_suffix(suffix: str) -> Format | None:
    """The row whose usual suffix this is (``.ttl``, ``nt.gz``), or ``None``."""
    key = suffix if suffix.startswith(".") else "." + suffix
    return next((f for f in FORMATS if f.suffix == key), None)


#: The RDF syntaxes the knowledge base parses (uploads, ``kb load``) and writes.
RDF_SYNTAXES: tuple[RdfSyntax, ...] = rdf_syntaxes(
    "turtle", "ntriples", "nquads", "trig", "jsonld", "rdfxml"
)


def syntax_by_name(key: str) -> RdfSyntax:
    """Look a syntax up by short name or media type (parameters such as charset ignored)."""
    norm = key.split(";", 1)[0].strip().lower()
    for syntax in RDF_SYNTAXES:
        if norm in (syntax.name, syntax.media_type, *syntax.aliases):
            return syntax
    offered = ", ".join(s.name for s in RDF_SYNTAXES)
    raise UnsupportedFormat(f"unsupported RDF format {key!r}; offered: {offered}")


def syntax_for_path(path: str | Path, explicit: str | None = None) -> RdfSyntax:
    """The syntax named by ``explicit``, else the one the file extension names."""
    if explicit:
        return syntax_by_name(explicit)
    suffix = Path(path).suffix.lower()
    for syntax in RDF_SYNTAXES:
        if suffix in syntax.suffixes:
            return syntax
    offered = ", ".join(e for s in RDF_SYNTAXES for e in s.suffixes)
    raise UnsupportedFormat(
        f"{path}: cannot tell the RDF format from the extension {suffix or '(none)'!r}; "
        f"use one of {offered} or pass --format"
    )


#: The formats a SPARQL result can be sent in (per kind, the default first).
RESULT_SYNTAXES: tuple[Format, ...] = formats(
    "json", "xml", "csv", "tsv", "turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"
)

#: SPARQL result formats of ``kb query``: CLI name -> (media type, SOLUTIONS or GRAPH).
RESULT_FORMATS: dict[str, tuple[str, str]] = {
    f.name: (f.media_type, f.kind)
    for f in formats("json", "xml", "csv", "tsv", "turtle", "ntriples", "jsonld", "rdfxml")
}
