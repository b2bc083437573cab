"""The registry of partner datasets: European partners' SPARQL endpoints ClusterKB harvests
from and federates with, stored as data (graph ``{namespace}graph/partners``, one
``pc:PartnerDataset`` each) and written through the one validated commit, so every change has
its provenance (who, when) and history.

Only the endpoints registered here are ever contacted (by ``kb harvest`` and by ``SERVICE``
in queries); :func:`endpoints` is the allow-list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, VOID, XSD

from kb.auth import Principal
from kb.cache import PerVersion
from kb.errors import InvalidRequest, NotFound
from kb.namespaces import KB_NS, PC, VCARD
from kb.store import SparqlHttpStore
from kb.submit import Change, Outcome, Writer

REGISTRY = "partners"  # the graph's name under {namespace}graph/
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def registry_graph(base: str = KB_NS) -> str:
    return f"{base}graph/{REGISTRY}"


def partner_iri(slug: str, base: str = KB_NS) -> str:
    return f"{base}id/partner/{slug}"


def partner_graph(slug: str, base: str = KB_NS) -> str:
    """The named graph a partner's harvest lives in."""
    return f"{base}graph/partner/{slug}"


@dataclass(frozen=True)
class Partner:
    slug: str
    name: str
    lang: str
    region: str  # NUTS or Wikidata IRI
    endpoint: str
    licence: str
    contact_name: str
    contact_email: str
    query: str | None = None  # a CONSTRUCT ...
    graph: str | None = None  # ... or a named graph on the endpoint
    schedule: str | None = None  # EU frequency code: DAILY, WEEKLY, MONTHLY, ...
    base: str = KB_NS  # the namespace the partner is registered under

    @property
    def iri(self) -> str:
        return partner_iri(self.slug, self.base)

    def harvest_query(self) -> str:
        if self.query is not None:
            return self.query
        return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{self.graph}> {{ ?s ?p ?o }} }}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "iri": self.iri,
            "name": self.name,
            "lang": self.lang,
            "region": self.region,
            "endpoint": self.endpoint,
            "licence": self.licence,
            "contact": {"name": self.contact_name, "email": self.contact_email},
            "query": self.query,
            "graph": self.graph,
            "schedule": self.schedule,
            "harvest_graph": partner_graph(self.slug, self.base),
        }

    def triples(self, g: Graph) -> None:
        me = URIRef(self.iri)
        g.add((me, RDF.type, PC.PartnerDataset))
        g.add((me, DCTERMS.title, Literal(self.name, lang=self.lang)))
        g.add((me, DCTERMS.spatial, URIRef(self.region)))
        g.add((me, VOID.sparqlEndpoint, URIRef(self.endpoint)))
        g.add((me, DCTERMS.license, URIRef(self.licence)))
        contact = BNode()
        g.add((me, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Kind))
        g.add((contact, VCARD.fn, Literal(self.contact_name)))
        g.add((contact, VCARD.hasEmail, URIRef("mailto:" + self.contact_email)))
        if self.query is not None:
            g.add((me, PC.harvestQuery, Literal(self.query, datatype=XSD.string)))
        if self.graph is not None:
            g.add((me, PC.harvestGraph, URIRef(self.graph)))
        if self.schedule:
            g.add((me, DCTERMS.accrualPeriodicity, URIRef(FREQUENCY + self.schedule)))


def from_dict(body: Any, base: str = KB_NS) -> Partner:
    """A partner from the JSON of the API or the options of ``kb partner add``; checks what
    the shapes cannot (the slug, one of query and graph, the query is a CONSTRUCT)."""
    if not isinstance(body, dict):
        raise InvalidRequest("a partner is a JSON object", where="body")

    def text(key: str, *, required: bool = True, limit: int = 2000) -> str | None:
        value = body.get(key)
        if value is None or value == "":
            if required:
                raise InvalidRequest(f"{key!r} is required", where=key)
            return None
        if not isinstance(value, str):
            raise InvalidRequest(f"{key!r} is a string", where=key)
        if len(value) > limit:
            raise InvalidRequest(f"{key!r} is longer than {limit:,} characters", where=key)
        return value.strip()

    slug = text("slug")
    assert slug is not None
    if not _SLUG.match(slug):
        raise InvalidRequest(
            "a slug is 1-63 lower-case letters, digits and '-', starting with a letter or digit",
            where="slug",
        )
    contact = body.get("contact") or {}
    if not isinstance(contact, dict):
        raise InvalidRequest("'contact' is an object with 'name' and 'email'", where="contact")
    query = text("query", required=False, limit=20_000)
    graph = text("graph", required=False)
    if (query is None) == (graph is None):
        raise InvalidRequest(
            "give either a CONSTRUCT 'query' or a 'graph', not both", where="query"
        )
    if query is not None:
        from kb.query import check_query

        checked = check_query(query)
        if checked.form != "CONSTRUCT":
            raise InvalidRequest(
                f"the harvest query is a {checked.form}, not a CONSTRUCT", where="query"
            )
    schedule = (text("schedule", required=False) or "").upper() or None
    if schedule is not None and not re.fullmatch(r"[A-Z_0-9]{2,20}", schedule):
        raise InvalidRequest(
            "'schedule' is an EU frequency code (DAILY, WEEKLY, ...)", where="schedule"
        )
    return Partner(
        slug=slug,
        name=text("name", limit=300) or "",
        lang=(text("lang", required=False) or "en").lower(),
        region=text("region") or "",
        endpoint=text("endpoint") or "",
        licence=text("licence") or "",
        contact_name=str(contact.get("name") or ""),
        contact_email=str(contact.get("email") or ""),
        query=query,
        graph=graph,
        schedule=schedule,
        base=base,
    )


def _literal(row: dict[str, Any], key: str) -> str | None:
    return row[key]["value"] if key in row else None


def read(store: SparqlHttpStore, base: str = KB_NS) -> dict[str, Partner]:
    """The registered partners, by slug."""
    g = registry_graph(base)
    rows = store.select(
        f"SELECT ?p ?title ?lang ?region ?endpoint ?licence ?fn ?email ?query ?graph ?freq"
        f" WHERE {{ GRAPH <{g}> {{ ?p a <{PC.PartnerDataset}> ; <{DCTERMS.title}> ?title ;"
        f" <{DCTERMS.spatial}> ?region ; <{VOID.sparqlEndpoint}> ?endpoint ;"
        f" <{DCTERMS.license}> ?licence ; <{DCAT.contactPoint}> ?c ."
        f" ?c <{VCARD.fn}> ?fn ; <{VCARD.hasEmail}> ?email ."
        f" BIND(LANG(?title) AS ?lang)"
        f" OPTIONAL {{ ?p <{PC.harvestQuery}> ?query }}"
        f" OPTIONAL {{ ?p <{PC.harvestGraph}> ?graph }}"
        f" OPTIONAL {{ ?p <{DCTERMS.accrualPeriodicity}> ?freq }} }} }}",
        union_default_graph=False,
    )
    found = {}
    prefix = partner_iri("", base)
    for row in rows:
        iri = row["p"]["value"]
        if not iri.startswith(prefix):
            continue
        slug = iri.removeprefix(prefix)
        freq = _literal(row, "freq")
        found[slug] = Partner(
            slug=slug,
            name=row["title"]["value"],
            lang=row["lang"]["value"],
            region=row["region"]["value"],
            endpoint=row["endpoint"]["value"],
            licence=row["licence"]["value"],
            contact_name=row["fn"]["value"],
            contact_email=row["email"]["value"].removeprefix("mailto:"),
            query=_literal(row, "query"),
            graph=_literal(row, "graph"),
            schedule=freq.removeprefix(FREQUENCY) if freq else None,
            base=base,
        )
    return dict(sorted(found.items()))


def _graph(partners: dict[str, Partner]) -> Graph:
    g = Graph()
    for p in partners.values():
        p.triples(g)
    return g


def register(writer: Writer, who: Principal, partner: Partner, *, dry_run: bool = False) -> Outcome:
    """Add or replace a partner (admin), validated with the registry's shapes."""
    _admin(who)
    with writer.locked():
        partners = read(writer.store, writer.base)
        partners[partner.slug] = replace(partner, base=writer.base)
        change = Change(registry_graph(writer.base), _graph(partners))
        return writer.commit_graphs(who, [change], operation="partner-register", dry_run=dry_run)[0]


def remove(writer: Writer, who: Principal, slug: str) -> Outcome:
    """Remove a partner from the registry (admin); its harvested graph is dropped too."""
    _admin(who)
    with writer.locked():
        partners = read(writer.store, writer.base)
        if slug not in partners:
            raise NotFound(f"there is no registered partner {slug!r}")
        del partners[slug]
        changes = [
            Change(registry_graph(writer.base), _graph(partners)),
            Change(partner_graph(slug, writer.base), None),
        ]
        return writer.commit_graphs(who, changes, operation="partner-remove")[0]


def _admin(who: Principal) -> None:
    from kb.errors import Forbidden

    if not who.is_admin:
        raise Forbidden(
            f"the token of {who.name} is not an admin token: only admins register partners"
        )


class Endpoints:
    """The registered endpoints of the current data version (the ``SERVICE`` allow-list)."""

    def __init__(self, store: SparqlHttpStore, base: str = KB_NS) -> None:
        self.store = store
        self._made: PerVersion[None, frozenset[str]] = PerVersion(
            lambda: store.data_version,
            lambda _: frozenset(p.endpoint for p in read(store, base).values()),
        )

    def current(self) -> frozenset[str]:
        return self._made.get(None)


def showcase_endpoint(store: SparqlHttpStore, base: str = KB_NS) -> str | None:
    """The endpoint the partner example queries use: that of the partner harvested most
    recently with success (its endpoint answered then), else the first registered one."""
    found = read(store, base)
    if not found:
        return None
    rows = store.select(
        f"SELECT ?p WHERE {{ GRAPH <{base}graph/harvests> {{ ?h <{PC.harvestOutcome}>"
        f" <{base}id/concept/oogstuitkomst/geslaagd> ; <http://www.w3.org/ns/prov#used> ?p ;"
        " <http://www.w3.org/ns/prov#endedAtTime> ?t } } ORDER BY DESC(?t) LIMIT 20",
        union_default_graph=False,
    )
    prefix = partner_iri("", base)
    for row in rows:
        slug = row["p"]["value"].removeprefix(prefix)
        if slug in found:
            return found[slug].endpoint
    return next(iter(found.values())).endpoint
