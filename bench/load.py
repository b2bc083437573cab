"""Load benchmark: `kb load` against raw `oxigraph load` on the same generated file, one run.

    python bench/load.py [--triples 1000000] [--repeat 2]

Generates N triples with `kb generate`, then loads them into fresh store folders with
`kb load` (checks every triple with the hardened parser, then bulk-loads) and with
`oxigraph load` (the engine alone), alternating, and prints triples/s and the ratio.
Goal (issue: the knowledge base itself): kb load >= 0.8 x raw Oxigraph.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-bench-load-"))
    try:
        data = work / "data.nt"
        gen = timed([str(BIN / "kb"), "generate", "--triples", str(args.triples), str(data)])
        print(
            f"generated {args.triples:,} triples ({data.stat().st_size / 1e6:.0f} MB) "
            f"in {gen:.1f} s"
        )
        runs: dict[str, list[float]] = {"kb load": [], "oxigraph load": []}
        for i in range(args.repeat):
            for name, cmd in (
                ("kb load", [str(BIN / "kb"), "load", "--store", str(work / f"kb{i}"), str(data)]),
                (
                    "oxigraph load",
                    [
                        str(BIN / "oxigraph"),
                        "load",
                        "--location",
                        str(work / f"ox{i}"),
                        "--file",
                        str(data),
                    ],
                ),
            ):
                runs[name].append(timed(cmd))
        print(f"{'loader':<15}{'median s':>10}{'triples/s':>12}   runs")
        rates = {}
        for name, times in runs.items():
            med = statistics.median(times)
            rates[name] = args.triples / med
            print(
                f"{name:<15}{med:>10.2f}{rates[name]:>12,.0f}   "
                + ", ".join(f"{t:.2f}" for t in times)
            )
        ratio = rates["kb load"] / rates["oxigraph load"]
        print(f"ratio kb load / oxigraph load: {ratio:.2f} (goal >= 0.80)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
