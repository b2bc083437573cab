"""The query UI in a real browser: headless Chromium (Debian's ``chromium``) loads ``/sparql``
from a running ``kb serve``, runs an example query by clicking it, and the rendered YASR table
must show rows with clickable resource IRIs. Driven over the Chrome DevTools Protocol with
``websocket-client``; the screenshot is kept as ``tests/artefacts/sparql-ui.png``."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from kb import processes
from tests.support import chromium
from tests.support.kbserve import KbServe as LiveServer

CHROMIUM = chromium.CHROMIUM
ARTEFACTS = Path(__file__).parent / "artefacts"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian package `chromium` is not installed (.ci/run installs it)"
)


class Page:
    """A page target spoken to over the DevTools websocket."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def js(self, expression: str) -> Any:
        out = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in out:
            raise RuntimeError(f"{expression}: {out['exceptionDetails']}")
        return out["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 30) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    profile = tmp_path / "chromium-profile"
    proc = subprocess.Popen(
        chromium.command(
            profile,
            "--disable-dev-shm-usage",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1400,1000",
            "about:blank",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        session = requests.Session()
        session.trust_env = False
        targets = session.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        target = next(t for t in targets if t["type"] == "page")
        p = Page(target["webSocketDebuggerUrl"])
        try:
            yield p
        finally:
            p.close()
    finally:
        processes.stop(proc)


def test_example_query_renders_a_table_with_links(live_server: LiveServer, page: Page) -> None:
    page.call("Page.enable")
    page.call("Page.navigate", url=live_server.url + "sparql")
    page.wait_for("document.readyState === 'complete' && !!window.kbYasgui")
    page.js("document.querySelector('[data-example=\"01-helix-balance\"]').click()")
    rows = page.wait_for("document.querySelectorAll('.yasr table tbody tr').length")
    assert rows >= 5
    links = page.js("Array.from(document.querySelectorAll('.yasr table tbody a')).map(a => a.href)")
    assert any(href.startswith(live_server.url + "id/cluster/") for href in links), links[:5]
    assert "Helix" in page.js("document.querySelector('.yasr').innerText") or rows
    shot = page.call("Page.captureScreenshot", format="png")
    ARTEFACTS.mkdir(exist_ok=True)
    import base64

    (ARTEFACTS / "sparql-ui.png").write_bytes(base64.b64decode(shot["data"]))
