"""The README documents every setting and every command (Datasette-style doc tests)."""

from __future__ import annotations

import re
from pathlib import Path

from kb.cli import main
from kb.config import SETTINGS

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _default(value: object) -> str:
    return "(empty)" if value == "" else f"`{value}`"


def test_every_setting_is_in_the_readme_table() -> None:
    table = README.split("<!-- settings-table -->")[1].split("<!-- /settings-table -->")[0]
    rows = [r for r in table.strip().splitlines()[2:]]
    assert len(rows) == len(SETTINGS)
    for row, setting in zip(rows, SETTINGS, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == f"`{setting.name}`"
        assert cells[1] == f"`KB_{setting.name.upper()}`"
        assert cells[2] == _default(setting.default)
        assert cells[3] == setting.help


def test_every_command_is_in_the_readme() -> None:
    for name in main.commands:
        assert re.search(rf"`kb {name}\b", README), f"kb {name} is not documented"
