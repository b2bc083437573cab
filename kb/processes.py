"""Child processes ClusterKB starts (the managed Oxigraph; in tests and benchmarks also
Virtuoso, ``kb serve`` and Chromium)."""

from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen[bytes], grace: float = 10) -> None:
    """SIGTERM, ``grace`` seconds to exit, then SIGKILL; always reaped."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
