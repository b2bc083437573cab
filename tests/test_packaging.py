"""What ``pip install`` gives a user: a wheel built without warnings that carries every file the
server reads, and a ``kb serve`` from it, outside the checkout, that serves the bundled
knowledge base.

The wheel is built with the checkout's own setuptools (no build isolation: nothing is
downloaded) and installed with ``--no-deps`` into a fresh virtualenv whose only other path is
the checkout's ``.venv`` site-packages, for the dependencies (a ``.pth`` line adds that folder
to ``sys.path`` but not the editable install's finder that lives in it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
import requests

from kb import processes
from kb.config import PROJECT_ROOT
from tests.support.kbserve import free_port

pytestmark = pytest.mark.slow

PIP = (sys.executable, "-m", "pip")
NOT_SOURCES = (".*", "build", "var", "*.egg-info", "__pycache__", "bench")
INSTALL = ("-q", "--no-deps", "--no-index")  # only the wheel, nothing downloaded

#: Folders of the checkout the installed server reads or imports, the files in them it reads
#: (kb.bundled reads only Turtle), and where the wheel must carry them.
SHIPPED = {
    "kb": ("*.py", "kb"),  # every module: a package missing from pyproject.toml fails here
    "server": ("*.py", "server"),
    "ontology": ("*.ttl", "kb/_bundled/ontology"),
    "shapes": ("*.ttl", "kb/_bundled/shapes"),
    "data": ("*.ttl", "kb/_bundled/data"),
    "kb/resources": ("*", "kb/resources"),
    "server/templates": ("*", "server/templates"),
    "server/static": ("*", "server/static"),
    "server/queries": ("*", "server/queries"),
}
#: Notes that are not about the project: pip's on this machine's index settings, distutils' on
#: byte-compiling being switched off (PYTHONDONTWRITEBYTECODE).
_NOISE = ("is ignored: it is neither a file nor a directory", "byte-compiling is disabled")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the sources: setuptools reuses a build/ folder it finds in the tree.
    source = out / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    built = subprocess.run(
        [
            *PIP,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    (found,) = out.glob("clusterkb-*.whl")
    return found, built.stdout + built.stderr


def test_wheel_builds_without_warnings(wheel: tuple[Path, str]) -> None:
    _, log = wheel
    warnings = [
        line
        for line in log.splitlines()
        if "warning" in line.lower() and not any(n in line for n in _NOISE)
    ]
    assert not warnings, "\n".join(warnings)
    assert "would be ignored" not in log


def test_wheel_carries_every_file_the_server_reads(wheel: tuple[Path, str]) -> None:
    path, _ = wheel
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    expected = {
        f"{packaged}/{file.relative_to(PROJECT_ROOT / folder).as_posix()}"
        for folder, (pattern, packaged) in SHIPPED.items()
        for file in (PROJECT_ROOT / folder).rglob(pattern)
        if file.is_file() and "__pycache__" not in file.parts
    }
    assert len(expected) > 70
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel (add them to pyproject.toml): {missing}"


@pytest.fixture(scope="module")
def installed(wheel: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed; returns its ``bin`` folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "checkout-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [*PIP, "--python", str(venv / "bin" / "python"), "install", *INSTALL, str(wheel[0])],
        check=True,
    )
    oxigraph = Path(sys.executable).parent / "oxigraph"
    (venv / "bin" / "oxigraph").symlink_to(oxigraph)
    return venv / "bin"


def _outside_env() -> dict[str, str]:
    """The environment of a user's shell outside the checkout: no KB_* settings and no
    PYTHONPATH (which would put another copy of kb before the installed one)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KB_") and k != "PYTHONPATH"}


def test_installed_kb_is_the_wheel(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import kb, kb.bundled; print(kb.bundled.BUNDLED_ROOT)"],
        cwd=tmp_path,
        env=_outside_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.parent), where
    assert not Path(where).is_relative_to(PROJECT_ROOT), where


def test_installed_kb_serve_serves_the_bundled_knowledge_base(
    installed: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = _outside_env()
    env["KB_PORT"] = str(port)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(installed / "kb"), "serve", "--store", str(tmp_path / "store")],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    base = f"http://localhost:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if requests.get(base + "health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pages = {
            "": "ClusterKB",
            "ns/provinciale-clusters": "provinciale-clusters",
            "static/style.css": "{",
            "static/yasgui/yasgui.min.js": "function",
            "sparql": "yasgui",
            "id/cluster/west-vlaanderen-blauwe-energie": "Blauwe",
            "catalog": "dcat:Catalog",
            "downloads": "download",
        }
        for path, text in pages.items():
            accept = "text/turtle" if path == "catalog" else "text/html"
            r = requests.get(base + path, headers={"Accept": accept}, timeout=30)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            assert text.lower() in r.text.lower(), (path, r.text[:300])
        # the reconciliation service reads its JSON Schemas from the package data
        batch = '{"q": {"query": "KU Leuven"}}'
        found = requests.post(base + "reconcile", data={"queries": batch}, timeout=30)
        assert found.status_code == 200 and "ror.org/05f950310" in found.text, found.text[:300]
        examples = requests.get(base + "sparql", headers={"Accept": "text/html"}, timeout=30).text
        assert "helix" in examples.lower()  # the example queries (server/queries) are listed
    finally:
        processes.stop(proc, 15)
