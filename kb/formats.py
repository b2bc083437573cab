"""The one format table: name <-> media type <-> file extension <-> pyoxigraph format."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kb.errors import UnsupportedFormat


@dataclass(frozen=True)
class RdfSyntax:
    name: str  # short name used on the command line
    media_type: str
    extensions: tuple[str, ...]
    oxigraph: ox.RdfFormat
    rdflib: str  # rdflib parser/serializer name
    quads: bool  # can carry named graphs
    aliases: tuple[str, ...] = ()


RDF_SYNTAXES: tuple[RdfSyntax, ...] = (
    RdfSyntax(
        "turtle",
        "text/turtle",
        (".ttl",),
        ox.RdfFormat.TURTLE,
        "turtle",
        False,
        ("application/x-turtle",),
    ),
    RdfSyntax(
        "ntriples",
        "application/n-triples",
        (".nt",),
        ox.RdfFormat.N_TRIPLES,
        "nt",
        False,
        ("text/plain",),
    ),
    RdfSyntax("nquads", "application/n-quads", (".nq",), ox.RdfFormat.N_QUADS, "nquads", True),
    RdfSyntax("trig", "application/trig", (".trig",), ox.RdfFormat.TRIG, "trig", True),
    RdfSyntax(
        "jsonld",
        "application/ld+json",
        (".jsonld", ".json-ld"),
        ox.RdfFormat.JSON_LD,
        "json-ld",
        True,
    ),
    RdfSyntax(
        "rdfxml",
        "application/rdf+xml",
        (".rdf", ".owl", ".xml"),
        ox.RdfFormat.RDF_XML,
        "xml",
        False,
    ),
)

_BY_KEY: dict[str, RdfSyntax] = {}
for _s in RDF_SYNTAXES:
    _BY_KEY[_s.name] = _s
    _BY_KEY[_s.media_type] = _s
    for _alias in _s.aliases:
        _BY_KEY[_alias] = _s


def syntax_by_name(key: str) -> RdfSyntax:
    """Look a syntax up by short name or media type (parameters such as charset ignored)."""
    norm = key.split(";", 1)[0].strip().lower()
    try:
        return _BY_KEY[norm]
    except KeyError:
        offered = ", ".join(s.name for s in RDF_SYNTAXES)
        raise UnsupportedFormat(f"unsupported RDF format {key!r}; offered: {offered}") from None


def syntax_for_path(path: str | Path, explicit: str | None = None) -> RdfSyntax:
    """The syntax named by ``explicit``, else the one the file extension names."""
    if explicit:
        return syntax_by_name(explicit)
    suffix = Path(path).suffix.lower()
    for syntax in RDF_SYNTAXES:
        if suffix in syntax.extensions:
            return syntax
    offered = ", ".join(e for s in RDF_SYNTAXES for e in s.extensions)
    raise UnsupportedFormat(
        f"{path}: cannot tell the RDF format from the extension {suffix or '(none)'!r}; "
        f"use one of {offered} or pass --format"
    )


#: SPARQL result formats: CLI name -> (media type, applies to SELECT/ASK or to graphs).
RESULT_FORMATS: dict[str, tuple[str, str]] = {
    "json": ("application/sparql-results+json", "solutions"),
    "xml": ("application/sparql-results+xml", "solutions"),
    "csv": ("text/csv", "solutions"),
    "tsv": ("text/tab-separated-values", "solutions"),
    "turtle": ("text/turtle", "graph"),
    "ntriples": ("application/n-triples", "graph"),
    "jsonld": ("application/ld+json", "graph"),
    "rdfxml": ("application/rdf+xml", "graph"),
}
