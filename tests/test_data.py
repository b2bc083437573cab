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
        "policyRelation",
        "complementaryDomain",
        "status",
        "SpearheadRecognition",
        "EditorialJudgement",
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
    """The five of the VVP table cite the policy text; further clusters a source documents may
    follow (breadth only where facts are verifiable)."""
    g = data()
    text = URIRef(KB_NS + "id/bron/vvp-provinciaal-clusterbeleid")
    clusters = {c for c in g.subjects(RDF.type, PC.ProvincialCluster) if (c, DCT.source, text) in g}
    assert len(clusters) == 5
    assert len(set(g.subjects(RDF.type, PC.ProvincialCluster))) > 5
    regions = {str(g.value(c, DCT.spatial)) for c in clusters}
    assert regions == {f"http://data.europa.eu/nuts/code/BE2{i}" for i in range(1, 6)}


FOAF_DOC = PC.Source
DCT = Namespace("http://purl.org/dc/terms/")
ADMS = Namespace("http://www.w3.org/ns/adms#")


def test_every_cited_source_is_a_described_resource() -> None:
    """Sources are data: each IRI the data cites is described (title or label, publisher,
    language, quality) in data/reference/sources.ttl, or is the ontology itself."""
    g = data() + ontology()
    cited = {o for o in g.objects(None, DCT.source) if isinstance(o, URIRef)}
    undescribed = sorted(
        str(s)
        for s in cited
        if (s, RDF.type, FOAF_DOC) not in g and (s, RDF.type, OWL.Ontology) not in g
    )
    assert not undescribed, undescribed
    for s in cited & set(g.subjects(RDF.type, FOAF_DOC)):
        assert g.value(s, PC.sourceQuality) is not None, s
        assert g.value(s, DCT.title) or g.value(s, RDFS.label), s


def test_the_policy_text_and_the_2017_inventory_are_sources() -> None:
    g = data()
    text = URIRef(KB_NS + "id/bron/vvp-provinciaal-clusterbeleid")
    inventory = URIRef(KB_NS + "id/bron/vvp-clusterinventaris-2017")
    assert (text, RDF.type, FOAF_DOC) in g and (inventory, RDF.type, FOAF_DOC) in g
    assert (text, DCT.references, inventory) in g
    clusters = set(g.subjects(RDF.type, PC.ProvincialCluster))
    assert len([c for c in clusters if (c, DCT.source, text) in g]) == 5


def test_no_fact_rests_on_the_replaced_weak_source() -> None:
    g = data()
    assert not any("nestor.minsk.by" in str(o) for o in g.objects(None, DCT.source))
    weak = set(g.subjects(PC.sourceQuality, URIRef(KB_NS + "id/concept/bronkwaliteit/zwak")))
    assert weak, "the weak sources still cited are marked as such"


def test_every_authority_identifier_cites_where_it_was_read() -> None:
    g = data()
    agencies = ("Kruispuntbank", "ROR", "Wikidata")
    ids = [
        i
        for i in g.subjects(RDF.type, ADMS.Identifier)
        if any(a in str(g.value(i, ADMS.schemaAgency)) for a in agencies)
    ]
    assert len(ids) >= 11
    assert all(g.value(i, DCT.source) is not None for i in ids)
    for s, o in g.subject_objects(OWL.sameAs):
        if str(o).startswith("https://org.belgif.be/id/CbeRegisteredEntity/"):
            digits = str(o).rsplit("/", 1)[-1]
            notations = {
                str(g.value(i, SKOS.notation)).replace(".", "")
                for i in g.objects(s, ADMS.identifier)
            }
            assert digits in notations, (s, o)


def test_every_cluster_states_its_policy_relation_status_and_five_work_streams() -> None:
    g = data()
    stream = Namespace(KB_NS + "id/concept/werkstroom/")
    five = {
        stream[s]
        for s in (
            "netwerking",
            "structurele-investeringen",
            "projectwerking",
            "internationalisering-en-branding",
            "arbeidsmarkt",
        )
    }
    assert not list(g.subject_objects(PC.complements)), "pc:complements is deprecated"
    for c in g.subjects(RDF.type, PC.ProvincialCluster):
        assert g.value(c, PC.policyRelation) is not None, c
        assert g.value(c, PC.status) is not None, c
        documented = {
            w for p in g.subjects(PC.withinCluster, c) for w in g.objects(p, PC.workStream)
        }
        if any(True for _ in g.subjects(PC.concernsCluster, c)):
            documented.add(stream["internationalisering-en-branding"])
        stated = set(g.objects(c, PC.undocumentedWorkStream))
        assert documented | stated == five, (c, five - documented - stated)
        assert not documented & stated, (c, documented & stated)


def test_every_spearhead_recognition_has_a_start() -> None:
    g = data()
    recognitions = list(g.subjects(RDF.type, PC.SpearheadRecognition))
    assert len(recognitions) == 7
    spearheads = set(g.subjects(RDF.type, PC.SpearheadCluster))
    assert {g.value(r, PC.recognises) for r in recognitions} == spearheads
    assert all(g.value(r, URIRef("https://schema.org/startDate")) for r in recognitions)


def test_the_coverage_table_in_data_readme_is_current() -> None:
    """data/README.md's table is what `kb coverage` makes from the bundled data now."""
    from pathlib import Path

    from kb import coverage

    readme = (Path(__file__).resolve().parent.parent / "data" / "README.md").read_text()
    made = coverage.table()
    assert made in readme, "run: kb coverage --write data/README.md"
    assert coverage.rewrite(readme, made) == readme
    rows = coverage.rows()
    assert len(rows) >= 6 and all(len(r.documented) + len(r.undocumented) == 5 for r in rows)
    assert any("middenveld" in r.roles for r in rows)


def test_every_partnership_has_a_theme_a_framework_and_regions() -> None:
    g = data()
    partnerships = list(g.subjects(RDF.type, PC.MirrorRegionPartnership))
    assert len(partnerships) >= 6
    for p in partnerships:
        assert g.value(p, DCT.subject) is not None, p
        assert g.value(p, PC.framework) is not None, p
        assert g.value(p, PC.partnerRegion) is not None, p
    outside = {
        r
        for p in partnerships
        for r in g.objects(p, PC.partnerRegion)
        if str(r).startswith("http://www.wikidata.org/entity/")
    }
    assert outside, "a partnership reaches outside the EU"
