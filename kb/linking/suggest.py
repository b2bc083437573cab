"""Link discovery: which things in a partner's harvested graph are things of ClusterKB's — each
suggestion with a score and its reasons — and a steward's decisions on them.

The record linkage is the ``recordlinkage`` library's: candidate pairs from a sorted
neighbourhood on the folded name keys (every label in every language is a row) united with a
blocking on the region; features compared per pair — name similarity (RapidFuzz on the keys of
:mod:`kb.linking.names`), same region, shared members (partner members already known to be
ours), kind of thing, same activity (the NACE or ISIC v4 division), same identifier (an
``owl:sameAs``/``schema:sameAs`` to an IRI we use) — and the best row pair of each entity pair
kept. The score is the weighted mean of the features both sides have (name 0.6, region 0.2,
members 0.2, kind 0.3, activity 0.2); the same identifier scores 1.

A decision (:func:`decide`) is a ``pc:LinkDecision`` with who, when, score and reasons, in the
graph ``{namespace}graph/links/decisions/{slug}``; an accepted one also puts ``ours skos:exactMatch
theirs`` in the partner's linkset ``{namespace}graph/links/partner/{slug}``, in the same
validated commit. Decided pairs, accepted or rejected, are never suggested again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import recordlinkage as rl  # type: ignore[import-untyped]
from rapidfuzz import fuzz
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import SKOS, XSD
from recordlinkage.base import BaseCompareFeature  # type: ignore[import-untyped]

from kb.auth import Principal
from kb.errors import Forbidden, InvalidRequest, NotFound
from kb.linking import names as nm
from kb.linking.partners import Partner, partner_graph, read
from kb.linking.vocabulary import NAME_PREDICATES, TYPES
from kb.namespaces import DCTERMS, KB_NS, ORG, PC, PREFIXES, PROJECT_KINDS, PROV, ROV, SCHEMA, named
from kb.store import SparqlHttpStore
from kb.submit import Change, Outcome, Writer

DECISION = KB_NS + "id/concept/linkbeslissing/"
#: The default threshold: suggestions scoring below it are not shown.
THRESHOLD = 0.85
#: Of the candidates for one partner thing, those within this of the best are shown.
MARGIN = 0.1
WEIGHTS = {"name": 0.6, "region": 0.2, "members": 0.2, "kind": 0.3, "activity": 0.2}
NACE = "http://data.europa.eu/ux2/nace2/"
ISIC = SCHEMA + "isicV4"
#: What sort of thing a class makes a thing: ours by class, theirs by class too.
_KIND_OF = {
    str(DCTERMS.Location): "region",
    str(SCHEMA.Place): "place",
    str(SCHEMA.AdministrativeArea): "region",
    str(SCHEMA.Project): "project",
    str(SCHEMA.ResearchProject): "project",
    str(PC.Facility): "place",
    str(PC.TestEnvironment): "place",
    str(PC.TrainingCentre): "place",
    str(PC.MirrorRegionPartnership): "organisation",
    **{str(PC[k]): "project" for k in PROJECT_KINDS},
}
#: A partner's kind and the kinds of ours it may be (a partner's place: a region or a site).
_COMPATIBLE = {"region": {"region", "place"}, "place": {"place", "region"}}
_SAME_AS = (PREFIXES["owl"] + "sameAs", str(SCHEMA.sameAs), str(SKOS.exactMatch))
_THEIR_NAMES = (*NAME_PREDICATES, SCHEMA.alternateName)
_THEIR_REGION = (SCHEMA.areaServed, DCTERMS.spatial, SCHEMA.location)
_THEIR_MEMBERS = (SCHEMA.member, ORG.hasMember)


def decisions_graph(slug: str, base: str = KB_NS) -> str:
    """The steward decisions on links to one partner's things (a steward with the grant
    ``links/*`` writes both it and the linkset)."""
    return f"{base}graph/links/decisions/{slug}"


def linkset_graph(slug: str, base: str = KB_NS) -> str:
    """The linkset of accepted links to one partner's things."""
    return f"{base}graph/links/partner/{slug}"


@dataclass
class Suggestion:
    ours: str
    ours_label: str
    theirs: str
    theirs_label: str
    score: float
    features: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ours": self.ours,
            "ours_label": self.ours_label,
            "theirs": self.theirs,
            "theirs_label": self.theirs_label,
            "score": round(self.score, 3),
            "features": {k: round(v, 3) for k, v in self.features.items()},
            "reasons": self.reasons,
        }


class _Name(BaseCompareFeature):
    def _compute_vectorized(self, s1: pd.Series, s2: pd.Series) -> pd.Series:
        return pd.Series(
            [fuzz.ratio(a, b) / 100 for a, b in zip(s1, s2, strict=True)], index=s1.index
        )


class _Overlap(BaseCompareFeature):
    """1 when the two sets share an element, 0 when both are known and do not, NaN when one
    side has none (the feature then does not count)."""

    def _compute_vectorized(self, s1: pd.Series, s2: pd.Series) -> pd.Series:
        out = []
        for a, b in zip(s1, s2, strict=True):
            out.append(float("nan") if not a or not b else 1.0 if a & b else 0.0)
        return pd.Series(out, index=s1.index)


@dataclass
class _Side:
    labels: dict[str, str]  # iri -> display label
    keys: list[tuple[str, str]]  # (iri, key), one per label
    regions: dict[str, frozenset[str]]
    members: dict[str, frozenset[str]]
    ids: dict[str, frozenset[str]]  # identifiers: the IRI itself and its sameAs targets
    kinds: dict[str, frozenset[str]] = field(default_factory=dict)  # region, place, project, ...
    activities: dict[str, frozenset[str]] = field(default_factory=dict)  # NACE/ISIC divisions

    def frame(self) -> pd.DataFrame:
        rows = [
            {
                "iri": iri,
                "key": key,
                "block": min(self.regions.get(iri, frozenset({""}))),
                "region": self.regions.get(iri, frozenset()),
                "members": self.members.get(iri, frozenset()),
                "ids": self.ids.get(iri, frozenset()),
                "kind": self.kinds.get(iri, frozenset()),
                "activity": self.activities.get(iri, frozenset()),
            }
            for iri, key in self.keys
        ]
        return pd.DataFrame(rows)


def _values(rows: list[dict[str, Any]], key: str) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if key in r:
            found[r["e"]["value"]].add(r[key]["value"])
    return {k: frozenset(v) for k, v in found.items()}


def _ours(store: SparqlHttpStore, lang: str) -> _Side:
    classes = " ".join(f"<{c}>" for t in TYPES if t.id != str(SKOS.Concept) for c in t.classes)
    names = " ".join(f"<{p}>" for p in NAME_PREDICATES)
    rows = store.select(
        "SELECT ?e ?c ?label ?region ?member ?same ?act WHERE {"
        f" VALUES ?c {{ {classes} }} ?e a ?c ."
        f" VALUES ?p {{ {names} }} ?e ?p ?label ."
        f" FILTER({named('e')})"
        f" OPTIONAL {{ ?e <{DCTERMS.spatial}>|<{PC.runBy}>/<{DCTERMS.spatial}> ?region }}"
        f" OPTIONAL {{ ?e <{ORG.hasMember}>|^<{ORG.organization}>/<{ORG.member}> ?member }}"
        f" OPTIONAL {{ ?e <{_SAME_AS[0]}>|<{SKOS.exactMatch}> ?same }}"
        f" OPTIONAL {{ ?e <{ROV.orgActivity}>|<{PC.subSector}>/<{SKOS.relatedMatch}>"
        f"|<{PC.subSector}>/<{SKOS.closeMatch}> ?act FILTER(STRSTARTS(STR(?act), '{NACE}')) }} }}"
    )
    return _side(rows, lang)


def _theirs(store: SparqlHttpStore, graph: str, lang: str) -> _Side:
    names = " ".join(f"<{p}>" for p in _THEIR_NAMES)
    regions = "|".join(f"<{p}>" for p in _THEIR_REGION)
    members = "|".join(f"<{p}>" for p in _THEIR_MEMBERS)
    same = "|".join(f"<{p}>" for p in _SAME_AS)
    rows = store.select(
        f"SELECT ?e ?c ?label ?region ?member ?same ?act WHERE {{ GRAPH <{graph}> {{"
        f" VALUES ?p {{ {names} }} ?e ?p ?label . FILTER(isIRI(?e) && isLiteral(?label))"
        " OPTIONAL { ?e a ?c }"
        f" OPTIONAL {{ ?e {regions} ?region }} OPTIONAL {{ ?e {members} ?member }}"
        f" OPTIONAL {{ ?e {same} ?same }}"
        f" OPTIONAL {{ ?e <{ISIC}>|<{ROV.orgActivity}> ?act }} }} }}",
        union_default_graph=False,
    )
    return _side(rows, lang)


def _side(rows: list[dict[str, Any]], lang: str) -> _Side:
    labels: dict[str, str] = {}
    keys: set[tuple[str, str]] = set()
    for r in rows:
        iri, label = r["e"]["value"], r["label"]
        tag = label.get("xml:lang", "")
        if iri not in labels or tag == lang:
            labels[iri] = label["value"]
        keys |= {(iri, k) for k in nm.variants(label["value"], parts=False)}
    ids = {iri: frozenset({iri}) for iri in labels}
    for iri, same in _values(rows, "same").items():
        ids[iri] = ids.get(iri, frozenset()) | same
    kinds: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if "c" in r:
            kinds[r["e"]["value"]].add(_KIND_OF.get(r["c"]["value"], "organisation"))
    side = _Side(labels, sorted(keys), _values(rows, "region"), _values(rows, "member"), ids)
    side.kinds = {k: frozenset(v) for k, v in kinds.items()}
    side.activities = {
        k: frozenset(d for d in (_division(a) for a in v) if d)
        for k, v in _values(rows, "act").items()
    }
    return side


def _division(code: str) -> str:
    """The two-digit division of a NACE IRI, a NACE code or an ISIC v4 code (ISIC and NACE
    agree at that level): ``…/nace2/7211``, ``72.11``, ``7211`` → ``72``."""
    digits = "".join(c for c in code.rsplit("/", 1)[-1] if c.isdigit())
    return digits[:2] if len(digits) >= 2 else ""


def decided(store: SparqlHttpStore, slug: str, base: str = KB_NS) -> dict[tuple[str, str], str]:
    """(ours, theirs) -> ``aanvaard`` or ``verworpen``, the latest decision on each pair."""
    graph = decisions_graph(slug, base)
    rows = store.select(
        f"SELECT ?s ?o ?d ?t WHERE {{ GRAPH <{graph}> {{ ?x a <{PC.LinkDecision}> ;"
        f" <{RDF.subject}> ?s ; <{RDF.object}> ?o ; <{PC.linkDecision}> ?d ;"
        f" <{PROV.endedAtTime}> ?t }} }} ORDER BY ?t",
        union_default_graph=False,
    )
    return {(r["s"]["value"], r["o"]["value"]): r["d"]["value"].rsplit("/", 1)[-1] for r in rows}


def suggest(
    store: SparqlHttpStore,
    partner: Partner,
    *,
    threshold: float = THRESHOLD,
    lang: str = "en",
    limit: int = 3,
    include_decided: bool = False,
) -> list[Suggestion]:
    """Suggested links from ClusterKB's things to the partner's harvested things, best first:
    at most ``limit`` of ours per partner thing, scoring at least ``threshold``."""
    base = partner.base
    theirs = _theirs(store, partner_graph(partner.slug, base), lang)
    if not theirs.keys:
        return []
    ours = _ours(store, lang)
    decisions = decided(store, partner.slug, base)
    done = {} if include_decided else decisions
    accepted = {t: o for (o, t), d in decisions.items() if d == "aanvaard"}
    # a partner's member is ours when it carries an identifier we use or was accepted
    known: dict[str, str] = {}
    our_ids = {i: iri for iri, idents in ours.ids.items() for i in idents}
    for iri, idents in theirs.ids.items():
        hit = next((our_ids[i] for i in idents if i in our_ids), None) or accepted.get(iri)
        if hit:
            known[iri] = hit
    theirs.members = {
        iri: frozenset(known[m] for m in ms if m in known) for iri, ms in theirs.members.items()
    }
    left, right = theirs.frame(), ours.frame()
    indexer = rl.Index()
    indexer.sortedneighbourhood("key", window=15)
    indexer.block("block")
    pairs = indexer.index(left, right)
    compare = rl.Compare()
    compare.add(_Name("key", "key", label="name"))
    compare.add(_Overlap("region", "region", label="region"))
    compare.add(_Overlap("members", "members", label="members"))
    compare.add(_Overlap("ids", "ids", label="identifier"))
    compare.add(_Kinds("kind", "kind", label="kind"))
    compare.add(_Overlap("activity", "activity", label="activity"))
    features = compare.compute(pairs, left, right)
    best: dict[tuple[str, str], dict[str, float]] = {}
    for (i, j), row in features.iterrows():
        pair = (str(left.at[i, "iri"]), str(right.at[j, "iri"]))
        have = best.setdefault(pair, {})
        for name, value in row.items():
            if pd.notna(value):
                have[str(name)] = max(have.get(str(name), 0.0), float(value))
    by_theirs: dict[str, list[Suggestion]] = defaultdict(list)
    for (t, o), feats in best.items():
        if (o, t) in done:
            continue
        if feats.get("identifier") == 1.0:
            score = 1.0
        else:
            used = {k: w for k, w in WEIGHTS.items() if k in feats}
            score = sum(w * feats[k] for k, w in used.items()) / sum(used.values())
        if score < threshold:
            continue
        by_theirs[t].append(
            Suggestion(
                o,
                ours.labels.get(o, o),
                t,
                theirs.labels.get(t, t),
                score,
                feats,
                _reasons(feats, ours, theirs, o, t),
            )
        )
    out = []
    for cands in by_theirs.values():
        ranked = sorted(cands, key=lambda s: (-s.score, s.ours))
        top = ranked[0].score  # near the best only: a clear winner hides the also-rans
        out += [s for s in ranked if s.score >= top - MARGIN][:limit]
    return sorted(out, key=lambda s: (-s.score, s.theirs_label.casefold(), s.ours))


class _Kinds(BaseCompareFeature):
    """1 when a partner's kind of thing fits ours (a place a region or site, an organisation an
    organisation or cluster, a project a project), 0 when not, NaN when a side has none."""

    def _compute_vectorized(self, s1: pd.Series, s2: pd.Series) -> pd.Series:
        out = []
        for theirs, ours in zip(s1, s2, strict=True):
            if not theirs or not ours:
                out.append(float("nan"))
                continue
            fits = {k for t in theirs for k in _COMPATIBLE.get(t, {t})}
            out.append(1.0 if fits & ours else 0.0)
        return pd.Series(out, index=s1.index)


def _reasons(feats: dict[str, float], ours: _Side, theirs: _Side, o: str, t: str) -> list[str]:
    out = [
        f"name {feats.get('name', 0):.2f}: “{theirs.labels.get(t, t)}” ~ “{ours.labels.get(o, o)}”"
    ]
    if feats.get("identifier") == 1.0:
        shared = sorted(ours.ids.get(o, frozenset()) & theirs.ids.get(t, frozenset()))
        out.append(f"same identifier {shared[0]}" if shared else "same identifier")
    if feats.get("region") == 1.0:
        shared = sorted(ours.regions.get(o, frozenset()) & theirs.regions.get(t, frozenset()))
        out.append(f"same region {shared[0].rsplit('/', 1)[-1]}")
    elif "region" in feats:
        out.append("another region")
    if feats.get("activity") == 1.0:
        shared = sorted(ours.activities.get(o, frozenset()) & theirs.activities.get(t, frozenset()))
        out.append(f"same activity (NACE division {shared[0]})")
    elif "activity" in feats:
        out.append("another activity")
    if feats.get("kind") == 0.0:
        out.append("another kind of thing")
    if feats.get("members") == 1.0:
        n = len(ours.members.get(o, frozenset()) & theirs.members.get(t, frozenset()))
        out.append(f"{n} shared member(s)")
    return out


def decide(
    writer: Writer,
    who: Principal,
    slug: str,
    ours: str,
    theirs: str,
    decision: str,
) -> Outcome:
    """Record a steward's decision on a suggested link (accept or reject), with the
    suggestion's score and reasons; an accepted link joins the partner's linkset."""
    if decision not in ("accept", "reject"):
        raise InvalidRequest("the decision is 'accept' or 'reject'", where="decision")
    if not (who.is_admin or who.may_write(linkset_graph(slug, writer.base), writer.base)):
        raise Forbidden(f"the token of {who.name} may not decide links to partner {slug!r}")
    with writer.locked():
        partner = read(writer.store, writer.base).get(slug)
        if partner is None:
            raise NotFound(f"there is no registered partner {slug!r}")
        found = [
            s
            for s in suggest(writer.store, partner, threshold=0.0, limit=50, include_decided=True)
            if s.ours == ours and s.theirs == theirs
        ]
        if not found:
            raise NotFound(f"there is no suggestion linking <{ours}> to <{theirs}>")
        sug = found[0]
        record = URIRef(f"{writer.base}id/link-decision/{uuid.uuid4()}")
        g = Graph()
        g.add((record, RDF.type, PC.LinkDecision))
        g.add((record, RDF.subject, URIRef(ours)))
        g.add((record, RDF.object, URIRef(theirs)))
        concept = "aanvaard" if decision == "accept" else "verworpen"
        g.add((record, PC.linkDecision, URIRef(DECISION + concept)))
        g.add((record, PC.linkScore, Literal(f"{sug.score:.3f}", datatype=XSD.decimal)))
        g.add((record, RDFS.comment, Literal("; ".join(sug.reasons)[:2000], lang="en")))
        g.add((record, PROV.used, URIRef(partner.iri)))
        g.add((record, PROV.wasAssociatedWith, URIRef(f"{writer.base}id/agent/{who.id}")))
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        g.add((record, PROV.endedAtTime, Literal(now, datatype=XSD.dateTime)))
        changes = [Change(decisions_graph(slug, writer.base), None, append=g)]
        linkset = linkset_graph(slug, writer.base)
        current = writer.read(linkset)
        link = (URIRef(ours), SKOS.exactMatch, URIRef(theirs))
        if decision == "accept" and link not in current:
            changes.append(Change(linkset, None, append=Graph().add(link)))
        elif decision == "reject" and link in current:
            current.remove(link)
            changes.append(Change(linkset, current))
        return writer.commit_graphs(who, changes, operation=f"link-{decision}")[0]
