"""The mirror-regions view of a cluster: its partner regions and why (partnership, framework,
type, theme, period), the joint projects (the cluster's internationalisation and branding
work), and what partners' harvested datasets say about those regions — the block of the
cluster page, in Dutch or English. Three queries; no HTTP."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kb.linking.partners import partner_graph
from kb.namespaces import DCTERMS, KB_NS, ORG, PC, SCHEMA, SKOS
from kb.store import SparqlHttpStore

INTERNATIONALISATION = KB_NS + "id/concept/werkstroom/internationalisering-en-branding"
_LABEL = f"<{SKOS.prefLabel}>|<{SCHEMA.name}>"


@dataclass
class Partnership:
    iri: str
    label: str
    regions: list[tuple[str, str]] = field(default_factory=list)  # (iri, label)
    frameworks: list[tuple[str, str]] = field(default_factory=list)
    kinds: list[tuple[str, str]] = field(default_factory=list)
    themes: list[tuple[str, str]] = field(default_factory=list)
    members: list[tuple[str, str]] = field(default_factory=list)
    start: str | None = None
    end: str | None = None


@dataclass
class MirrorView:
    partnerships: list[Partnership]
    projects: list[tuple[str, str]]  # the cluster's internationalisation projects
    harvested: dict[str, list[tuple[str, str, str]]]  # region -> (partner graph, iri, name)

    def __bool__(self) -> bool:
        return bool(self.partnerships or self.projects)


def _label(row: dict[str, Any], key: str, fallback: str) -> str:
    return row[key]["value"] if key in row else fallback


def mirror_view(
    store: SparqlHttpStore, cluster: str, lang: str = "nl", base: str = KB_NS
) -> MirrorView:
    def labelled(var: str) -> str:
        wanted = f"FILTER(LANGMATCHES(LANG(?{var}L), '{lang}'))"
        return (
            f" OPTIONAL {{ ?{var} {_LABEL} ?{var}L . {wanted} }}"
            f" OPTIONAL {{ ?{var} {_LABEL} ?{var}A }}"
        )

    rows = store.select(
        "SELECT ?p ?pL ?pA ?what ?v ?vL ?vA ?start ?end WHERE {"
        f" ?p a <{PC.MirrorRegionPartnership}> ; <{PC.concernsCluster}> <{cluster}> ."
        f" {{ ?p <{PC.partnerRegion}> ?v BIND('region' AS ?what) }}"
        f" UNION {{ ?p <{PC.framework}> ?v BIND('framework' AS ?what) }}"
        f" UNION {{ ?p <{DCTERMS.type}> ?v BIND('kind' AS ?what) }}"
        f" UNION {{ ?p <{DCTERMS.subject}> ?v BIND('theme' AS ?what) }}"
        f" UNION {{ ?p <{ORG.hasMember}> ?v BIND('member' AS ?what) }}"
        f" OPTIONAL {{ ?p <{SCHEMA.startDate}> ?start }} OPTIONAL {{ ?p <{SCHEMA.endDate}> ?end }}"
        f"{labelled('p')}{labelled('v')} }}"
    )
    found: dict[str, Partnership] = {}
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        p = row["p"]["value"]
        part = found.get(p)
        if part is None:
            name = _label(row, "pL", _label(row, "pA", p))
            part = found[p] = Partnership(p, name)
            part.start = _label(row, "start", "") or None
            part.end = _label(row, "end", "") or None
        v = row["v"]["value"]
        what = row["what"]["value"]
        if v in seen[(p, what)]:
            continue
        seen[(p, what)].add(v)
        entry = (v, _label(row, "vL", _label(row, "vA", v.rsplit("/", 1)[-1])))
        {"region": part.regions, "framework": part.frameworks, "kind": part.kinds,
         "theme": part.themes, "member": part.members}[what].append(entry)  # fmt: skip
    projects = store.select(
        f"SELECT DISTINCT ?x ?xL ?xA WHERE {{ ?x <{PC.withinCluster}> <{cluster}> ;"
        f" <{PC.workStream}> <{INTERNATIONALISATION}> .{labelled('x')} }}"
    )
    joint = sorted(
        {(r["x"]["value"], _label(r, "xL", _label(r, "xA", r["x"]["value"]))) for r in projects},
        key=lambda t: t[1].casefold(),
    )
    regions = sorted({iri for part in found.values() for iri, _ in part.regions})
    harvested: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    if regions:
        values = " ".join(f"<{r}>" for r in regions)
        prefix = partner_graph("", base)
        hits = store.select(
            f"SELECT DISTINCT ?g ?region ?x ?n WHERE {{ VALUES ?region {{ {values} }}"
            f" GRAPH ?g {{ ?x <{SCHEMA.areaServed}>|<{DCTERMS.spatial}> ?region ;"
            f" <{SCHEMA.name}>|<{SKOS.prefLabel}> ?n . }}"
            f" FILTER(STRSTARTS(STR(?g), '{prefix}')) }} ORDER BY ?region ?n LIMIT 200",
            union_default_graph=False,
        )
        names: dict[tuple[str, str], tuple[str, str, str]] = {}
        for h in hits:
            key = (h["region"]["value"], h["x"]["value"])
            name = h["n"]["value"]
            lang_ok = h["n"].get("xml:lang", "") == lang
            if key not in names or lang_ok:
                names[key] = (h["g"]["value"].removeprefix(prefix), h["x"]["value"], name)
        for (region, _), value in sorted(names.items()):
            harvested[region].append(value)
    ordered = sorted(found.values(), key=lambda p: p.label.casefold())
    return MirrorView(ordered, joint, dict(harvested))
