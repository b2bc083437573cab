"""The knowledge base described for linked-data tools: a VoID description built from the
dumps' manifest — statistics, class and property partitions, one subset per named graph, and
the linksets to other datasets with their link counts. No store queries, no HTTP."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS, VOID

from kb.catalogue import Site, dataset_name, datetime_literal
from kb.dumps import LINK_TARGETS, LINKSET_GRAPHS, WHOLE, Dumps, Stats
from kb.namespaces import ONTOLOGY_IRI, SD


def void_graph(base: str, dumps: Dumps, site: Site | None = None) -> Graph:
    """VoID of the whole knowledge base: statistics, class and property partitions, one subset
    per named graph, and linksets to NUTS, NACE, Wikidata and ROR with their link counts."""
    site = site or Site.served(base)
    g = Graph()
    g.bind("void", VOID)
    g.bind("dct", DCTERMS)
    g.bind("foaf", FOAF)
    g.bind("sd", SD)
    doc = URIRef(base + "void")
    ds = URIRef(base + "void#clusterkb")
    g.add((doc, RDF.type, VOID.DatasetDescription))
    g.add((doc, FOAF.primaryTopic, ds))
    g.add((doc, DCTERMS.title, Literal("VoID-beschrijving van ClusterKB", lang="nl")))
    g.add((doc, DCTERMS.title, Literal("VoID description of ClusterKB", lang="en")))
    _void_stats(g, ds, dumps.stats[""])
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, DCTERMS.title, Literal("ClusterKB", lang="en")))
    g.add((ds, DCTERMS.modified, datetime_literal(dumps.stats[""].modified or dumps.generated)))
    g.add((ds, DCTERMS.source, URIRef(base + "id/dataset/" + WHOLE)))
    g.add((ds, VOID.sparqlEndpoint, URIRef(base + "sparql")))
    g.add((ds, VOID.uriSpace, Literal(base + "id/")))
    g.add((ds, VOID.vocabulary, URIRef(ONTOLOGY_IRI)))
    g.add((ds, FOAF.homepage, URIRef(base)))
    for f in dumps.for_graph(None):
        g.add((ds, VOID.dataDump, URIRef(site.download(f.path))))
    for graph, stats in sorted(dumps.stats.items()):
        if not graph:
            continue
        sub = URIRef(base + "void#graph-" + dataset_name(base, graph))
        g.add((ds, VOID.subset, sub))
        g.add((sub, RDF.type, VOID.Dataset))
        g.add((sub, SD.name, URIRef(graph)))
        g.add((sub, VOID.triples, Literal(stats.triples)))
        for f in dumps.for_graph(graph):
            g.add((sub, VOID.dataDump, URIRef(site.download(f.path))))
        if graph.startswith(base + LINKSET_GRAPHS + "partner/"):
            # accepted links to a partner's things: a linkset to the partner's dataset
            g.add((sub, RDF.type, VOID.Linkset))
            g.add((sub, VOID.subjectsTarget, ds))
            g.add(
                (sub, VOID.objectsTarget, URIRef(base + "id/partner/" + graph.rsplit("/", 1)[-1]))
            )
            g.add((sub, VOID.linkPredicate, SKOS.exactMatch))
        elif graph.startswith(base + LINKSET_GRAPHS):
            _linkset_graph(g, ds, sub, stats)
    for target, predicates in dumps.stats[""].linksets.items():
        ns, dataset, homepage = LINK_TARGETS[target]
        other = URIRef(dataset)
        g.add((other, RDF.type, VOID.Dataset))
        g.add((other, VOID.uriSpace, Literal(ns)))
        g.add((other, FOAF.homepage, URIRef(homepage)))
        for predicate, count in predicates.items():
            ls = URIRef(base + f"void#linkset-{target}-{_slug(predicate)}")
            g.add((ds, VOID.subset, ls))
            g.add((ls, RDF.type, VOID.Linkset))
            g.add((ls, VOID.subjectsTarget, ds))
            g.add((ls, VOID.objectsTarget, other))
            g.add((ls, VOID.linkPredicate, URIRef(predicate)))
            g.add((ls, VOID.triples, Literal(count)))
    return g


def _linkset_graph(g: Graph, ds: URIRef, sub: URIRef, stats: Stats) -> None:
    """A graph of ``data/links/`` is a linkset: our dataset to the authority its links point
    to, by its link predicate (``owl:sameAs``); its triples are its links."""
    for target, predicates in stats.linksets.items():
        ns, dataset, homepage = LINK_TARGETS[target]
        g.add((sub, RDF.type, VOID.Linkset))
        g.add((sub, VOID.subjectsTarget, ds))
        g.add((sub, VOID.objectsTarget, URIRef(dataset)))
        g.add((URIRef(dataset), RDF.type, VOID.Dataset))
        g.add((URIRef(dataset), VOID.uriSpace, Literal(ns)))
        g.add((URIRef(dataset), FOAF.homepage, URIRef(homepage)))
        for predicate in predicates:
            g.add((sub, VOID.linkPredicate, URIRef(predicate)))


def _void_stats(g: Graph, ds: URIRef, stats: Stats) -> None:
    g.add((ds, VOID.triples, Literal(stats.triples)))
    g.add((ds, VOID.entities, Literal(stats.entities)))
    g.add((ds, VOID.classes, Literal(len(stats.classes))))
    g.add((ds, VOID.properties, Literal(len(stats.properties))))
    g.add((ds, VOID.distinctSubjects, Literal(stats.distinct_subjects)))
    g.add((ds, VOID.distinctObjects, Literal(stats.distinct_objects)))
    for cls, n in stats.classes.items():
        part = BNode()
        g.add((ds, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(n)))
    for prop, n in stats.properties.items():
        part = BNode()
        g.add((ds, VOID.propertyPartition, part))
        g.add((part, VOID.property, URIRef(prop)))
        g.add((part, VOID.triples, Literal(n)))


def _slug(iri: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1])
