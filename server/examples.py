"""The example queries of the SPARQL UI: one ``server/queries/<id>.rq`` file each.

Each file starts with a header of ``# key: value`` comment lines (``title@nl``, ``title@en``,
``description@nl``, ``description@en``; a value may continue on following ``#   `` lines),
then the query. The file name (without ``.rq``) is the permalink id: ``/sparql/examples/<id>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FOLDER = Path(__file__).parent / "queries"
_HEADER = re.compile(r"^#\s*(title|description)@(nl|en):\s*(.*)$")


@dataclass(frozen=True)
class Example:
    ident: str
    title_nl: str
    title_en: str
    description_nl: str
    description_en: str
    text: str

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


def by_id(ident: str) -> Example | None:
    return next((e for e in load() if e.ident == ident), None)
