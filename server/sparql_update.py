"""The authenticated SPARQL 1.1 Update endpoint ``/update`` (the protocol's §2.2): each graph
an update touches is committed as a steward write. Glue only: :mod:`kb.update` plans and
applies it."""

from __future__ import annotations

from flask import Response, g, jsonify, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from kb.query import QueryPolicy
from kb.update import apply as apply_update
from kb.update import plan as plan_update
from server.submissions import bp, dry_run, guarded, principal, respond, writer


@bp.route("/update", methods=["GET", "POST"])
def update() -> Response:
    if request.method == "GET":
        raise BadRequest("SPARQL Update must be sent with POST (SPARQL 1.1 Protocol §2.2)")
    who = principal()
    w = writer()
    if request.mimetype == "application/x-www-form-urlencoded":
        texts = request.form.getlist("update")
        if len(texts) != 1:
            raise BadRequest("give exactly one 'update' parameter")
        text = texts[0]
        using = tuple(
            request.form.getlist("using-graph-uri") + request.args.getlist("using-graph-uri")
        )
        named = tuple(
            request.form.getlist("using-named-graph-uri")
            + request.args.getlist("using-named-graph-uri")
        )
    elif request.mimetype == "application/sparql-update":
        charset = (request.mimetype_params.get("charset") or "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType("SPARQL Update must be UTF-8")
        try:
            text = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the update is not valid UTF-8") from None
        using = tuple(request.args.getlist("using-graph-uri"))
        named = tuple(request.args.getlist("using-named-graph-uri"))
    else:
        raise UnsupportedMediaType(
            "send application/sparql-update or an application/x-www-form-urlencoded "
            "'update' parameter"
        )
    s = w.settings
    p = plan_update(
        text,
        QueryPolicy(s.max_query_bytes, s.max_query_depth, ()),
        using=using,
        using_named=named,
        base=request.base_url,
    )
    g.kb_graph = ", ".join(sorted(str(x) for x in p.writes)) or None

    def run() -> Response:
        outcomes = apply_update(w, who, p, text=text, dry_run=dry_run())
        if not outcomes:
            g.kb_outcome = "committed"
            return jsonify({"committed": True, "outcomes": [], "detail": "nothing changed"})
        return respond(outcomes, status=None if dry_run() else 200)

    return guarded(run)
