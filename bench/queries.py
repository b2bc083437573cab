"""Query benchmark: ``/sparql`` of ``kb serve`` against its peers, on the same data, in one run.

    python bench/queries.py [--triples 1000000] [--repeat 7] [--min-time 3] [--max-repeat 41]
                            [--clients 8] [--mixes 2] [--skip virtuoso,kb-virtuoso,...]

Generates N triples with ``kb generate``, bulk-loads them once with ``kb load``, then runs a
mix of 12 queries representative of real use (lookups, joins, aggregates, OPTIONAL + FILTER,
property paths, ORDER BY + LIMIT, DISTINCT, CONSTRUCT, ASK) against, one after the other:

* ``kb-cold``  — ``kb serve`` with the result cache off (``KB_CACHE_BYTES=0``);
* ``kb-warm``  — ``kb serve`` with the cache on, filled by one pass of the mix first;
* ``oxigraph`` — raw ``oxigraph serve`` on the same store folder (the engine limit);
* ``kb-own-oxigraph`` — the Oxigraph server ``kb-cold`` manages, asked directly with the
  request ``kb-cold`` sends it (``union-default-graph``), timed turn about with ``kb-cold``;
* ``virtuoso`` — Virtuoso 7 (Debian ``virtuoso-opensource``) on loopback, same N-Triples,
  bulk-loaded (``ld_dir``) into the named graph ``{base}graph/bench`` and queried with that
  graph as ``default-graph-uri`` (the dataset ClusterKB itself sends for a remote store);
* ``kb-virtuoso`` — ``kb serve`` with the result cache off (``KB_CACHE_BYTES=0``) over that
  same Virtuoso as a remote store (``KB_STORE_QUERY_URL`` / ``_UPDATE_URL`` / ``_GSP_URL``,
  ``dba`` with digest auth, the graphs under ``{namespace}graph/`` the public dataset, as in
  ``tests/test_front_ends.py``; the default ``store_freshness``, so its queries take the
  graphs in scope from the background view of ``kb.store.scope``). Before timing, every
  query's result size (solutions, triples, the ASK answer) is compared between ``virtuoso``
  and ``kb-virtuoso``; a difference is printed as a warning;
* ``rdflib-endpoint`` — ``rdflib-endpoint serve`` (``pip install -e '.[bench]'``).

Sequential: each query at least ``--repeat`` times (after one untimed run), and more — up to
``--max-repeat`` — until it has run ``--min-time`` seconds, so that a light query's p50 rests
on as many milliseconds of samples as a heavy one's; p50/p99 per query and the number of runs.
Raw Virtuoso and ``kb-virtuoso`` share one engine and are timed turn about, query by query.
Concurrent: ``--clients`` threads each run the mix ``--mixes`` times in their own shuffled
order; queries per second. rdflib-endpoint, far slower, gets ``--slow-repeat`` runs and one mix
per client. Raw Oxigraph runs first, after two untimed passes that let the freshly bulk-loaded
store settle; it gets the queries without ``union-default-graph`` (the data is in the default
graph), the strictest engine limit, and again as ``oxigraph-union`` with the parameter, which
is the request ClusterKB itself sends.
Every request is a GET with ``query=``, an ``Accept`` header and ``Accept-Encoding: identity``
(asked for gzip, Virtuoso compresses and closes the connection after every answer; no other
target compresses), read to the end. Prints the table and the ratios the issue asks for,
among them ``kb-virtuoso`` mix time / ``virtuoso`` mix time (goal <= 1.10: what the ClusterKB
front end costs on top of a remote store). ``--skip`` takes any of the target names
(``oxigraph``, ``oxigraph-union``, ``kb-cold``, ``kb-own-oxigraph``, ``kb-warm``, ``virtuoso``,
``kb-virtuoso``, ``rdflib-endpoint``). Needs only loopback.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb import processes
from kb.namespaces import KB_NS
from kb.store.oxigraph import UNION_PARAM, attach
from tests.support import virtuoso as vt
from tests.support.kbserve import free_port

BIN = Path(sys.executable).parent
BASE = KB_NS  # the IRIs `kb generate` writes
PREFIXES = """PREFIX pc: <https://w3id.org/clusterkb/ns/provinciale-clusters#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rov: <http://www.w3.org/ns/regorg#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
CLUSTER = f"<{BASE}id/cluster/synth-5>"

#: name -> (kind, query). kind: "select" (SPARQL JSON), "ask", "graph" (Turtle).
MIX: dict[str, tuple[str, str]] = {
    "lookup": ("select", f"SELECT ?p ?o WHERE {{ <{BASE}id/organisatie/synth-7-3> ?p ?o }}"),
    "join": (
        "select",
        f"SELECT ?actor ?label ?nace WHERE {{ ?m org:organization {CLUSTER} ; org:member ?actor . "
        "?actor skos:prefLabel ?label ; rov:orgActivity ?nace }",
    ),
    "agg-helix": (
        "select",
        "SELECT ?cluster ?role (COUNT(?m) AS ?n) WHERE { ?m org:organization ?cluster ; "
        "org:role ?role } GROUP BY ?cluster ?role",
    ),
    "agg-funding": (
        "select",
        "SELECT ?ws (SUM(?v) AS ?total) (COUNT(?g) AS ?grants) WHERE { ?g schema:fundedItem ?item "
        "; schema:amount ?a . ?a schema:value ?v . ?item pc:workStream ?ws } GROUP BY ?ws",
    ),
    "optional-filter": (
        "select",
        "SELECT ?p ?start ?end WHERE { ?p a pc:ClusterProject ; schema:startDate ?start . "
        "OPTIONAL { ?p schema:endDate ?end } "
        'FILTER(?start >= "2020-01-01"^^xsd:date && !BOUND(?end)) }',
    ),
    "path": (
        "select",
        "SELECT ?province (COUNT(DISTINCT ?actor) AS ?actors) WHERE { ?m org:member ?actor ; "
        "org:organization/pc:runBy ?province } GROUP BY ?province",
    ),
    "order-limit-grants": (
        "select",
        "SELECT ?g ?v WHERE { ?g schema:amount/schema:value ?v } ORDER BY DESC(?v) ?g LIMIT 10",
    ),
    "order-limit-members": (
        "select",
        "SELECT ?m ?s WHERE { ?m org:memberDuring/schema:startDate ?s } "
        "ORDER BY DESC(?s) ?m LIMIT 20",
    ),
    "distinct-nace": ("select", "SELECT DISTINCT ?nace WHERE { ?a rov:orgActivity ?nace }"),
    "distinct-funders": ("select", "SELECT DISTINCT ?f WHERE { ?g schema:funder ?f }"),
    "construct": (
        "graph",
        f"CONSTRUCT {{ {CLUSTER} ?p ?o . ?m org:member ?a . ?m org:role ?r }} WHERE {{ "
        f"{{ {CLUSTER} ?p ?o }} UNION {{ ?m org:organization {CLUSTER} ; org:member ?a ; "
        "org:role ?r } }",
    ),
    "ask": (
        "ask",
        f"ASK {{ ?p a pc:Study ; pc:workStream <{BASE}id/concept/werkstroom/arbeidsmarkt> }}",
    ),
}
ACCEPT = {
    "select": "application/sparql-results+json",
    "ask": "application/sparql-results+json",
    "graph": "text/turtle",
}


class Target:
    def __init__(self, name: str, url: str, params: dict[str, str] | None = None) -> None:
        self.name = name
        self.url = url
        self.params = params or {}
        self.local = threading.local()

    def session(self) -> requests.Session:
        if not hasattr(self.local, "s"):
            self.local.s = requests.Session()
            self.local.s.trust_env = False
            # Plain bytes on a kept-alive connection from every server: asked for gzip (the
            # requests default), Virtuoso compresses and closes the connection after each
            # answer, a handicap the front ends (which never compress) do not have.
            self.local.s.headers["Accept-Encoding"] = "identity"
        s: requests.Session = self.local.s
        return s

    def get(self, name: str) -> requests.Response:
        kind, body = MIX[name]
        r = self.session().get(
            self.url,
            params={"query": PREFIXES + body, **self.params},
            headers={"Accept": ACCEPT[kind]},
            timeout=600,
        )
        r.raise_for_status()
        if not r.content:
            raise RuntimeError(f"{self.name} {name}: empty answer")
        return r

    def run(self, name: str) -> float:
        started = time.perf_counter()
        self.get(name)
        return time.perf_counter() - started

    def size(self, name: str) -> str:
        """The result's size: solutions, triples, or the ASK answer (not timed)."""
        kind, _ = MIX[name]
        r = self.get(name)
        if kind == "graph":
            try:
                return f"{sum(1 for _ in ox.parse(r.content, format=ox.RdfFormat.TURTLE))} triples"
            except SyntaxError as exc:
                return f"unreadable Turtle ({exc})"
        answer = r.json()
        if kind == "ask":
            return f"ASK {str(answer['boolean']).lower()}"
        return f"{len(answer['results']['bindings'])} rows"


def compare_sizes(a: Target, b: Target) -> None:
    """Warn for each query whose result size differs between ``a`` and ``b``."""
    sizes = {name: (a.size(name), b.size(name)) for name in MIX}
    differ = {name: pair for name, pair in sizes.items() if pair[0] != pair[1]}
    for name, (x, y) in differ.items():
        print(f"  WARNING: {name}: {a.name} answers {x}, {b.name} answers {y}", flush=True)
    if not differ:
        listed = ", ".join(f"{name} {x}" for name, (x, _) in sizes.items())
        print(f"  {a.name} and {b.name} agree on every result size: {listed}", flush=True)


def interleaved(
    targets: list[Target], repeat: int, min_time: float = 0.0, max_repeat: int = 0
) -> dict[str, dict[str, list[float]]]:
    """Each query at least ``repeat`` times on each target after one untimed run, and more —
    up to ``max_repeat`` times — until it has run ``min_time`` seconds on each (a light query
    gets more samples than a heavy one, so that its p50 is as steady). Targets on one engine
    run turn about (each query on each target in turn, the order reversed every round), so a
    drift of the shared engine or machine — a checkpoint, another process — falls on all of
    them alike."""
    out: dict[str, dict[str, list[float]]] = {t.name: {} for t in targets}
    for name in MIX:
        for t in targets:
            t.run(name)  # warm-up: the first run of each query is not counted
        spent = 0.0
        r = 0
        while r < repeat or (spent < min_time * len(targets) and r < max_repeat):
            for t in targets if r % 2 == 0 else targets[::-1]:
                took = t.run(name)
                out[t.name].setdefault(name, []).append(took)
                spent += took
            r += 1
    return out


def concurrent(target: Target, clients: int, mixes: int) -> float:
    errors: list[str] = []

    def client(seed: int) -> None:
        order = [n for _ in range(mixes) for n in MIX]
        random.Random(seed).shuffle(order)
        for n in order:
            try:
                target.run(n)
            except (requests.RequestException, RuntimeError) as exc:
                errors.append(f"{n}: {exc}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        print(f"  {target.name}: {len(errors)} failed requests, e.g. {errors[0]}")
    return clients * mixes * len(MIX) / elapsed


def wait_http(url: str, proc: subprocess.Popen[bytes], seconds: float = 900) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(
    args: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        yield proc
    finally:
        processes.stop(proc, 30)


def kb_serve(work: Path, store: Path, cache: bool) -> Callable[[], Iterator[Target]]:
    @contextmanager
    def run() -> Iterator[Target]:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
        env.update({"KB_CACHE_BYTES": str(256 << 20 if cache else 0), "KB_QUERY_TIMEOUT": "300"})
        args = [str(BIN / "kb"), "serve", "--store", str(store), "--port", str(port)]
        with process(args, work / f"kb-{cache}.log", env) as proc:
            wait_http(f"http://127.0.0.1:{port}/health", proc)
            yield Target("kb-warm" if cache else "kb-cold", f"http://127.0.0.1:{port}/sparql")

    return run  # type: ignore[return-value]


@contextmanager
def kb_serve_remote(work: Path, v: vt.Virtuoso) -> Iterator[Target]:
    """``kb serve``, cache off, over the running Virtuoso ``v`` as a remote store (configured
    as ``tests/test_front_ends.py`` does: query, update and graph-store URLs, ``dba``)."""
    port = free_port()
    env = {k: value for k, value in os.environ.items() if not k.startswith("KB_")}
    env.update(
        {
            "KB_STORE_QUERY_URL": v.sparql_url,
            "KB_STORE_UPDATE_URL": f"http://127.0.0.1:{v.http_port}/sparql-auth",
            "KB_STORE_GSP_URL": f"http://127.0.0.1:{v.http_port}/sparql-graph-crud-auth",
            "KB_STORE_USER": "dba",
            "KB_STORE_PASSWORD": v.password,
            "KB_CACHE_BYTES": "0",
            "KB_QUERY_TIMEOUT": "300",
        }
    )
    folder = work / "kb-virtuoso"  # tokens and audit log only: the data is in Virtuoso
    args = [str(BIN / "kb"), "serve", "--store", str(folder), "--port", str(port)]
    with process(args, work / "kb-virtuoso.log", env) as proc:
        wait_http(f"http://127.0.0.1:{port}/health", proc)
        yield Target("kb-virtuoso", f"http://127.0.0.1:{port}/sparql")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each query, at least")
    parser.add_argument(
        "--min-time",
        type=float,
        default=3.0,
        help="more runs of a query, up to --max-repeat, until it ran this many seconds",
    )
    parser.add_argument("--max-repeat", type=int, default=41)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--mixes", type=int, default=2)
    parser.add_argument(
        "--slow-repeat", type=int, default=3, help="repeats for rdflib-endpoint (1 mix/client)"
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated targets to leave out: oxigraph, oxigraph-union, kb-cold, "
        "kb-own-oxigraph, kb-warm, virtuoso, kb-virtuoso, rdflib-endpoint",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    work = Path(tempfile.mkdtemp(prefix="kb-bench-queries-"))
    seq: dict[str, dict[str, list[float]]] = {}
    qps: dict[str, float] = {}

    def measure(*targets: Target, fill: bool = False, slow: bool = False) -> None:
        """Time the targets (turn about: they share one engine), then the throughput of
        each."""
        if fill:
            for target in targets:
                for name in MIX:
                    target.run(name)
        t = time.perf_counter()
        if slow:
            seq.update(interleaved(list(targets), args.slow_repeat))
        else:
            seq.update(interleaved(list(targets), args.repeat, args.min_time, args.max_repeat))
        for target in targets:
            qps[target.name] = concurrent(target, args.clients, 1 if slow else args.mixes)
        names = ", ".join(target.name for target in targets)
        print(f"  {names}: done in {time.perf_counter() - t:.0f} s", flush=True)

    try:
        data = work / "data" / "data.nt"
        data.parent.mkdir()
        store = work / "store"
        subprocess.run(
            [
                str(BIN / "kb"),
                "generate",
                "--triples",
                str(args.triples),
                str(data),
            ],
            check=True,
        )
        subprocess.run([str(BIN / "kb"), "load", "--store", str(store), str(data)], check=True)
        print(
            f"{args.triples:,} triples; {len(MIX)} queries; repeat {args.repeat} (up to "
            f"{args.max_repeat} within {args.min_time:g} s); "
            f"{args.clients} clients x {args.mixes} mixes",
            flush=True,
        )

        port = free_port()
        ox_args = [
            str(BIN / "oxigraph"),
            "serve",
            "--location",
            str(store),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout-s",
            "300",
        ]
        if {"oxigraph", "oxigraph-union"} - skip:
            with process(ox_args, work / "oxigraph.log") as proc:
                wait_http(f"http://127.0.0.1:{port}/", proc)
                raw = Target("oxigraph", f"http://127.0.0.1:{port}/query")
                for _ in range(2):  # let the store settle after the bulk load (compactions)
                    for name in MIX:
                        raw.run(name)
                if "oxigraph" not in skip:
                    measure(raw)
                if "oxigraph-union" not in skip:
                    # The same requests ClusterKB sends: the default graph as the union.
                    measure(Target("oxigraph-union", raw.url, {UNION_PARAM: ""}))

        for cache in (False, True):
            if ("kb-warm" if cache else "kb-cold") in skip:
                continue
            with kb_serve(work, store, cache)() as target:  # type: ignore[attr-defined]
                if cache or "kb-own-oxigraph" in skip:
                    measure(target, fill=cache)
                    continue
                # kb-cold turn about with the Oxigraph server it manages, asked directly
                # with the request kb-cold sends it: one engine, so the machine's drift
                # falls on both (raw `oxigraph serve` above cannot run beside it: the store
                # folder's lock)
                managed = attach(store)
                assert managed is not None, "kb serve manages no Oxigraph server"
                managed.close()
                measure(Target("kb-own-oxigraph", managed.query_url, {UNION_PARAM: ""}), target)

        on_virtuoso = [n for n in ("virtuoso", "kb-virtuoso") if n not in skip]
        if on_virtuoso and vt.available():
            v = vt.Virtuoso(
                work / "virtuoso", data_dir=data.parent, max_rows=10_000_000, timeout_s=600
            )
            v.start()
            try:
                # One named graph under {base}graph/: the public dataset of ClusterKB on a
                # remote store, which it sends as default-graph-uri (and named-graph-uri).
                graph = BASE + "graph/bench"
                t = time.perf_counter()
                v.load(data.parent, "*.nt", graph)
                print(f"  virtuoso: bulk-loaded in {time.perf_counter() - t:.0f} s", flush=True)
                raw_v = Target("virtuoso", v.sparql_url, {"default-graph-uri": graph})
                if "kb-virtuoso" in on_virtuoso:
                    with kb_serve_remote(work, v) as kb_v:
                        compare_sizes(raw_v, kb_v)
                        measure(*([raw_v, kb_v] if "virtuoso" in on_virtuoso else [kb_v]))
                else:
                    measure(raw_v)
            finally:
                v.stop()
        elif on_virtuoso:
            print("  virtuoso: not installed (apt-get install virtuoso-opensource)")

        rdflib_ep = shutil.which("rdflib-endpoint") or str(BIN / "rdflib-endpoint")
        if "rdflib-endpoint" not in skip and Path(rdflib_ep).exists():
            port = free_port()
            ep_args = [rdflib_ep, "serve", "--host", "127.0.0.1", "--port", str(port), str(data)]
            with process(ep_args, work / "rdflib-endpoint.log") as proc:
                wait_http(f"http://127.0.0.1:{port}/?query=ASK%7B%7D", proc, 3600)
                measure(Target("rdflib-endpoint", f"http://127.0.0.1:{port}/"), slow=True)
        elif "rdflib-endpoint" not in skip:
            print("  rdflib-endpoint: not installed (pip install -e '.[bench]')")
        report(seq, qps, args.clients)
    finally:
        if args.keep:
            print(f"work folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(seq: dict[str, dict[str, list[float]]], qps: dict[str, float], clients: int) -> None:
    names = list(seq)
    print()
    print("p50 / p99 per query, ms (x runs)")
    print(f"{'query':<22}" + "".join(f"{n:>26}" for n in names))
    for q in MIX:
        cells = []
        for n in names:
            times = sorted(seq[n][q])
            p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
            p50 = statistics.median(times)
            cells.append(f"{p50 * 1e3:>10.1f} /{p99 * 1e3:>9.1f} x{len(times):<3}")
        print(f"{q:<22}" + "".join(f"{c:>26}" for c in cells))
    sums = {n: sum(statistics.median(seq[n][q]) for q in MIX) for n in names}
    print(f"{'sum of p50 (s)':<22}" + "".join(f"{sums[n]:>26.3f}" for n in names))
    label = f"queries/s, {clients} clients"
    print(f"{label:<22}" + "".join(f"{qps[n]:>26.1f}" for n in names))
    print()

    def ratio(label: str, a: float, b: float, goal: str) -> None:
        print(f"{label:<58}{a / b:>8.2f}   ({goal})")

    if "kb-cold" in sums and "oxigraph" in sums:
        ratio(
            "cold mix time / raw oxigraph mix time",
            sums["kb-cold"],
            sums["oxigraph"],
            "goal <= 1.10",
        )
        ratio(
            "cold throughput / raw oxigraph throughput",
            qps["kb-cold"],
            qps["oxigraph"],
            "for reference",
        )
    if "kb-cold" in sums and "kb-own-oxigraph" in sums:
        ratio(
            "cold mix time / its own oxigraph server, turn about",
            sums["kb-cold"],
            sums["kb-own-oxigraph"],
            "the front end's cost",
        )
    if "kb-cold" in sums and "oxigraph-union" in sums:
        ratio(
            "cold mix time / raw oxigraph (union default graph)",
            sums["kb-cold"],
            sums["oxigraph-union"],
            "same requests as kb sends",
        )
    if "kb-warm" in qps and "virtuoso" in qps:
        ratio(
            "warm throughput / virtuoso throughput", qps["kb-warm"], qps["virtuoso"], "goal >= 1.0"
        )
        ratio(
            "virtuoso mix time / raw oxigraph mix time",
            sums["virtuoso"],
            sums["oxigraph"],
            "for reference",
        )
    if "kb-virtuoso" in sums and "virtuoso" in sums:
        ratio(
            "kb-virtuoso (cache off) / raw virtuoso mix time",
            sums["kb-virtuoso"],
            sums["virtuoso"],
            "goal <= 1.10",
        )
        ratio(
            "kb-virtuoso throughput / raw virtuoso throughput",
            qps["kb-virtuoso"],
            qps["virtuoso"],
            "for reference",
        )
    if "rdflib-endpoint" in qps:
        for n in ("kb-cold", "kb-warm"):
            if n in qps:
                ratio(
                    f"{n} throughput / rdflib-endpoint throughput",
                    qps[n],
                    qps["rdflib-endpoint"],
                    "goal >= 10",
                )
                ratio(
                    f"rdflib-endpoint mix time / {n} mix time",
                    sums["rdflib-endpoint"],
                    sums[n],
                    "goal >= 10",
                )


if __name__ == "__main__":
    main()
