"""What may reach the store: decided on the parsed query (CATALOGUE groups E, G, H); and the
query service that answers it, for /sparql and `kb query` alike."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kb.cache import ResultCache
from kb.errors import QueryRejected
from kb.query import QueryPolicy, QueryRequest, QueryService, check_query, nesting_depth
from kb.results import SOLUTIONS, by_format_name
from kb.service import Service
from tests.support.apps import SELECT

ACCEPTED = [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 3", "SELECT"),
    ("ASK { ?s ?p ?o }", "ASK"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(?o < 3 && ?o > 1) }", "CONSTRUCT"),
    ("DESCRIBE <http://e/a>", "DESCRIBE"),
    ('SELECT * WHERE { ?s ?p "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{" }', "SELECT"),
    ("SELECT * FROM <http://e/g> WHERE { ?s ?p ?o }", "SELECT"),
    ("SELECT * WHERE " + "{" * 128 + "?s ?p ?o" + "}" * 128, "SELECT"),
    ("SELECT * WHERE { FILTER(" + "(" * 126 + "1" + ")" * 126 + ") }", "SELECT"),
]

REFUSED = [
    ("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "SERVICE <http"),
    ("select * { service silent <http://x/> { ?s ?p ?o } }", "SERVICE <http://x/>"),
    ("SELECT * { \\u0053ERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * { SERVICE ?x { ?s ?p ?o } }", "variable endpoint"),
    ("PREFIX e: <http://x/> SELECT * { SERVICE e:sparql { ?s ?p ?o } }", "SERVICE <http://x/"),
    ("SELECT * { ?a ?b ?c OPTIONAL { { SERVICE <http://x/> { ?s ?p ?o } } } }", "SERVICE"),
    ("SELECT * { SERVICE <file:///etc/passwd> { ?s ?p ?o } }", "SERVICE <file"),
    ("INSERT DATA { <http://a> <http://b> <http://c> }", "updates are not accepted"),
    ("DELETE WHERE { ?s ?p ?o }", "updates are not accepted"),
    ("DROP ALL", "updates are not accepted"),
    ("LOAD <http://127.0.0.1:9/x.ttl>", "updates are not accepted"),
    ("SELECT * WHERE { ?s ?p }", "syntax error at line 1"),
    ("SELECT * { ?s ex:p ?o }", "Unknown namespace prefix"),
    ("SELECT * WHERE " + "{" * 5000 + "}" * 5000, "nested 5000 levels"),
    ("SELECT * WHERE " + "(" * 50_000, "nested 50000 levels"),
    ("SELECT * WHERE " + "\\u007B" * 500 + "}" * 500, "nested 500 levels"),
    ("SELECT * WHERE { VALUES ?x { " + "1 " * 40_000 + "} }", "exceeds the limit"),
    ("", "the query is empty"),
    ("  \n", "the query is empty"),
]


@pytest.mark.parametrize(("text", "form"), ACCEPTED, ids=range(len(ACCEPTED)))
def test_accepted(text: str, form: str) -> None:
    assert check_query(text).form == form


@pytest.mark.parametrize(("text", "reason"), REFUSED, ids=range(len(REFUSED)))
def test_refused(text: str, reason: str) -> None:
    with pytest.raises(QueryRejected, match=reason.replace("?", "\\?").replace("(", "\\(")):
        check_query(text)


def test_service_allow_list_admits_only_listed_prefixes() -> None:
    policy = QueryPolicy(service_allow=("https://query.wikidata.org/",))
    ok = "SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"
    assert check_query(ok, policy).services == ("https://query.wikidata.org/sparql",)
    with pytest.raises(QueryRejected):
        check_query(
            "SELECT * { SERVICE <https://query.wikidata.org.evil/> { ?s ?p ?o } }",
            QueryPolicy(service_allow=("https://query.wikidata.org/",)),
        )


def test_depth_ignores_brackets_in_strings_iris_and_comments() -> None:
    text = 'SELECT * # {{{{{{\nWHERE { ?s <http://e/a(b)> "((((" . }'
    assert nesting_depth(text)[0] == 1


# --- the query service (kb.query.service) -------------------------------------------------------


def test_the_query_service_imports_no_flask() -> None:
    code = (
        "import sys, kb.query\n"
        "assert not [m for m in sys.modules if m.startswith(('flask', 'werkzeug'))]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_query_service_caps_caches_and_refuses_first(service: Service) -> None:
    """What /sparql and `kb query` share: the row cap, the cache (HIT after MISS, OFF without
    one), and the check before the format is even chosen."""
    settings = service.settings.replace(max_rows=1)
    want = by_format_name("json", SOLUTIONS)
    req = QueryRequest(SELECT)
    cached = QueryService(settings, lambda: service.store, cache=ResultCache(1 << 20))
    first = cached.answer(req, lambda _: want)
    assert (first.cache, first.rows, first.truncated) == ("MISS", 1, True)
    assert len(json.loads(first.read())["results"]["bindings"]) == 1
    again = cached.answer(req, lambda _: want)
    assert again.cache == "HIT" and again.read() == first.read()
    assert QueryService(settings, lambda: service.store).answer(req, lambda _: want).cache == "OFF"
    chosen: list[str] = []
    with pytest.raises(QueryRejected, match="syntax error"):
        cached.answer(QueryRequest("SELECT * {"), lambda c: chosen.append(c.form) or want)
    assert chosen == []
