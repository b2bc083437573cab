"""The ``kb`` commands of the knowledge base itself: load, validate, query, generate, export,
serve, publish and mqa."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import IO

import click
from tqdm import tqdm

from kb.cli.options import EXIT_REFUSED, progress, settings_for, store_option
from kb.errors import KBError, StoreError
from kb.formats import RESULT_FORMATS


@click.command()
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
def load(
    files: tuple[Path, ...],
    graph: str | None,
    fmt: str | None,
    store: Path | None,
) -> None:
    """Bulk-load FILES into the store: all files are checked first, then loaded; a bad file
    anywhere means nothing is loaded (exit 2)."""
    from kb.ingest import load_files, plan

    settings = settings_for(store=store)
    report = load_files(plan(files, graph=graph, fmt=fmt), settings, progress=progress)
    click.echo(
        f"loaded {report.quads:,} triples from {report.files} file(s) in "
        f"{report.seconds:.2f} s ({report.rate:,.0f} triples/s, {report.via})",
        err=True,
    )


@click.command()
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
def validate(
    files: tuple[Path, ...],
    shapes: tuple[Path, ...],
    out: str,
    lang: str,
    with_reference: bool,
    strict: bool,
) -> None:
    """Validate FILES against the SHACL shapes. Exit 0: no violations (warnings are shown);
    1: violations; 2: a file could not be read."""
    from rdflib import Graph

    from kb import bundled
    from kb.formats import syntax_for_path
    from kb.load import Limits, parse
    from kb.validate import validate as run_validation

    settings = settings_for()
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


@click.command()
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
    from kb.results import GRAPH, by_format_name, kind_of, text_table
    from kb.store import SparqlHttpStore, open_store

    if (sparql is None) == (file is None):
        raise click.UsageError("give the query as an argument or with --file, not both")
    text = sparql if sparql is not None else file.read()  # type: ignore[union-attr]
    settings = settings_for(store=store)
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
            click.echo(text_table(json.loads(got.read())))
        else:
            out = sys.stdout.buffer
            for chunk in [got.body] if isinstance(got.body, bytes) else got.body:
                out.write(chunk)
            out.flush()
    if got.truncated:
        click.echo(f"note: the answer was cut at {settings.max_rows:,} rows (max_rows)", err=True)


@click.command()
@click.option(
    "--triples",
    "n",
    type=click.IntRange(min=1),
    required=True,
    help="How many triples to write (exactly).",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def generate(n: int, seed: int, out: Path) -> None:
    """Write N triples of realistic synthetic cluster data to OUT (N-Triples), seeded."""
    from kb.generate import generate as run

    settings = settings_for()
    start = time.perf_counter()
    with (
        out.open("w", encoding="utf-8") as fh,
        tqdm(total=n, unit="t", unit_scale=True, file=sys.stderr, disable=None, leave=False) as bar,
    ):
        written = run(n, fh, seed=seed, base=settings.base_iri, progress=bar.update)
    click.echo(
        f"wrote {written:,} triples to {out} in {time.perf_counter() - start:.1f} s", err=True
    )


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@store_option
def export(out: Path, store: Path | None) -> None:
    """Write every graph of the store to OUT as N-Quads — with `kb load OUT` against another
    store's settings, this moves the knowledge base between the embedded store and a remote
    one, either way."""
    from kb.store import open_store

    settings = settings_for(store=store)
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


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8080).")
@store_option
def serve(host: str | None, port: int | None, store: Path | None) -> None:
    """Serve the knowledge base: start the store, load the bundled data into an empty store,
    and run the web app on a production WSGI server (waitress)."""
    import waitress

    from kb.service import Service
    from server import create_app

    settings = settings_for(host=host, port=port, store=store)
    service = Service(settings)
    service.start(echo=lambda m: click.echo(m, err=True))
    try:  # from here on, the managed store process is stopped however this ends
        app = create_app(settings=settings, service=service)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        click.echo(service.banner(), err=True)
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


@click.command()
@click.option(
    "--write",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Replace the coverage table in this Markdown file (data/README.md) instead of printing.",
)
def coverage(target: Path | None) -> None:
    """Print how much of the policy each bundled cluster expresses: helix roles, the five work
    streams (documented, stated as not documented, or missing), partnerships, dated facts and
    actors with an authority identifier."""
    from kb import coverage as cov

    made = cov.table()
    if target is None:
        click.echo(made)
        return
    try:
        target.write_text(cov.rewrite(target.read_text(encoding="utf-8"), made), encoding="utf-8")
    except (OSError, ValueError) as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"wrote the coverage table to {target}", err=True)


@click.command()
@click.option(
    "--from",
    "old",
    default=None,
    help="The old base IRI (default: the one the store folder recorded when it was loaded).",
)
@store_option
def migrate(old: str | None, store: Path | None) -> None:
    """Move a store loaded under an old base IRI (identifiers that followed host and port,
    http://localhost:8080/id/...) to the persistent namespace, in one transaction: every IRI,
    graph name and history snapshot, and the steward tokens' graph grants."""
    from kb.auth import TokenStore
    from kb.service import record_base, stored_base
    from kb.store import open_store
    from kb.store.migrate import migrate_namespace

    settings = settings_for(store=store)
    new = settings.base_iri
    if old is None and not settings.remote_store:
        old = stored_base(settings.store_path)
    if not old:
        raise click.UsageError("the store records no old base IRI: give it with --from")
    old = old if old.endswith("/") else old + "/"
    if old == new:
        click.echo(f"the store is already under {new}: nothing to do", err=True)
        return
    try:
        with open_store(settings) as client:
            done = migrate_namespace(client, old, new)
    except StoreError as e:
        raise click.ClickException(str(e)) from e
    grants = TokenStore(settings.tokens_path).rebase(old + "graph/", new + "graph/")
    if not settings.remote_store:
        record_base(settings.store_path, new)
    click.echo(
        f"moved {done.quads:,} quads in {done.graphs} graphs from {old} to {new}; "
        f"{grants} token grants rewritten",
        err=True,
    )


@click.command()
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--url",
    default=None,
    help="Where the release will be served (download URLs in the catalogue point there); "
    "default: {namespace}release/.",
)
@store_option
def publish(outdir: Path, url: str | None, store: Path | None) -> None:
    """Write a self-contained static release into OUTDIR: dumps, DCAT-AP catalogue (Turtle and
    RDF/XML), VoID, SHA256SUMS and index.html."""
    from kb.publish import publish as run
    from kb.store import open_store

    settings = settings_for(store=store)
    with open_store(settings) as client:
        release = run(client, settings, outdir, url=url)
    click.echo(
        f"wrote {release.files} files ({release.bytes:,} bytes) to {outdir} for {release.url}",
        err=True,
    )


@click.command()
@click.argument("url", required=False)
@click.option(
    "--min",
    "minimum",
    type=float,
    default=None,
    help="Exit 1 when the score is below this (351 = Excellent).",
)
def mqa(url: str | None, minimum: float | None) -> None:
    """Score the DCAT-AP catalogue at URL (default: the local server's /catalog) with the
    data.europa.eu MQA table, checking access and download URLs on loopback only, and
    validate it against DCAT-AP 3.0.1 and DCAT-AP VL 3.0. Prints each indicator."""
    from urllib.parse import urlsplit

    from kb import mqa as m

    settings = settings_for()
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
