"""The Reconciliation Service API 0.2 as a query service: manifest, reconciliation batches,
suggest (entities, types, properties), preview data, property proposals and data extension.

:class:`Reconciler` reads names from the store into a :class:`~kb.linking.names.NameIndex`
once per data version (rebuilt on the first request after a commit) and the property values of
candidates with one SPARQL query per batch. Every request is checked against the standard's
JSON Schema and the service's limits first; a request that fails gets an
:class:`~kb.errors.InvalidRequest` naming the part, before anything is read.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from kb.cache import PerVersion
from kb.errors import InvalidRequest
from kb.linking import names as nm
from kb.linking import schemas
from kb.linking.vocabulary import (
    DEFAULT_TYPES,
    NAME_PREDICATES,
    PROPERTIES,
    PROPERTY_BY_ID,
    TYPE_BY_ID,
    TYPES,
    RProperty,
    RType,
)
from kb.namespaces import DCTERMS, KB_NS, PREFIXES, SKOS, expand, named
from kb.store import SparqlHttpStore

#: Limits of one request (the manifest announces ``MAX_BATCH`` as ``batchSize``).
MAX_BATCH = 500
MAX_REQUEST_CHARS = 512 * 1024
MAX_NAME_CHARS = 1000
MAX_LIMIT = 100
MAX_EXTEND_IDS = 1000
#: A candidate is a ``match`` when its score is at least this and the next one trails it by
#: at least ``MATCH_MARGIN`` (and every property given agreed).
MATCH_SCORE = 90.0
MATCH_MARGIN = 10.0
#: The share of a candidate's score that comes from the properties of the query, if any.
PROPERTY_WEIGHT = 0.3
SERVICE_VERSION = "0.2.0"


@dataclass
class Value:
    """One value of an entity's property: an entity (``iri``) or a literal, and the strings
    it can be matched by (labels, notations, the literal)."""

    iri: str | None
    text: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    notations: set[str] = field(default_factory=set)

    def name(self, lang: str) -> str:
        for tag in (lang, "nl", "en", ""):
            if tag in self.labels:
                return self.labels[tag]
        return next(iter(sorted(self.notations)), self.text or self.iri or "")

    def strings(self) -> set[str]:
        found = set(self.labels.values()) | self.notations
        if self.text is not None:
            found.add(self.text)
        return found


def _parse_json(text: str | None, what: str) -> Any:
    if text is None or not text.strip():
        raise InvalidRequest(f"the request has no {what!r} parameter", where=what)
    if len(text) > MAX_REQUEST_CHARS:
        raise InvalidRequest(
            f"{len(text):,} characters; at most {MAX_REQUEST_CHARS:,} in one request",
            where=what,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", where=what
        ) from None


def _check(kind: str, instance: Any, what: str) -> None:
    found = schemas.problem(kind, instance)
    if found is not None:
        where, message = found
        raise InvalidRequest(f"{message} (schema {kind}.json)", where=f"{what}.{where}")


def _type_id(value: str, where: str) -> str:
    iri = value
    if ":" in value and not value.startswith(("http://", "https://")):
        prefix = value.split(":", 1)[0]
        if prefix in PREFIXES:
            iri = expand(value)
    if iri not in TYPE_BY_ID:
        known = ", ".join(t.id for t in TYPES)
        raise InvalidRequest(f"unknown type {value[:200]!r}; the types are {known}", where=where)
    return iri


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def value_matches(wanted: Any, value: Value) -> bool:
    """Whether a value a client gave (a string, number, or ``{"id": ...}``) is this value:
    the same IRI; or the same string, notation or label (folded); or, for 9 or more digits
    (an enterprise number), the same digits; or a label at least 90 % alike."""
    if isinstance(wanted, dict):
        wanted_id = str(wanted.get("id", ""))
        return wanted_id == value.iri or wanted_id in value.notations
    text = str(wanted).strip()
    if not text:
        return False
    if text.startswith(("http://", "https://")):
        return text == value.iri
    digits = _digits(text)
    if len(digits) >= 9 and any(_digits(s) == digits for s in value.strings()):
        return True
    folded = nm.fold(text)
    strings = value.strings()
    if any(nm.fold(s) == folded for s in strings):
        return True
    wanted_key = nm.key(text)
    return any(fuzz.ratio(wanted_key, nm.key(s)) >= 90 for s in value.labels.values())


class Reconciler:
    """The reconciliation service of one store."""

    def __init__(self, store: SparqlHttpStore) -> None:
        self.store = store
        self._index: PerVersion[None, nm.NameIndex] = PerVersion(
            lambda: store.data_version, lambda _: nm.NameIndex(self._name_rows())
        )

    # --- the name index ---------------------------------------------------------------------

    def index(self) -> nm.NameIndex:
        """The names of the current data version (rebuilt on the first read after a commit)."""
        return self._index.get(None)

    def _name_rows(self) -> Iterable[tuple[str, str, str, str, bool]]:
        types_of: dict[str, list[str]] = defaultdict(list)
        for t in TYPES:
            for cls in t.classes:
                types_of[cls].append(t.id)
        classes = " ".join(f"<{c}>" for c in types_of)
        predicates = " ".join(f"<{p}>" for p in NAME_PREDICATES)
        rows = self.store.select(
            f"SELECT ?e ?c ?p ?label WHERE {{ VALUES ?c {{ {classes} }} ?e a ?c ."
            f" VALUES ?p {{ {predicates} }} ?e ?p ?label ."
            # a blank node a bulk load made a skolem IRI is no entity to reconcile against
            f" FILTER({named('e')} && isLiteral(?label)) }}"
        )
        preferred = str(SKOS.prefLabel)
        for row in rows:
            label = row["label"]
            for type_id in types_of.get(row["c"]["value"], ()):
                yield (
                    row["e"]["value"],
                    type_id,
                    label["value"],
                    label.get("xml:lang", "").lower(),
                    row["p"]["value"] == preferred,
                )

    # --- property values --------------------------------------------------------------------

    def values(
        self, iris: Sequence[str], properties: Sequence[RProperty]
    ) -> dict[str, dict[str, list[Value]]]:
        """``{entity: {property id: [values]}}`` for the given entities, one query."""
        found: dict[str, dict[str, dict[str, Value]]] = defaultdict(lambda: defaultdict(dict))
        if not iris or not properties:
            return {}
        ids = " ".join(f"<{i}>" for i in iris)
        branches = " UNION ".join(
            f'{{ VALUES ?e {{ {ids} }} {p.pattern} BIND("{p.id}" AS ?pid) }}' for p in properties
        )
        label = f"<{SKOS.prefLabel}>|<{PREFIXES['rdfs']}label>|<{PREFIXES['foaf']}name>"
        rows = self.store.select(
            f"SELECT ?e ?pid ?v ?label ?notation WHERE {{ {branches}"
            f" OPTIONAL {{ ?v {label} ?label }} OPTIONAL {{ ?v <{SKOS.notation}> ?notation }} }}"
        )
        for row in rows:
            v = row["v"]
            entity_valued = v["type"] == "uri"
            slot = found[row["e"]["value"]][row["pid"]["value"]]
            value = slot.get(v["value"])
            if value is None:
                value = Value(v["value"] if entity_valued else None, None)
                if not entity_valued:
                    value.text = v["value"]
                slot[v["value"]] = value
            if "label" in row:
                value.labels.setdefault(
                    row["label"].get("xml:lang", "").lower(), row["label"]["value"]
                )
            if "notation" in row:
                value.notations.add(row["notation"]["value"])
        return {e: {p: list(vs.values()) for p, vs in props.items()} for e, props in found.items()}

    # --- the manifest -----------------------------------------------------------------------

    def manifest(self, root: str, lang: str = "nl") -> dict[str, Any]:
        """The service manifest; ``root`` is the URL of the server's ``/`` (ends in ``/``)."""
        service = root + "reconcile"
        return {
            "versions": ["0.2"],
            "name": "ClusterKB — Vlaamse provinciale clusters"
            if lang == "nl"
            else "ClusterKB — Flemish provincial clusters",
            "identifierSpace": KB_NS + "id/",
            "schemaSpace": KB_NS + "ns/provinciale-clusters#",
            "documentation": root + "doc/reconcile",
            "serviceVersion": SERVICE_VERSION,
            "batchSize": 50,
            "defaultTypes": [{"id": t, "name": TYPE_BY_ID[t].name(lang)} for t in DEFAULT_TYPES],
            "view": {"url": root + "resource?iri={{id}}"},
            "preview": {"url": service + "/preview?id={{id}}", "width": 420, "height": 180},
            "suggest": {
                "entity": {"service_url": service, "service_path": "/suggest/entity"},
                "type": {"service_url": service, "service_path": "/suggest/type"},
                "property": {"service_url": service, "service_path": "/suggest/property"},
            },
            "extend": {
                "propose_properties": {"service_url": service, "service_path": "/properties"},
                "property_settings": [
                    {
                        "type": "number",
                        "name": "limit",
                        "label": "Limit" if lang == "en" else "Maximum",
                        "default": 0,
                        "help_text": "Values per cell, 0 for all"
                        if lang == "en"
                        else "Waarden per cel, 0 voor alle",
                    }
                ],
            },
        }

    # --- reconciliation ---------------------------------------------------------------------

    def reconcile_text(self, text: str | None, lang: str = "nl") -> dict[str, Any]:
        """A batch as the ``queries`` parameter sends it (JSON text)."""
        return self.reconcile(_parse_json(text, "queries"), lang)

    def reconcile(self, batch: Any, lang: str = "nl") -> dict[str, Any]:
        if isinstance(batch, dict) and len(batch) > MAX_BATCH:
            raise InvalidRequest(
                f"{len(batch):,} queries in one batch; at most {MAX_BATCH}", where="queries"
            )
        _check("reconciliation-query-batch", batch, "queries")
        if not batch:
            raise InvalidRequest("the batch holds no query", where="queries")
        plans = {qid: self._plan(qid, q) for qid, q in batch.items()}
        index = self.index()
        hits = {qid: self._candidates(index, plan) for qid, plan in plans.items()}
        wanted = sorted({p for plan in plans.values() for p, _ in plan["properties"]})
        iris = sorted({h.entity.iri for found in hits.values() for h in found})
        values = self.values(iris, [PROPERTY_BY_ID[p] for p in wanted]) if wanted else {}
        return {
            qid: {"result": self._results(plan, hits[qid], values, lang)}
            for qid, plan in plans.items()
        }

    def _plan(self, qid: str, query: dict[str, Any]) -> dict[str, Any]:
        where = f"queries.{qid}"
        name = query.get("query", "")
        if len(name) > MAX_NAME_CHARS:
            raise InvalidRequest(
                f"a name of {len(name):,} characters; at most {MAX_NAME_CHARS}",
                where=f"{where}.query",
            )
        raw_types = query.get("type", [])
        raw_types = [raw_types] if isinstance(raw_types, str) else raw_types
        types = [_type_id(t, f"{where}.type") for t in raw_types]
        limit = query.get("limit", 10)
        if limit < 1 or limit != int(limit):
            raise InvalidRequest(
                f"limit {limit} is not a whole number >= 1", where=f"{where}.limit"
            )
        properties = []
        for k, prop in enumerate(query.get("properties", [])):
            pid = prop["pid"]
            if pid not in PROPERTY_BY_ID:
                known = ", ".join(PROPERTY_BY_ID)
                raise InvalidRequest(
                    f"unknown property {pid[:200]!r}; the properties are {known}",
                    where=f"{where}.properties.{k}.pid",
                )
            given = prop["v"] if isinstance(prop["v"], list) else [prop["v"]]
            properties.append((pid, given))
        if not name.strip() and not properties:
            raise InvalidRequest("neither a name nor a property to match", where=where)
        return {
            "name": name,
            "types": types,
            "strict": query.get("type_strict", "any"),
            "limit": min(int(limit), MAX_LIMIT),
            "properties": properties,
        }

    def _candidates(self, index: nm.NameIndex, plan: dict[str, Any]) -> list[nm.Hit]:
        types = plan["types"] if plan["strict"] != "should" else []
        limit = (
            plan["limit"] * 3 if plan["properties"] or plan["strict"] == "should" else plan["limit"]
        )
        if plan["name"].strip():
            found = index.search(plan["name"], types, limit=limit)
        else:
            found = self._by_properties(index, plan, limit)
        if plan["strict"] == "all" and plan["types"]:
            found = [h for h in found if h.entity.types.issuperset(plan["types"])]
        return found

    def _by_properties(self, index: nm.NameIndex, plan: dict[str, Any], limit: int) -> list[nm.Hit]:
        """Candidates for a query with properties only: entities with the first property's
        value, exactly (its IRI, its text, a notation or label of it, or its digits)."""
        pid, given = plan["properties"][0]
        prop = PROPERTY_BY_ID[pid]
        tests = []
        for wanted in given:
            text = str(wanted.get("id", "")) if isinstance(wanted, dict) else str(wanted)
            literal = json.dumps(nm.fold(text))
            tests.append(f"(isIRI(?v) && STR(?v) = {json.dumps(text)})")
            tests.append(f"LCASE(STR(?v)) = {literal}")
            digits = _digits(text)
            if len(digits) >= 9:
                tests.append(f'REPLACE(STR(?v), "[^0-9]", "") = "{digits}"')
            tests.append(
                f"EXISTS {{ ?v <{SKOS.notation}>|<{SKOS.prefLabel}> ?n ."
                f" FILTER(LCASE(STR(?n)) = {literal}) }}"
            )
        rows = self.store.select(
            f"SELECT DISTINCT ?e WHERE {{ {prop.pattern} FILTER({' || '.join(tests)}) }}"
            f" LIMIT {limit * 10}"
        )
        hits = []
        for row in rows:
            entity = index.entities.get(row["e"]["value"])
            if entity is not None and (not plan["types"] or entity.types & set(plan["types"])):
                hits.append(nm.Hit(entity, 0.0, ""))
        return hits[:limit]

    def _results(
        self,
        plan: dict[str, Any],
        hits: list[nm.Hit],
        values: dict[str, dict[str, list[Value]]],
        lang: str,
    ) -> list[dict[str, Any]]:
        scored = []
        named = bool(plan["name"].strip())
        for hit in hits:
            features: list[dict[str, Any]] = []
            if named:
                features.append({"id": "name_similarity", "value": round(hit.score, 1)})
            agreed = 0
            for pid, given in plan["properties"]:
                have = values.get(hit.entity.iri, {}).get(pid, [])
                ok = any(value_matches(w, v) for w in given for v in have)
                agreed += ok
                features.append({"id": f"property_{pid}", "value": ok})
            score = hit.score
            if plan["properties"]:
                share = agreed / len(plan["properties"])
                score = hit.score * (1 - PROPERTY_WEIGHT) + 100 * PROPERTY_WEIGHT * share
                if not named:
                    score = 100 * share
            if (
                plan["strict"] == "should"
                and plan["types"]
                and not hit.entity.types & set(plan["types"])
            ):
                score -= 10
            scored.append(
                (round(max(score, 0.0), 2), agreed == len(plan["properties"]), hit, features)
            )
        scored.sort(key=lambda s: (-s[0], s[2].entity.iri))
        scored = scored[: plan["limit"]]
        results = []
        for i, (score, all_agreed, hit, features) in enumerate(scored):
            runner_up = scored[i + 1][0] if i + 1 < len(scored) else None
            unambiguous = i == 0 and (runner_up is None or score - runner_up >= MATCH_MARGIN)
            results.append(
                {
                    "id": hit.entity.iri,
                    "name": hit.entity.name(lang),
                    "score": score,
                    "match": bool(unambiguous and score >= MATCH_SCORE and all_agreed),
                    "type": self._types(hit.entity, lang),
                    "features": features,
                }
            )
        return results

    def _types(self, entity: nm.Entity, lang: str) -> list[dict[str, str]]:
        return [{"id": t.id, "name": t.name(lang)} for t in TYPES if t.id in entity.types]

    # --- suggest ----------------------------------------------------------------------------

    def suggest_entities(
        self, prefix: str, types: Sequence[str] = (), *, cursor: int = 0, lang: str = "nl"
    ) -> dict[str, Any]:
        prefix = self._prefix(prefix)
        wanted = [_type_id(t, "type") for t in types if t]
        hits = self.index().complete(prefix, wanted, limit=cursor + 10)[cursor:]
        return {
            "result": [
                {
                    "id": h.entity.iri,
                    "name": h.entity.name(lang),
                    "notable": self._types(h.entity, lang),
                }
                for h in hits
            ]
        }

    def suggest_types(self, prefix: str, lang: str = "nl") -> dict[str, Any]:
        return {"result": self._named(TYPES, prefix, lang)}

    def suggest_properties(self, prefix: str, lang: str = "nl") -> dict[str, Any]:
        return {"result": self._named(PROPERTIES, prefix, lang)}

    def _named(
        self, items: Sequence[RType | RProperty], prefix: str, lang: str
    ) -> list[dict[str, str]]:
        """The items whose Dutch or English name or id contains ``prefix`` (folded)."""
        wanted = nm.fold(self._prefix(prefix))
        return [
            {"id": item.id, "name": item.name(lang)}
            for item in items
            if not wanted or wanted in nm.fold(f"{item.nl} {item.en} {item.id}")
        ]

    @staticmethod
    def _prefix(prefix: str) -> str:
        if len(prefix) > MAX_NAME_CHARS:
            raise InvalidRequest(
                f"a prefix of {len(prefix):,} characters; at most {MAX_NAME_CHARS}", where="prefix"
            )
        return prefix

    # --- preview ----------------------------------------------------------------------------

    def preview(self, iri: str, lang: str = "nl") -> dict[str, Any] | None:
        """What the preview card shows, or None if the entity is not reconcilable."""
        entity = self.index().entities.get(iri)
        if entity is None:
            return None
        rows = self.store.select(f"SELECT ?d WHERE {{ <{iri}> <{DCTERMS.description}> ?d }}")
        descriptions = {r["d"].get("xml:lang", ""): r["d"]["value"] for r in rows}
        description = descriptions.get(lang) or next(iter(descriptions.values()), "")
        wanted = [PROPERTY_BY_ID[p] for p in ("region", "sector", "role", "same_as")]
        found = self.values([iri], wanted).get(iri, {})
        facts = [
            (p.name(lang), ", ".join(sorted({v.name(lang) for v in found[p.id]})))
            for p in wanted
            if found.get(p.id)
        ]
        return {
            "id": iri,
            "name": entity.name(lang),
            "types": [t["name"] for t in self._types(entity, lang)],
            "description": description[:400],
            "facts": facts,
        }

    # --- data extension ---------------------------------------------------------------------

    def propose(self, rtype: str | None, limit: int | None, lang: str = "nl") -> dict[str, Any]:
        chosen = _type_id(rtype, "type") if rtype else None
        props = list(PROPERTIES)[: limit if limit and limit > 0 else None]
        answer: dict[str, Any] = {
            "properties": [{"id": p.id, "name": p.name(lang)} for p in props],
            "type": chosen or "",
        }
        if limit:
            answer["limit"] = limit
        return answer

    def extend_text(self, text: str | None, lang: str = "nl") -> dict[str, Any]:
        return self.extend(_parse_json(text, "extend"), lang)

    def extend(self, query: Any, lang: str = "nl") -> dict[str, Any]:
        _check("data-extension-query", query, "extend")
        ids: list[str] = query["ids"]
        if len(ids) > MAX_EXTEND_IDS:
            raise InvalidRequest(f"{len(ids):,} ids; at most {MAX_EXTEND_IDS}", where="extend.ids")
        props: list[tuple[RProperty, int]] = []
        for k, asked in enumerate(query["properties"]):
            prop = PROPERTY_BY_ID.get(asked["id"])
            if prop is None:
                known = ", ".join(PROPERTY_BY_ID)
                raise InvalidRequest(
                    f"unknown property {asked['id'][:200]!r}; the properties are {known}",
                    where=f"extend.properties.{k}.id",
                )
            try:
                limit = int(asked.get("settings", {}).get("limit", 0) or 0)
            except (TypeError, ValueError):
                raise InvalidRequest(
                    "the limit setting is not a number",
                    where=f"extend.properties.{k}.settings.limit",
                ) from None
            props.append((prop, max(limit, 0)))
        for i in ids:
            if not i.startswith(("http://", "https://")) or any(c in i for c in '<>"{}|\\^` \n'):
                raise InvalidRequest(f"{i[:200]!r} is not an IRI", where="extend.ids")
        found = self.values(ids, [p for p, _ in props])
        rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for i in ids:
            row = {}
            for prop, limit in props:
                have = sorted(found.get(i, {}).get(prop.id, []), key=lambda v: v.name(lang))
                cells = [
                    {"id": v.iri, "name": v.name(lang)} if v.iri else {"str": v.text or ""}
                    for v in have
                ]
                row[prop.id] = cells[:limit] if limit else cells
            rows[i] = row
        meta = []
        for prop, _ in props:
            entry: dict[str, Any] = {"id": prop.id, "name": prop.name(lang)}
            if prop.entity and prop.expected in TYPE_BY_ID:
                entry["type"] = {"id": prop.expected, "name": TYPE_BY_ID[prop.expected].name(lang)}
            meta.append(entry)
        return {"meta": meta, "rows": rows}
