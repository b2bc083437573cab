"""Links to authorities, per class: which entities are linked to NUTS, NACE, Wikidata, ROR and
the Belgian company register (KBO/BCE), which say that no identifier is known
(``pc:identifierUnknown``), and which do neither — ``kb links report`` and the home page.

An entity is linked to an authority when its own IRI is in the authority's namespace (a NUTS
region, a ROR organisation) or it has ``owl:sameAs`` or a SKOS mapping (``exactMatch``,
``closeMatch``, ``relatedMatch``) to an IRI there, in whichever graph (the linksets are
``data/links/``; harvests and accepted links add their own).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kb.cache import PerVersion
from kb.namespaces import CV, DCTERMS, FOAF, KB_NS, ORG, PC, PREFIXES, SKOS, named
from kb.store import SparqlHttpStore

AUTHORITY_CONCEPT = KB_NS + "id/concept/autoriteit/"
HELIX = KB_NS + "id/concept/helixrol/"
PROVINCE_CODE = (
    "http://data.vlaanderen.be/id/concept/BestuurseenheidClassificatieCode/5ab0e9b8a3b2ca7c5e000000"
)
SUBSECTORS = KB_NS + "id/conceptscheme/deelsector"
_OWL = PREFIXES["owl"]
LINK_PREDICATES = (_OWL + "sameAs", SKOS.exactMatch, SKOS.closeMatch, SKOS.relatedMatch)


@dataclass(frozen=True)
class Authority:
    key: str
    name: str
    namespace: str

    @property
    def concept(self) -> str:
        return AUTHORITY_CONCEPT + self.key


AUTHORITIES = {
    a.key: a
    for a in (
        Authority("nuts", "NUTS", "http://data.europa.eu/nuts/code/"),
        Authority("nace", "NACE", "http://data.europa.eu/ux2/nace2/"),
        Authority("wikidata", "Wikidata", "http://www.wikidata.org/entity/"),
        Authority("ror", "ROR", "https://ror.org/"),
        Authority("kbo", "KBO/BCE", "https://org.belgif.be/id/CbeRegisteredEntity/"),
    )
}


@dataclass(frozen=True)
class Category:
    key: str
    nl: str
    en: str
    authorities: tuple[str, ...]

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


#: In order: an entity falls in the first category it fits.
CATEGORIES = (
    Category("region", "regio's", "regions", ("nuts", "wikidata")),
    Category("province", "provinciebesturen", "provincial governments", ("kbo", "wikidata")),
    Category("spearhead", "speerpuntclusters", "spearhead clusters", ("kbo", "wikidata")),
    Category(
        "knowledge", "kennisinstellingen", "knowledge institutions", ("ror", "kbo", "wikidata")
    ),
    Category("company", "bedrijven", "companies", ("kbo", "wikidata")),
    Category("public", "overheden", "public bodies", ("kbo", "wikidata")),
    Category("civil", "middenveld", "civil society", ("kbo", "wikidata")),
    Category("organisation", "andere organisaties", "other organisations", ("kbo", "wikidata")),
    Category("subsector", "deelsectoren (activiteiten)", "sub-sectors (activities)", ("nace",)),
)
CATEGORY_BY_KEY = {c.key: c for c in CATEGORIES}
_ORGANISATIONS = {str(ORG.Organization), str(ORG.FormalOrganization), str(CV.PublicOrganisation)}
_ORGANISATIONS |= {str(FOAF.Organization)}


def category_of(classes: set[str], roles: set[str], schemes: set[str]) -> str | None:
    if str(DCTERMS.Location) in classes:
        return "region"
    if str(PC.SpearheadCluster) in classes:
        return "spearhead"
    if classes & _ORGANISATIONS:
        if PROVINCE_CODE in roles:
            return "province"
        for role, key in (
            ("academie", "knowledge"),
            ("bedrijfsleven", "company"),
            ("overheid", "public"),
            ("middenveld", "civil"),
        ):
            if HELIX + role in roles:
                return key
        return "organisation"
    if SUBSECTORS in schemes:
        return "subsector"
    return None


@dataclass
class Entity:
    iri: str
    category: str
    label: str
    linked: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unknown: set[str] = field(default_factory=set)

    def state(self, authority: str) -> str:
        """``linked``, ``unknown`` (stated in the data) or ``missing`` (neither)."""
        if self.linked.get(authority):
            return "linked"
        return "unknown" if authority in self.unknown else "missing"


@dataclass
class Report:
    entities: list[Entity]

    def of(self, category: str) -> list[Entity]:
        return [e for e in self.entities if e.category == category]

    def missing(self) -> list[tuple[Entity, str]]:
        """(entity, authority) pairs with neither a link nor a statement that none is known."""
        return [
            (e, a)
            for e in self.entities
            for a in CATEGORY_BY_KEY[e.category].authorities
            if e.state(a) == "missing"
        ]

    def rows(self, lang: str = "en") -> list[dict[str, Any]]:
        """Per category: how many entities, and per authority how many are linked, how many
        say none is known, and the names of those that do neither."""
        out = []
        for cat in CATEGORIES:
            members = self.of(cat.key)
            if not members:
                continue
            cells = {}
            for a in cat.authorities:
                states = [e.state(a) for e in members]
                cells[a] = {
                    "linked": states.count("linked"),
                    "unknown": states.count("unknown"),
                    "missing": sorted(e.label for e in members if e.state(a) == "missing"),
                    "unlinked": sorted(e.label for e in members if e.state(a) != "linked"),
                }
            out.append(
                {"category": cat.key, "name": cat.name(lang), "entities": len(members)}
                | {"authorities": cells}
            )
        return out

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "authorities": {
                k: {"name": a.name, "namespace": a.namespace} for k, a in AUTHORITIES.items()
            },
            "categories": self.rows(lang),
            "missing": [{"entity": e.iri, "authority": a} for e, a in self.missing()],
        }


def report(store: SparqlHttpStore, lang: str = "en") -> Report:
    """The link report of what the store holds now (two queries)."""
    kinds = store.select(
        f"SELECT ?e ?c ?role ?scheme ?label WHERE {{"
        f" {{ ?e a ?c . VALUES ?c {{ <{DCTERMS.Location}> <{PC.SpearheadCluster}>"
        f" {' '.join(f'<{c}>' for c in sorted(_ORGANISATIONS))} }} }}"
        f" UNION {{ ?e <{SKOS.inScheme}> <{SUBSECTORS}> BIND(<{SKOS.Concept}> AS ?c)"
        f" BIND(<{SUBSECTORS}> AS ?scheme) }}"
        f" OPTIONAL {{ ?e <{ORG.classification}> ?role }}"
        f" OPTIONAL {{ ?e <{SKOS.prefLabel}> ?label . FILTER(LANG(?label) = '{lang}') }}"
        # a blank node a bulk load made a skolem IRI is not a thing to link
        f" FILTER({named('e')}) }}"
    )
    classes: dict[str, set[str]] = defaultdict(set)
    roles: dict[str, set[str]] = defaultdict(set)
    schemes: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, str] = {}
    for row in kinds:
        e = row["e"]["value"]
        classes[e].add(row["c"]["value"])
        if "role" in row:
            roles[e].add(row["role"]["value"])
        if "scheme" in row:
            schemes[e].add(row["scheme"]["value"])
        if "label" in row:
            labels.setdefault(e, row["label"]["value"])
    entities: dict[str, Entity] = {}
    for e in classes:
        cat = category_of(classes[e], roles[e], schemes[e])
        if cat is not None:
            entities[e] = Entity(e, cat, labels.get(e, e))
    for e, found in entities.items():
        for key, a in AUTHORITIES.items():
            if e.startswith(a.namespace):
                found.linked[key].append(e)
    predicates = " ".join(f"<{p}>" for p in LINK_PREDICATES)
    rows = store.select(
        f"SELECT ?e ?p ?o WHERE {{ {{ VALUES ?p {{ {predicates} }} ?e ?p ?o FILTER(isIRI(?o)) }}"
        f" UNION {{ ?e <{PC.identifierUnknown}> ?o BIND(<{PC.identifierUnknown}> AS ?p) }} }}"
    )
    for row in rows:
        entity = entities.get(row["e"]["value"])
        if entity is None:
            continue
        target = row["o"]["value"]
        if row["p"]["value"] == str(PC.identifierUnknown):
            if target.startswith(AUTHORITY_CONCEPT):
                entity.unknown.add(target.removeprefix(AUTHORITY_CONCEPT))
            continue
        for key, a in AUTHORITIES.items():
            if target.startswith(a.namespace):
                entity.linked[key].append(target)
    return Report(sorted(entities.values(), key=lambda x: (x.category, x.label.casefold())))


def text_table(rep: Report, lang: str = "en") -> str:
    """The report as aligned text: a table of shares, then who is unlinked per authority."""
    lines = []
    header = f"{'class':<34} {'n':>4}  " + "  ".join(f"{a.name:>16}" for a in AUTHORITIES.values())
    lines.append(header)
    for row in rep.rows(lang):
        cells = []
        for key in AUTHORITIES:
            cell = row["authorities"].get(key)
            if cell is None:
                cells.append(f"{'':>16}")
                continue
            share = cell["linked"] / row["entities"]
            cells.append(f"{cell['linked']:>4}/{row['entities']:<3} {share:>6.0%} ".rjust(16))
        lines.append(f"{row['name']:<34} {row['entities']:>4}  " + "  ".join(cells))
    lines.append("")
    for row in rep.rows(lang):
        for key, cell in row["authorities"].items():
            if cell["unlinked"]:
                names = ", ".join(cell["unlinked"])
                lines.append(f"{row['name']} without {AUTHORITIES[key].name}: {names}")
    gaps = rep.missing()
    lines.append("")
    if gaps:
        lines.append(
            f"{len(gaps)} gap(s) neither linked nor stated as unknown (pc:identifierUnknown):"
        )
        lines.extend(f"  {e.label} <{e.iri}>: {AUTHORITIES[a].name}" for e, a in gaps)
    else:
        lines.append("every entity without a link says so (pc:identifierUnknown)")
    return "\n".join(lines)


class Reports:
    """The link report of the current data version, made once per version and language (the
    home page shows it); an object the app owns."""

    def __init__(self, store: SparqlHttpStore) -> None:
        self._made: PerVersion[str, Report] = PerVersion(
            lambda: store.data_version, lambda lang: report(store, lang)
        )

    def current(self, lang: str = "en") -> Report:
        return self._made.get(lang)
