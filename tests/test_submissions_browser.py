"""The steward page in a real browser (headless Chromium over the DevTools protocol): log in with
a token, upload a file, see the validation report, commit; a broken file shows its violations.
The token lives in sessionStorage only: never in the URL or a cookie."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kb.auth import TokenStore
from tests.support.kbserve import KbServe, start_kb_serve
from tests.test_sparql_ui_browser import CHROMIUM, Page, page  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian package `chromium` is missing")

CLUSTER = (
    Path(__file__).resolve().parent.parent / "data/clusters/antwerpen-duurzaam-bouwen.ttl"
).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KbServe]:
    s = start_kb_serve(tmp_path_factory.mktemp("browser"))
    try:
        yield s
    finally:
        s.stop()


def _choose(tab: Page, name: str, text: str) -> None:
    tab.js(
        "(() => { const dt = new DataTransfer();"
        f" dt.items.add(new File([{json.dumps(text)}], {json.dumps(name)},"
        " {type: 'text/turtle'}));"
        " document.getElementById('file').files = dt.files; })()"
    )


def test_steward_page_validates_then_commits(server: KbServe, page: Page) -> None:  # noqa: F811
    token = TokenStore(server.store / "clusterkb-tokens.json").create(
        "Browser Steward", graphs=("clusters/*",)
    )
    page.call("Page.enable")
    page.call("Page.navigate", url=server.url + "submissions")
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('token')")
    page.js(f"document.getElementById('token').value = {json.dumps(token)}")
    page.js("document.querySelector('#token-form button[type=submit]').click()")
    assert page.js("sessionStorage.getItem('kbToken')") == token
    assert page.js("document.getElementById('token').value") == ""
    page.js("document.getElementById('graph').value = 'clusters/from-the-browser'")
    # a broken file: the report shows the violation with its line; nothing is committed
    broken = CLUSTER.replace("pc:runBy idorg:provincie-antwerpen ;", "")
    _choose(page, "broken.ttl", broken)
    page.js("document.getElementById('check').click()")
    page.wait_for("document.getElementById('report').innerText.includes('Refused')")
    text = page.js("document.getElementById('report').innerText")
    assert "HTTP 422" in text and "line " in text and "provinciebestuur" in text
    assert page.js("document.getElementById('commit').disabled") is True
    # the fixed file: accepted in the dry run, then committed
    _choose(page, "antwerpen.ttl", CLUSTER)
    page.js("document.getElementById('check').click()")
    page.wait_for("document.getElementById('report').innerText.includes('Accepted')")
    page.wait_for("document.getElementById('commit').disabled === false")
    page.js("document.getElementById('commit').click()")
    page.wait_for("document.getElementById('report').innerText.includes('Committed as version')")
    versions = requests.get(
        server.url + "graphs/clusters/from-the-browser?versions", timeout=30
    ).json()["versions"]
    assert versions[-1]["steward"] == "Browser Steward"
    assert versions[-1]["file"] == "antwerpen.ttl"
    assert token not in page.js("document.cookie + location.href")
    log = (server.store / "clusterkb-audit.jsonl").read_text()
    assert token not in log
