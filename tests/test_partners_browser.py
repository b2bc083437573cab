"""Partner-facing pages in headless Chromium against a real ``kb serve``: the reconciliation
help page shows the URL to paste into OpenRefine and fits the window, the preview card fits the
420 x 180 frame OpenRefine opens it in, suggest answers a script, and the home page's link
report renders with its lists of the unlinked."""

from __future__ import annotations

import json

import pytest

from tests.support.kbserve import KbServe as LiveServer
from tests.test_sparql_ui_browser import CHROMIUM, Page, page  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian package `chromium` is missing")


def _open(tab: Page, url: str) -> None:
    tab.call("Page.enable")
    tab.call("Page.navigate", url=url)
    tab.wait_for("document.readyState === 'complete' && document.body !== null")


def test_help_page_shows_the_service_url_and_fits(live_server: LiveServer, page: Page) -> None:  # noqa: F811
    _open(page, live_server.url + "reconcile/help?lang=en")
    assert page.js("document.querySelector('h1').innerText") == "Reconciliation service"
    shown = page.js("document.getElementById('service-url').innerText")
    assert shown == live_server.url + "reconcile"
    assert page.js("document.documentElement.lang") == "en"
    assert page.js("document.documentElement.scrollWidth <= window.innerWidth")
    found = page.wait_for(
        "window.__found || (fetch('/reconcile/suggest/entity?prefix=ku%20leu')"
        ".then(r => r.json()).then(j => { window.__found = JSON.stringify(j); }), null)"
    )
    assert "https://ror.org/05f950310" in [e["id"] for e in json.loads(found)["result"]]


def test_the_preview_card_fits_its_frame(live_server: LiveServer, page: Page) -> None:  # noqa: F811
    page.call(
        "Emulation.setDeviceMetricsOverride",
        width=420,
        height=180,
        deviceScaleFactor=1,
        mobile=False,
    )
    iri = "https://w3id.org/clusterkb/id/cluster/west-vlaanderen-blauwe-energie"
    _open(page, live_server.url + "reconcile/preview?lang=nl&id=" + iri)
    assert "(West-Vlaanderen)" in page.js("document.querySelector('h1').innerText")
    assert page.js("document.documentElement.scrollWidth") <= 420
    assert "provinciale cluster" in page.js("document.body.innerText")


def test_the_home_pages_link_report_renders(live_server: LiveServer, page: Page) -> None:  # noqa: F811
    _open(page, live_server.url + "?lang=en")
    assert page.js("document.getElementById('links').innerText") == "Links to authorities"
    rows = page.js("document.querySelectorAll('table.links tbody tr').length")
    assert rows >= 8
    first = page.js("document.querySelector('table.links tbody tr th').innerText")
    assert first == "regions"
    # a cell's list of the unlinked opens on a click
    opened = page.js(
        "(() => { const d = document.querySelector('table.links details');"
        " d.querySelector('summary').click();"
        " return d.open && d.querySelectorAll('li').length; })()"
    )
    assert opened >= 1
    assert page.js("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_cluster_pages_mirror_regions_render(live_server: LiveServer, page: Page) -> None:  # noqa: F811
    _open(page, live_server.url + "doc/cluster/vlaams-brabant-regeneratieve-geneeskunde?lang=nl")
    heading = page.js("document.querySelector('#mirror-regions h2').innerText")
    assert heading == "Spiegelregio's"
    items = page.js("document.querySelectorAll('#mirror-regions .ld-mirror-list > li').length")
    assert items == 1
    text = page.js("document.getElementById('mirror-regions').innerText")
    assert "Noord-Brabant" in text and "Partnerregio" in text
    assert page.js("document.documentElement.scrollWidth <= window.innerWidth")
