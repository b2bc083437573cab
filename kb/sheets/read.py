"""CSV and XLSX bytes to rows of cell strings; what is not a readable sheet is refused here.

XLSX files are read with formulas as written (``data_only=False``), never evaluated, and an
archive that unpacks past :data:`MAX_XLSX_UNPACKED` is refused before it is opened.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

from kb.errors import ParseError
from kb.formats import named

CSV_TYPE = named("csv").media_type
XLSX_TYPE = named("xlsx").media_type
MAX_XLSX_UNPACKED = 256 << 20  # refuse "zip bombs": XLSX whose parts unpack past 256 MiB


def rows(data: bytes, media_type: str, source: str) -> Iterator[list[str]]:
    """The rows of a CSV file (``media_type`` text/csv) or of an XLSX workbook's first sheet."""
    if media_type.split(";")[0].strip().lower() == CSV_TYPE:
        return _csv_rows(data, source)
    return _xlsx_rows(data, source)


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
