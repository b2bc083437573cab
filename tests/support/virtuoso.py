"""A private Virtuoso 7 (Debian ``virtuoso-opensource``) on loopback, for tests and benchmarks.

Follows ``shared/howto/virtuoso-on-loopback.md``: a private ``virtuoso.ini`` in a temporary
folder (rewritten line by line: the template has duplicate keys), SQL and HTTP ports on
127.0.0.1 only, the ``dba`` password changed before anything else is done, bulk loading with
``ld_dir`` / ``rdf_loader_run``. Stop it with :meth:`Virtuoso.stop` (by its process id).
"""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

from kb import processes

TEMPLATE = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
DEFAULT_DB = "/var/lib/virtuoso-opensource-7/db/"


def available() -> bool:
    return bool(shutil.which("virtuoso-t") and shutil.which("isql-vt") and TEMPLATE.exists())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Virtuoso:
    def __init__(
        self,
        folder: Path,
        *,
        data_dir: Path | None = None,
        max_rows: int = 1_000_000,
        timeout_s: int = 120,
        buffers: int = 340_000,
        dirty_buffers: int = 250_000,
    ) -> None:
        self.folder = folder
        self.data_dir = data_dir
        self.max_rows = max_rows
        self.timeout_s = timeout_s
        self.buffers = buffers
        self.dirty_buffers = dirty_buffers
        self.sql_port = _free_port()
        self.http_port = _free_port()
        self.password = "dba"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def sparql_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def _ini(self) -> str:
        db = str(self.folder / "db") + "/"
        allowed = f"., /usr/share/virtuoso-opensource-7/vad, {self.data_dir or db}"
        section = ""
        out: list[str] = []
        for line in TEMPLATE.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith("["):
                section = stripped
            line = line.replace(DEFAULT_DB, db)
            key = stripped.split("=", 1)[0].strip() if "=" in stripped else ""
            if section == "[Parameters]" and key == "ServerPort":
                line = f"ServerPort = 127.0.0.1:{self.sql_port}"
            elif section == "[HTTPServer]" and key == "ServerPort":
                line = f"ServerPort = 127.0.0.1:{self.http_port}"
            elif section == "[Parameters]" and key == "DirsAllowed":
                line = f"DirsAllowed = {allowed}"
            elif section == "[Parameters]" and key == "NumberOfBuffers":
                line = f"NumberOfBuffers = {self.buffers}"
            elif section == "[Parameters]" and key == "MaxDirtyBuffers":
                line = f"MaxDirtyBuffers = {self.dirty_buffers}"
            elif section == "[SPARQL]" and key == "ResultSetMaxRows":
                line = f"ResultSetMaxRows = {self.max_rows}"
            elif section == "[SPARQL]" and key == "MaxQueryExecutionTime":
                line = f"MaxQueryExecutionTime = {self.timeout_s}"
            elif section == "[URIQA]" and key == "DefaultHost":
                line = f"DefaultHost = 127.0.0.1:{self.http_port}"
            elif section == "[HTTPServer]" and key in ("ServerThreads", "MaxClientConnections"):
                line = f"{key} = 20"
            out.append(line)
        return "\n".join(out) + "\n"

    def start(self, timeout: float = 120) -> None:
        (self.folder / "db").mkdir(parents=True, exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        ini.write_text(self._ini())
        log = self.folder / "virtuoso.out"
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                ["virtuoso-t", "+foreground", "+configfile", str(ini)],
                cwd=self.folder / "db",
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        online = re.compile(rf"Server online at 127\.0\.0\.1:{self.sql_port}")
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            db_log = self.folder / "db" / "virtuoso.log"
            if db_log.exists():
                text += db_log.read_text(errors="replace")
            if online.search(text):
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"virtuoso exited: {text[-1000:]}")
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("virtuoso did not come online")
        new = secrets.token_urlsafe(16)
        self.isql(f"USER_SET_PASSWORD('dba', '{new}');")
        self.password = new

    def isql(self, sql: str, timeout: float = 600) -> str:
        done = subprocess.run(
            ["isql-vt", str(self.sql_port), "dba", self.password],
            input=sql + "\n",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        if "*** Error" in done.stdout:
            raise RuntimeError(f"isql: {done.stdout[-800:]}")
        return done.stdout

    def load(self, folder: Path, pattern: str, graph: str) -> None:
        """Bulk-load files matching ``pattern`` in ``folder`` (must be in DirsAllowed)."""
        self.isql(
            f"ld_dir('{folder}', '{pattern}', '{graph}');\nrdf_loader_run();\ncheckpoint;",
            timeout=3600,
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        processes.stop(self.proc, 30)
        self.proc = None
