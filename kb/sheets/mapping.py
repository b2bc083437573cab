"""Rows of a template to RDF, every problem named by its row and column as the sheet shows them.

Cell values: a *reference* is an ``id`` of the referenced kind (``kamp-c``), a ``type/id`` path
under ``{base}id/`` (``organisatie/de-blauwe-cluster``) or a full ``http(s)`` IRI; lists are
separated by ``;``; dates are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; NUTS codes are bare
(``BE21``). Cells that start with ``=`` are refused (formulas, and CSV formula injection).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kb.errors import Problem, SheetError
from kb.namespaces import ORG, PREFIXES, SCHEMA, TIME
from kb.sheets.read import rows
from kb.sheets.templates import Column, Template, template

MAX_ROWS = 50_000


@dataclass
class SheetResult:
    graph: Graph
    rows: dict[str, int]  # subject (IRI or _:id) -> row
    columns: dict[tuple[str, str], str]  # (subject, predicate) -> column ("C (nuts)")


def parse_sheet(
    data: bytes, *, media_type: str, kind: str, base: str, source: str = "<sheet>"
) -> SheetResult:
    """Map a CSV or XLSX template to RDF; :class:`SheetError` lists every problem found."""
    return _map(template(kind), rows(data, media_type, source), base, source)


def _letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DATE = (
    (re.compile(r"^\d{4}$"), XSD.gYear),
    (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), XSD.gYearMonth),
    (re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"), XSD.date),
)
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_NUTS = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,3}$")


def _map(t: Template, rows: Iterator[list[str]], base: str, source: str) -> SheetResult:
    problems: list[Problem] = []
    it = iter(rows)
    header = [h.strip().lower() for h in next(it, [])]
    while header and not header[-1]:
        header.pop()
    names = [c.name for c in t.columns]
    missing = [c.name for c in t.columns if c.required and c.name not in header]
    unknown = [h for h in header if h not in names]
    if not header:
        raise SheetError(
            [Problem(1, "", "the sheet is empty: row 1 must name the columns")], source=source
        )
    if missing or unknown:
        msg = []
        if missing:
            msg.append(f"missing required column(s): {', '.join(missing)}")
        if unknown:
            msg.append(
                f"unknown column(s): {', '.join(unknown)} (the {t.kind} template has "
                f"{', '.join(names)})"
            )
        raise SheetError([Problem(1, "", "; ".join(msg))], source=source)
    col_of = {h: i for i, h in enumerate(header)}
    g = Graph()
    result = SheetResult(g, {}, {})
    seen: dict[str, int] = {}
    for number, raw in enumerate(it, start=2):
        if number > MAX_ROWS + 1:
            problems.append(Problem(number, "", f"more than {MAX_ROWS:,} rows"))
            break
        cells = {h: (raw[i].strip() if i < len(raw) else "") for h, i in col_of.items()}
        if not any(cells.values()):
            continue
        where = {h: f"{_letter(i)} ({h})" for h, i in col_of.items()}

        def bad(col: str, message: str, number: int = number, where: dict = where) -> None:
            problems.append(Problem(number, where.get(col, col), message))

        for h, v in cells.items():
            if v.startswith("="):
                bad(h, "formulas are not accepted; type the value itself")
        if any(p.row == number for p in problems):
            continue
        for c in t.columns:
            if c.required and not cells.get(c.name):
                bad(c.name, "this column is required")
        ident = cells.get("id", "")
        if ident and not _SLUG.match(ident):
            bad("id", f"{ident!r} is not an identifier (a-z, 0-9 and hyphens)")
            continue
        if not ident:
            continue
        if ident in seen:
            bad("id", f"{ident!r} is already used in row {seen[ident]}")
            continue
        seen[ident] = number
        subject = URIRef(f"{base}id/{t.id_path}/{ident}")
        result.rows[str(subject)] = number
        rdf_type = t.rdf_type
        if rdf_type is None:
            kind_value = cells.get("type", "")
            rdf_type = t.types.get(kind_value)
            if rdf_type is None and kind_value:
                bad("type", f"{kind_value!r} is not one of {', '.join(t.types)}")
        if rdf_type:
            g.add((subject, RDF.type, URIRef(rdf_type)))
        for c in t.columns:
            value = cells.get(c.name, "")
            if not value or (c.predicate is None and c.name in ("id", "type")):
                continue
            try:
                terms = list(_terms(c, value, base))
            except ValueError as exc:
                bad(c.name, str(exc))
                continue
            if c.predicate is None:  # membership period: a time:Interval
                continue
            for term in terms:
                g.add((subject, URIRef(c.predicate), term))
            result.columns[(str(subject), c.predicate)] = where[c.name]
        if t.kind == "memberships" and (cells.get("start_date") or cells.get("end_date")):
            _interval(g, result, subject, cells, where, base, bad)
    if problems:
        raise SheetError(problems, source=source)
    return result


def _interval(
    g: Graph,
    result: SheetResult,
    subject: URIRef,
    cells: dict[str, str],
    where: dict[str, str],
    base: str,
    bad: Callable[[str, str], None],
) -> None:
    interval = BNode()
    g.add((subject, URIRef(ORG + "memberDuring"), interval))
    g.add((interval, RDF.type, URIRef(TIME + "Interval")))
    result.rows[f"_:{interval}"] = result.rows[str(subject)]
    for col, pred in (("start_date", "startDate"), ("end_date", "endDate")):
        if cells.get(col):
            try:
                g.add((interval, URIRef(SCHEMA + pred), _date(cells[col])))
            except ValueError as exc:
                bad(col, str(exc))
            result.columns[(f"_:{interval}", SCHEMA + pred)] = where[col]
    result.columns[(str(subject), ORG + "memberDuring")] = where.get("start_date", "")


def _terms(c: Column, value: str, base: str) -> Iterator[Node]:
    kind, _, arg = c.value.partition(":")
    many = kind in ("refs", "urls", "nutss", "concepts")
    parts = [p.strip() for p in value.split(";") if p.strip()] if many else [value]
    for part in parts:
        if kind == "text":
            yield Literal(part)
        elif kind == "text_nl":
            yield Literal(part, lang="nl")
        elif kind == "text_en":
            yield Literal(part, lang="en")
        elif kind == "date":
            yield _date(part)
        elif kind in ("url", "urls"):
            if not _URL.match(part):
                raise ValueError(f"{part!r} is not a web address (http:// or https://)")
            yield URIRef(part)
        elif kind in ("nuts", "nutss"):
            if not _NUTS.match(part):
                raise ValueError(f"{part!r} is not a NUTS code (e.g. BE21)")
            yield URIRef(PREFIXES["nuts"] + part)
        elif kind in ("ref", "refs"):
            yield _ref(part, arg, base)
        elif kind in ("concept", "concepts"):
            yield _ref(part, f"concept/{arg}", base)
        else:  # pragma: no cover - a template bug
            raise ValueError(f"unknown value kind {c.value}")


def _ref(value: str, path: str, base: str) -> URIRef:
    if value.startswith(("http://", "https://")):
        if not _URL.match(value):
            raise ValueError(f"{value!r} is not a valid IRI")
        return URIRef(value)
    segments = value.split("/")
    if not all(_SLUG.match(s) for s in segments) or len(segments) > 3:
        raise ValueError(f"{value!r} is not an identifier, a type/identifier path or an IRI")
    return URIRef(f"{base}id/{value}" if "/" in value else f"{base}id/{path}/{value}")


def _date(value: str) -> Literal:
    for pattern, datatype in _DATE:
        if pattern.match(value):
            return Literal(value, datatype=datatype)
    raise ValueError(f"{value!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
