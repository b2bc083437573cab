"""Harvesting a registered partner's dataset: ``kb harvest PARTNER`` / ``--all``.

The partner's CONSTRUCT (or its graph) is asked of the partner's registered endpoint with
SPARQLWrapper, through an opener that goes to no proxy and follows no redirect to another host;
the answer is read up to ``harvest_max_bytes`` within ``harvest_timeout`` seconds, parsed with
the hardened parser (no DOCTYPE or entities, no remote JSON-LD context, literal and IRI caps),
checked to say nothing about ClusterKB's own identifiers, and validated with the partner-data
shapes (``shapes/harvest/``). Then the partner's graph is replaced and the harvest recorded
(PROV-O: ``pc:Harvest``, endpoint, query, times, triple count, outcome) in one commit.

A harvest that fails anywhere writes only its record, with the reason: the previous harvest
stays in place. Nothing but the registered endpoint is contacted.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from http.client import HTTPResponse
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, VOID, XSD
from SPARQLWrapper import POST, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from kb import bundled
from kb.auth import Principal
from kb.errors import KBError, NotFound, ParseError
from kb.formats import syntax_by_name
from kb.linking.partners import Partner, partner_graph, read
from kb.load import Limits, parse_graph
from kb.namespaces import KB_NS, PC, PROV
from kb.submit import Change, Writer
from kb.validate import validate

HARVESTS = "harvests"  # the log's graph name under {namespace}graph/
OUTCOME = KB_NS + "id/concept/oogstuitkomst/"
_CHUNK = 1 << 16


def harvest_log(base: str = KB_NS) -> str:
    return f"{base}graph/{HARVESTS}"


class HarvestFailed(Exception):
    """Why a harvest was not written (recorded as its reason)."""


@dataclass
class Harvested:
    partner: Partner
    succeeded: bool
    triples: int
    reason: str | None
    started: str
    ended: str
    record: str  # the pc:Harvest IRI
    version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "partner": self.partner.slug,
            "outcome": "succeeded" if self.succeeded else "failed",
            "triples": self.triples,
            "reason": self.reason,
            "started": self.started,
            "ended": self.ended,
            "record": self.record,
            "graph": partner_graph(self.partner.slug, self.partner.base),
            "version": self.version,
        }


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the host and port the endpoint was registered with."""

    def __init__(self, endpoint: str) -> None:
        parts = urllib.parse.urlsplit(endpoint)
        self.origin = (parts.scheme, parts.hostname, parts.port)

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl))
        if (parts.scheme, parts.hostname, parts.port) != self.origin:
            raise HarvestFailed(
                f"the endpoint redirected ({code}) to another host, {parts.scheme}://{parts.netloc}/;"
                " only the registered endpoint is contacted"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Guarded(SPARQLWrapper):
    """SPARQLWrapper with its own opener: no proxies, redirects to the same host only."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), _SameHostRedirects(endpoint)
        )

    def _query(self) -> tuple[HTTPResponse, str]:
        request = self._createRequest()
        try:
            response = self.opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            body = exc.read(500).decode("utf-8", "replace").strip()
            raise HarvestFailed(
                f"the endpoint answered {exc.code} {exc.reason}: {body[:200]}"
            ) from None
        return response, self.returnFormat


def fetch(partner: Partner, *, timeout: float, max_bytes: int, limits: Limits) -> Graph:
    """The partner's answer, parsed and checked, or :class:`HarvestFailed` saying why not."""
    sparql = _Guarded(partner.endpoint)
    sparql.setQuery(partner.harvest_query())
    sparql.setMethod(POST)
    sparql.setReturnFormat(TURTLE)
    sparql.setTimeout(max(1, int(timeout)))
    sparql.addCustomHttpHeader("Accept", "application/n-triples, text/turtle;q=0.9")
    deadline = time.monotonic() + timeout
    try:
        response = sparql.query().response
        media = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body = bytearray()
        while True:
            if time.monotonic() > deadline:
                raise HarvestFailed(f"no complete answer within {timeout:g} s (harvest_timeout)")
            chunk = response.read1(_CHUNK)  # what has arrived: a trickle meets the deadline
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                raise HarvestFailed(
                    f"the answer is over {max_bytes:,} bytes (harvest_max_bytes); nothing was kept"
                )
    except HarvestFailed:
        raise
    except TimeoutError:
        raise HarvestFailed(
            f"the endpoint did not answer within {timeout:g} s (harvest_timeout)"
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, HarvestFailed):
            raise reason from None
        if isinstance(reason, TimeoutError):
            raise HarvestFailed(f"the endpoint did not answer within {timeout:g} s") from None
        raise HarvestFailed(f"the endpoint could not be reached: {reason}") from None
    except SPARQLWrapperException as exc:
        raise HarvestFailed(f"the endpoint refused the query: {str(exc)[:300]}") from None
    except OSError as exc:
        raise HarvestFailed(f"the connection failed: {exc}") from None
    try:
        syntax = syntax_by_name(media or "text/turtle")
    except KBError:
        raise HarvestFailed(f"the answer is not RDF (Content-Type {media!r})") from None
    try:
        return parse_graph(
            bytes(body),
            syntax=syntax,
            source=partner.endpoint,
            limits=limits,
        )
    except ParseError as exc:
        raise HarvestFailed(f"the answer is not acceptable {syntax.label}: {exc.message}") from None


def check(graph: Graph, base: str) -> None:
    """What a partner's data must not do, and the partner-data shapes."""
    own = sorted({str(s) for s in graph.subjects() if str(s).startswith(base)})
    if own:
        raise HarvestFailed(
            f"the answer says things about {len(own)} of ClusterKB's own identifiers"
            f" (first: <{own[0]}>); a partner describes its own things"
        )
    if not len(graph):
        raise HarvestFailed("the answer holds no triples")
    report = validate(graph, shapes=bundled.partner_shapes_graph(base), ontology=Graph(), base=base)
    if report.violations:
        first = report.violations[0]
        raise HarvestFailed(
            f"the answer has {len(report.violations)} violation(s) of the partner-data shapes;"
            f" first: <{first.focus_node}>: {first.message('en')}"
        )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _record(partner: Partner, harvested: Harvested) -> Graph:
    g = Graph()
    me = URIRef(harvested.record)
    g.add((me, RDF.type, PC.Harvest))
    g.add((me, PROV.used, URIRef(partner.iri)))
    g.add((me, VOID.sparqlEndpoint, URIRef(partner.endpoint)))
    g.add((me, PC.harvestQuery, Literal(partner.harvest_query(), datatype=XSD.string)))
    g.add((me, PROV.startedAtTime, Literal(harvested.started, datatype=XSD.dateTime)))
    g.add((me, PROV.endedAtTime, Literal(harvested.ended, datatype=XSD.dateTime)))
    outcome = "geslaagd" if harvested.succeeded else "mislukt"
    g.add((me, PC.harvestOutcome, URIRef(OUTCOME + outcome)))
    g.add((me, VOID.triples, Literal(harvested.triples, datatype=XSD.integer)))
    if harvested.succeeded:
        g.add((me, PROV.generated, URIRef(partner_graph(partner.slug, partner.base))))
    if harvested.reason:
        g.add((me, RDFS.comment, Literal(harvested.reason[:2000], lang="en")))
    return g


def harvest(writer: Writer, who: Principal, slug: str) -> Harvested:
    """Harvest one registered partner; the outcome is recorded either way."""
    settings = writer.settings
    partners = read(writer.store, writer.base)
    partner = partners.get(slug)
    if partner is None:
        known = ", ".join(partners) or "none"
        raise NotFound(f"there is no registered partner {slug!r} (registered: {known})")
    started = _now()
    record = f"{writer.base}id/harvest/{uuid.uuid4()}"
    limits = Limits(
        max_literal_bytes=settings.max_literal_bytes, max_iri_bytes=settings.max_iri_bytes
    )
    graph: Graph | None = None
    reason = None
    try:
        graph = fetch(
            partner,
            timeout=settings.harvest_timeout,
            max_bytes=settings.harvest_max_bytes,
            limits=limits,
        )
        check(graph, writer.base)
    except HarvestFailed as exc:
        graph, reason = None, str(exc)
    done = Harvested(
        partner,
        graph is not None,
        len(graph) if graph is not None else 0,
        reason,
        started,
        _now(),
        record,
    )
    log = Change(harvest_log(writer.base), None, append=_record(partner, done))
    changes = [log]
    if graph is not None:
        # the partner's data is validated with the partner-data shapes above, not the project's
        changes.insert(0, Change(partner_graph(slug, writer.base), graph, validate=False))
    outcomes = writer.commit_graphs(who, changes, operation="harvest")
    if graph is not None:
        done.version = outcomes[0].version
    return done
