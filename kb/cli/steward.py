"""The ``kb`` commands of data stewards: tokens, submit and rollback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb.cli.options import (
    EXIT_ERROR,
    EXIT_REFUSED,
    settings_for,
    store_option,
    token_option,
)
from kb.errors import KBError

if TYPE_CHECKING:
    from kb.submit import Outcome


@click.group()
def token() -> None:
    """Steward API tokens: create, list, revoke (stored only as salted hashes)."""


@token.command("create")
@click.argument("name")
@click.option(
    "--graphs",
    "graphs",
    multiple=True,
    help="Graph the steward may write (relative to {namespace}graph/ or an IRI; a trailing * "
    "grants a prefix; 'default' is the default graph). Repeat for more.",
)
@click.option("--admin", is_flag=True, help="An admin token: may write every graph, roll back.")
@store_option
def token_create(name: str, graphs: tuple[str, ...], admin: bool, store: Path | None) -> None:
    """Create a token for NAME and print it: the only time it is shown."""
    from kb.auth import TokenStore

    settings = settings_for(store=store)
    if not admin and not graphs:
        raise click.UsageError("a steward token needs --graphs (or make it --admin)")
    graph_list = tuple(g for item in graphs for g in item.replace(",", " ").split())
    secret = TokenStore(settings.tokens_path).create(
        name, role="admin" if admin else "steward", graphs=graph_list
    )
    click.echo(secret)
    click.echo(f"token for {name} created; keep it now, it cannot be shown again", err=True)


@token.command("list")
@store_option
def token_list(store: Path | None) -> None:
    """List tokens (id, name, role, graphs, created, revoked); never the secrets."""
    from kb.auth import TokenStore

    settings = settings_for(store=store)
    for t in TokenStore(settings.tokens_path).list():
        state = f"revoked {t.revoked}" if t.revoked else "active"
        click.echo(f"{t.id}  {t.name}  {t.role}  {' '.join(t.graphs) or '-'}  {t.created}  {state}")


@token.command("revoke")
@click.argument("ident")
@store_option
def token_revoke(ident: str, store: Path | None) -> None:
    """Revoke the token with id IDENT, or every active token of the steward named IDENT."""
    from kb.auth import TokenStore

    settings = settings_for(store=store)
    done = TokenStore(settings.tokens_path).revoke(ident)
    if not done:
        click.echo(f"error: no active token {ident!r}", err=True)
        sys.exit(EXIT_ERROR)
    for t in done:
        click.echo(f"revoked {t.id} ({t.name})", err=True)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--graph", required=True, help="Target graph (relative to {namespace}graph/ or an IRI)."
)
@click.option("--append", is_flag=True, help="Add to the graph instead of replacing it.")
@click.option(
    "--format",
    "fmt",
    default=None,
    help="Media type or RDF format name; default: from the extension (.csv and .xlsx are "
    "spreadsheet templates).",
)
@click.option("--kind", default=None, help="Spreadsheet template kind (clusters, ...).")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome and report as JSON.")
@click.option("--lang", type=click.Choice(["en", "nl"]), default="en", show_default=True)
@token_option
@store_option
def submit(
    file: Path,
    graph: str,
    append: bool,
    fmt: str | None,
    kind: str | None,
    dry_run: bool,
    as_json: bool,
    lang: str,
    token: str | None,
    store: Path | None,
) -> None:
    """Submit FILE to a graph as a steward: validated with the project's shapes, committed
    all-or-nothing with provenance. Exit 0: committed (or accepted in a dry run); 1: refused
    (violations); 2: bad input, token or runtime error."""
    from kb.audit import AuditLog
    from kb.auth import TokenStore
    from kb.payload import media_type_for_path, read_payload
    from kb.store import open_store
    from kb.submit import ValidationFailed, Writer

    settings = settings_for(store=store)
    who = TokenStore(settings.tokens_path).authenticate(token)
    payload = read_payload(
        file.read_bytes(),
        media_type_for_path(file, fmt),
        settings=settings,
        source=file.name,
        kind=kind,
    )
    audit = AuditLog(settings.audit_path)
    entry = {"who": who.name, "token": who.id, "role": who.role, "remote": "cli"}
    entry |= {"method": "kb submit", "path": str(file), "graph": graph, "source": file.name}
    with open_store(settings) as client:
        writer = Writer(client, settings)
        try:
            target = writer.graph_iri(graph)
            fn = writer.post if append else writer.put
            outcome = fn(who, target, payload, dry_run=dry_run)
        except ValidationFailed as exc:
            outcome = exc.outcome
        except KBError as exc:
            audit.record(**entry, outcome=exc.code, detail=exc.message[:300])
            raise
    audit.record(
        **entry,
        outcome="dry-run" if dry_run else "committed" if outcome.committed else "refused",
        commit=outcome.commit,
    )
    _print_outcome(outcome, as_json, lang)
    if outcome.report is not None and not outcome.report.accepted:
        sys.exit(EXIT_REFUSED)


def _print_outcome(outcome: Outcome, as_json: bool, lang: str) -> None:
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
        return
    if outcome.report is not None:
        click.echo(outcome.to_text(lang))
    click.echo(outcome.summary(), err=True)


@click.command()
@click.argument("graph")
@click.argument("version", type=click.IntRange(min=0))
@token_option
@store_option
def rollback(graph: str, version: int, token: str | None, store: Path | None) -> None:
    """Roll GRAPH back to VERSION (admin token): recorded as a new commit."""
    from kb.audit import AuditLog
    from kb.auth import TokenStore
    from kb.store import open_store
    from kb.submit import Writer

    settings = settings_for(store=store)
    who = TokenStore(settings.tokens_path).authenticate(token)
    audit = AuditLog(settings.audit_path)
    entry = {"who": who.name, "token": who.id, "role": who.role, "remote": "cli"}
    entry |= {"method": "kb rollback", "path": f"{graph} v{version}", "graph": graph}
    with open_store(settings) as client:
        writer = Writer(client, settings)
        try:
            outcome = writer.rollback(who, writer.graph_iri(graph), version)
        except KBError as exc:
            audit.record(**entry, outcome=exc.code, detail=exc.message[:300])
            raise
    audit.record(**entry, outcome="committed", commit=outcome.commit)
    _print_outcome(outcome, False, "en")
