"""Headless-Chromium screenshots of a cluster page and the ontology page against a real
``kb serve``, kept as test artefacts in ``tests/artefacts/`` (git-ignored)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.kbserve import KbServe as LiveServer

ARTEFACTS = Path(__file__).parent / "artefacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
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
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={target}",
            "--window-size=1280,1600",
            live_server.url + path,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = target.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 20_000  # a rendered page, not a blank one
