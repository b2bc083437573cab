"""Start and stop a real ``kb serve`` process (its own store folder, port and settings)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from kb import processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class KbServe:
    url: str  # ends in "/"
    proc: subprocess.Popen[bytes]
    log: Path
    store: Path

    def stop(self) -> None:
        processes.stop(self.proc, 15)


def kb(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a ``kb`` command in a child process (no ``KB_*`` from the caller's environment)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    return subprocess.run(
        [sys.executable, "-m", "kb", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )


def start_kb_serve(
    folder: Path, settings: Mapping[str, str] | None = None, *, store: Path | None = None
) -> KbServe:
    """``kb serve`` over ``folder/store`` (or ``store``) on a free port; ``settings`` as
    ``KB_*`` values."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update({f"KB_{k.upper()}": str(v) for k, v in (settings or {}).items()})
    store = store or folder / "store"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kb", "serve", "--store", str(store), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://localhost:{port}/"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "health", timeout=1).status_code == 200:
                return KbServe(url, proc, log, store)
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"kb serve exited: {log.read_text()}")
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"kb serve did not start: {log.read_text()}")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
    return int(fields[1]), fields[0]


def running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    stat = _stat(pid)
    return stat is not None and stat[1] not in ("Z", "X")


def descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid`` (children, their children, …) read from /proc, with its
    command line."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents.setdefault(stat[0], []).append(int(entry.name))
    found: dict[int, str] = {}
    todo = list(parents.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        found[child] = cmdline.decode(errors="replace").strip()
        todo.extend(parents.get(child, []))
    return found
