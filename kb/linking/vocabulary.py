"""What a partner can reconcile against and fetch: the reconciliation types and properties,
and the SPARQL that reads their names and values from the store.

Type identifiers are class IRIs; property identifiers are short names (``region``, ``nace``,
``enterprise_number``, ...), each a SPARQL pattern from an entity ``?e`` to a value ``?v``.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.namespaces import (
    ADMS,
    CV,
    DCTERMS,
    FOAF,
    ORG,
    PC,
    PREFIXES,
    PROJECT_KINDS,
    RDFS_NS,
    ROV,
    SCHEMA,
    SKOS,
)

OWL_SAME_AS = PREFIXES["owl"] + "sameAs"

#: Label predicates a name is read from, the first the preferred one.
NAME_PREDICATES = (
    SKOS.prefLabel,
    SKOS.altLabel,
    RDFS_NS.label,
    FOAF.name,
    SCHEMA.name,
    DCTERMS.title,
)


@dataclass(frozen=True)
class RType:
    id: str
    nl: str
    en: str
    classes: tuple[str, ...]  # the classes (and subclasses) whose instances are of this type

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


TYPES: tuple[RType, ...] = (
    RType(str(ORG.Organization), "organisatie", "organisation",
          (str(ORG.Organization), str(ORG.FormalOrganization), str(CV.PublicOrganisation),
           str(FOAF.Organization), str(PC.SpearheadCluster))),
    RType(str(PC.ProvincialCluster), "provinciale cluster", "provincial cluster",
          (str(PC.ProvincialCluster),)),
    RType(str(PC.SpearheadCluster), "speerpuntcluster", "spearhead cluster",
          (str(PC.SpearheadCluster),)),
    RType(str(DCTERMS.Location), "regio", "region", (str(DCTERMS.Location),)),
    RType(str(PC.ClusterProject), "project of investering", "project or investment",
          tuple(str(PC[c]) for c in PROJECT_KINDS)),
    RType(str(PC.MirrorRegionPartnership), "spiegelregio-partnerschap",
          "mirror-region partnership", (str(PC.MirrorRegionPartnership),)),
    RType(str(PC.Facility), "faciliteit", "facility",
          (str(PC.Facility), str(PC.TestEnvironment), str(PC.TrainingCentre))),
    RType(str(SKOS.Concept), "begrip (sector, deelsector, NACE-code, helixrol, ...)",
          "concept (sector, sub-sector, NACE code, helix role, ...)", (str(SKOS.Concept),)),
)  # fmt: skip
TYPE_BY_ID = {t.id: t for t in TYPES}
DEFAULT_TYPES = (str(ORG.Organization), str(PC.ProvincialCluster))

_CLUSTER_OF = f"^<{ORG.member}>/<{ORG.organization}>"  # from a member to its clusters
_KBO_AGENCY = "Kruispuntbank"


@dataclass(frozen=True)
class RProperty:
    id: str
    nl: str
    en: str
    pattern: str  # SPARQL from ?e to ?v
    entity: bool = True  # values are entities (id + name) rather than strings
    expected: str | None = None  # the type of the values, for data extension's metadata

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


PROPERTIES: tuple[RProperty, ...] = (
    RProperty("region", "provincie of regio", "province or region",
              f"{{ ?e <{DCTERMS.spatial}> ?v }}"
              f" UNION {{ ?e {_CLUSTER_OF}/<{DCTERMS.spatial}> ?v }}",
              expected=str(DCTERMS.Location)),
    RProperty("sector", "sector of deelsector", "sector or sub-sector",
              f"{{ ?e <{PC.subSector}> ?v }} UNION {{ ?e <{PC.subSector}>/<{SKOS.broader}> ?v }}"
              f" UNION {{ ?e {_CLUSTER_OF}/<{PC.subSector}> ?v }}"
              f" UNION {{ ?e {_CLUSTER_OF}/<{PC.subSector}>/<{SKOS.broader}> ?v }}",
              expected=str(SKOS.Concept)),
    RProperty("nace", "NACE-activiteit", "NACE activity", f"?e <{ROV.orgActivity}> ?v",
              expected=str(SKOS.Concept)),
    RProperty("enterprise_number", "ondernemingsnummer (KBO/BCE)",
              "enterprise number (KBO/BCE)",
              f"?e <{ADMS.identifier}> ?i . ?i <{SKOS.notation}> ?v ;"
              f" <{ADMS.schemaAgency}> ?agency . FILTER(CONTAINS(STR(?agency), '{_KBO_AGENCY}'))",
              entity=False),
    RProperty("same_as", "zelfde als (Wikidata, ROR, KBO, NUTS)",
              "same as (Wikidata, ROR, KBO, NUTS)", f"?e <{OWL_SAME_AS}> ?v"),
    RProperty("website", "website", "website", f"?e <{FOAF.homepage}> ?v", entity=False),
    RProperty("role", "helixrol of classificatie", "helix role or classification",
              f"?e <{ORG.classification}> ?v", expected=str(SKOS.Concept)),
    RProperty("members", "leden", "members",
              f"{{ ?e <{ORG.hasMember}> ?v }} UNION {{ ?m <{ORG.organization}> ?e ;"
              f" <{ORG.member}> ?v }}", expected=str(ORG.Organization)),
    RProperty("clusters", "clusters waarvan lid", "clusters it is a member of",
              f"?e {_CLUSTER_OF} ?v", expected=str(PC.ProvincialCluster)),
    RProperty("province_government", "provinciebestuur dat de cluster trekt",
              "provincial government running the cluster", f"?e <{PC.runBy}> ?v",
              expected=str(ORG.Organization)),
)  # fmt: skip
PROPERTY_BY_ID = {p.id: p for p in PROPERTIES}
