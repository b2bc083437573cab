"""Seeded generator of realistic synthetic cluster data, at any scale, for benchmarks.

It writes N-Triples with the same shape as the real data in ``data/``: provincial clusters run
by the real provinces, focused on the real sub-sectors and linked to the real spearhead clusters;
helix actors with NACE activities and memberships in a helix role with a period; projects,
studies, demos and investments on the five work streams with partners, dates and grants
(amounts in EUR from EFRO, Interreg, the Flemish government or the province); mirror-region
partnerships with NUTS partner regions under the real frameworks. Every synthetic resource
cites ``{base}doc/synthetic`` as its source, so it can never pass for real data.

The output has exactly ``n`` triples and depends only on ``n``, ``seed`` and ``base``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from rdflib import RDF, Graph, URIRef

from kb import bundled
from kb.namespaces import CV, KB_NS, ORG, PC, PROV, RDF_NS, ROV, SCHEMA, SKOS, TIME, XSD
from kb.namespaces import DCTERMS as DCT

RDF_TYPE = f"<{RDF_NS.type}>"

_WORDS_NL = [
    "innovatie",
    "proeftuin",
    "waterstof",
    "circulair",
    "digitaal",
    "netwerk",
    "opleiding",
    "demonstrator",
    "haven",
    "energie",
    "biomassa",
    "materialen",
    "zorg",
    "sensor",
    "warmtenet",
    "kustlijn",
    "bouwsteen",
    "robotica",
    "fermentatie",
    "batterij",
]
_WORDS_EN = [
    "innovation",
    "living lab",
    "hydrogen",
    "circular",
    "digital",
    "network",
    "training",
    "demonstrator",
    "port",
    "energy",
    "biomass",
    "materials",
    "care",
    "sensor",
    "heat network",
    "coastline",
    "building block",
    "robotics",
    "fermentation",
    "battery",
]
_LEGAL = ["nv", "bv", "vzw", "cvba"]
#: Project classes and the work stream each belongs to (None: any of the five).
_STREAM_OF = {
    PC.ClusterProject: None,
    PC.Study: "projectwerking",
    PC.Demonstration: "projectwerking",
    PC.StructuralInvestment: "structurele-investeringen",
    PC.PromotionActivity: "internationalisering-en-branding",
    PC.LabourMarketInitiative: "arbeidsmarkt",
}
_NUTS_PARTNERS = [
    "NL",
    "NL3",
    "NL4",
    "DE",
    "DEA",
    "FR",
    "FRE",
    "DK",
    "SE",
    "ES21",
    "ITC4",
    "FI1",
    "PT11",
    "IE",
    "AT",
    "PL",
    "CZ",
    "EE",
]


@dataclass(frozen=True)
class _Reference:
    provinces: list[tuple[str, str]]  # (province organisation, NUTS region)
    subsectors: list[str]
    roles: dict[str, str]  # role slug -> IRI
    streams: list[str]
    spearheads: list[str]
    nace: list[str]
    frameworks: list[str]
    kinds: list[str]  # partnership types
    funders: list[str]
    occupations: list[str]


def _concepts(g: Graph, scheme_suffix: str) -> list[str]:
    """Concepts of the scheme whose IRI ends in ``scheme_suffix``, sorted."""
    scheme = URIRef(SKOS + "inScheme")
    return sorted({str(c) for c, s in g.subject_objects(scheme) if str(s).endswith(scheme_suffix)})


def _reference(base: str) -> _Reference:
    """The real reference data the synthetic data points to (read from data/)."""
    ref = bundled.data_graph(base)
    provinces = sorted(
        {
            (str(p), str(ref.value(c, URIRef(DCT + "spatial"))))
            for c in ref.subjects(RDF.type, PC.ProvincialCluster)
            for p in ref.objects(c, PC.runBy)
        }
    )
    roles = {iri.rsplit("/", 1)[-1]: iri for iri in _concepts(ref, "conceptscheme/helixrol")}
    funders = sorted(str(s) for s in ref.subjects(RDF.type, URIRef(SCHEMA + "FundingScheme")))
    return _Reference(
        provinces=provinces,
        subsectors=_concepts(ref, "conceptscheme/deelsector"),
        roles=roles,
        streams=_concepts(ref, "conceptscheme/werkstroom"),
        spearheads=sorted(str(s) for s in ref.subjects(RDF.type, PC.SpearheadCluster)),
        nace=_concepts(ref, "ux2/nace2/nace2"),
        frameworks=_concepts(ref, "conceptscheme/samenwerkingskader"),
        kinds=_concepts(ref, "conceptscheme/partnerschapstype"),
        funders=funders + [p for p, _ in provinces],
        occupations=_concepts(ref, "conceptscheme/beroep"),
    )


def _iri(value: str) -> str:
    return f"<{value}>"


def _lit(value: str, lang: str | None = None, datatype: str | None = None) -> str:
    text = value.replace("\\", "\\\\").replace('"', '\\"')
    if lang:
        return f'"{text}"@{lang}'
    if datatype:
        return f'"{text}"^^<{datatype}>'
    return f'"{text}"'


def _date(year: int, end: bool = False) -> str:
    """A whole year as an xsd:date (start: 1 January; end: 31 December), comparable in SHACL."""
    return _lit(f"{year}-12-31" if end else f"{year}-01-01", datatype=XSD + "date")


class _Writer:
    def __init__(self, base: str, seed: int) -> None:
        self.base = base
        self.rng = random.Random(seed)
        self.ref = _reference(base)
        self.source = _iri(f"{base}doc/synthetic")
        self.bnodes = 0

    def thing(self, kind: str, ref: str) -> str:
        return _iri(f"{self.base}id/{kind}/{ref}")

    def labels(self, s: str, nl: str, en: str) -> Iterator[str]:
        yield f"{s} <{SKOS}prefLabel> {_lit(nl, 'nl')} ."
        yield f"{s} <{SKOS}prefLabel> {_lit(en, 'en')} ."

    def name(self) -> tuple[str, str]:
        i, j = self.rng.sample(range(len(_WORDS_NL)), 2)
        return (
            f"{_WORDS_NL[i]} {_WORDS_NL[j]}".capitalize(),
            f"{_WORDS_EN[i]} {_WORDS_EN[j]}".capitalize(),
        )

    def blank(self) -> str:
        self.bnodes += 1
        return f"_:b{self.bnodes}"

    def interval(self, b: str, start: int, end: int | None) -> Iterator[str]:
        yield f"{b} {RDF_TYPE} <{TIME}Interval> ."
        yield f"{b} <{SCHEMA}startDate> {_date(start)} ."
        if end is not None:
            yield f"{b} <{SCHEMA}endDate> {_date(end, end=True)} ."

    def clusters(self) -> Iterator[str]:
        number = 0
        while True:
            number += 1
            yield from self.cluster(number)

    def cluster(self, n: int) -> Iterator[str]:
        rng, ref = self.rng, self.ref
        province, nuts = rng.choice(ref.provinces)
        c = self.thing("cluster", f"synth-{n}")
        nl, en = self.name()
        yield f"{c} {RDF_TYPE} <{PC.ProvincialCluster}> ."
        yield from self.labels(
            c, f"{nl} (synthetische cluster {n})", f"{en} (synthetic cluster {n})"
        )
        yield f"{c} <{PC.runBy}> {_iri(province)} ."
        yield f"{c} <{DCT}spatial> {_iri(nuts)} ."
        yield f"{c} <{PC.subSector}> {_iri(rng.choice(ref.subsectors))} ."
        if rng.random() < 0.7:  # reinforcing: it overlaps a spearhead cluster
            yield f"{c} <{PC.reinforces}> {_iri(rng.choice(ref.spearheads))} ."
        else:  # complementary: a field Flanders has no policy for
            complementary = _iri(f"{self.base}id/concept/beleidsrelatie/complementair")
            yield f"{c} <{PC.policyRelation}> {complementary} ."
        yield f"{c} <{DCT}source> {self.source} ."
        yield from self.membership(f"synth-{n}-provincie", _iri(province), c, "overheid")
        members: list[str] = []
        for k in range(rng.randint(15, 60)):
            members.append(org := self.thing("organisatie", f"synth-{n}-{k}"))
            yield from self.organisation(org, c, n, k)
        for k in range(rng.randint(5, 25)):
            yield from self.project(c, nuts, n, k, members)
        for k in range(rng.randint(1, 4)):
            yield from self.partnership(c, n, k, members)

    def organisation(self, org: str, cluster: str, n: int, k: int) -> Iterator[str]:
        rng, ref = self.rng, self.ref
        role = rng.choices(
            ["bedrijfsleven", "academie", "overheid", "middenveld"], weights=[6, 2, 1, 1]
        )[0]
        role_iri = ref.roles.get(role) or next(iter(ref.roles.values()))
        cls = CV + "PublicOrganisation" if role == "overheid" else ORG + "FormalOrganization"
        nl, en = self.name()
        legal = rng.choice(_LEGAL) if role == "bedrijfsleven" else ""
        yield f"{org} {RDF_TYPE} <{cls}> ."
        yield from self.labels(org, f"{nl} {legal}".strip(), f"{en} {legal}".strip())
        yield f"{org} <{ORG}classification> {_iri(role_iri)} ."
        if role == "bedrijfsleven":
            yield f"{org} <{ROV}orgActivity> {_iri(rng.choice(ref.nace))} ."
        yield f"{org} <{DCT}source> {self.source} ."
        yield from self.membership(f"synth-{n}-{k}", org, cluster, role)

    def membership(self, ref: str, member: str, cluster: str, role: str) -> Iterator[str]:
        rng = self.rng
        role_iri = self.ref.roles.get(role) or next(iter(self.ref.roles.values()))
        m = self.thing("lidmaatschap", ref)
        yield f"{m} {RDF_TYPE} <{ORG}Membership> ."
        yield f"{m} <{ORG}member> {member} ."
        yield f"{m} <{ORG}organization> {cluster} ."
        yield f"{m} <{ORG}role> {_iri(role_iri)} ."
        start = rng.randint(2012, 2023)
        end = start + rng.randint(1, 8) if rng.random() < 0.3 else None
        period = self.blank()
        yield f"{m} <{ORG}memberDuring> {period} ."
        yield from self.interval(period, start, end)
        yield f"{m} <{DCT}source> {self.source} ."

    def project(self, cluster: str, nuts: str, n: int, k: int, members: list[str]) -> Iterator[str]:
        rng, ref = self.rng, self.ref
        kind = rng.choices(list(_STREAM_OF), weights=[5, 2, 2, 2, 1, 1])[0]
        p = self.thing("project", f"synth-{n}-{k}")
        nl, en = self.name()
        start = rng.randint(2014, 2024)
        partners = rng.sample(members, min(len(members), rng.randint(1, 5)))
        stream = _STREAM_OF[kind] or rng.choice(ref.streams).rsplit("/", 1)[-1]
        yield f"{p} {RDF_TYPE} <{kind}> ."
        yield from self.labels(p, f"Project {nl.lower()}", f"Project {en.lower()}")
        yield f"{p} <{PC.withinCluster}> {cluster} ."
        yield f"{p} <{PC.workStream}> {self.thing('concept', 'werkstroom/' + stream)} ."
        for partner in partners:
            yield f"{p} <{PROV}wasAssociatedWith> {partner} ."
        yield f"{p} <{SCHEMA}startDate> {_date(start)} ."
        yield f"{p} <{SCHEMA}endDate> {_date(start + rng.randint(1, 5), end=True)} ."
        if kind == PC.StructuralInvestment:
            site = self.thing("site", f"synth-{n}-{k}")
            yield f"{p} <{SCHEMA}location> {site} ."
            yield f"{site} {RDF_TYPE} <{rng.choice([PC.TestEnvironment, PC.TrainingCentre])}> ."
            yield from self.labels(site, f"Proefomgeving {nl.lower()}", f"Test site {en.lower()}")
            yield f"{site} <{DCT}description> {_lit(f'Proefomgeving voor {nl.lower()}.', 'nl')} ."
            yield f"{site} <{DCT}description> {_lit(f'Test site for {en.lower()}.', 'en')} ."
            yield f"{site} <{DCT}spatial> {_iri(nuts)} ."
            yield f"{site} <{DCT}source> {self.source} ."
            yield f"{partners[0]} <{ORG}hasSite> {site} ."
        if kind == PC.LabourMarketInitiative and ref.occupations:
            occupation = rng.choice(ref.occupations)
            yield f"{p} <{PC.bottleneckOccupation}> {_iri(occupation)} ."
        yield f"{p} <{DCT}source> {self.source} ."
        for g in range(rng.randint(0, 2)):
            grant = self.thing("financiering", f"synth-{n}-{k}-{g}")
            funder = rng.choice(ref.funders)
            amount = rng.randrange(20_000, 5_000_000, 100)
            b = self.blank()
            yield f"{grant} {RDF_TYPE} <{SCHEMA}MonetaryGrant> ."
            yield from self.labels(
                grant, f"Steun voor project {nl.lower()}", f"Support for project {en.lower()}"
            )
            yield f"{grant} <{SCHEMA}funder> {_iri(funder)} ."
            yield f"{grant} <{SCHEMA}fundedItem> {p} ."
            yield f"{grant} <{SCHEMA}amount> {b} ."
            yield f"{b} {RDF_TYPE} <{SCHEMA}MonetaryAmount> ."
            yield f"{b} <{SCHEMA}value> {_lit(str(amount), datatype=XSD + 'decimal')} ."
            yield f"{b} <{SCHEMA}currency> {_lit('EUR')} ."
            yield f"{grant} <{DCT}source> {self.source} ."

    def partnership(self, cluster: str, n: int, k: int, members: list[str]) -> Iterator[str]:
        rng, ref = self.rng, self.ref
        sp = self.thing("spiegelregio-partnerschap", f"synth-{n}-{k}")
        nl, en = self.name()
        yield f"{sp} {RDF_TYPE} <{PC.MirrorRegionPartnership}> ."
        yield from self.labels(sp, f"Partnerschap {nl.lower()}", f"Partnership {en.lower()}")
        if ref.kinds:
            yield f"{sp} <{DCT}type> {_iri(rng.choice(ref.kinds))} ."
        yield f"{sp} <{PC.framework}> {_iri(rng.choice(ref.frameworks))} ."
        for region in rng.sample(_NUTS_PARTNERS, rng.randint(1, 3)):
            yield f"{sp} <{PC.partnerRegion}> <http://data.europa.eu/nuts/code/{region}> ."
        yield f"{sp} <{PC.concernsCluster}> {cluster} ."
        for member in rng.sample(members, min(len(members), rng.randint(1, 3))):
            yield f"{sp} <{ORG}hasMember> {member} ."
        yield f"{sp} <{SCHEMA}startDate> {_date(rng.randint(2015, 2024))} ."
        yield f"{sp} <{DCT}source> {self.source} ."


def generate(
    n: int,
    out: TextIO,
    *,
    seed: int = 42,
    base: str = KB_NS,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Write exactly ``n`` N-Triples lines to ``out``; returns ``n``."""
    writer = _Writer(base, seed)
    batch: list[str] = []
    written = 0
    for line in writer.clusters():
        if written >= n:
            break
        batch.append(line)
        written += 1
        if len(batch) == 10_000:
            out.write("\n".join(batch) + "\n")
            if progress:
                progress(len(batch))
            batch.clear()
    if batch:
        out.write("\n".join(batch) + "\n")
        if progress:
            progress(len(batch))
    return written
