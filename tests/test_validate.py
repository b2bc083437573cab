"""kb.validate beyond the W3C suite: the project's shapes, messages, and odd dates."""

from __future__ import annotations

import pytest

from kb.bundled import reference_graph
from kb.load import parse_graph
from kb.validate import validate

BASE = "http://localhost:8080/"
PREFIXES = """@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix time: <http://www.w3.org/2006/time#> .
"""


@pytest.mark.parametrize(
    "period",
    [
        'schema:startDate "2020"^^xsd:gYear ; schema:endDate "2018"^^xsd:gYear',
        'schema:startDate "2020-13-45"^^xsd:date ; schema:endDate "2021-01-01"^^xsd:date',
        'schema:startDate "2020-01-01"^^xsd:date ; schema:endDate _:x',
        'schema:startDate "soon"^^<http://e/odd> ; schema:endDate "2018"^^xsd:gYear',
    ],
)
def test_incomparable_dates_are_a_violation_not_a_crash(period: str) -> None:
    data = parse_graph(f"{PREFIXES}<http://e/i> a time:Interval ; {period} .", syntax="turtle")
    report = validate(data + reference_graph(BASE))
    assert not report.accepted
    hits = [r for r in report.violations if r.focus_node == "http://e/i"]
    assert hits, report.to_text()


def test_descending_dates_are_reported() -> None:
    data = parse_graph(
        f'{PREFIXES}<http://e/i> a time:Interval ; schema:startDate "2021-01-01"^^xsd:date ; '
        'schema:endDate "2020-01-01"^^xsd:date .',
        syntax="turtle",
    )
    report = validate(data)
    assert any("not after the end date" in r.message("en") for r in report.violations)
