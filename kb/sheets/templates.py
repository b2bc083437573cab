"""What each spreadsheet template holds (its columns and the property each maps to), and the
blank CSV and XLSX files a steward starts from."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from kb.errors import ParseError
from kb.namespaces import CV, FOAF, ORG, PC, PREFIXES, PROJECT_KINDS, PROV, SCHEMA, SKOS
from kb.namespaces import DCTERMS as DCT


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    required: bool = False
    predicate: str | None = None  # None: handled by the kind's own code (id, type)
    value: str = "text"  # text | text_nl | text_en | ref:<kind> | refs:<kind> | date | url(s)
    # | nuts(s) | concept:<scheme> | concepts:<scheme>


@dataclass(frozen=True)
class Template:
    kind: str
    rdf_type: str | None  # None: from the `type` column
    id_path: str
    columns: tuple[Column, ...]
    types: dict[str, str] = field(default_factory=dict)  # `type` column value -> class IRI


def _c(*args: object, **kw: object) -> Column:
    return Column(*args, **kw)  # type: ignore[arg-type]


_LABELS = (
    _c("label_nl", "Name in Dutch.", True, SKOS + "prefLabel", "text_nl"),
    _c("label_en", "Name in English.", False, SKOS + "prefLabel", "text_en"),
)
_DESCRIPTIONS = (
    _c("description_nl", "Description in Dutch.", False, DCT + "description", "text_nl"),
    _c("description_en", "Description in English.", False, DCT + "description", "text_en"),
)
_SOURCE = _c("source", "Source URL(s) of the facts, ';'-separated.", True, DCT + "source", "urls")
_PERIOD = (
    _c("start_date", "Start: YYYY, YYYY-MM or YYYY-MM-DD.", False, SCHEMA + "startDate", "date"),
    _c("end_date", "End: YYYY, YYYY-MM or YYYY-MM-DD.", False, SCHEMA + "endDate", "date"),
)
_ID = _c("id", "Identifier: lower-case letters, digits and hyphens (the IRI's last part).", True)

TEMPLATES: dict[str, Template] = {
    t.kind: t
    for t in (
        Template(
            "clusters",
            str(PC.ProvincialCluster),
            "cluster",
            (
                _ID,
                *_LABELS,
                *_DESCRIPTIONS,
                _c(
                    "run_by",
                    "The province that runs it (organisation id).",
                    True,
                    PC + "runBy",
                    "ref:organisatie",
                ),
                _c("nuts", "NUTS code of its province (e.g. BE21).", True, DCT + "spatial", "nuts"),
                _c(
                    "sub_sector",
                    "Sub-sector concept id (deelsector).",
                    True,
                    PC + "subSector",
                    "concept:deelsector",
                ),
                _c(
                    "reinforces",
                    "Spearhead cluster(s) it reinforces (organisation ids).",
                    False,
                    PC + "reinforces",
                    "refs:organisatie",
                ),
                _c(
                    "policy_relation",
                    "Relation to Flemish cluster policy: versterkend (overlaps the spearhead "
                    "cluster in reinforces) or complementair (a field Flanders has no policy for).",
                    False,
                    PC + "policyRelation",
                    "concept:beleidsrelatie",
                ),
                _c(
                    "complementary_domain",
                    "For a complementary cluster: the field (concept ids, e.g. deelsector/x).",
                    False,
                    PC + "complementaryDomain",
                    "refs:concept",
                ),
                _c(
                    "founding_date",
                    "Founded: YYYY, YYYY-MM or YYYY-MM-DD.",
                    False,
                    SCHEMA + "foundingDate",
                    "date",
                ),
                _SOURCE,
            ),
        ),
        Template(
            "organisations",
            None,
            "organisatie",
            (
                _ID,
                _c(
                    "type",
                    "FormalOrganization, PublicOrganisation, OrganizationalCollaboration "
                    "or Organization.",
                    True,
                ),
                *_LABELS,
                _c("alt_label", "Other name or abbreviation.", False, SKOS + "altLabel", "text_nl"),
                _c(
                    "helix_role",
                    "Helix role concept id (overheid, bedrijfsleven, academie, middenveld).",
                    False,
                    ORG + "classification",
                    "concept:helixrol",
                ),
                _c("homepage", "Web site.", False, FOAF + "homepage", "url"),
                _c(
                    "same_as",
                    "The same organisation elsewhere (Wikidata, ROR IRIs), ';'.",
                    False,
                    PREFIXES["owl"] + "sameAs",
                    "urls",
                ),
                *_DESCRIPTIONS,
                _SOURCE,
            ),
            {
                "FormalOrganization": ORG + "FormalOrganization",
                "PublicOrganisation": CV + "PublicOrganisation",
                "OrganizationalCollaboration": ORG + "OrganizationalCollaboration",
                "Organization": ORG + "Organization",
            },
        ),
        Template(
            "memberships",
            ORG + "Membership",
            "lidmaatschap",
            (
                _ID,
                _c(
                    "member",
                    "The member organisation (id).",
                    True,
                    ORG + "member",
                    "ref:organisatie",
                ),
                _c("cluster", "The cluster (id).", True, ORG + "organization", "ref:cluster"),
                _c("role", "Helix role concept id.", True, ORG + "role", "concept:helixrol"),
                _c("start_date", "Member since: YYYY, YYYY-MM or YYYY-MM-DD.", False, None, "date"),
                _c("end_date", "Member until.", False, None, "date"),
                _c(
                    "note_nl",
                    "What the participation is, in Dutch.",
                    False,
                    SKOS + "note",
                    "text_nl",
                ),
                _c("note_en", "The same in English.", False, SKOS + "note", "text_en"),
                _SOURCE,
            ),
        ),
        Template(
            "projects",
            None,
            "project",
            (
                _ID,
                _c(
                    "type",
                    "ClusterProject, Study, Demonstration, StructuralInvestment, "
                    "PromotionActivity or LabourMarketInitiative.",
                    True,
                ),
                *_LABELS,
                *_DESCRIPTIONS,
                _c("cluster", "The cluster (id).", True, PC + "withinCluster", "ref:cluster"),
                _c(
                    "work_streams",
                    "Work stream concept id(s), ';'.",
                    True,
                    PC + "workStream",
                    "concepts:werkstroom",
                ),
                _c(
                    "associated",
                    "Organisations carrying it out (ids), ';'.",
                    True,
                    PROV + "wasAssociatedWith",
                    "refs:organisatie",
                ),
                _c("location", "Facility (site id).", False, SCHEMA + "location", "ref:site"),
                _c(
                    "funder",
                    "Funding organisations (ids), ';'.",
                    False,
                    SCHEMA + "funder",
                    "refs:organisatie",
                ),
                *_PERIOD,
                _SOURCE,
            ),
            {name: str(PC[name]) for name in PROJECT_KINDS},
        ),
        Template(
            "partnerships",
            str(PC.MirrorRegionPartnership),
            "spiegelregio-partnerschap",
            (
                _ID,
                *_LABELS,
                *_DESCRIPTIONS,
                _c(
                    "partnership_type",
                    "Partnership type concept id (e.g. spiegelregio).",
                    False,
                    DCT + "type",
                    "concept:partnerschapstype",
                ),
                _c(
                    "framework",
                    "Framework concept id(s) (e.g. interreg), ';'.",
                    True,
                    PC + "framework",
                    "concepts:samenwerkingskader",
                ),
                _c(
                    "partner_regions",
                    "NUTS codes of the partner regions, ';'.",
                    True,
                    PC + "partnerRegion",
                    "nutss",
                ),
                _c(
                    "cluster",
                    "The cluster concerned (id, or type/id).",
                    True,
                    PC + "concernsCluster",
                    "ref:cluster",
                ),
                _c(
                    "members",
                    "Member organisations (ids), ';'.",
                    True,
                    ORG + "hasMember",
                    "refs:organisatie",
                ),
                *_PERIOD,
                _SOURCE,
            ),
        ),
    )
}


def template(kind: str) -> Template:
    try:
        return TEMPLATES[kind]
    except KeyError:
        raise ParseError(
            f"unknown template {kind!r}; the templates are {', '.join(TEMPLATES)}"
        ) from None


def template_csv(kind: str) -> bytes:
    t = template(kind)
    out = io.StringIO()
    csv.writer(out).writerow([c.name for c in t.columns])
    return out.getvalue().encode("utf-8")


def template_xlsx(kind: str) -> bytes:
    from openpyxl import Workbook

    t = template(kind)
    wb = Workbook()
    ws = wb.active
    ws.title = kind
    ws.append([c.name for c in t.columns])
    help_ws = wb.create_sheet("help")
    help_ws.append(["column", "required", "what to write"])
    for c in t.columns:
        help_ws.append([c.name, "yes" if c.required else "no", c.help])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
