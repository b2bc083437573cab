"""The example queries of the SPARQL UI: enough of them, bilingual, each returning rows on the
bundled data, each with a permalink. The partner examples (``# needs: partner|harvest``) are
offered only where a partner is registered or harvested; tests/test_harvest.py runs them."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from server import examples

ALL = examples.load()
EXAMPLES = tuple(e for e in ALL if not e.needs)
PARTNER_EXAMPLES = tuple(e for e in ALL if e.needs)
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_there_are_at_least_twelve() -> None:
    assert len(EXAMPLES) >= 12
    assert len({e.ident for e in EXAMPLES}) == len(EXAMPLES)


@pytest.mark.parametrize("ex", EXAMPLES, ids=[e.ident for e in EXAMPLES])
def test_example_is_bilingual_and_returns_rows(client: FlaskClient, ex: examples.Example) -> None:
    for text in (ex.title_nl, ex.title_en, ex.description_nl, ex.description_en):
        assert len(text) > 10
    assert ex.title_nl != ex.title_en
    r = client.post("/sparql", data={"query": ex.text}, headers={"Accept": "*/*"})
    assert r.status_code == 200, r.data
    assert int(r.headers["X-SPARQL-Rows"]) > 0
    assert r.headers["X-SPARQL-Truncated"] == "false"


@pytest.mark.parametrize("ex", EXAMPLES[:3], ids=[e.ident for e in EXAMPLES[:3]])
def test_permalinks(client: FlaskClient, ex: examples.Example) -> None:
    page = client.get(f"/sparql/examples/{ex.ident}", headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert f'id="example-{ex.ident}" class="selected"' in text
    rq = client.get(f"/sparql/examples/{ex.ident}.rq")
    assert rq.mimetype == "application/sparql-query" and rq.get_data(as_text=True) == ex.text
    listing = client.get("/sparql/examples").get_json()
    assert any(item["permalink"].endswith(f"/sparql/examples/{ex.ident}") for item in listing)


def test_unknown_example_is_404(client: FlaskClient) -> None:
    assert client.get("/sparql/examples/nope", headers=HTML).status_code == 404


def test_header_must_be_complete() -> None:
    with pytest.raises(ValueError, match="description_en"):
        examples.parse("x", "# title@nl: a\n# title@en: b\n# description@nl: c\nASK {}")


def test_partner_examples_are_bilingual_and_hidden_without_a_partner(client: FlaskClient) -> None:
    assert {e.needs for e in PARTNER_EXAMPLES} == {"partner", "harvest"}
    for ex in PARTNER_EXAMPLES:
        assert ex.title_nl != ex.title_en and len(ex.description_en) > 10
        assert client.get(f"/sparql/examples/{ex.ident}.rq").status_code == 404
    listed = {item["id"] for item in client.get("/sparql/examples").get_json()}
    assert listed == {e.ident for e in EXAMPLES}
