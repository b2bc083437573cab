"""The mirror-regions view of a cluster page: the partner regions and why (type, framework),
the theme, the members, the period, the joint projects, in Dutch and English; partners'
harvested data about those regions appears once harvested (tests/test_harvest.py)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from kb.linking.mirror import mirror_view
from kb.namespaces import KB_NS
from kb.service import Service

VB = KB_NS + "id/cluster/vlaams-brabant-regeneratieve-geneeskunde"


def section(client: FlaskClient, cluster: str, lang: str) -> str:
    html = client.get(f"/doc/cluster/{cluster}?lang={lang}").get_data(as_text=True)
    found = re.search(r'<section class="ld-mirror" id="mirror-regions">(.*?)</section>', html, re.S)
    assert found, "no mirror-regions section"
    return found.group(1)


def test_the_view_names_the_regions_and_why(service: Service) -> None:
    view = mirror_view(service.store, VB, "en")
    (regmed,) = view.partnerships
    assert regmed.label.startswith("RegMed XB")
    assert {label for _, label in regmed.regions} == {
        "Utrecht",
        "North Brabant",
        "Limburg (Netherlands)",
    }
    assert [label for _, label in regmed.kinds] == ["Mirror region"]
    assert [label for _, label in regmed.frameworks] == ["Bilateral cooperation"]
    assert [label for _, label in regmed.themes] == ["Innovative regenerative medicine"]
    assert regmed.start == "2017" and regmed.end is None
    assert len(view.projects) >= 3 and not view.harvested


def test_the_cluster_page_shows_it_in_dutch_and_english(client: FlaskClient) -> None:
    en = section(client, "vlaams-brabant-regeneratieve-geneeskunde", "en")
    assert "<h2>Mirror regions</h2>" in en and "Partner region" in en and "Why" in en
    assert "North Brabant" in en and "Bilateral cooperation" in en
    assert "Joint projects (internationalisation and branding)" in en
    nl = section(client, "vlaams-brabant-regeneratieve-geneeskunde", "nl")
    assert "Spiegelregio&#39;s" in nl or "Spiegelregio's" in nl
    assert "Partnerregio" in nl and "Noord-Brabant" in nl


def test_a_cluster_without_a_partnership_says_so(client: FlaskClient) -> None:
    en = section(client, "antwerpen-duurzaam-bouwen", "en")
    assert "No mirror-region partnership known for this cluster." in en
