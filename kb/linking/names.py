"""Names folded for matching, and the in-memory name index reconciliation and suggest read.

A name is matched without regard to case, accents, punctuation, word order and legal form
("Umicore NV", "umicore", "N.V. Umicore" are one key); every label of an entity in every
language is a key, so a Dutch, English or French query finds the entity by whichever label it
has in that language. Keys are compared with RapidFuzz's normalised Indel similarity on the
sorted words (``fuzz.ratio`` of two keys, 0-100), which forgives typos in proportion to the
name's length.

The index holds the distinct keys once (many entities share a name in generated data) and,
per reconciliation type, the keys of that type's entities; a lookup is one RapidFuzz scan over
those keys in C++, so its cost grows with the number of *distinct* names of the type
(measured: see the README's reconciliation benchmark).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

#: Legal forms left out of a key (Belgian, Dutch, French, German, English), unless they are
#: the whole name.
LEGAL_FORMS = frozenset(
    {"nv", "bv", "bvba", "vzw", "ivzw", "cvba", "cv", "commv", "vof", "sa", "srl", "sprl"}
    | {"sc", "scrl", "asbl", "aisbl", "gmbh", "ag", "kg", "ev", "ltd", "plc", "inc", "llc"}
    | {"co", "corp"}
)
_PARENS = re.compile(r"\(([^()]*)\)")
_NON_WORD = re.compile(r"[\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def fold(text: str) -> str:
    """Lower case, accents and punctuation removed, words separated by one space."""
    plain = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    # "N.V." and "n.v" are one word: drop dots between single letters before splitting
    plain = re.sub(r"\b(\w)\.(?=\w\b)", r"\1", plain)
    return " ".join(_NON_WORD.sub(" ", plain).split())


def words(text: str) -> list[str]:
    """The words of a name, folded, legal forms left out (unless nothing else is left)."""
    folded = fold(text).split()
    kept = [w for w in folded if w not in LEGAL_FORMS]
    return kept or folded


def key(text: str) -> str:
    """The matching key of a name: its words, folded and sorted."""
    return " ".join(sorted(words(text)))


def variants(label: str, *, parts: bool = True) -> set[str]:
    """The keys a label is found by: the whole label, the label without its parenthesised
    parts ("Vereniging van de Vlaamse Provincies (VVP)"), and (``parts``) each parenthesised
    part — a name looked up, but not a thing to link a cluster "… (West-Vlaanderen)" by."""
    found = {key(label)}
    bare = _PARENS.sub(" ", label)
    if bare.strip() and bare != label:
        found.add(key(bare))
        if parts:
            found.update(key(inner) for inner in _PARENS.findall(label) if inner.strip())
    found.discard("")
    return found


@dataclass
class Entity:
    iri: str
    types: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # language ("" = none) -> label

    def name(self, lang: str) -> str:
        for tag in (lang, "nl", "en", ""):
            if tag in self.names:
                return self.names[tag]
        return next(iter(self.names.values()), self.iri)


@dataclass(frozen=True)
class Hit:
    entity: Entity
    score: float  # 0-100, the best of the entity's keys
    label: str  # the key that matched best


class NameIndex:
    """Entities by name key; built from ``(iri, type, label, lang, preferred)`` rows."""

    def __init__(self, rows: Iterable[tuple[str, str, str, str, bool]]) -> None:
        self.entities: dict[str, Entity] = {}
        owners: dict[str, set[str]] = defaultdict(set)  # key -> entity IRIs
        seen: dict[str, set[str]] = {}  # label -> its keys (names repeat)
        for iri, rtype, label, lang, preferred in rows:
            entity = self.entities.get(iri)
            if entity is None:
                entity = self.entities[iri] = Entity(iri)
            entity.types.add(rtype)
            if preferred or lang not in entity.names:
                entity.names[lang] = label
            keys = seen.get(label)
            if keys is None:
                keys = seen[label] = variants(label)
            for k in keys:
                owners[k].add(iri)
        self.keys: list[str] = sorted(owners)
        self._owners: list[tuple[str, ...]] = [tuple(sorted(owners[k])) for k in self.keys]
        by_type: dict[str, list[int]] = defaultdict(list)
        for i, iris in enumerate(self._owners):
            for t in {t for iri in iris for t in self.entities[iri].types}:
                by_type[t].append(i)
        self._by_type = {t: ([self.keys[i] for i in ids], ids) for t, ids in by_type.items()}
        # (word, key number) pairs in word order, for prefix completion
        self._words = sorted({(w, i) for i, k in enumerate(self.keys) for w in k.split()})

    def __len__(self) -> int:
        return len(self.entities)

    def _choices(self, types: Sequence[str]) -> tuple[list[str], list[int]]:
        if not types:
            return self.keys, list(range(len(self.keys)))
        if len(types) == 1:
            return self._by_type.get(types[0], ([], []))
        ids = sorted({i for t in types for i in self._by_type.get(t, ([], []))[1]})
        return [self.keys[i] for i in ids], ids

    def search(
        self, name: str, types: Sequence[str] = (), *, limit: int = 10, cutoff: float = 50
    ) -> list[Hit]:
        """Entities whose names are most like ``name`` (of one of ``types``, if given), best
        first, each once with its best key's score."""
        query = key(name)
        if not query:
            return []
        choices, ids = self._choices(types)
        found = process.extract(
            query, choices, scorer=fuzz.ratio, limit=limit * 4, score_cutoff=cutoff
        )
        best: dict[str, Hit] = {}
        for matched, score, pos in found:
            for iri in self._owners[ids[pos]]:
                entity = self.entities[iri]
                if types and not entity.types.intersection(types):
                    continue
                if iri not in best or score > best[iri].score:
                    best[iri] = Hit(entity, float(score), matched)
        return sorted(best.values(), key=lambda h: (-h.score, h.entity.iri))[:limit]

    def complete(self, prefix: str, types: Sequence[str] = (), *, limit: int = 10) -> list[Hit]:
        """Entities with a name that has a word starting with each word of ``prefix`` (as
        typed so far: "prov antw"), the most alike first."""
        typed = words(prefix)
        if not typed:
            return []
        last = typed[-1]
        start = bisect_left(self._words, (last, -1))
        keys: set[int] = set()
        for w, i in self._words[start:]:
            if not w.startswith(last):
                break
            keys.add(i)
        others = typed[:-1]
        hits: dict[str, Hit] = {}
        for i in keys:
            k = self.keys[i]
            key_words = k.split()
            if any(not any(kw.startswith(w) for kw in key_words) for w in others):
                continue
            score = float(fuzz.ratio(" ".join(sorted(typed)), k))
            for iri in self._owners[i]:
                entity = self.entities[iri]
                if types and not entity.types.intersection(types):
                    continue
                if iri not in hits or score > hits[iri].score:
                    hits[iri] = Hit(entity, score, k)
        return sorted(hits.values(), key=lambda h: (-h.score, len(h.label), h.entity.iri))[:limit]
