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
from typing import IO, Any

import click
from tqdm import tqdm

from kb.config import Settings, load_settings
from kb.errors import KBError
from kb.formats import RESULT_FORMATS

EXIT_REFUSED = 1
EXIT_ERROR = 2

store_option = click.option(
    "--store", "store", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Store folder (default: the `store` setting, KB_STORE).",
)
base_option = click.option("--base", default=None, help="Base IRI (default: KB_BASE).")


def _settings(**overrides: Any) -> Settings:
    return load_settings({k: (str(v) if isinstance(v, Path) else v)
                          for k, v in overrides.items() if v is not None})


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
    with path.open("rb") as fh, tqdm.wrapattr(
        fh, "read", total=size, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
        file=sys.stderr, disable=None, leave=False,
    ) as wrapped:
        yield wrapped


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--graph", default=None, help="Named graph IRI to load triples into "
              "(default: the default graph; quad formats keep their own graphs).")
@click.option("--format", "fmt", default=None, help="RDF format of all FILES "
              "(turtle, ntriples, nquads, trig, jsonld, rdfxml or a media type); default: "
              "from each file's extension.")
@store_option
@base_option
def load(files: tuple[Path, ...], graph: str | None, fmt: str | None, store: Path | None,
         base: str | None) -> None:
    """Bulk-load FILES into the store: all files are checked first, then loaded; a bad file
    anywhere means nothing is loaded (exit 2)."""
    from kb.ingest import load_files, plan

    settings = _settings(store=store, base=base)
    report = load_files(plan(files, graph=graph, fmt=fmt), settings, progress=_progress)
    click.echo(f"loaded {report.quads:,} triples from {report.files} file(s) in "
               f"{report.seconds:.2f} s ({report.rate:,.0f} triples/s, {report.via})", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shapes", "shapes", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Shapes file(s) to use instead of the project's shapes/.")
@click.option("--format", "out", type=click.Choice(["text", "json", "turtle"]), default="text",
              show_default=True, help="Report format.")
@click.option("--lang", type=click.Choice(["en", "nl"]), default="en", show_default=True,
              help="Language of the messages in the text report.")
@click.option("--with-reference/--alone", default=True, show_default=True,
              help="Validate together with the bundled reference data the files may point to.")
@click.option("--strict", is_flag=True, help="Warnings also make the exit code 1.")
@base_option
def validate(files: tuple[Path, ...], shapes: tuple[Path, ...], out: str, lang: str,
             with_reference: bool, strict: bool, base: str | None) -> None:
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
        data += bundled.read_graph(
            [f.path for f in bundled.bundled_files(kinds=("data",))
             if f.graph_name.startswith("reference/")], settings.base_iri)
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
@click.option("--file", "file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read the query from a file ('-' for stdin).")
@click.option("--format", "fmt", type=click.Choice(["table", *RESULT_FORMATS]),
              default="table", show_default=True,
              help="Result format (table: aligned text for SELECT/ASK; CONSTRUCT/DESCRIBE "
              "default to turtle).")
@store_option
def query(sparql: str | None, file: IO[str] | None, fmt: str, store: Path | None) -> None:
    """Run a read-only SPARQL query (the endpoint's limits apply)."""
    from kb.query import QueryPolicy, check_query
    from kb.store import open_store

    if (sparql is None) == (file is None):
        raise click.UsageError("give the query as an argument or with --file, not both")
    text = sparql if sparql is not None else file.read()  # type: ignore[union-attr]
    settings = _settings(store=store)
    checked = check_query(text, QueryPolicy(settings.max_query_bytes, settings.max_query_depth,
                                            settings.service_allow_list))
    graph_form = checked.form in ("CONSTRUCT", "DESCRIBE")
    if fmt == "table":
        fmt = "turtle" if graph_form else "table"
    elif (RESULT_FORMATS[fmt][1] == "graph") != graph_form:
        raise click.UsageError(f"--format {fmt} does not fit a {checked.form} query")
    accept = "application/sparql-results+json" if fmt == "table" else RESULT_FORMATS[fmt][0]
    with open_store(settings) as client:
        result = client.query(text, accept=accept)
        if fmt != "table":
            out = sys.stdout.buffer
            for chunk in result.iter_bytes():
                out.write(chunk)
            out.flush()
            return
        click.echo(_table(json.loads(result.read())))


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
@click.option("--triples", "n", type=click.IntRange(min=1), required=True,
              help="How many triples to write (exactly).")
@click.option("--seed", type=int, default=42, show_default=True)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@base_option
def generate(n: int, seed: int, out: Path, base: str | None) -> None:
    """Write N triples of realistic synthetic cluster data to OUT (N-Triples), seeded."""
    from kb.generate import generate as run

    settings = _settings(base=base)
    start = time.perf_counter()
    with out.open("w", encoding="utf-8") as fh, tqdm(total=n, unit="t", unit_scale=True,
                                                      file=sys.stderr, disable=None,
                                                      leave=False) as bar:
        written = run(n, fh, seed=seed, base=settings.base_iri, progress=bar.update)
    click.echo(f"wrote {written:,} triples to {out} in {time.perf_counter() - start:.1f} s",
               err=True)


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
    app = create_app(settings=settings, service=service)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"ClusterKB is serving {settings.base_iri} on http://{settings.host}:"
               f"{settings.port}/ (store: {service.describe()})", err=True)
    try:
        waitress.serve(app, host=settings.host, port=settings.port, threads=settings.threads,
                       ident="ClusterKB", clear_untrusted_proxy_headers=True)
    finally:
        service.stop()
