"""A minimal read-only SPARQL endpoint (GET and POST); the full protocol comes with its issue.

Every query passes :func:`kb.query.check_query` before it reaches the store.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context

from kb.errors import QueryRejected
from kb.query import QueryPolicy, check_query
from server import kb_service

bp = Blueprint("sparql", __name__)

_SOLUTIONS = ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
              "text/tab-separated-values")
_GRAPHS = ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml")


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    if request.method == "GET":
        texts = request.args.getlist("query")
    elif request.mimetype == "application/sparql-query":
        texts = [request.get_data(as_text=True)]
    else:
        texts = request.form.getlist("query")
    if len(texts) != 1:
        raise QueryRejected("give exactly one `query` parameter")
    settings = kb_service().settings
    checked = check_query(texts[0], QueryPolicy(settings.max_query_bytes,
                                                settings.max_query_depth,
                                                settings.service_allow_list))
    offered = _GRAPHS if checked.form in ("CONSTRUCT", "DESCRIBE") else _SOLUTIONS
    accept = request.accept_mimetypes.best_match(offered) or offered[0]
    result = kb_service().store.query(checked.text, accept=accept)
    return Response(stream_with_context(result.iter_bytes()), content_type=result.content_type)
