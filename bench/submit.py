"""Submission benchmark: validate + commit of ~1,000-triple files with the KB at 10k and 1M.

    python bench/submit.py [--sizes 10000 1000000] [--files 5]

For each KB size: `kb generate` writes the KB, `kb load` puts it into a fresh store (graph
`{base}graph/synthetic`), a managed Oxigraph serves it, and --files submissions of about 1,000
triples each (whole synthetic entities from other seeds, so that they pass the shapes) are
written as an admin through kb.submit.Writer.put — the code path behind /submissions and the
Graph Store Protocol, minus HTTP. Prints the median validate, commit and total seconds per
size and the ratio t(largest) / t(smallest). Goal (issue #4): total <= 1 s at 1M triples and
a ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rdflib import BNode, Graph

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.namespaces import KB_NS

BIN = Path(sys.executable).parent
BASE = KB_NS  # the namespace the server validates against


def submission(part: int, target: int = 1000) -> bytes:
    """About ``target`` triples of whole synthetic entities (a subject with its blank nodes),
    the ``part``-th such slice of the KB's own generated data (seed 42), so that everything it
    points to exists in the KB at either size."""
    from kb.generate import generate

    buf = io.StringIO()
    generate(target * (part + 2), buf, seed=42, base=BASE)
    g = Graph().parse(data=buf.getvalue(), format="nt")
    entities: dict[str, list[tuple]] = {}
    for s in dict.fromkeys(s for s in g.subjects() if not isinstance(s, BNode)):
        triples = []
        todo = [s]
        while todo:
            node = todo.pop()
            for p, o in g.predicate_objects(node):
                triples.append((node, p, o))
                if isinstance(o, BNode):
                    todo.append(o)
        entities[str(s)] = triples
    items = list(entities.values())[:-1]  # the last entity may be cut short
    skip = target * part
    out = Graph()
    seen = 0
    for triples in items:
        seen += len(triples)
        if seen <= skip:
            continue
        if len(out) + len(triples) > target:
            continue
        for t in triples:
            out.add(t)
    return out.serialize(format="nt").encode("utf-8")


def _without(g: Graph, subjects: set[str]) -> bytes:
    """``g`` without the named subjects (and the blank nodes they own)."""
    drop = {s for s in g.subjects() if str(s) in subjects or f"_:{s}" in subjects}
    todo = list(drop)
    while todo:
        for o in g.objects(todo.pop(), None):
            if isinstance(o, BNode) and o not in drop:
                drop.add(o)
                todo.append(o)
    out = Graph()
    for t in g:
        if t[0] not in drop:
            out.add(t)
    return out.serialize(format="nt").encode("utf-8")


def run_size(size: int, files: int, work: Path) -> list[dict[str, float]]:
    from kb.auth import Principal
    from kb.config import load_settings
    from kb.payload import read_payload
    from kb.store import ManagedOxigraph
    from kb.submit import ValidationFailed, Writer

    store = work / f"store-{size}"
    data = work / f"kb-{size}.nt"
    subprocess.run(
        [str(BIN / "kb"), "generate", "--triples", str(size), str(data)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            str(BIN / "kb"),
            "load",
            "--store",
            str(store),
            "--graph",
            f"{BASE}graph/synthetic",
            str(data),
        ],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    settings = load_settings({"store": str(store), "namespace": BASE}, environ={})
    server = ManagedOxigraph(store, timeout_s=60)
    server.start(watch=False)
    client = server.client()
    who = Principal("bench", "benchmark", "admin")
    rows = []
    try:
        writer = Writer(client, settings)
        for i in range(files + 1):  # the first one warms caches (shapes, reference data)
            body = submission(i)
            payload = read_payload(body, "application/n-triples", settings=settings)
            target = writer.graph_iri(f"bench/file-{i}")
            for _ in range(3):  # untimed: drop the entities a slice cut off from their context
                try:
                    writer.put(who, target, payload, dry_run=True)
                    break
                except ValidationFailed as exc:
                    bad = {r.focus_node for r in exc.outcome.report.violations}  # type: ignore[union-attr]
                    payload = read_payload(
                        _without(payload.graph, bad), "application/n-triples", settings=settings
                    )
            started = time.perf_counter()
            try:
                out = writer.put(who, target, payload)
                refused = 0
            except ValidationFailed as exc:
                out = exc.outcome
                refused = 1
            total = time.perf_counter() - started
            if i == 0:
                continue
            rows.append(
                {
                    "triples": len(payload.graph),
                    "validate": out.seconds.get("validate", 0.0),
                    "cpu": out.seconds.get("validate_cpu", 0.0),
                    "commit": total - out.seconds.get("validate", 0.0),
                    "total": total,
                    "refused": refused,
                }
            )
        rows[0]["kb"] = client.count(None)
    finally:
        client.close()
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--files", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-bench-submit-"))
    medians: dict[int, dict[str, float]] = {}
    try:
        for size in args.sizes:
            rows = run_size(size, args.files, work)
            medians[size] = {
                k: statistics.median(r[k] for r in rows)
                for k in ("triples", "validate", "cpu", "commit", "total")
            }
            medians[size]["refused"] = sum(r["refused"] for r in rows)
            medians[size]["kb"] = rows[0]["kb"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"{'KB triples':>12} {'quads in store':>15} {'file triples':>13} {'validate s':>11} "
        f"{'(CPU s)':>8} "
        f"{'commit s':>9} {'total s':>8} {'refused':>8}"
    )
    for size, m in medians.items():
        print(
            f"{size:>12,} {int(m['kb']):>15,} {int(m['triples']):>13,} {m['validate']:>11.3f} "
            f"{m['cpu']:>8.3f} "
            f"{m['commit']:>9.3f} {m['total']:>8.3f} {int(m['refused']):>8}"
        )
    sizes = sorted(medians)
    if len(sizes) > 1:
        ratio = medians[sizes[-1]]["total"] / medians[sizes[0]]["total"]
        print(
            f"t({sizes[-1]:,}) / t({sizes[0]:,}) = {ratio:.2f} (goal <= 1.5); "
            f"t({sizes[-1]:,}) = {medians[sizes[-1]]['total']:.3f} s (goal <= 1 s)"
        )


if __name__ == "__main__":
    main()
