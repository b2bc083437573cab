"""Headless-Chromium screenshots of a cluster page and the ontology page against a real
``kb serve``, kept as test artefacts in ``tests/artefacts/`` (git-ignored). Each also checks
what Chromium rendered at that URL is the page named (its heading), not an error page."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest
import requests

from tests.support import chromium
from tests.support.kbserve import KbServe as LiveServer

ARTEFACTS = Path(__file__).parent / "artefacts"
CHROMIUM = chromium.CHROMIUM
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize(
    ("name", "path", "heading"),
    [
        (
            "cluster-page",
            "doc/cluster/west-vlaanderen-blauwe-energie?lang=nl",
            "Maritieme toepassingen inzake energieproductie (West-Vlaanderen)",
        ),
        (
            "cluster-page-en",
            "doc/cluster/west-vlaanderen-blauwe-energie?lang=en",
            "Maritime applications for energy production (West Flanders)",
        ),
        (
            "ontology-page",
            "ns/provinciale-clusters",
            "Provincial clusters – ontology of provincial cluster policy",
        ),
    ],
)
def test_screenshot(
    live_server: LiveServer, tmp_path: Path, name: str, path: str, heading: str
) -> None:
    assert requests.get(live_server.url + path, timeout=30).status_code == 200
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
    rendered = subprocess.run(
        chromium.command(tmp_path / "profile", "--dump-dom", live_server.url + path),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    h1 = re.search(r"<h1\b[^>]*>(.*?)</h1>", rendered, re.S)
    assert h1, rendered[:2000]
    assert " ".join(html.unescape(re.sub(r"<[^>]+>", " ", h1.group(1))).split()) == heading
