"""kb.validate beyond the W3C suite: the project's shapes, messages, and odd dates."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kb.bundled import reference_graph
from kb.load import parse_graph
from kb.namespaces import KB_NS
from kb.validate import validate

BASE = KB_NS
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


@pytest.mark.parametrize(
    ("start", "end", "ordered"),
    [
        ('"2017"^^xsd:gYear', '"2016-05-01"^^xsd:date', False),
        ('"2017-05"^^xsd:gYearMonth', '"2017-04-30"^^xsd:date', False),
        ('"2017-05-02"^^xsd:date', '"2017-05"^^xsd:gYearMonth', True),  # overlap: not before
        ('"2017"^^xsd:gYear', '"2017-01-31"^^xsd:date', True),
        ('"2016-12"^^xsd:gYearMonth', '"2017"^^xsd:gYear', True),
        ('"2019"^^xsd:gYear', '"2018"^^xsd:gYear', False),
    ],
)
def test_partial_dates_are_ordered(start: str, end: str, ordered: bool) -> None:
    data = parse_graph(
        f"{PREFIXES}<http://e/i> a time:Interval ; schema:startDate {start} ; "
        f"schema:endDate {end} .",
        syntax="turtle",
    )
    report = validate(data)
    after = [r for r in report.violations if "is after the end date" in r.message("en")]
    assert bool(after) is not ordered, report.to_text()
    if after:
        assert after[0].path == "<https://schema.org/endDate>"


def test_descending_dates_are_reported() -> None:
    data = parse_graph(
        f'{PREFIXES}<http://e/i> a time:Interval ; schema:startDate "2021-01-01"^^xsd:date ; '
        'schema:endDate "2020-01-01"^^xsd:date .',
        syntax="turtle",
    )
    report = validate(data)
    assert any("is after the end date" in r.message("en") for r in report.violations)


EVIL_SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
<http://e/S> a sh:NodeShape ; sh:targetSubjectsOf <http://e/p> ;
  sh:property [ sh:path <http://e/p> ; sh:pattern "^(a+)+$" ] .
"""


def test_a_validation_past_its_deadline_is_refused_and_the_next_one_runs() -> None:
    from kb.errors import ValidationTimeout
    from kb.validate import validate_within

    shapes = parse_graph(EVIL_SHAPES, syntax="turtle")
    slow = parse_graph('<http://e/a> <http://e/p> "' + "a" * 40 + '!" .', syntax="ntriples")
    with pytest.raises(ValidationTimeout, match="nothing was written"):
        validate_within(2, slow, shapes=shapes, ontology=parse_graph("", syntax="turtle"))
    quick = parse_graph('<http://e/a> <http://e/p> "aaa" .', syntax="ntriples")
    report = validate_within(60, quick, shapes=shapes, ontology=parse_graph("", syntax="turtle"))
    assert report.conforms


def test_a_submission_whose_validation_is_too_slow_writes_nothing(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from kb.cli import main

    cluster = Path(__file__).resolve().parent.parent / "data/clusters/antwerpen-duurzaam-bouwen.ttl"
    token = runner.invoke(main, ["token", "create", "Slow", "--admin"]).stdout.strip()
    monkeypatch.setenv("KB_VALIDATION_TIMEOUT", "0.01")
    r = runner.invoke(main, ["submit", str(cluster), "--graph", "clusters/slow", "--token", token])
    assert r.exit_code == 2 and "did not finish within" in r.output
    monkeypatch.setenv("KB_VALIDATION_TIMEOUT", "60")
    r = runner.invoke(
        main,
        [
            "query",
            "--format",
            "csv",
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            "FILTER(CONTAINS(STR(?g), 'clusters/slow')) }",
        ],
    )
    assert r.stdout.splitlines()[1] == "0"


def test_the_alternatives_of_an_or_are_in_the_report() -> None:
    """pySHACL reports an sh:or with the outer message only; the report adds the messages of
    the alternatives, in each language."""
    data = parse_graph(
        f'{PREFIXES}<http://e/m> a schema:MonetaryAmount ; schema:currency "EUR" .',
        syntax="turtle",
    )
    report = validate(data)
    hit = next(r for r in report.violations if r.component.endswith("OrConstraintComponent"))
    assert "One of these must hold: An amount has an exact value (schema:value)." in hit.message()
    assert "An amount has a lower bound (schema:minValue)." in hit.message("en")
    assert "Eén hiervan moet gelden: Een bedrag heeft een exacte waarde" in hit.message("nl")


def test_a_message_filled_from_a_template_keeps_its_language() -> None:
    data = parse_graph(
        f'{PREFIXES}<http://e/i> a time:Interval ; schema:startDate "2019"^^xsd:gYear ; '
        'schema:endDate "2018"^^xsd:gYear .',
        syntax="turtle",
    )
    hit = next(r for r in validate(data).violations if "2019" in r.message("en"))
    assert hit.message("en") == "The start date (2019) is after the end date (2018)."
    assert hit.message("nl") == "De begindatum (2019) valt na de einddatum (2018)."
