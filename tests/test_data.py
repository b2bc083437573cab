"""The bundled ontology, shapes and data: complete, bilingual, sourced, and conforming."""

from __future__ import annotations

from functools import cache

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, BNode, Graph, Literal, Namespace, URIRef

from kb import bundled
from kb.namespaces import KB_NS, ONTOLOGY_IRI, PC
from kb.validate import SH, validate

BASE = KB_NS
DCT = Namespace("http://purl.org/dc/terms/")


@cache
def ontology() -> Graph:
    return bundled.ontology_graph(BASE)


@cache
def shapes() -> Graph:
    return bundled.shapes_graph(BASE)


@cache
def data() -> Graph:
    return bundled.data_graph(BASE)


def _langs(g: Graph, s: URIRef | BNode, *props: URIRef) -> set[str]:
    return {o.language or "" for p in props for o in g.objects(s, p) if isinstance(o, Literal)}


def test_all_bundled_data_conforms_to_the_shapes() -> None:
    report = validate(data())
    assert report.accepted, report.to_text()
    assert len(report.warnings) <= 25, report.to_text()


def test_the_ontology_has_its_metadata() -> None:
    o = URIRef(ONTOLOGY_IRI)
    g = ontology()
    assert (o, RDF.type, OWL.Ontology) in g
    for prop in (OWL.versionInfo, OWL.versionIRI, DCT.license, DCT.creator):
        assert g.value(o, prop) is not None, prop
    assert {"nl", "en"} <= _langs(g, o, DCT.description)
    assert {"nl", "en"} <= _langs(g, o, DCT.title)


def _minted() -> list[URIRef]:
    g = ontology()
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property)
    return sorted(
        {
            s
            for k in kinds
            for s in g.subjects(RDF.type, k)
            if isinstance(s, URIRef) and str(s).startswith(str(PC))
        }
    )


def test_the_ontology_mints_its_core_terms() -> None:
    minted = set(_minted())
    for term in (
        "ProvincialCluster",
        "SpearheadCluster",
        "MirrorRegionPartnership",
        "runBy",
        "subSector",
        "reinforces",
        "complements",
        "partnerRegion",
        "framework",
    ):
        assert PC[term] in minted


@pytest.mark.parametrize("term", _minted(), ids=lambda t: str(t).split("#")[-1])
def test_every_minted_term_has_dutch_and_english_label_and_definition(term: URIRef) -> None:
    g = ontology()
    assert {"nl", "en"} <= _langs(g, term, RDFS.label)
    assert {"nl", "en"} <= _langs(g, term, SKOS.definition, RDFS.comment)


def _shapes() -> list[URIRef | BNode]:
    g = shapes()
    nodes = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
    nodes |= set(g.objects(None, SH.property))
    return sorted(nodes, key=str)  # type: ignore[arg-type]


def test_every_shape_has_messages_in_both_languages_and_a_severity() -> None:
    g = shapes()
    missing = []
    for shape in _shapes():
        if not {"nl", "en"} <= _langs(g, shape, SH.message):
            missing.append(f"{shape}: sh:message nl+en")
        if g.value(shape, SH.severity) not in (SH.Violation, SH.Warning, SH.Info):
            missing.append(f"{shape}: sh:severity")
    assert not missing, "\n".join(missing)


def test_every_class_the_data_uses_has_a_shape() -> None:
    """Every typed resource is a focus node of some class-targeted shape. SHACL class targets
    reach instances of subclasses (rdfs:subClassOf in the data graph, into which validation
    merges the ontology)."""
    targeted = set(shapes().objects(None, SH.targetClass))
    schema = ontology() + data()
    g = data()
    untargeted = sorted(
        {
            str(cls)
            for s, cls in g.subject_objects(RDF.type)
            if cls != OWL.Ontology
            and not any(
                targeted & set(schema.transitive_objects(c, RDFS.subClassOf))
                for c in g.objects(s, RDF.type)
            )
        }
    )
    assert not untargeted, untargeted


def test_every_described_resource_cites_a_source() -> None:
    g = data()
    unsourced = [
        s
        for s in set(g.subjects(RDF.type, None))
        if isinstance(s, URIRef)
        and g.value(s, DCT.source) is None
        and (s, RDF.type, SKOS.ConceptScheme) not in g
    ]
    assert not unsourced, sorted(unsourced)[:20]


def test_the_five_clusters_of_the_policy_text_are_there() -> None:
    g = data()
    clusters = set(g.subjects(RDF.type, PC.ProvincialCluster))
    assert len(clusters) == 5
    regions = {str(g.value(c, DCT.spatial)) for c in clusters}
    assert regions == {f"http://data.europa.eu/nuts/code/BE2{i}" for i in range(1, 6)}
