"""How much of the policy each provincial cluster's data expresses: the coverage table of
``data/README.md`` (``kb coverage``), made from the bundled data so it never goes stale.

Per cluster: the helix roles among its members, the five work streams (documented by an
activity, stated as not documented, or missing), its partnerships, how many of its facts carry
time (a start, an end or a status), and how many of its actors carry a verified authority
identifier (KBO, ROR, Wikidata)."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import OWL, Graph, URIRef
from rdflib.query import ResultRow

from kb import bundled
from kb.namespaces import ADMS, DCTERMS, KB_NS, ORG, PC, PREFIXES, SCHEMA, SKOS, sparql_prologue

START, END = "<!-- coverage-table -->", "<!-- /coverage-table -->"

_ROLES = ("overheid", "bedrijfsleven", "academie", "middenveld")
_STREAMS = (
    ("netwerking", "N"),
    ("structurele-investeringen", "S"),
    ("projectwerking", "P"),
    ("internationalisering-en-branding", "I"),
    ("arbeidsmarkt", "A"),
)
_PREFIXES = sparql_prologue(("pc", "org", "schema", "prov"))


@dataclass(frozen=True)
class Row:
    cluster: str
    label: str
    roles: tuple[str, ...]
    documented: tuple[str, ...]
    undocumented: tuple[str, ...]
    partnerships: int
    dated: int
    facts: int
    identified: int
    actors: int

    def cells(self) -> list[str]:
        streams = []
        for slug, letter in _STREAMS:
            streams.append(
                letter if slug in self.documented else "–" if slug in self.undocumented else "·"
            )
        return [
            self.label,
            ", ".join(self.roles) or "—",
            " ".join(streams),
            str(self.partnerships),
            f"{self.dated} / {self.facts}",
            f"{self.identified} / {self.actors}",
        ]


def _one(g: Graph, query: str) -> list[str]:
    """The first column of a SELECT."""
    result = g.query(_PREFIXES + query)
    return [str(row[0]) for row in result if isinstance(row, ResultRow)]


def rows(g: Graph | None = None) -> list[Row]:
    g = g if g is not None else bundled.data_graph(KB_NS) + bundled.ontology_graph(KB_NS)
    out = []
    clusters = _one(g, "SELECT ?c WHERE { ?c a pc:ProvincialCluster } ORDER BY ?c")
    for c in clusters:
        me = f"<{c}>"
        labels = [
            str(o)
            for o in g.objects(URIRef(c), SKOS.prefLabel)
            if getattr(o, "language", None) == "en"
        ]
        roles = set(
            _one(g, f"SELECT DISTINCT ?r WHERE {{ ?m org:organization {me} ; org:role ?r }}")
        )
        streams = set(
            _one(g, f"SELECT DISTINCT ?w WHERE {{ ?p pc:withinCluster {me} ; pc:workStream ?w }}")
        )
        partnerships = _one(g, f"SELECT DISTINCT ?p WHERE {{ ?p pc:concernsCluster {me} }}")
        if partnerships:
            streams.add(_w("internationalisering-en-branding"))
        stated = set(_one(g, f"SELECT ?w WHERE {{ {me} pc:undocumentedWorkStream ?w }}"))
        facts = _one(
            g,
            f"""SELECT DISTINCT ?x WHERE {{
                {{ BIND({me} AS ?x) }} UNION {{ ?x org:organization {me} }}
                UNION {{ ?x pc:withinCluster {me} }} UNION {{ ?x pc:concernsCluster {me} }}
                UNION {{ ?x schema:fundedItem ?p . ?p pc:withinCluster {me} }}
                UNION {{ ?x schema:fundedItem ?p . ?p pc:concernsCluster {me} }} }}""",
        )
        dated = [x for x in facts if _dated(g, URIRef(x))]
        actors = set(
            _one(
                g,
                f"""SELECT DISTINCT ?a WHERE {{
                    {{ ?m org:organization {me} ; org:member ?a }}
                    UNION {{ ?p pc:withinCluster {me} ; prov:wasAssociatedWith ?a }} }}""",
            )
        )
        identified = [
            a
            for a in actors
            if a.startswith(PREFIXES["ror"])
            or any((URIRef(a), p, None) in g for p in (OWL.sameAs, ADMS.identifier))
        ]
        out.append(
            Row(
                cluster=c,
                label=labels[0] if labels else c,
                roles=tuple(r for r in _ROLES if KB_NS + "id/concept/helixrol/" + r in roles),
                documented=tuple(s for s, _ in _STREAMS if _w(s) in streams),
                undocumented=tuple(s for s, _ in _STREAMS if _w(s) in stated),
                partnerships=len(partnerships),
                dated=len(dated),
                facts=len(facts),
                identified=len(identified),
                actors=len(actors),
            )
        )
    return out


def _w(slug: str) -> str:
    return KB_NS + "id/concept/werkstroom/" + slug


#: What makes a fact dated: a start, an end, a date or a status (or a period's start).
_WHEN = (SCHEMA.startDate, SCHEMA.endDate, DCTERMS.date, PC.status)


def _dated(g: Graph, x: URIRef) -> bool:
    if any(g.value(x, p) is not None for p in _WHEN):
        return True
    return any(
        g.value(period, SCHEMA.startDate) is not None for period in g.objects(x, ORG.memberDuring)
    )


def table(found: list[Row] | None = None) -> str:
    """The coverage table in Markdown, between its markers."""
    found = found if found is not None else rows()
    head = [
        "cluster",
        "helix roles present",
        "work streams (N S P I A)",
        "partnerships",
        "dated facts",
        "actors with an authority identifier",
    ]
    lines = [START, "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in found]
    lines.append(END)
    return "\n".join(lines)


def rewrite(text: str, new_table: str) -> str:
    """``text`` with the block between the coverage markers replaced by ``new_table``."""
    if START not in text or END not in text:
        raise ValueError(f"no {START} … {END} block to replace")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return before + new_table + after
