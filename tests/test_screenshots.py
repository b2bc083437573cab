"""Headless-Chromium screenshots of a cluster page and the ontology page against a real
``kb serve``, kept as test artefacts in ``tests/artefacts/`` (git-ignored)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support import chromium
from tests.support.kbserve import KbServe as LiveServer

ARTEFACTS = Path(__file__).parent / "artefacts"
CHROMIUM = chromium.CHROMIUM
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("cluster-page", "doc/cluster/west-vlaanderen-blauwe-energie?lang=nl"),
        ("cluster-page-en", "doc/cluster/west-vlaanderen-blauwe-energie?lang=en"),
        ("ontology-page", "ns/provinciale-clusters"),
    ],
)
def test_screenshot(live_server: LiveServer, tmp_path: Path, name: str, path: str) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    target = ARTEFACTS / f"{name}.png"
    target.unlink(missing_ok=True)
    subprocess.run(
        chromium.command(
            tmp_path / "profile",
            f"--screenshot={target}",
            "--window-size=1280,1600",
            live_server.url + path,
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = target.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 20_000  # a rendered page, not a blank one
