"""The SPARQL 1.1 Service Description of ``/sparql`` (https://www.w3.org/TR/sparql11-service-description/).

It states what the endpoint really does: the result formats it offers, that the default graph is
the union of the named graphs, the named graphs it holds, and — in the ClusterKB endpoint
vocabulary ``https://w3id.org/clusterkb/ns/endpoint#`` (prefix ``kbe:``) — its limits: time
limit, row cap, query size and nesting depth, the SERVICE allow-list, the result cache; plus a
plain-language note (Dutch and English) of what is not supported.
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kb.namespaces import ENT, KBE, SD
from kb.results import GRAPH, RESULT_SYNTAXES, by_format_name
from kb.service import Service

SD_SYNTAXES = tuple(by_format_name(n, GRAPH) for n in ("turtle", "jsonld", "rdfxml", "ntriples"))
_RDFLIB = {
    "turtle": "turtle",
    "jsonld": "json-ld",
    "rdfxml": "xml",
    "ntriples": "nt",
    "trig": "trig",
    "nquads": "nquads",
}

NOT_SUPPORTED_EN = (
    "Read-only: SPARQL Update, LOAD and the Graph Store Protocol are not offered here. "
    "SERVICE is refused unless its endpoint starts with an allow-listed prefix "
    "(kbe:serviceAllowPrefix; none means SERVICE is refused). FROM and FROM NAMED name graphs "
    "of this store only; nothing is ever fetched from the web or from files. Queries nested "
    "deeper than kbe:maxQueryDepth or longer than kbe:maxQueryBytes are refused. A query is "
    "stopped after kbe:queryTimeout seconds (HTTP 503). Results longer than kbe:maxRows rows "
    "(or triples) are cut, and the response carries X-SPARQL-Truncated: true."
)
NOT_SUPPORTED_NL = (
    "Alleen lezen: SPARQL Update, LOAD en het Graph Store Protocol worden hier niet "
    "aangeboden. SERVICE wordt geweigerd tenzij het eindpunt begint met een toegelaten prefix "
    "(kbe:serviceAllowPrefix; geen prefix betekent: SERVICE geweigerd). FROM en FROM NAMED "
    "noemen alleen grafen van deze opslag; er wordt nooit iets van het web of uit bestanden "
    "opgehaald. Vragen dieper genest dan kbe:maxQueryDepth of langer dan kbe:maxQueryBytes worden "
    "geweigerd. Een vraag wordt na kbe:queryTimeout seconden gestopt (HTTP 503). Resultaten "
    "langer dan kbe:maxRows rijen (of triples) worden afgekapt; het antwoord draagt dan "
    "X-SPARQL-Truncated: true."
)


def service_description(service: Service, endpoint: str, syntax: object, *, cache: bool) -> bytes:
    s = service.settings
    g = Graph()
    g.bind("sd", SD)
    g.bind("kbe", KBE)
    g.bind("ent", ENT)
    me = URIRef(endpoint)
    g.add((me, RDF.type, SD.Service))
    g.add((me, SD.endpoint, me))
    g.add((me, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((me, SD.feature, SD.UnionDefaultGraph))
    if s.service_allow_list:
        g.add((me, SD.feature, SD.BasicFederatedQuery))
    g.add((me, SD.defaultEntailmentRegime, ENT.Simple))
    for fmt in RESULT_SYNTAXES:
        g.add((me, SD.resultFormat, URIRef(fmt.format_iri)))
    dataset = BNode()
    g.add((me, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    default = BNode()
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, RDFS.comment, Literal("The union of all named graphs.", lang="en")))
    for name in service.store.graphs():
        named = BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(name)))
    # The dataset's VoID description and the DCAT-AP catalogue, beside this endpoint.
    site = endpoint.rsplit("/sparql", 1)[0]
    g.add((dataset, RDFS.seeAlso, URIRef(f"{site}/void")))
    g.add((me, RDFS.seeAlso, URIRef(f"{site}/catalog")))
    g.add((me, KBE.queryTimeout, Literal(s.query_timeout, datatype=XSD.decimal)))
    g.add((me, KBE.maxRows, Literal(s.max_rows)))
    g.add((me, KBE.maxQueryBytes, Literal(s.max_query_bytes)))
    g.add((me, KBE.maxQueryDepth, Literal(s.max_query_depth)))
    g.add((me, KBE.maxRequestBytes, Literal(s.max_upload_bytes)))
    for prefix in s.service_allow_list:
        g.add((me, KBE.serviceAllowPrefix, Literal(prefix)))
    g.add((me, KBE.updateSupported, Literal(False)))
    g.add((me, KBE.resultCache, Literal(cache)))
    g.add((me, KBE.truncationHeader, Literal("X-SPARQL-Truncated")))
    g.add((me, RDFS.comment, Literal(NOT_SUPPORTED_EN, lang="en")))
    g.add((me, RDFS.comment, Literal(NOT_SUPPORTED_NL, lang="nl")))
    name = getattr(syntax, "name", "turtle")
    return g.serialize(format=_RDFLIB[name], encoding="utf-8")
