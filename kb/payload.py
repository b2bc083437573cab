"""What a steward sends, parsed: RDF by its declared media type or a spreadsheet template,
with what provenance needs (source name, digest, size) and where each subject was written
(line, or row and column), so a validation result can point into the input. No HTTP here."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Graph

from kb.config import Settings
from kb.errors import ParseError, UnsupportedFormat
from kb.formats import RDF_SYNTAXES, syntax_by_name, syntax_for_path
from kb.load import Limits, parse
from kb.sheets import CSV_TYPE, XLSX_TYPE, parse_sheet

SHEET_TYPES = (CSV_TYPE, XLSX_TYPE)


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


def accepted_media_types() -> list[str]:
    """Every media type a submission may be sent in: the RDF syntaxes, then CSV and XLSX."""
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


def media_type_for_path(path: Path, explicit: str | None = None) -> str:
    """The media type a file is read as: ``explicit`` (a media type or a syntax name), else
    its extension (``.csv``, ``.xlsx`` or an RDF syntax's)."""
    if explicit:
        return explicit if "/" in explicit else syntax_for_path(path, explicit).media_type
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CSV_TYPE
    if suffix == ".xlsx":
        return XLSX_TYPE
    return syntax_for_path(path).media_type


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
