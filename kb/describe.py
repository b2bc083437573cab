"""The description of one resource, as RDF and as a value a page can show. No HTTP here.

:func:`describe` runs a CONSTRUCT of the resource's outgoing triples (following blank nodes one
level, e.g. an ``adms:Identifier`` or a ``time:Interval``), its incoming triples (up to
``max_incoming``) and the labels of every linked thing and property, over the union of all
graphs. :func:`view` turns that graph into a :class:`Description` in one language.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from kb.errors import NotFound
from kb.namespaces import KBO, PREFIXES, expand
from kb.store.http import SparqlHttpStore

#: Gives the page a browser should open for an IRI (``None``: the IRI itself).
LinkFn = Callable[[str], str | None]

DCT_SOURCE = URIRef(expand("dct:source"))
LABEL_PROPERTIES = (SKOS.prefLabel, RDFS.label, URIRef(expand("foaf:name")))
#: Properties that say "the same (or a matching) thing elsewhere".
SAME_AS = (OWL.sameAs, SKOS.exactMatch, SKOS.closeMatch)
#: Authorities whose identifiers count as "the same thing elsewhere" when linked.
AUTHORITIES: dict[str, str] = {
    PREFIXES["nuts"]: "NUTS",
    PREFIXES["nace"]: "NACE Rev. 2",
    PREFIXES["wd"]: "Wikidata",
    PREFIXES["ror"]: "ROR",
    KBO: "KBO/BCE",
}

#: Labels of the reused properties and classes (the ontology labels its own terms).
COMMON_LABELS: dict[str, tuple[str, str]] = {
    str(RDF.type): ("type", "type"),
    str(SKOS.prefLabel): ("voorkeurslabel", "preferred label"),
    str(SKOS.altLabel): ("alternatief label", "alternative label"),
    str(SKOS.definition): ("definitie", "definition"),
    str(SKOS.notation): ("notatie", "notation"),
    str(SKOS.note): ("opmerking", "note"),
    str(SKOS.editorialNote): ("redactionele noot", "editorial note"),
    str(SKOS.inScheme): ("in conceptschema", "in scheme"),
    str(SKOS.topConceptOf): ("topconcept van", "top concept of"),
    str(SKOS.hasTopConcept): ("heeft topconcept", "has top concept"),
    str(SKOS.broader): ("breder", "broader"),
    str(SKOS.narrower): ("enger", "narrower"),
    str(SKOS.exactMatch): ("exact overeenkomend", "exact match"),
    str(SKOS.closeMatch): ("nauw overeenkomend", "close match"),
    str(SKOS.relatedMatch): ("verwant", "related match"),
    str(SKOS.ConceptScheme): ("conceptschema", "concept scheme"),
    str(SKOS.Concept): ("concept", "concept"),
    str(OWL.sameAs): ("zelfde als", "same as"),
    str(RDFS.label): ("label", "label"),
    str(RDFS.comment): ("commentaar", "comment"),
    str(RDFS.seeAlso): ("zie ook", "see also"),
    str(DCT_SOURCE): ("bron", "source"),
    expand("dct:description"): ("beschrijving", "description"),
    expand("dct:title"): ("titel", "title"),
    expand("dct:spatial"): ("gebied", "spatial coverage"),
    expand("dct:isPartOf"): ("deel van", "part of"),
    expand("dct:subject"): ("onderwerp", "subject"),
    expand("dct:type"): ("soort", "kind"),
    expand("dct:Location"): ("plaats", "location"),
    expand("org:Membership"): ("lidmaatschap", "membership"),
    expand("org:FormalOrganization"): ("formele organisatie", "formal organisation"),
    expand("org:OrganizationalCollaboration"): (
        "samenwerkingsverband",
        "organisational collaboration",
    ),
    expand("org:Role"): ("rol", "role"),
    expand("org:member"): ("lid", "member"),
    expand("org:organization"): ("organisatie", "organisation"),
    expand("org:role"): ("rol", "role"),
    expand("org:memberDuring"): ("lid tijdens", "member during"),
    expand("org:classification"): ("classificatie", "classification"),
    expand("org:linkedTo"): ("verbonden met", "linked to"),
    expand("org:hasSite"): ("vestiging", "site"),
    expand("org:hasMember"): ("heeft lid", "has member"),
    expand("org:subOrganizationOf"): ("suborganisatie van", "sub-organisation of"),
    expand("cv:PublicOrganisation"): ("publieke organisatie", "public organisation"),
    expand("foaf:homepage"): ("website", "homepage"),
    expand("foaf:name"): ("naam", "name"),
    expand("adms:identifier"): ("identificator", "identifier"),
    expand("adms:schemaAgency"): ("uitgever van de code", "schema agency"),
    expand("adms:Identifier"): ("identificator", "identifier"),
    expand("prov:wasAssociatedWith"): ("partner", "associated with"),
    expand("prov:wasDerivedFrom"): ("afgeleid van", "derived from"),
    expand("schema:startDate"): ("begindatum", "start date"),
    expand("schema:endDate"): ("einddatum", "end date"),
    expand("schema:location"): ("locatie", "location"),
    expand("schema:funder"): ("financier", "funder"),
    expand("schema:amount"): ("bedrag", "amount"),
    expand("schema:value"): ("waarde", "value"),
    expand("schema:currency"): ("munt", "currency"),
    expand("schema:MonetaryGrant"): ("subsidie", "monetary grant"),
    expand("schema:MonetaryAmount"): ("geldbedrag", "monetary amount"),
    expand("schema:FundingScheme"): ("financieringsprogramma", "funding scheme"),
    expand("time:Interval"): ("tijdsinterval", "interval"),
}


@dataclass(frozen=True)
class Value:
    term: Node
    text: str  # label, literal lexical form or IRI
    href: str | None = None  # where a browser goes (local page for local/known things)
    external: str | None = None  # the IRI itself, when it lives elsewhere
    lang: str | None = None
    datatype: str | None = None
    nested: tuple[PropertyRow, ...] = ()  # for blank nodes


@dataclass(frozen=True)
class PropertyRow:
    predicate: str
    label: str
    href: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Link:
    authority: str
    iri: str
    text: str


@dataclass
class Description:
    iri: str
    label: str
    types: list[Value]
    properties: list[PropertyRow]
    incoming: list[PropertyRow]
    sources: list[Value]
    elsewhere: list[Link]
    graphs: list[str]
    graph: Graph = field(repr=False)
    incoming_truncated: bool = False


def describe(
    store: SparqlHttpStore, iri: str, *, max_incoming: int = 500
) -> tuple[Graph, list[str]]:
    """The description graph of ``iri`` and the named graphs its facts come from (labels of
    linked things included; see :func:`display_names` for things without a label).

    Raises :class:`NotFound` if the knowledge base says nothing about ``iri``.
    """
    ref = _iri(iri)
    query = f"""
CONSTRUCT {{ {ref} ?p ?o . ?o ?bp ?bo . ?in ?ip {ref} . }}
WHERE {{
  {{ {ref} ?p ?o . OPTIONAL {{ FILTER(isBlank(?o)) ?o ?bp ?bo }} }}
  UNION
  {{ SELECT ?in ?ip WHERE {{ ?in ?ip {ref} }} LIMIT {max_incoming + 1} }}
}}"""
    graph = store.construct(query)
    if len(graph) == 0:
        raise NotFound(f"the knowledge base knows nothing about <{iri}>")
    _add_labels(store, graph)
    rows = store.select(
        f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {ref} ?p ?o }} }} ORDER BY ?g",
        union_default_graph=False,
    )
    return graph, [r["g"]["value"] for r in rows]


#: For things without a label (memberships, grants): name them by what they link, in this order.
NAME_FROM = (
    expand("org:member"),
    expand("org:role"),
    expand("org:organization"),
    expand("schema:funder"),
)


def display_names(
    store: SparqlHttpStore, graph: Graph, *, leave_out: str | None = None
) -> dict[str, dict[str, str]]:
    """Names (per language) for the IRIs in ``graph`` that have no label, made of the labels of
    what they link with :data:`NAME_FROM` ("VIVES · Academia · Blue energy cluster"), leaving
    out ``leave_out`` (the thing the page is about)."""
    unlabelled = sorted(
        {
            str(t)
            for triple in graph
            for t in triple
            if isinstance(t, URIRef) and not any((t, p, None) in graph for p in LABEL_PROPERTIES)
        }
    )
    if not unlabelled:
        return {}
    values = " ".join(_iri(i) for i in unlabelled)
    preds = " ".join(_iri(p) for p in NAME_FROM)
    rows = store.select(
        f"SELECT ?x ?p ?l WHERE {{ VALUES ?x {{ {values} }} VALUES ?p {{ {preds} }} "
        f"?x ?p ?o . ?o <{SKOS.prefLabel}> ?l "
        + (f"FILTER(?o != {_iri(leave_out)}) " if leave_out else "")
        + "}"
    )
    parts: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        lang = r["l"].get("xml:lang", "")
        parts[r["x"]["value"]][lang][r["p"]["value"]] = r["l"]["value"]
    return {
        x: {
            lang: " · ".join(by_pred[p] for p in NAME_FROM if p in by_pred)
            for lang, by_pred in langs.items()
        }
        for x, langs in parts.items()
    }


def exists(store: SparqlHttpStore, iri: str) -> bool:
    ref = _iri(iri)
    return store.ask(f"ASK {{ {{ {ref} ?p ?o }} UNION {{ ?s ?p {ref} }} }}")


def _add_labels(store: SparqlHttpStore, graph: Graph) -> None:
    iris = {t for triple in graph for t in triple if isinstance(t, URIRef)}
    if not iris:
        return
    values = " ".join(_iri(str(i)) for i in sorted(iris))
    props = " ".join(_iri(str(p)) for p in LABEL_PROPERTIES)
    graph += store.construct(
        f"CONSTRUCT {{ ?x ?lp ?l }} WHERE {{ VALUES ?x {{ {values} }} VALUES ?lp {{ {props} }} "
        "?x ?lp ?l }"
    )


def _iri(iri: str) -> str:
    """``<iri>`` for SPARQL; anything that is not an absolute IRI is simply not found."""
    if not _ABSOLUTE.match(iri) or any(c in iri for c in '<>"{}|^`\\ \n\t\r'):
        raise NotFound(f"not an identifier: {iri!r}")
    return f"<{iri}>"


_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")


# --- the value a page shows ---------------------------------------------------------------


class Labeller:
    """Labels in one language, falling back to the other, to an untagged one, to a CURIE."""

    def __init__(
        self, graph: Graph, lang: str, names: dict[str, dict[str, str]] | None = None
    ) -> None:
        self.graph = graph
        self.lang = lang
        self.names = names or {}

    def __call__(self, term: Node) -> str:
        if isinstance(term, Literal):
            return str(term)
        best: dict[str, str] = {}
        for prop in LABEL_PROPERTIES:
            for lit in self.graph.objects(term, prop):
                if isinstance(lit, Literal):
                    best.setdefault(lit.language or "", str(lit))
        named = self.names.get(str(term), {})
        for found in (best, named):
            for key in (self.lang, "en" if self.lang == "nl" else "nl", ""):
                if key in found:
                    return found[key]
            if found:
                return next(iter(found.values()))
        common = COMMON_LABELS.get(str(term))
        if common:
            return common[0] if self.lang == "nl" else common[1]
        return curie(str(term))


def curie(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def view(
    iri: str,
    graph: Graph,
    graphs: list[str],
    *,
    lang: str,
    link: LinkFn,
    max_incoming: int = 500,
    names: dict[str, dict[str, str]] | None = None,
) -> Description:
    """A :class:`Description` of ``iri`` in ``lang`` ("nl" or "en"). ``link(iri)`` gives the
    page a browser should open for an IRI (a local page, or ``None`` for the IRI itself)."""
    label = Labeller(graph, lang, names)
    subject = URIRef(iri)

    def value(term: Node) -> Value:
        if isinstance(term, Literal):
            return Value(
                term,
                str(term),
                lang=term.language,
                datatype=curie(str(term.datatype)) if term.datatype else None,
            )
        if isinstance(term, BNode):
            return Value(term, "", nested=tuple(_rows(graph, term, label, value, link)))
        local = link(str(term))
        return Value(
            term,
            label(term),
            href=local or str(term),
            external=str(term) if local is None or not local.startswith("/") else None,
        )

    incoming: dict[Node, list[Value]] = defaultdict(list)
    subjects = set()
    for s, p in graph.subject_predicates(subject):
        subjects.add(s)
        incoming[p].append(value(s))
    truncated = len(subjects) > max_incoming
    types = [value(t) for t in sorted(graph.objects(subject, RDF.type), key=label)]
    sources = [value(o) for o in sorted(graph.objects(subject, DCT_SOURCE), key=str)]
    elsewhere = _elsewhere(graph, subject, label)
    return Description(
        iri=iri,
        label=label(subject),
        types=types,
        properties=[
            r
            for r in _rows(graph, subject, label, value, link)
            if r.predicate not in (str(RDF.type), str(DCT_SOURCE))
        ],
        incoming=[
            PropertyRow(
                str(p),
                label(p),
                link(str(p)) or str(p),
                tuple(sorted(vals, key=lambda v: v.text.lower())),
            )
            for p, vals in sorted(incoming.items(), key=lambda kv: label(kv[0]))
        ],
        sources=sources,
        elsewhere=elsewhere,
        graphs=graphs,
        graph=graph,
        incoming_truncated=truncated,
    )


def _rows(
    graph: Graph,
    subject: Node,
    label: Labeller,
    value: Callable[[Node], Value],
    link: LinkFn,
) -> list[PropertyRow]:
    by_pred: dict[Node, list[Node]] = defaultdict(list)
    for p, o in graph.predicate_objects(subject):
        by_pred[p].append(o)
    rows = []
    for p, objs in by_pred.items():
        objs.sort(key=lambda o: (not _preferred(o, label.lang), label(o).lower()))
        rows.append(
            PropertyRow(str(p), label(p), link(str(p)) or str(p), tuple(value(o) for o in objs))
        )
    order = {str(SKOS.prefLabel): 0, expand("dct:description"): 1}
    rows.sort(key=lambda r: (order.get(r.predicate, 2), r.label.lower()))
    return rows


def _preferred(term: Node, lang: str) -> bool:
    return isinstance(term, Literal) and term.language == lang


def _elsewhere(graph: Graph, subject: URIRef, label: Labeller) -> list[Link]:
    found: dict[str, Link] = {}
    candidates = [subject]
    for prop in SAME_AS:
        candidates += [o for o in graph.objects(subject, prop) if isinstance(o, URIRef)]
    for o in graph.objects(subject, None):
        if isinstance(o, URIRef):
            candidates.append(o)
    for term in candidates:
        for prefix, authority in AUTHORITIES.items():
            if str(term).startswith(prefix) and str(term) not in found:
                found[str(term)] = Link(authority, str(term), label(term))
    for prop in SAME_AS:
        for o in graph.objects(subject, prop):
            if isinstance(o, URIRef) and str(o) not in found:
                found[str(o)] = Link(curie(str(prop)), str(o), label(o))
    return sorted(found.values(), key=lambda lk: (lk.authority, lk.iri))
