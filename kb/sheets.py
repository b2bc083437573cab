"""Spreadsheet templates (CSV and XLSX) and their mapping to RDF. No HTTP here.

One template per kind: ``clusters``, ``organisations``, ``memberships``, ``projects`` (projects
and investments) and ``partnerships``. Row 1 holds the column names (``TEMPLATES`` below, also
in the README); every further non-empty row becomes one resource ``{base}id/{type}/{id}``.

Cell values: a *reference* is an ``id`` of the referenced kind (``kamp-c``), a ``type/id`` path
under ``{base}id/`` (``organisatie/de-blauwe-cluster``) or a full ``http(s)`` IRI; lists are
separated by ``;``; dates are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; NUTS codes are bare
(``BE21``). Cells that start with ``=`` are refused (formulas, and CSV formula injection):
XLSX files are read with formulas as written (``data_only=False``), never evaluated. Problems
are reported with the row number and the column (letter and name) as the sheet shows them.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kb.errors import ParseError, Problem, SheetError
from kb.formats import named
from kb.namespaces import PC, PREFIXES

CSV_TYPE = "text/csv"
XLSX_TYPE = named("xlsx").media_type
MAX_ROWS = 50_000
MAX_XLSX_UNPACKED = 256 << 20  # refuse "zip bombs": XLSX whose parts unpack past 256 MiB

_N = {k: v for k, v in PREFIXES.items()}
SKOS, DCT, ORG, PROV, SCHEMA, FOAF, OWL, CV, TIME = (
    _N["skos"],
    _N["dct"],
    _N["org"],
    _N["prov"],
    _N["schema"],
    _N["foaf"],
    _N["owl"],
    _N["cv"],
    _N["time"],
)


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    required: bool = False
    predicate: str | None = None  # None: handled by the kind's own code (id, type)
    value: str = "text"  # text | text_nl | text_en | ref:<kind> | refs:<kind> | date | url(s)
    # | nuts(s) | concept:<scheme> | concepts:<scheme>


@dataclass(frozen=True)
class Template:
    kind: str
    rdf_type: str | None  # None: from the `type` column
    id_path: str
    columns: tuple[Column, ...]
    types: dict[str, str] = field(default_factory=dict)  # `type` column value -> class IRI


def _c(*args: object, **kw: object) -> Column:
    return Column(*args, **kw)  # type: ignore[arg-type]


_LABELS = (
    _c("label_nl", "Name in Dutch.", True, SKOS + "prefLabel", "text_nl"),
    _c("label_en", "Name in English.", False, SKOS + "prefLabel", "text_en"),
)
_DESCRIPTIONS = (
    _c("description_nl", "Description in Dutch.", False, DCT + "description", "text_nl"),
    _c("description_en", "Description in English.", False, DCT + "description", "text_en"),
)
_SOURCE = _c("source", "Source URL(s) of the facts, ';'-separated.", True, DCT + "source", "urls")
_PERIOD = (
    _c("start_date", "Start: YYYY, YYYY-MM or YYYY-MM-DD.", False, SCHEMA + "startDate", "date"),
    _c("end_date", "End: YYYY, YYYY-MM or YYYY-MM-DD.", False, SCHEMA + "endDate", "date"),
)
_ID = _c("id", "Identifier: lower-case letters, digits and hyphens (the IRI's last part).", True)

TEMPLATES: dict[str, Template] = {
    t.kind: t
    for t in (
        Template(
            "clusters",
            str(PC.ProvincialCluster),
            "cluster",
            (
                _ID,
                *_LABELS,
                *_DESCRIPTIONS,
                _c(
                    "run_by",
                    "The province that runs it (organisation id).",
                    True,
                    PC + "runBy",
                    "ref:organisatie",
                ),
                _c("nuts", "NUTS code of its province (e.g. BE21).", True, DCT + "spatial", "nuts"),
                _c(
                    "sub_sector",
                    "Sub-sector concept id (deelsector).",
                    True,
                    PC + "subSector",
                    "concept:deelsector",
                ),
                _c(
                    "reinforces",
                    "Spearhead cluster(s) it reinforces (organisation ids).",
                    False,
                    PC + "reinforces",
                    "refs:organisatie",
                ),
                _c(
                    "complements",
                    "Spearhead cluster(s) it complements (organisation ids).",
                    False,
                    PC + "complements",
                    "refs:organisatie",
                ),
                _c(
                    "founding_date",
                    "Founded: YYYY, YYYY-MM or YYYY-MM-DD.",
                    False,
                    SCHEMA + "foundingDate",
                    "date",
                ),
                _SOURCE,
            ),
        ),
        Template(
            "organisations",
            None,
            "organisatie",
            (
                _ID,
                _c(
                    "type",
                    "FormalOrganization, PublicOrganisation, OrganizationalCollaboration "
                    "or Organization.",
                    True,
                ),
                *_LABELS,
                _c("alt_label", "Other name or abbreviation.", False, SKOS + "altLabel", "text_nl"),
                _c(
                    "helix_role",
                    "Helix role concept id (overheid, bedrijfsleven, academie, middenveld).",
                    False,
                    ORG + "classification",
                    "concept:helixrol",
                ),
                _c("homepage", "Web site.", False, FOAF + "homepage", "url"),
                _c(
                    "same_as",
                    "The same organisation elsewhere (Wikidata, ROR IRIs), ';'.",
                    False,
                    OWL + "sameAs",
                    "urls",
                ),
                *_DESCRIPTIONS,
                _SOURCE,
            ),
            {
                "FormalOrganization": ORG + "FormalOrganization",
                "PublicOrganisation": CV + "PublicOrganisation",
                "OrganizationalCollaboration": ORG + "OrganizationalCollaboration",
                "Organization": ORG + "Organization",
            },
        ),
        Template(
            "memberships",
            ORG + "Membership",
            "lidmaatschap",
            (
                _ID,
                _c(
                    "member",
                    "The member organisation (id).",
                    True,
                    ORG + "member",
                    "ref:organisatie",
                ),
                _c("cluster", "The cluster (id).", True, ORG + "organization", "ref:cluster"),
                _c("role", "Helix role concept id.", True, ORG + "role", "concept:helixrol"),
                _c("start_date", "Member since: YYYY, YYYY-MM or YYYY-MM-DD.", False, None, "date"),
                _c("end_date", "Member until.", False, None, "date"),
                _c(
                    "note_nl",
                    "What the participation is, in Dutch.",
                    False,
                    SKOS + "note",
                    "text_nl",
                ),
                _c("note_en", "The same in English.", False, SKOS + "note", "text_en"),
                _SOURCE,
            ),
        ),
        Template(
            "projects",
            None,
            "project",
            (
                _ID,
                _c(
                    "type",
                    "ClusterProject, Study, Demonstration, StructuralInvestment, "
                    "PromotionActivity or LabourMarketInitiative.",
                    True,
                ),
                *_LABELS,
                *_DESCRIPTIONS,
                _c("cluster", "The cluster (id).", True, PC + "withinCluster", "ref:cluster"),
                _c(
                    "work_streams",
                    "Work stream concept id(s), ';'.",
                    True,
                    PC + "workStream",
                    "concepts:werkstroom",
                ),
                _c(
                    "associated",
                    "Organisations carrying it out (ids), ';'.",
                    True,
                    PROV + "wasAssociatedWith",
                    "refs:organisatie",
                ),
                _c("location", "Facility (site id).", False, SCHEMA + "location", "ref:site"),
                _c(
                    "funder",
                    "Funding organisations (ids), ';'.",
                    False,
                    SCHEMA + "funder",
                    "refs:organisatie",
                ),
                *_PERIOD,
                _SOURCE,
            ),
            {
                name: str(PC[name])
                for name in (
                    "ClusterProject",
                    "Study",
                    "Demonstration",
                    "StructuralInvestment",
                    "PromotionActivity",
                    "LabourMarketInitiative",
                )
            },
        ),
        Template(
            "partnerships",
            str(PC.MirrorRegionPartnership),
            "spiegelregio-partnerschap",
            (
                _ID,
                *_LABELS,
                *_DESCRIPTIONS,
                _c(
                    "partnership_type",
                    "Partnership type concept id (e.g. spiegelregio).",
                    False,
                    DCT + "type",
                    "concept:partnerschapstype",
                ),
                _c(
                    "framework",
                    "Framework concept id(s) (e.g. interreg), ';'.",
                    True,
                    PC + "framework",
                    "concepts:samenwerkingskader",
                ),
                _c(
                    "partner_regions",
                    "NUTS codes of the partner regions, ';'.",
                    True,
                    PC + "partnerRegion",
                    "nutss",
                ),
                _c(
                    "cluster",
                    "The cluster concerned (id, or type/id).",
                    True,
                    PC + "concernsCluster",
                    "ref:cluster",
                ),
                _c(
                    "members",
                    "Member organisations (ids), ';'.",
                    True,
                    ORG + "hasMember",
                    "refs:organisatie",
                ),
                *_PERIOD,
                _SOURCE,
            ),
        ),
    )
}


@dataclass
class SheetResult:
    graph: Graph
    rows: dict[str, int]  # subject (IRI or _:id) -> row
    columns: dict[tuple[str, str], str]  # (subject, predicate) -> column ("C (nuts)")


def template_csv(kind: str) -> bytes:
    t = _template(kind)
    out = io.StringIO()
    csv.writer(out).writerow([c.name for c in t.columns])
    return out.getvalue().encode("utf-8")


def template_xlsx(kind: str) -> bytes:
    from openpyxl import Workbook

    t = _template(kind)
    wb = Workbook()
    ws = wb.active
    ws.title = kind
    ws.append([c.name for c in t.columns])
    help_ws = wb.create_sheet("help")
    help_ws.append(["column", "required", "what to write"])
    for c in t.columns:
        help_ws.append([c.name, "yes" if c.required else "no", c.help])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def parse_sheet(
    data: bytes, *, media_type: str, kind: str, base: str, source: str = "<sheet>"
) -> SheetResult:
    """Map a CSV or XLSX template to RDF; :class:`SheetError` lists every problem found."""
    t = _template(kind)
    if media_type.split(";")[0].strip().lower() == CSV_TYPE:
        rows = _csv_rows(data, source)
    else:
        rows = _xlsx_rows(data, source)
    return _map(t, rows, base, source)


def _template(kind: str) -> Template:
    try:
        return TEMPLATES[kind]
    except KeyError:
        raise ParseError(
            f"unknown template {kind!r}; the templates are {', '.join(TEMPLATES)}"
        ) from None


def _csv_rows(data: bytes, source: str) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"the CSV file is not UTF-8 ({exc.reason})", source=source) from None
    if "\x00" in text:
        raise ParseError("the CSV file contains NUL bytes", source=source)
    try:
        sample = text[:4096]
        dialect: type[csv.Dialect] | csv.Dialect = (
            csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
        )
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text, newline=""), dialect)
    except csv.Error as exc:
        raise ParseError(f"malformed CSV: {exc}", source=source) from None


def _xlsx_rows(data: bytes, source: str) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile:
        raise ParseError("not an XLSX file (not a zip archive)", source=source) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise ParseError(
            f"the XLSX file unpacks to {unpacked:,} bytes (limit {MAX_XLSX_UNPACKED:,})",
            source=source,
        )
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        ws = wb.worksheets[0]
        rows = [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    except Exception as exc:  # openpyxl raises many types on a broken file
        raise ParseError(f"unreadable XLSX file: {type(exc).__name__}", source=source) from None
    yield from rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
