"""What the bundled data holds, counted from its files (one provincial cluster per file of
``data/clusters/``), so tests that count query rows follow the data."""

from __future__ import annotations

from pathlib import Path

CLUSTERS = len(list((Path(__file__).resolve().parents[2] / "data" / "clusters").glob("*.ttl")))
