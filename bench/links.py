"""Link-discovery benchmark: precision and recall of the suggestions at the default threshold
on the labelled linkage sample, with the time they take.

    python bench/linkage_sample.py   # (re)writes the sample and its labels, seeded
    python bench/links.py [--threshold T]

Starts the bundled knowledge base in a fresh store and a second SPARQL server on loopback with
``tests/partners/linkage-sample.ttl`` (a partner's description of our organisations, clusters,
regions, projects and facilities under disturbed names, plus hard negatives), registers and
harvests it, asks :func:`kb.linking.suggest.suggest`, and scores the suggestions against
``tests/partners/linkage-labels.csv``: precision = right suggestions / suggestions, recall =
true pairs with a right suggestion / true pairs, per disturbance too. Needs only loopback.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.auth import Principal
from kb.config import load_settings
from kb.linking import harvest as hv
from kb.linking import partners
from kb.linking import suggest as sg
from kb.namespaces import KB_NS
from kb.service import Service
from kb.store.oxigraph import ManagedOxigraph
from kb.submit import Writer

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "partners"
GRAPH = "https://linkage.partner.test/graph/sample"


def evaluate(suggestions: list[sg.Suggestion], labels: Path) -> dict[str, object]:
    rows = list(csv.DictReader(labels.open(encoding="utf-8")))
    truth = {r["theirs"]: r["ours"] for r in rows}
    how = {r["theirs"]: r["how"] for r in rows}
    right = [s for s in suggestions if truth.get(s.theirs) == s.ours]
    found = {s.theirs for s in right}
    pairs = [t for t, o in truth.items() if o]
    per = Counter(how[t] for t in pairs)
    hit = Counter(how[t] for t in pairs if t in found)
    wrong_on_negatives = sum(1 for s in suggestions if not truth.get(s.theirs))
    return {
        "suggestions": len(suggestions),
        "right": len(right),
        "precision": len(right) / len(suggestions) if suggestions else 0.0,
        "recall": len(found) / len(pairs),
        "true pairs": len(pairs),
        "negatives": len(rows) - len(pairs),
        "suggested on negatives": wrong_on_negatives,
        "recall by disturbance": {k: f"{hit[k]}/{v}" for k, v in sorted(per.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=sg.THRESHOLD)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-bench-links-"))
    svc = Service(load_settings({"store": str(work / "kb"), "namespace": KB_NS}, environ={}))
    svc.start(echo=lambda _: None, watch=False)
    partner = ManagedOxigraph(work / "partner")
    partner.start(watch=False)
    try:
        data = (SAMPLE / "linkage-sample.ttl").read_bytes()
        partner.client().put_graph(GRAPH, data, content_type="text/turtle")
        writer, admin = Writer(svc.store, svc.settings), Principal("bench", "bench", "admin")
        body = {
            "slug": "linkage", "name": "Linkage sample", "region": "http://data.europa.eu/nuts/code/NL34",
            "endpoint": partner.url + "/query", "graph": GRAPH,
            "licence": "https://creativecommons.org/licenses/by/4.0/",
            "contact": {"name": "Bench", "email": "bench@partner.test"},
        }  # fmt: skip
        partners.register(writer, admin, partners.from_dict(body))
        done = hv.harvest(writer, admin, "linkage")
        assert done.succeeded, done.reason
        registered = partners.read(svc.store)["linkage"]
        started = time.perf_counter()
        found = sg.suggest(svc.store, registered, threshold=args.threshold)
        seconds = time.perf_counter() - started
        result = evaluate(found, SAMPLE / "linkage-labels.csv")
        print(f"harvested {done.triples} triples; suggest took {seconds:.2f} s")
        print(
            f"threshold {args.threshold}: {result['suggestions']} suggestions,"
            f" {result['right']} right"
        )
        print(f"precision {result['precision']:.3f}   recall {result['recall']:.3f}"
              f"   ({result['true pairs']} true pairs, {result['negatives']} negatives,"
              f" {result['suggested on negatives']} suggestions on negatives)")  # fmt: skip
        print("recall by disturbance:", result["recall by disturbance"])
    finally:
        partner.stop()
        svc.stop()


if __name__ == "__main__":
    main()
