"""Commands for linking with partners' data: ``kb links report``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kb.cli.options import settings_for, store_option


@click.group()
def links() -> None:
    """Links to authorities (NUTS, NACE, Wikidata, ROR, KBO/BCE) and partners' data."""


@links.command("report")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--lang", type=click.Choice(["nl", "en"]), default="en", show_default=True)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when an entity has neither a link nor a statement that none is known.",
)
@store_option
def report(fmt: str, lang: str, strict: bool, store: Path | None) -> None:
    """Per class, the share of entities linked to each authority and those without; gaps
    (neither a link nor pc:identifierUnknown) last."""
    from kb.linking import authorities
    from kb.store import open_store

    settings = settings_for(store=store)
    with open_store(settings) as client:
        made = authorities.report(client, lang)
    if fmt == "json":
        click.echo(json.dumps(made.to_dict(lang), ensure_ascii=False, indent=2))
    else:
        click.echo(authorities.text_table(made, lang))
    if strict and made.missing():
        raise SystemExit(1)
