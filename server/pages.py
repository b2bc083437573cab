"""Linked-data pages: ``/id/...`` (303 to ``/doc/...``), ``/doc/...`` (HTML or RDF),
``/resource?iri=`` (anything the knowledge base describes), ``/doc/conceptscheme`` and the
ontology at ``/ns/provinciale-clusters``.

Identifiers are ``{base}id/...`` and are routed by path, so the pages work whatever the base.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Request, Response, redirect, render_template, request, url_for
from rdflib import RDF, Graph, URIRef
from rdflib.term import Node
from werkzeug.wrappers import Response as WerkzeugResponse

from kb import describe as d
from kb import ontology_doc
from kb.errors import NotFound
from kb.linking.mirror import mirror_view
from kb.namespaces import ONTOLOGY_IRI, PC, PREFIXES
from server import kb_service
from server.negotiate import PAGE, Representation, negotiate, split_suffix

bp = Blueprint("pages", __name__)

LANGS = ("nl", "en")


def page_lang(req: Request) -> str:
    """``?lang=`` wins; else the best of nl/en in ``Accept-Language``; else Dutch."""
    asked = req.args.get("lang", "").lower()
    if asked in LANGS:
        return asked
    return req.accept_languages.best_match(LANGS, default="nl") or "nl"


def local_link(base: str, known: set[str] | None = None) -> d.LinkFn:
    """The function pages use to link an IRI: local pages for our identifiers, ontology terms
    and things the knowledge base describes; ``None`` (the IRI itself) otherwise."""

    def link(iri: str) -> str | None:
        if iri.startswith(base + "id/"):
            return "/" + iri[len(base) :]
        if iri.startswith(str(PC)):
            return url_for("pages.ontology") + "#" + iri[len(str(PC)) :]
        if iri == ONTOLOGY_IRI:
            return url_for("pages.ontology")
        if known is not None and iri in known:
            return url_for("pages.resource", iri=iri)
        return None

    return link


def rdf_response(graph: Graph, rep: Representation, *, vary: str = "Accept") -> Response:
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True)
    assert rep.rdflib is not None
    body = graph.serialize(format=rep.rdflib, encoding="utf-8")
    return Response(body, content_type=rep.content_type, headers={"Vary": vary})


def alternates(path: str) -> list[tuple[Representation, str]]:
    """Where the other representations of this page are (suffix, or ``format=`` for pages
    that have a query string)."""
    if "?" in path:
        return [(rep, f"{path}&format={rep.name}") for rep in PAGE[1:]]
    return [(rep, path + rep.suffix) for rep in PAGE[1:]]


def lang_switch() -> dict[str, str]:
    """``{"nl": url, "en": url}``: this page in each language."""
    args = request.args.to_dict()
    out = {}
    for lang in LANGS:
        args["lang"] = lang
        out[lang] = request.path + "?" + urlencode(args)
    return out


def render_page(
    template: str, lang: str, path: str, *, rdf: bool = True, **context: object
) -> Response:
    """An HTML page in ``lang``; ``rdf``: the page has RDF twins (suffixes, ``?format=``)."""
    others = alternates(path) if rdf else []
    response = Response(
        render_template(
            template,
            lang=lang,
            path=path,
            alternates=others,
            switch=lang_switch(),
            tr=lambda nl, en: nl if lang == "nl" else en,
            **context,
        ),
        mimetype="text/html",
    )
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Content-Language"] = lang
    if others:
        response.headers["Link"] = ", ".join(
            f'<{url}>; rel="alternate"; type="{rep.media_type}"' for rep, url in others
        )
    return response


@bp.get("/id/<path:ref>")
def identifier(ref: str) -> WerkzeugResponse:
    """Flemish URI standard: the thing's identifier answers 303 See Other with its document."""
    stem, suffix = split_suffix(ref, PAGE)
    base = kb_service().settings.base_iri
    iri = base + "id/" + stem
    if not d.exists(kb_service().store, iri) and catalogue_resource(iri) is None:
        raise NotFound(f"there is no {iri} in the knowledge base")
    target = "/doc/" + stem + (suffix or "")
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = redirect(target, code=303)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/doc/<path:ref>")
def document(ref: str) -> Response:
    if ref in ("conceptscheme", *(f"conceptscheme{r.suffix}" for r in PAGE)):
        return concept_schemes(ref)
    stem, suffix = split_suffix(ref, PAGE)
    base = kb_service().settings.base_iri
    return _describe(base + "id/" + stem, "/doc/" + stem, suffix)


@bp.get("/resource")
def resource() -> Response:
    iri = request.args.get("iri", "").strip()
    if not iri:
        raise NotFound("give the IRI of a resource: /resource?iri=...")
    return _describe(iri, url_for("pages.resource", iri=iri), None)


def _describe(iri: str, path: str, suffix: str | None) -> Response:
    store = kb_service().store
    base = kb_service().settings.base_iri
    try:
        graph, graphs = d.describe(store, iri)
    except NotFound:
        found = catalogue_resource(iri)  # catalogue resources live in the catalogue graph
        if found is None:
            raise
        graph, graphs = found, []
    rep = negotiate(request, PAGE, suffix=suffix)
    if rep.rdflib is not None:
        return rdf_response(graph, rep)
    names = d.display_names(store, graph, leave_out=iri)
    lang = page_lang(request)
    known = {str(s) for s in graph.subjects() if (s, None, None) in graph and _labelled(graph, s)}
    known |= {x for x in names if not x.startswith(base + "id/")}
    desc = d.view(iri, graph, graphs, lang=lang, link=local_link(base, known), names=names)
    scheme = ontology_doc.scheme_tree(store, iri, lang) if _is_scheme(graph, iri) else None
    mirror = None
    if (URIRef(iri), RDF.type, PC.ProvincialCluster) in graph:
        mirror = mirror_view(store, iri, lang, base)
    return render_page(
        "resource.html",
        lang,
        path,
        desc=desc,
        scheme=scheme,
        mirror=mirror,
        base=base,
        link=local_link(base, known),
        graph_downloads=[g[len(base) + len("graph/") :] for g in graphs if g.startswith(base)],
    )


def catalogue_resource(iri: str) -> Graph | None:
    from server import catalog

    return catalog.catalogue_resource(iri)


def _labelled(graph: Graph, s: Node) -> bool:
    return any((s, p, None) in graph for p in d.LABEL_PROPERTIES)


def _is_scheme(graph: Graph, iri: str) -> bool:
    from rdflib import RDF, SKOS, URIRef

    return (URIRef(iri), RDF.type, SKOS.ConceptScheme) in graph


def concept_schemes(ref: str) -> Response:
    _stem, suffix = split_suffix(ref, PAGE)
    store = kb_service().store
    base = kb_service().settings.base_iri
    rep = negotiate(request, PAGE, suffix=suffix)
    if rep.rdflib is not None:
        return rdf_response(ontology_doc.schemes_graph(store), rep)
    lang = page_lang(request)
    schemes = ontology_doc.schemes(store, lang)
    return render_page(
        "schemes.html", lang, "/doc/conceptscheme", schemes=schemes, link=local_link(base)
    )


@bp.get("/ns/provinciale-clusters")
@bp.get("/ns/provinciale-clusters<any('.ttl', '.jsonld', '.rdf', '.nt', '.html'):suffix>")
def ontology(suffix: str | None = None) -> Response:
    from server.catalog import publication

    service = kb_service()
    graph = publication().ontology()
    rep = negotiate(request, PAGE, suffix=suffix)
    if rep.rdflib is not None:
        return rdf_response(graph, rep)
    lang = page_lang(request)
    doc = ontology_doc.document(graph, lang)
    return render_page(
        "ontology.html",
        lang,
        "/ns/provinciale-clusters",
        doc=doc,
        link=local_link(service.settings.base_iri),
    )
