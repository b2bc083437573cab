"""Commands for linking with partners' data: ``kb links report``, ``kb partner add|list|remove``
and ``kb harvest``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from kb.cli.options import settings_for, store_option, token_option


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


@links.command("suggest")
@click.argument("slug")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Default 0.85.")
@click.option("--json", "as_json", is_flag=True)
@store_option
def links_suggest(slug: str, threshold: float | None, as_json: bool, store: Path | None) -> None:
    """Suggested links from ClusterKB's things to partner SLUG's harvested things, with score
    and reasons (decided pairs left out)."""
    from kb.errors import NotFound
    from kb.linking import partners
    from kb.linking import suggest as sg
    from kb.store import open_store

    settings = settings_for(store=store)
    with open_store(settings) as client:
        found = partners.read(client, settings.base_iri).get(slug)
        if found is None:
            raise NotFound(f"there is no registered partner {slug!r}")
        made = sg.suggest(client, found, threshold=sg.THRESHOLD if threshold is None else threshold)
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in made], ensure_ascii=False, indent=2))
        return
    for s in made:
        click.echo(f"{s.score:.2f}\t{s.theirs_label} <{s.theirs}>\t{s.ours_label} <{s.ours}>")
        click.echo(f"\t{'; '.join(s.reasons)}")


@links.command("decide")
@click.argument("slug")
@click.argument("ours")
@click.argument("theirs")
@click.argument("decision", type=click.Choice(["accept", "reject"]))
@token_option
@store_option
def links_decide(
    slug: str, ours: str, theirs: str, decision: str, token: str | None, store: Path | None
) -> None:
    """Accept or reject the suggested link OURS = THEIRS to partner SLUG (steward token)."""
    from kb.linking import suggest as sg

    with _writer(token, store) as (writer, who):
        outcome = sg.decide(writer, who, slug, ours, theirs, decision)
    click.echo(f"{decision}ed: {outcome.summary()}")


@click.group()
def partner() -> None:
    """The registry of partner datasets (admin token to change it)."""


@partner.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="The partner dataset's name.")
@click.option("--lang", default="en", show_default=True, help="Language of the name.")
@click.option("--region", required=True, help="NUTS IRI (or code) or Wikidata IRI of its region.")
@click.option("--endpoint", required=True, help="The partner's SPARQL endpoint URL.")
@click.option("--query-file", type=click.File("r", encoding="utf-8"), help="A CONSTRUCT query.")
@click.option("--graph", "graph", help="Or: a named graph on the endpoint to harvest whole.")
@click.option("--licence", required=True, help="IRI of the partner's licence.")
@click.option("--contact-name", required=True)
@click.option("--contact-email", required=True)
@click.option("--schedule", help="EU frequency code for the cron line: DAILY, WEEKLY, MONTHLY.")
@token_option
@store_option
def partner_add(
    slug: str,
    name: str,
    lang: str,
    region: str,
    endpoint: str,
    query_file: IO[str] | None,
    graph: str | None,
    licence: str,
    contact_name: str,
    contact_email: str,
    schedule: str | None,
    token: str | None,
    store: Path | None,
) -> None:
    """Register (or replace) the partner dataset SLUG."""
    from kb.linking import partners

    if region and not region.startswith(("http://", "https://")):
        region = "http://data.europa.eu/nuts/code/" + region.upper()
    body = {
        "slug": slug,
        "name": name,
        "lang": lang,
        "region": region,
        "endpoint": endpoint,
        "query": query_file.read() if query_file else None,
        "graph": graph,
        "licence": licence,
        "contact": {"name": contact_name, "email": contact_email},
        "schedule": schedule,
    }
    with _writer(token, store) as (writer, who):
        outcome = partners.register(writer, who, partners.from_dict(body, writer.base))
    click.echo(f"registered {slug}: {outcome.summary()}")


@partner.command("list")
@click.option("--json", "as_json", is_flag=True)
@store_option
def partner_list(as_json: bool, store: Path | None) -> None:
    """The registered partner datasets."""
    from kb.linking import partners
    from kb.store import open_store

    settings = settings_for(store=store)
    with open_store(settings) as client:
        found = partners.read(client, settings.base_iri)
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in found.values()], ensure_ascii=False, indent=2))
        return
    for p in found.values():
        what = f"graph <{p.graph}>" if p.graph else "a CONSTRUCT query"
        click.echo(f"{p.slug}\t{p.name}\t{p.endpoint}\t{what}\t{p.schedule or '-'}")


@partner.command("remove")
@click.argument("slug")
@token_option
@store_option
def partner_remove(slug: str, token: str | None, store: Path | None) -> None:
    """Remove the partner SLUG and its harvested graph."""
    from kb.linking import partners

    with _writer(token, store) as (writer, who):
        partners.remove(writer, who, slug)
    click.echo(f"removed {slug}")


@click.command()
@click.argument("slug", required=False)
@click.option("--all", "every", is_flag=True, help="Harvest every registered partner.")
@click.option("--json", "as_json", is_flag=True)
@token_option
@store_option
def harvest(
    slug: str | None, every: bool, as_json: bool, token: str | None, store: Path | None
) -> None:
    """Harvest a registered partner's dataset into its own graph (or --all). Exit 1 when a
    harvest failed (its previous harvest stays; the reason is recorded)."""
    from kb.linking import harvest as hv
    from kb.linking import partners

    if (slug is None) == (not every):
        raise click.UsageError("give a partner's slug or --all, not both")
    failed = 0
    with _writer(token, store) as (writer, who):
        slugs = list(partners.read(writer.store, writer.base)) if every else [slug or ""]
        for name in slugs:
            done = hv.harvest(writer, who, name)
            failed += not done.succeeded
            if as_json:
                click.echo(json.dumps(done.to_dict(), ensure_ascii=False))
            elif done.succeeded:
                click.echo(
                    f"{name}: {done.triples:,} triples into <{partners.partner_graph(name)}>"
                )
            else:
                click.echo(f"{name}: failed, the previous harvest stays: {done.reason}", err=True)
    if failed:
        raise SystemExit(1)


@contextlib.contextmanager
def _writer(token: str | None, store: Path | None) -> Iterator[tuple[Any, Any]]:
    from kb.auth import TokenStore
    from kb.store import open_store
    from kb.submit import Writer

    settings = settings_for(store=store)
    who = TokenStore(settings.tokens_path).authenticate(token)
    with open_store(settings) as client:
        yield Writer(client, settings), who
