"""The example queries of the SPARQL UI: one ``server/queries/<id>.rq`` file each.

Each file starts with a header of ``# key: value`` comment lines (``title@nl``, ``title@en``,
``description@nl``, ``description@en``; a value may continue on following ``#   `` lines),
then the query. The file name (without ``.rq``) is the permalink id: ``/sparql/examples/<id>``.

An example with ``# needs: partner`` combines our data with a registered partner's endpoint
(``SERVICE <{{partner_endpoint}}>``, filled in with the first registered one) and one with
``# needs: harvest`` with a harvested partner graph; each is offered only when that exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

FOLDER = Path(__file__).parent / "queries"
_HEADER = re.compile(r"^#\s*(title|description)@(nl|en):\s*(.*)$")
_NEEDS = re.compile(r"^#\s*needs:\s*(partner|harvest)\s*$")
PARTNER_ENDPOINT = "{{partner_endpoint}}"


@dataclass(frozen=True)
class Example:
    ident: str
    title_nl: str
    title_en: str
    description_nl: str
    description_en: str
    text: str
    needs: str = ""  # "", "partner" or "harvest"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.ident,
            "title": {"nl": self.title_nl, "en": self.title_en},
            "description": {"nl": self.description_nl, "en": self.description_en},
            "query": self.text,
        }


def parse(ident: str, text: str) -> Example:
    fields: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        needs = _NEEDS.match(line)
        if needs:
            fields["needs"] = needs[1]
            last = None
            continue
        match = _HEADER.match(line)
        if match:
            last = f"{match[1]}_{match[2]}"
            fields[last] = match[3].strip()
        elif line.startswith("#   ") and last:
            fields[last] += " " + line[1:].strip()
        elif not line.startswith("#"):
            break
    missing = {"title_nl", "title_en", "description_nl", "description_en"} - set(fields)
    if missing:
        raise ValueError(f"example {ident}: header lacks {', '.join(sorted(missing))}")
    return Example(ident, text=text, **fields)


@lru_cache(maxsize=1)
def load() -> tuple[Example, ...]:
    return tuple(parse(p.stem, p.read_text(encoding="utf-8")) for p in sorted(FOLDER.glob("*.rq")))


def available(endpoints: list[str], harvested: bool) -> tuple[Example, ...]:
    """The examples that can run here: those needing a partner only with one registered (its
    endpoint filled in), those needing a harvest only with one done."""
    out = []
    for ex in load():
        if ex.needs == "partner":
            if not endpoints:
                continue
            ex = replace(ex, text=ex.text.replace(PARTNER_ENDPOINT, endpoints[0]))
        elif ex.needs == "harvest" and not harvested:
            continue
        out.append(ex)
    return tuple(out)


def by_id(ident: str, found: tuple[Example, ...] | None = None) -> Example | None:
    return next((e for e in (found if found is not None else load()) if e.ident == ident), None)
