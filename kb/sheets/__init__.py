"""Spreadsheet templates (CSV and XLSX) and their mapping to RDF. No HTTP here.

Three rooms: :mod:`kb.sheets.templates` says what each template holds and writes the blank
files, :mod:`kb.sheets.read` turns CSV or XLSX bytes into rows of strings (and refuses what is
not a sheet), :mod:`kb.sheets.mapping` turns rows into RDF and names every problem's cell.

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

from kb.sheets.mapping import SheetResult, parse_sheet
from kb.sheets.read import CSV_TYPE, XLSX_TYPE
from kb.sheets.templates import TEMPLATES, Column, Template, template_csv, template_xlsx

__all__ = [
    "CSV_TYPE",
    "TEMPLATES",
    "XLSX_TYPE",
    "Column",
    "SheetResult",
    "Template",
    "parse_sheet",
    "template_csv",
    "template_xlsx",
]
