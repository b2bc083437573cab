"""Writes the labelled linkage sample: a partner's (fictional, ``.test``) description of the
bundled knowledge base's organisations, clusters, regions, projects and facilities, each name
disturbed the way another dataset has it, plus hard negatives, and the truth table.

    python bench/linkage_sample.py        # rewrites tests/partners/linkage-sample.ttl + .csv

Deterministic (seeded). Disturbances, per thing: the other language's label, a typo, accents
and case lost, words reordered, or as written; the region given for 70 %; a cluster's members
given as the partner's IRIs of the same organisations. Hard negatives: for one thing in four a
second partner thing whose name differs by one word put in another region (another thing
that merely sounds alike), and names of things that are not in ClusterKB at all. A cluster's
activity is given as an ISIC v4 code (its sub-sector's first NACE code) for 60 %.
"""

from __future__ import annotations

import csv
import json
import random
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import SKOS

from kb import bundled
from kb.namespaces import CV, DCTERMS, FOAF, KB_NS, ORG, PC, PROJECT_KINDS

OUT = Path(__file__).resolve().parent.parent / "tests" / "partners"
P = "https://linkage.partner.test/id/"
SCHEMA = "https://schema.org/"
KINDS = (ORG.FormalOrganization, CV.PublicOrganisation, FOAF.Organization, PC.SpearheadCluster,
         PC.ProvincialCluster, DCTERMS.Location, PC.MirrorRegionPartnership, PC.Facility,
         PC.TestEnvironment, *(PC[k] for k in PROJECT_KINDS))  # fmt: skip
OTHER_REGIONS = ["NL31", "NL34", "NL41", "DE71", "FR10", "DK01"]
ABSENT = ["Brainport Development", "Health Valley Nijmegen", "Port of Rotterdam Authority",
          "Fraunhofer IWES", "Offshore Wind Scotland", "Medicon Valley Alliance",
          "Biobased Delta", "Food Valley NL", "Wallonie Biotech Cluster",
          "CleanTech Flanders Oy"]  # fmt: skip


def strip(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long = [k for k, w in enumerate(words) if len(w) >= 6]
    if not long:
        return text
    k = rng.choice(long)
    w = words[k]
    p = rng.randrange(1, len(w) - 1)
    words[k] = w[:p] + w[p + 1 :]
    return " ".join(words)


def main() -> None:
    rng = random.Random(11)
    g = bundled.data_graph(KB_NS)
    things = []
    for kind in KINDS:
        for s in sorted(set(g.subjects(RDF.type, kind))):
            labels = {
                lit.language: str(lit)
                for lit in g.objects(s, SKOS.prefLabel)
                if isinstance(lit, Literal)
            }
            if "en" in labels and "nl" in labels and "/.well-known/" not in str(s):
                things.append((str(s), labels))
    seen: set[str] = set()
    things = [t for t in things if not (t[0] in seen or seen.add(t[0]))]  # type: ignore[func-returns-value]
    out = Graph()
    truth: list[tuple[str, str, str]] = []
    partner_of: dict[str, str] = {}
    for n, (iri, _labels) in enumerate(things):
        partner_of[iri] = f"{P}t{n}"
    for n, (iri, labels) in enumerate(things):
        me = URIRef(partner_of[iri])
        how = rng.choices(
            ["other language", "typo", "accents+case", "word order", "as written"],
            [30, 25, 15, 15, 15],
        )[0]
        home, other = (
            (labels["nl"], labels["en"]) if rng.random() < 0.5 else (labels["en"], labels["nl"])
        )
        name = {
            "other language": other,
            "typo": typo(home, rng),
            "accents+case": strip(home).upper(),
            "word order": " ".join(reversed(home.split())),
            "as written": home,
        }[how]
        types = set(g.objects(URIRef(iri), RDF.type))
        kind = (
            "Place" if types & {DCTERMS.Location, PC.Facility, PC.TestEnvironment} else
            "Project" if types & {PC[k] for k in PROJECT_KINDS} else "Organization"
        )  # fmt: skip
        out.add((me, RDF.type, URIRef(SCHEMA + kind)))
        out.add(
            (me, URIRef(SCHEMA + "name"), Literal(name, lang=rng.choice(["nl", "en", "fr", "de"])))
        )
        regions = list(g.objects(URIRef(iri), DCTERMS.spatial)) or [
            r for c in g.objects(URIRef(iri), PC.runBy) for r in g.objects(c, DCTERMS.spatial)
        ]
        if regions and rng.random() < 0.7:
            out.add((me, URIRef(SCHEMA + "areaServed"), regions[0]))
        nace = sorted(
            str(x)
            for sub in g.objects(URIRef(iri), PC.subSector)
            for x in g.objects(sub, SKOS.relatedMatch)
            if str(x).startswith("http://data.europa.eu/ux2/nace2/")
        )
        if nace and rng.random() < 0.6:  # the partner's own activity code (ISIC v4 = NACE here)
            out.add((me, URIRef(SCHEMA + "isicV4"), Literal(nace[0].rsplit("/", 1)[-1])))
        for m in g.objects(URIRef(iri), ORG.hasMember):
            if str(m) in partner_of:
                out.add((me, URIRef(SCHEMA + "member"), URIRef(partner_of[str(m)])))
        truth.append((str(me), iri, how))
        words = labels["en"].split()
        if n % 4 == 0 and len(words) >= 2:  # a hard negative: one word off, somewhere else
            words[-1] = rng.choice(["Nederland", "Zuid", "Noord", "Twente", "Wallonie", "Rijnland"])
            neg = URIRef(f"{P}n{n}")
            out.add((neg, RDF.type, URIRef(SCHEMA + "Organization")))
            out.add((neg, URIRef(SCHEMA + "name"), Literal(" ".join(words), lang="en")))
            region = "http://data.europa.eu/nuts/code/" + rng.choice(OTHER_REGIONS)
            out.add((neg, URIRef(SCHEMA + "areaServed"), URIRef(region)))
            truth.append((str(neg), "", "hard negative"))
    for k, name in enumerate(ABSENT):
        absent = URIRef(f"{P}a{k}")
        out.add((absent, RDF.type, URIRef(SCHEMA + "Organization")))
        out.add((absent, URIRef(SCHEMA + "name"), Literal(name, lang="en")))
        truth.append((str(absent), "", "not in ClusterKB"))
    header = (
        "# A labelled linkage sample: a partner's (fictional) description of ClusterKB's\n"
        "# organisations, clusters and regions with disturbed names, and hard negatives.\n"
        "# Generated by bench/linkage_sample.py (seeded); the truth is linkage-labels.csv.\n\n"
    )
    (OUT / "linkage-sample.ttl").write_text(
        header + out.serialize(format="turtle"), encoding="utf-8"
    )
    with (OUT / "linkage-labels.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["theirs", "ours", "how"])
        w.writerows(truth)
    pairs = sum(1 for t in truth if t[1])
    print(json.dumps({"true pairs": pairs, "negatives": len(truth) - pairs, "triples": len(out)}))


if __name__ == "__main__":
    main()
