"""Documentation values of the ontology (classes and properties, nl/en) and of the concept
schemes, read from the store. No HTTP here."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from kb.describe import Labeller, curie
from kb.namespaces import DCTERMS as DCT
from kb.namespaces import GENID, ONTOLOGY_IRI, PC, graph_iri
from kb.namespaces import SKOS as SKOS_NS
from kb.store.http import SparqlHttpStore


def ontology_graph(store: SparqlHttpStore, base: str) -> Graph:
    """The ontology as loaded (every ``{base}graph/ontology/...`` graph)."""
    graph = Graph()
    prefix = graph_iri(base, "ontology/")
    for name in store.graphs():
        if name.startswith(prefix):
            graph.parse(data=store.get_graph(name).decode("utf-8"), format="nt")
    if len(graph) == 0:
        from kb.errors import NotFound

        raise NotFound("the ontology is not loaded")
    return _unskolemized(graph, f"{base}{GENID}")


def _unskolemized(graph: Graph, genid: str) -> Graph:
    """``graph`` with the skolem IRIs a load into a remote store made of its blank nodes
    (``{base}.well-known/genid/...``, see :mod:`kb.ingest`) turned back into blank nodes, so
    the ontology document is the bundled one on every store (RDF 1.1 Concepts, 3.5)."""
    if not any(isinstance(t, URIRef) and t.startswith(genid) for triple in graph for t in triple):
        return graph

    nodes: dict[str, BNode] = {}

    def back(term: Node) -> Node:
        if isinstance(term, URIRef) and term.startswith(genid):
            return nodes.setdefault(str(term), BNode())
        return term

    out = Graph()
    for prefix, namespace in graph.namespaces():
        out.bind(prefix, namespace, override=True)
    for s, p, o in graph:
        out.add((back(s), p, back(o)))
    return out


@dataclass
class Term:
    iri: str
    local: str
    kind: str  # "class" | "object property" | "datatype property" | "property"
    label: str
    labels: dict[str, str]
    definition: str
    comment: str
    relations: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)


@dataclass
class OntologyDoc:
    iri: str
    title: str
    description: str
    version: str
    licence: str
    namespace: str
    prefix: str
    classes: list[Term]
    properties: list[Term]


def _text(graph: Graph, subject: Node, prop: URIRef, lang: str) -> str:
    values = {
        (o.language or ""): str(o) for o in graph.objects(subject, prop) if isinstance(o, Literal)
    }
    other = "en" if lang == "nl" else "nl"
    return values.get(lang) or values.get(other) or values.get("") or ""


def document(graph: Graph, lang: str) -> OntologyDoc:
    label = Labeller(graph, lang)
    onto = URIRef(ONTOLOGY_IRI)
    terms: dict[str, Term] = {}
    kinds = {
        OWL.Class: "class",
        OWL.ObjectProperty: "object property",
        OWL.DatatypeProperty: "datatype property",
        RDF.Property: "property",
        OWL.AnnotationProperty: "annotation property",
    }
    for rdf_type, kind in kinds.items():
        for s in graph.subjects(RDF.type, rdf_type):
            if not str(s).startswith(str(PC)) or str(s) in terms:
                continue
            terms[str(s)] = _term(graph, s, kind, label, lang)  # type: ignore[arg-type]
    ordered = sorted(terms.values(), key=lambda t: t.local.lower())
    return OntologyDoc(
        iri=ONTOLOGY_IRI,
        title=_text(graph, onto, URIRef(DCT + "title"), lang),
        description=_text(graph, onto, URIRef(DCT + "description"), lang),
        version=str(graph.value(onto, OWL.versionInfo) or ""),
        licence=str(graph.value(onto, URIRef(DCT + "license")) or ""),
        namespace=str(PC),
        prefix="pc",
        classes=[t for t in ordered if t.kind == "class"],
        properties=[t for t in ordered if t.kind != "class"],
    )


_RELATIONS = (
    (RDFS.subClassOf, ("subklasse van", "subclass of")),
    (RDFS.subPropertyOf, ("subeigenschap van", "subproperty of")),
    (RDFS.domain, ("domein", "domain")),
    (RDFS.range, ("bereik", "range")),
    (OWL.inverseOf, ("invers van", "inverse of")),
    (OWL.equivalentClass, ("equivalente klasse", "equivalent class")),
    (RDFS.seeAlso, ("zie ook", "see also")),
)


def _term(graph: Graph, s: URIRef, kind: str, label: Labeller, lang: str) -> Term:
    labels = {
        o.language or "": str(o)
        for o in graph.objects(s, RDFS.label)
        if isinstance(o, Literal) and o.language in ("nl", "en")
    }
    relations: list[tuple[str, list[tuple[str, str]]]] = []
    for prop, names in _RELATIONS:
        objs = [o for o in graph.objects(s, prop) if isinstance(o, URIRef)]
        if objs:
            relations.append(
                (
                    names[0] if lang == "nl" else names[1],
                    sorted((str(o), curie(str(o))) for o in objs),
                )
            )
    return Term(
        iri=str(s),
        local=str(s)[len(str(PC)) :],
        kind=kind,
        label=label(s),
        labels=labels,
        definition=_text(graph, s, SKOS.definition, lang),
        comment=_text(graph, s, RDFS.comment, lang),
        relations=relations,
    )


# --- concept schemes -----------------------------------------------------------------------


@dataclass
class SchemeEntry:
    iri: str
    label: str
    definition: str
    concepts: int


@dataclass
class ConceptNode:
    iri: str
    label: str
    notation: str
    children: list[ConceptNode] = field(default_factory=list)


_SCHEMES = (
    f"PREFIX skos: <{SKOS_NS}>\n"
    + """
CONSTRUCT { ?s a skos:ConceptScheme ; skos:prefLabel ?l ; skos:definition ?d .
            ?c skos:inScheme ?s . }
WHERE { ?s a skos:ConceptScheme . OPTIONAL { ?s skos:prefLabel ?l }
        OPTIONAL { ?s skos:definition ?d } OPTIONAL { ?c skos:inScheme ?s } }
"""
)


def schemes_graph(store: SparqlHttpStore) -> Graph:
    return store.construct(_SCHEMES)


def schemes(store: SparqlHttpStore, lang: str) -> list[SchemeEntry]:
    graph = schemes_graph(store)
    label = Labeller(graph, lang)
    out = [
        SchemeEntry(
            str(s),
            label(s),
            _text(graph, s, SKOS.definition, lang),
            len(set(graph.subjects(SKOS.inScheme, s))),
        )
        for s in graph.subjects(RDF.type, SKOS.ConceptScheme)
    ]
    return sorted(out, key=lambda e: e.label.lower())


def scheme_tree(store: SparqlHttpStore, scheme: str, lang: str) -> list[ConceptNode]:
    """The concepts of ``scheme`` as a tree (``skos:broader`` within the scheme)."""
    rows = store.select(
        f"""PREFIX skos: <{SKOS_NS}>
SELECT ?c ?label ?lang ?notation ?broader WHERE {{
  ?c skos:inScheme <{scheme}> .
  OPTIONAL {{ ?c skos:prefLabel ?label BIND(lang(?label) AS ?lang) }}
  OPTIONAL {{ ?c skos:notation ?notation }}
  OPTIONAL {{ ?c skos:broader ?broader . ?broader skos:inScheme <{scheme}> }}
}}"""
    )
    labels: dict[str, dict[str, str]] = {}
    broader: dict[str, set[str]] = {}
    notation: dict[str, str] = {}
    for r in rows:
        c = r["c"]["value"]
        labels.setdefault(c, {})
        broader.setdefault(c, set())
        if "label" in r:
            labels[c][r.get("lang", {}).get("value", "")] = r["label"]["value"]
        if "notation" in r:
            notation[c] = r["notation"]["value"]
        if "broader" in r:
            broader[c].add(r["broader"]["value"])
    other = "en" if lang == "nl" else "nl"
    nodes = {
        c: ConceptNode(
            c, ls.get(lang) or ls.get(other) or ls.get("") or curie(c), notation.get(c, "")
        )
        for c, ls in labels.items()
    }
    roots: list[ConceptNode] = []
    for c, node in nodes.items():
        parents = [p for p in broader[c] if p in nodes and p != c]
        if parents:
            for p in parents:
                nodes[p].children.append(node)
        else:
            roots.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: n.label.lower())
    return sorted(roots, key=lambda n: n.label.lower())
