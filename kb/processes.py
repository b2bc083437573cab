"""Child processes ClusterKB starts (the managed Oxigraph, the validation worker; in tests and
benchmarks also Virtuoso, ``kb serve`` and Chromium), and how they end with their parent."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import subprocess
import threading
import time


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


_PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int = signal.SIGTERM) -> None:
    """Linux: this process gets ``sig`` when the thread that started it dies, even by
    ``kill -9``. Safe before ``exec`` (``preexec_fn``); a no-op where ``prctl`` is missing."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass


def end_with_parent(parent: int) -> None:
    """Make this (worker) process exit as soon as process ``parent`` ends, however it ends.

    A daemon thread waits on a pidfd of the parent (Linux >= 5.3; elsewhere it polls
    ``getppid`` twice a second) and calls ``os._exit``. Not ``PR_SET_PDEATHSIG``: that fires
    when the *thread* that started the child exits, and a pool may be restarted from a
    request thread.
    """
    if os.getppid() != parent:  # the parent died before the watch began
        os._exit(1)

    def watch() -> None:
        try:
            fd = os.pidfd_open(parent)
        except (AttributeError, OSError):  # Linux < 5.3 or no pidfd_open: poll
            while os.getppid() == parent:
                time.sleep(0.5)
        else:
            select.select([fd], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()
