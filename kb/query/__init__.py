"""Read-only SPARQL: what may reach the store (:mod:`kb.query.check`) and the query service
that answers it (:mod:`kb.query.service`), for the ``/sparql`` endpoint and ``kb query``."""

from kb.query.check import (
    PARSE_LOCK,
    CheckedQuery,
    QueryPolicy,
    allow_deep_parsing,
    check_query,
    check_size_and_depth,
    nesting_depth,
)
from kb.query.service import Answer, QueryRequest, QueryService

__all__ = [
    "PARSE_LOCK",
    "Answer",
    "CheckedQuery",
    "QueryPolicy",
    "QueryRequest",
    "QueryService",
    "allow_deep_parsing",
    "check_query",
    "check_size_and_depth",
    "nesting_depth",
]
