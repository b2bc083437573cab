"""Read-only SPARQL with limits: what may reach the store is decided here, on the parsed query.

Checks, in order (DESIGN.md §6, CATALOGUE groups E–H):

1. size (``max_query_bytes``);
2. nesting depth of brackets and braces, counted after ``\\u`` escapes are decoded and outside
   strings, IRIs and comments (the store's parser crashes on very deep queries, so this runs
   before any parser sees the text);
3. a full parse (rdflib's SPARQL grammar, which decodes escapes as the spec says), so that
   ``\\u0053ERVICE``, prefixed names and variables cannot hide a ``SERVICE``;
4. the query form: SELECT, ASK, CONSTRUCT or DESCRIBE only, never an update;
5. every ``SERVICE`` endpoint must be a registered partner's endpoint (exactly) or start with
   an allow-listed prefix (none by default; ``SERVICE ?var`` is always refused).
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pyparsing import ParseException
from rdflib.plugins.sparql import algebra, parser
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef, Variable

from kb.errors import QueryRejected

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_FORMS = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}


@dataclass(frozen=True)
class QueryPolicy:
    max_bytes: int = 65536
    max_depth: int = 128
    service_allow: tuple[str, ...] = ()
    #: endpoints a SERVICE may call exactly (the registered partners' endpoints)
    service_endpoints: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CheckedQuery:
    text: str
    form: str  # SELECT | ASK | CONSTRUCT | DESCRIBE
    services: tuple[str, ...]
    has_dataset: bool = False  # FROM / FROM NAMED in the query


def check_query(text: str, policy: QueryPolicy | None = None) -> CheckedQuery:
    """Decide whether ``text`` may be run; raise :class:`QueryRejected` saying why not.
    Accepted queries are remembered (a repeated query costs a look-up; refusals are not
    kept)."""
    return _check_query(text, policy or QueryPolicy())


@lru_cache(maxsize=4096)
def _check_query(text: str, policy: QueryPolicy) -> CheckedQuery:
    check_size_and_depth(text, policy, "query")
    form, services, has_dataset = _analyse(text)
    for service in services:
        if service.startswith("?"):
            raise QueryRejected("SERVICE with a variable endpoint is not allowed")
        if service in policy.service_endpoints:
            continue
        if not any(service.startswith(prefix) for prefix in policy.service_allow):
            raise QueryRejected(
                f"SERVICE <{service}> is not allowed on this endpoint (only the registered"
                " partners' endpoints, GET /partners, and the service_allow prefixes are)"
            )
    return CheckedQuery(text, form, services, has_dataset)


def check_size_and_depth(text: str, policy: QueryPolicy, what: str) -> None:
    """The checks that run before any parser sees ``text`` (a query or an update)."""
    if not text.strip():
        raise QueryRejected(f"the {what} is empty")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > policy.max_bytes:
        raise QueryRejected(f"{what} of {size:,} bytes exceeds the limit of {policy.max_bytes:,}")
    depth, line, col = nesting_depth(text)
    if depth > policy.max_depth:
        raise QueryRejected(
            f"{what} nested {depth} levels deep at line {line}, column {col}; the limit is "
            f"{policy.max_depth}"
        )


def nesting_depth(text: str) -> tuple[int, int, int]:
    """Deepest bracket nesting outside strings/IRIs/comments: (depth, line, column)."""
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
    depth = deepest = 0
    where = (1, 1)
    line, col = 1, 0
    i, n = 0, len(decoded)
    while i < n:
        ch = decoded[i]
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif ch == "#":
            end = decoded.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch in "\"'":
            i = _skip_string(decoded, i)
            continue
        elif ch == "<" and _looks_like_iri(decoded, i):
            i = decoded.find(">", i) + 1
            continue
        elif ch in "({[":
            depth += 1
            if depth > deepest:
                deepest, where = depth, (line, col)
        elif ch in ")}]":
            depth = max(0, depth - 1)
        i += 1
    return deepest, *where


def _skip_string(text: str, i: int) -> int:
    quote = text[i]
    if text.startswith(quote * 3, i):
        end = text.find(quote * 3, i + 3)
        return len(text) if end < 0 else end + 3
    j = i + 1
    while j < len(text) and text[j] not in (quote, "\n"):
        j += 2 if text[j] == "\\" else 1
    return j + 1


def _looks_like_iri(text: str, i: int) -> bool:
    end = text.find(">", i)
    return end > 0 and not any(c in text[i + 1 : end] for c in ' \t\n{}|^`"<')


#: rdflib's grammar spends about 40 Python frames per nesting level; queries are refused past
#: ``max_query_depth`` first, so this bound is never reached by accepted queries. (Python 3.11
#: runs Python-to-Python calls without growing the C stack: measured, 400 levels parse on the
#: main thread's 8 MB stack.)
_RECURSION_FOR_PARSING = 20000


#: rdflib's pyparsing grammar is not thread-safe: two threads parsing at once (waitress serves
#: requests on several threads) get spurious "Expected SelectQuery" errors (measured).
#: Accepted queries are remembered by :func:`check_query`, so a repeated one never waits here.
PARSE_LOCK = threading.Lock()


def allow_deep_parsing() -> None:
    """Raise the recursion limit rdflib's grammar needs (see ``_RECURSION_FOR_PARSING``)."""
    if sys.getrecursionlimit() < _RECURSION_FOR_PARSING:
        sys.setrecursionlimit(_RECURSION_FOR_PARSING)


def _analyse(text: str) -> tuple[str, tuple[str, ...], bool]:
    """(query form, SERVICE endpoints, whether the query names its own dataset)."""
    with PARSE_LOCK:
        return _analyse_locked(text)


def _analyse_locked(text: str) -> tuple[str, tuple[str, ...], bool]:
    allow_deep_parsing()
    try:
        parsed = parser.parseQuery(text)
    except ParseException as exc:
        if _is_update(text):
            raise QueryRejected("updates are not accepted on the query endpoint") from None
        raise QueryRejected(
            f"syntax error at line {exc.lineno}, column {exc.col}: {exc.msg}"
        ) from None
    except RecursionError:
        raise QueryRejected("query too deeply nested") from None
    except Exception as exc:  # rdflib raises assorted types on odd input
        raise QueryRejected(f"syntax error: {exc}") from None
    try:
        query = algebra.translateQuery(parsed)
    except Exception as exc:  # undefined prefixes and similar surface here
        raise QueryRejected(f"invalid query: {exc}") from None
    form = _FORMS.get(query.algebra.name, "")
    if not form:
        raise QueryRejected("only SELECT, ASK, CONSTRUCT and DESCRIBE queries are accepted")
    has_dataset = bool(query.algebra.get("datasetClause"))
    return form, tuple(sorted(set(_services(query.algebra)))), has_dataset


def _is_update(text: str) -> bool:
    try:
        parser.parseUpdate(text)
    except Exception:
        return False
    return True


def _services(node: Any) -> Iterator[str]:
    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            term = node.get("term")
            yield f"?{term}" if isinstance(term, Variable) else str(term)
        for value in node.values():
            yield from _services(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _services(item)
    elif isinstance(node, URIRef):
        return
