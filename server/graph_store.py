"""The SPARQL 1.1 Graph Store HTTP Protocol at ``/graphs``: read a graph, its versions and the
diff between two; PUT, POST and DELETE as steward writes; ``?rollback=N``. Glue only."""

from __future__ import annotations

import re

from flask import Response, g, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, NotFound, UnsupportedMediaType

from kb import history
from kb.payload import accepted_media_types, read_payload
from server.submissions import (
    RDF_OUT,
    bp,
    dry_run,
    guarded,
    principal,
    respond,
    submission_id,
    wants,
    writer,
)


def _target(name: str | None) -> str | None:
    """The graph a GSP request names: /graphs/NAME, ?graph=IRI or ?default."""
    w = writer()
    if name is not None:
        if "graph" in request.args or "default" in request.args:
            raise BadRequest("name the graph in the path or with ?graph=, not both")
        return w.graph_iri(name)
    if "default" in request.args:
        if "graph" in request.args:
            raise BadRequest("?default and ?graph= exclude each other")
        return None
    iri = request.args.get("graph")
    if not iri:
        raise BadRequest("name a graph: /graphs/NAME, /graphs?graph=IRI or /graphs?default")
    return w.graph_iri(iri)


@bp.route("/graphs", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
@bp.route("/graphs/<path:name>", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def graph_store(name: str | None = None) -> Response:
    if request.method in ("GET", "HEAD"):
        if name is None and not request.args:
            return _graph_list()
        return _read(_target(name))
    who = principal()
    graph = _target(name)
    g.kb_graph = graph or "default"
    w = writer()
    w.authorize(who, graph)
    if_match = request.headers.get("If-Match")
    if_none = request.headers.get("If-None-Match")
    if request.method == "DELETE":
        if graph is not None and not w.store.graph_exists(graph):
            raise NotFound(f"there is no graph <{graph}>")
        return guarded(
            lambda: respond(
                [w.delete(who, graph, if_match=if_match, if_none_match=if_none)], status=200
            )
        )
    if "rollback" in request.args:
        version = _int(request.args["rollback"], "rollback")
        return guarded(lambda: respond([w.rollback(who, graph, version)], status=200))
    data = request.get_data(cache=False)
    if not request.mimetype:
        raise UnsupportedMediaType(
            "a Content-Type is required; accepted: " + ", ".join(accepted_media_types())
        )
    payload = read_payload(
        data,
        request.mimetype,
        settings=w.settings,
        source=request.args.get("filename"),
        kind=request.args.get("kind"),
    )
    existed = graph is None or w.store.graph_exists(graph)
    fn = w.put if request.method == "PUT" else w.post

    def run() -> Response:
        out = fn(
            who,
            graph,
            payload,
            dry_run=dry_run(),
            if_match=if_match,
            if_none_match=if_none,
            submission_id=submission_id(),
        )
        created = out.committed and not existed and not out.replayed
        return respond([out], status=201 if created else 200)

    return guarded(run)


def _int(value: str, what: str) -> int:
    if not re.fullmatch(r"\d{1,9}", value):
        raise BadRequest(f"{what} must be a version number")
    return int(value)


def _graph_list() -> Response:
    w = writer()
    graphs = [x for x in w.store.graphs() if not x.startswith(history.history_graph(w.base))]
    return jsonify({"graphs": graphs})


def _read(graph: str | None) -> Response:
    w = writer()
    if "versions" in request.args or "history" in request.args:
        versions = history.versions(w.store, w.base, graph)
        if wants() == "text/html":
            html = render_template(
                "graph_history.html", graph=graph or "default", versions=versions
            )
            return Response(html, mimetype="text/html")
        return jsonify({"graph": graph or "default", "versions": versions})
    if "from" in request.args or "to" in request.args:
        a = _int(request.args.get("from", ""), "from")
        b_raw = request.args.get("to")
        old = history.snapshot(w.store, w.base, graph, a)
        new = (
            history.snapshot(w.store, w.base, graph, _int(b_raw, "to")) if b_raw else w.read(graph)
        )
        if old is None or new is None:
            raise NotFound("no such version")
        added, removed = history.diff(old, new)
        return jsonify(
            {
                "graph": graph or "default",
                "from": a,
                "to": int(b_raw) if b_raw else "current",
                "added": sorted(history.nt_lines(added)),
                "removed": sorted(history.nt_lines(removed)),
            }
        )
    if "version" in request.args:
        content = history.snapshot(w.store, w.base, graph, _int(request.args["version"], "version"))
        if content is None:
            raise NotFound(f"{graph or 'the default graph'} has no such version")
        etag = None
    else:
        if graph is not None and not w.store.graph_exists(graph):
            raise NotFound(f"there is no graph <{graph}>")
        content = w.read(graph)
        etag = history.fingerprint(content)
    chosen = wants()
    fmt = RDF_OUT.get(chosen)
    if fmt is None:
        chosen, fmt = next(iter(RDF_OUT.items()))
    body = content.serialize(format=fmt)
    response = Response(body if request.method == "GET" else b"", mimetype=chosen)
    if etag:
        response.headers["ETag"] = f'"{etag}"'
    response.vary.add("Accept")
    return response
