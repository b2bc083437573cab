"""The ``kb`` command line. Data to stdout, messages to stderr.

Exit codes: 0 ok; 1 refused (data does not conform); 2 usage, input or runtime error.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click
from tqdm import tqdm

from kb.config import Settings, display_host, load_settings
from kb.errors import KBError
from kb.formats import RESULT_FORMATS

if TYPE_CHECKING:
    from kb.service import Service

EXIT_REFUSED = 1
EXIT_ERROR = 2

store_option = click.option(
    "--store",
    "store",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Store folder (default: the `store` setting, KB_STORE).",
)
base_option = click.option("--base", default=None, help="Base IRI (default: KB_BASE).")


def _settings(**overrides: Any) -> Settings:
    return load_settings(
        {k: (str(v) if isinstance(v, Path) else v) for k, v in overrides.items() if v is not None}
    )


class KBGroup(click.Group):
    """Turns :class:`KBError` into a one-line message and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KBError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=KBGroup)
@click.version_option(package_name="clusterkb")
def main() -> None:
    """ClusterKB: the linked open data knowledge base of provincial cluster policy."""


@contextlib.contextmanager
def _progress(path: Path, label: str) -> Iterator[IO[bytes]]:
    size = path.stat().st_size
    with (
        path.open("rb") as fh,
        tqdm.wrapattr(
            fh,
            "read",
            total=size,
            desc=label,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=sys.stderr,
            disable=None,
            leave=False,
        ) as wrapped,
    ):
        yield wrapped


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--graph",
    default=None,
    help="Named graph IRI to load triples into "
    "(default: the default graph; quad formats keep their own graphs).",
)
@click.option(
    "--format",
    "fmt",
    default=None,
    help="RDF format of all FILES "
    "(turtle, ntriples, nquads, trig, jsonld, rdfxml or a media type); default: "
    "from each file's extension.",
)
@store_option
@base_option
def load(
    files: tuple[Path, ...],
    graph: str | None,
    fmt: str | None,
    store: Path | None,
    base: str | None,
) -> None:
    """Bulk-load FILES into the store: all files are checked first, then loaded; a bad file
    anywhere means nothing is loaded (exit 2)."""
    from kb.ingest import load_files, plan

    settings = _settings(store=store, base=base)
    report = load_files(plan(files, graph=graph, fmt=fmt), settings, progress=_progress)
    click.echo(
        f"loaded {report.quads:,} triples from {report.files} file(s) in "
        f"{report.seconds:.2f} s ({report.rate:,.0f} triples/s, {report.via})",
        err=True,
    )


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--shapes",
    "shapes",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Shapes file(s) to use instead of the project's shapes/.",
)
@click.option(
    "--format",
    "out",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "nl"]),
    default="en",
    show_default=True,
    help="Language of the messages in the text report.",
)
@click.option(
    "--with-reference/--alone",
    default=True,
    show_default=True,
    help="Validate together with the bundled reference data the files may point to.",
)
@click.option("--strict", is_flag=True, help="Warnings also make the exit code 1.")
@base_option
def validate(
    files: tuple[Path, ...],
    shapes: tuple[Path, ...],
    out: str,
    lang: str,
    with_reference: bool,
    strict: bool,
    base: str | None,
) -> None:
    """Validate FILES against the SHACL shapes. Exit 0: no violations (warnings are shown);
    1: violations; 2: a file could not be read."""
    from rdflib import Graph

    from kb import bundled
    from kb.formats import syntax_for_path
    from kb.load import Limits, parse
    from kb.validate import validate as run_validation

    settings = _settings(base=base)
    limits = Limits(settings.max_literal_bytes, settings.max_iri_bytes)
    data = Graph()
    for path in files:
        ds = parse(path, syntax=syntax_for_path(path), base_iri=settings.base_iri, limits=limits)
        for s, p, o, _g in ds.quads((None, None, None, None)):
            data.add((s, p, o))
    if with_reference:
        data += bundled.reference_graph(settings.base_iri)
    shapes_graph = bundled.read_graph(list(shapes), settings.base_iri) if shapes else None
    report = run_validation(data, shapes=shapes_graph, base=settings.base_iri)
    if out == "json":
        click.echo(report.to_json())
    elif out == "turtle":
        click.echo(report.graph.serialize(format="turtle"))
    else:
        click.echo(report.to_text(lang))
    refused = not report.accepted or (strict and not report.conforms)
    sys.exit(EXIT_REFUSED if refused else 0)


@main.command()
@click.argument("sparql", required=False)
@click.option(
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Read the query from a file ('-' for stdin).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", *RESULT_FORMATS]),
    default="table",
    show_default=True,
    help="Result format (table: aligned text for SELECT/ASK; CONSTRUCT/DESCRIBE "
    "default to turtle).",
)
@store_option
def query(sparql: str | None, file: IO[str] | None, fmt: str, store: Path | None) -> None:
    """Run a read-only SPARQL query (the endpoint's limits apply)."""
    # The endpoint's query service (kb.query.QueryService): the same check, store query, row
    # cap and time limit. No result cache: one process answers one query, and cannot reach a
    # running server's cache. No restart on a runaway query: a store started for this command
    # is stopped when it ends, and one a `kb serve` manages is not this process's to restart.
    from kb.query import QueryRequest, QueryService
    from kb.results import GRAPH, by_format_name, kind_of
    from kb.store import SparqlHttpStore, open_store

    if (sparql is None) == (file is None):
        raise click.UsageError("give the query as an argument or with --file, not both")
    text = sparql if sparql is not None else file.read()  # type: ignore[union-attr]
    settings = _settings(store=store)
    opened: list[SparqlHttpStore] = []
    service = QueryService(settings, lambda: opened[0])
    checked = service.check(text)  # before a store is started for a query it would refuse
    kind = kind_of(checked.form)
    if fmt == "table":
        fmt = "turtle" if kind == GRAPH else "table"
    elif RESULT_FORMATS[fmt][1] != kind:
        raise click.UsageError(f"--format {fmt} does not fit a {checked.form} query")
    want = by_format_name(
        "application/sparql-results+json" if fmt == "table" else RESULT_FORMATS[fmt][0], kind
    )
    with open_store(settings) as client:
        opened.append(client)
        got = service.answer(QueryRequest(text), lambda _: want)
        if fmt == "table":
            click.echo(_table(json.loads(got.read())))
        else:
            out = sys.stdout.buffer
            for chunk in [got.body] if isinstance(got.body, bytes) else got.body:
                out.write(chunk)
            out.flush()
    if got.truncated:
        click.echo(f"note: the answer was cut at {settings.max_rows:,} rows (max_rows)", err=True)


def _table(body: dict[str, Any]) -> str:
    if "boolean" in body:
        return "true" if body["boolean"] else "false"
    names = body["head"]["vars"]
    rows = [[b.get(v, {}).get("value", "") for v in names] for b in body["results"]["bindings"]]
    widths = [min(60, max([len(n), *(len(r[i]) for r in rows)])) for i, n in enumerate(names)]
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c[:60].ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


@main.command()
@click.option(
    "--triples",
    "n",
    type=click.IntRange(min=1),
    required=True,
    help="How many triples to write (exactly).",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@base_option
def generate(n: int, seed: int, out: Path, base: str | None) -> None:
    """Write N triples of realistic synthetic cluster data to OUT (N-Triples), seeded."""
    from kb.generate import generate as run

    settings = _settings(base=base)
    start = time.perf_counter()
    with (
        out.open("w", encoding="utf-8") as fh,
        tqdm(total=n, unit="t", unit_scale=True, file=sys.stderr, disable=None, leave=False) as bar,
    ):
        written = run(n, fh, seed=seed, base=settings.base_iri, progress=bar.update)
    click.echo(
        f"wrote {written:,} triples to {out} in {time.perf_counter() - start:.1f} s", err=True
    )


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@store_option
def export(out: Path, store: Path | None) -> None:
    """Write every graph of the store to OUT as N-Quads — with `kb load OUT` against another
    store's settings, this moves the knowledge base between the embedded store and a remote
    one, either way."""
    from kb.store import open_store

    settings = _settings(store=store)
    quads = 0
    with open_store(settings) as client, out.open("wb") as fh:
        graphs = client.graphs()
        if not client.graph_scope:  # the embedded store may hold a default graph too
            for line in client.get_graph(None).splitlines():
                if line.strip():
                    fh.write(line.rstrip() + b"\n")
                    quads += 1
        for graph in tqdm(
            graphs, desc="exporting", unit="graph", file=sys.stderr, disable=None, leave=False
        ):
            for line in client.get_graph(graph).splitlines():
                if line.strip():
                    fh.write(line.rstrip().removesuffix(b".").rstrip() + f" <{graph}> .\n".encode())
                    quads += 1
    click.echo(f"exported {quads:,} quads in {len(graphs)} graphs to {out}", err=True)


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8080).")
@store_option
@base_option
def serve(host: str | None, port: int | None, store: Path | None, base: str | None) -> None:
    """Serve the knowledge base: start the store, load the bundled data into an empty store,
    and run the web app on a production WSGI server (waitress)."""
    import waitress

    from kb.service import Service
    from server import create_app

    settings = _settings(host=host, port=port, store=store, base=base)
    service = Service(settings)
    service.start(echo=lambda m: click.echo(m, err=True))
    try:  # from here on, the managed store process is stopped however this ends
        app = create_app(settings=settings, service=service)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        click.echo(serving_banner(settings, service), err=True)
        waitress.serve(
            app,
            host=settings.host,
            port=settings.port,
            threads=settings.threads,
            ident="ClusterKB",
            clear_untrusted_proxy_headers=True,
            # a result up to 16 MB is sent from memory (waitress spills anything over 1 MB to
            # a temporary file by default: +15 ms for a 1.25 MB answer; measured)
            outbuf_overflow=16 << 20,
        )
    finally:
        service.stop()


_ANY_INTERFACE = ("0.0.0.0", "::", "")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def serving_banner(settings: Settings, service: Service) -> str:
    """What `kb serve` prints once it listens: the one URL to open, then what listens where."""
    host, port = settings.host, settings.port
    shown = display_host(host)
    open_url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
    reach = (
        "every interface"
        if host in _ANY_INTERFACE
        else "this machine only"
        if host in _LOOPBACK
        else host
    )
    if settings.remote_store:
        store = f"remote SPARQL store, queries to {settings.store_query_url}"
        if settings.store_update_url:
            store += f", updates to {settings.store_update_url}"
    else:
        managed = service.managed
        where = managed.url.removeprefix("http://") if managed else "-"
        store = f"Oxigraph over {settings.store_path}, on {where} (loopback; ends with kb serve)"
    rows = [
        ("web app", f"{host or '*'}:{port} ({reach}; waitress, {settings.threads} threads)"),
        ("identifiers", f"{settings.base_iri}id/… (the base IRI)"),
        ("SPARQL", f"{open_url}sparql (query), {open_url}update (stewards)"),
        ("store", store),
    ]
    lines = [f"ClusterKB is ready — open {open_url}"]
    lines += [f"  {name:<12} {value}" for name, value in rows]
    return "\n".join(lines)


@main.command()
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--url",
    default=None,
    help="Where the release will be served (download URLs in the catalogue point there); "
    "default: {base}release/.",
)
@store_option
@base_option
def publish(outdir: Path, url: str | None, store: Path | None, base: str | None) -> None:
    """Write a self-contained static release into OUTDIR: dumps, DCAT-AP catalogue (Turtle and
    RDF/XML), VoID, SHA256SUMS and index.html."""
    from kb.publish import publish as run
    from kb.store import open_store

    settings = _settings(store=store, base=base)
    with open_store(settings) as client:
        release = run(client, settings, outdir, url=url)
    click.echo(
        f"wrote {release.files} files ({release.bytes:,} bytes) to {outdir} for {release.url}",
        err=True,
    )


@main.command()
@click.argument("url", required=False)
@click.option(
    "--min",
    "minimum",
    type=float,
    default=None,
    help="Exit 1 when the score is below this (351 = Excellent).",
)
@base_option
def mqa(url: str | None, minimum: float | None, base: str | None) -> None:
    """Score the DCAT-AP catalogue at URL (default: the local server's /catalog) with the
    data.europa.eu MQA table, checking access and download URLs on loopback only, and
    validate it against DCAT-AP 3.0.1 and DCAT-AP VL 3.0. Prints each indicator."""
    from urllib.parse import urlsplit

    from kb import mqa as m

    settings = _settings(base=base)
    url = url or f"http://127.0.0.1:{settings.port}/catalog"
    if not m.is_loopback(url):
        raise click.UsageError(f"{url}: only a catalogue on this machine (loopback) is scored")
    parts = urlsplit(url)
    server = f"{parts.scheme}://{parts.netloc}/"
    try:
        catalogue = m.fetch_catalogue(url)
    except (OSError, ValueError) as exc:  # requests' errors are OSErrors
        raise KBError(f"cannot read the catalogue at {url}: {exc}") from exc
    reach = m.Reachability(m.loopback_mapper(settings.base_iri, server))
    try:
        result = m.score(catalogue, reach)
    finally:
        reach.close()
    click.echo(result.report())
    if minimum is not None and result.total < minimum:
        sys.exit(EXIT_REFUSED)


# --- steward commands (issue #4) ---------------------------------------------------------

token_option = click.option(
    "--token",
    envvar="KB_TOKEN",
    default=None,
    help="Steward token (or the KB_TOKEN environment variable).",
)


@main.group()
def token() -> None:
    """Steward API tokens: create, list, revoke (stored only as salted hashes)."""


@token.command("create")
@click.argument("name")
@click.option(
    "--graphs",
    "graphs",
    multiple=True,
    help="Graph the steward may write (relative to {base}graph/ or an IRI; a trailing * "
    "grants a prefix; 'default' is the default graph). Repeat for more.",
)
@click.option("--admin", is_flag=True, help="An admin token: may write every graph, roll back.")
@store_option
def token_create(name: str, graphs: tuple[str, ...], admin: bool, store: Path | None) -> None:
    """Create a token for NAME and print it: the only time it is shown."""
    from kb.auth import TokenStore

    settings = _settings(store=store)
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

    settings = _settings(store=store)
    for t in TokenStore(settings.tokens_path).list():
        state = f"revoked {t.revoked}" if t.revoked else "active"
        click.echo(f"{t.id}  {t.name}  {t.role}  {' '.join(t.graphs) or '-'}  {t.created}  {state}")


@token.command("revoke")
@click.argument("ident")
@store_option
def token_revoke(ident: str, store: Path | None) -> None:
    """Revoke the token with id IDENT, or every active token of the steward named IDENT."""
    from kb.auth import TokenStore

    settings = _settings(store=store)
    done = TokenStore(settings.tokens_path).revoke(ident)
    if not done:
        click.echo(f"error: no active token {ident!r}", err=True)
        sys.exit(EXIT_ERROR)
    for t in done:
        click.echo(f"revoked {t.id} ({t.name})", err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--graph", required=True, help="Target graph (relative to {base}graph/ or an IRI).")
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
@base_option
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
    base: str | None,
) -> None:
    """Submit FILE to a graph as a steward: validated with the project's shapes, committed
    all-or-nothing with provenance. Exit 0: committed (or accepted in a dry run); 1: refused
    (violations); 2: bad input, token or runtime error."""
    from kb.audit import AuditLog
    from kb.auth import TokenStore
    from kb.payload import media_type_for_path, read_payload
    from kb.store import open_store
    from kb.submit import ValidationFailed, Writer

    settings = _settings(store=store, base=base)
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


def _print_outcome(outcome: Any, as_json: bool, lang: str) -> None:
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
        return
    if outcome.report is not None:
        click.echo(outcome.report.to_text(lang))
        for r in outcome.to_dict()["report"]["results"]:
            where = (
                f"row {r['row']}" + (f", column {r['column']}" if r.get("column") else "")
                if r.get("row")
                else f"line {r['line']}"
                if r.get("line")
                else ""
            )
            if where:
                click.echo(f"{where}: {r['focusNode']} {r['path'] or ''}")
    if outcome.committed:
        click.echo(
            f"committed {outcome.graph or 'default graph'} version {outcome.version}: "
            f"{outcome.added} added, {outcome.removed} removed ({outcome.commit})",
            err=True,
        )
    elif outcome.dry_run:
        click.echo("dry run: nothing written", err=True)
    else:
        click.echo("refused: nothing written", err=True)


@main.command()
@click.argument("graph")
@click.argument("version", type=click.IntRange(min=0))
@token_option
@store_option
@base_option
def rollback(
    graph: str, version: int, token: str | None, store: Path | None, base: str | None
) -> None:
    """Roll GRAPH back to VERSION (admin token): recorded as a new commit."""
    from kb.audit import AuditLog
    from kb.auth import TokenStore
    from kb.store import open_store
    from kb.submit import Writer

    settings = _settings(store=store, base=base)
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
