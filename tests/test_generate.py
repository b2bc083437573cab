"""``kb generate``: exact size, seeded, and shaped like the real data (it passes the shapes)."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner

from kb.bundled import reference_graph
from kb.cli import main
from kb.generate import _Writer, generate
from kb.load import parse_graph
from kb.namespaces import KB_NS
from kb.validate import validate

BASE = KB_NS


def _text(n: int, seed: int = 42) -> str:
    out = io.StringIO()
    assert generate(n, out, seed=seed, base=BASE) == n
    return out.getvalue()


def test_exact_size_and_seeded() -> None:
    text = _text(7_777)
    assert text.count("\n") == 7_777
    assert _text(7_777) == text
    assert _text(7_777, seed=7) != text


def test_whole_synthetic_clusters_conform_to_the_shapes() -> None:
    writer = _Writer(BASE, seed=3)
    lines = [line for n in range(1, 4) for line in writer.cluster(n)]
    g = parse_graph("\n".join(lines).encode(), syntax="ntriples", base_iri=BASE)
    report = validate(g + reference_graph(BASE))
    assert report.accepted, report.to_text()
    assert len(g) > 300


def test_cli_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "g.nt"
    result = CliRunner().invoke(main, ["generate", "--triples", "2500", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().count("\n") == 2500
    assert len(parse_graph(out, syntax="ntriples")) == 2500
