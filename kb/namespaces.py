"""Namespaces, prefixes and the minting of identifiers and graph names."""

from __future__ import annotations

import re

from rdflib import Namespace

#: The persistent namespace of everything ClusterKB names (Flemish URI standard: things under
#: ``id/``, their documents under ``doc/``, vocabularies under ``ns/``, graphs under
#: ``graph/``). Fixed: it does not change with the host, port or deployment that serves it;
#: every server dereferences it by path, and w3id.org redirects it to the production host.
KB_NS = "https://w3id.org/clusterkb/"
#: The ontology's persistent namespace.
ONTOLOGY_IRI = KB_NS + "ns/provinciale-clusters"
PC = Namespace(ONTOLOGY_IRI + "#")
PCSH = Namespace(ONTOLOGY_IRI + "/shapes#")
#: ClusterKB's own small vocabularies: commit history, endpoint limits.
HIST = Namespace(KB_NS + "ns/history#")
KBE = Namespace(KB_NS + "ns/endpoint#")

#: Prefixes offered to query writers (the ontology's and the reused vocabularies'). Every
#: namespace IRI the code uses is spelled here once; the constants below are made from it.
PREFIXES: dict[str, str] = {
    "pc": str(PC),
    "pcsh": str(PCSH),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "time": "http://www.w3.org/2006/time#",
    "cv": "http://data.europa.eu/m8g/",
    "schema": "https://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "adms": "http://www.w3.org/ns/adms#",
    "locn": "http://www.w3.org/ns/locn#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "sh": "http://www.w3.org/ns/shacl#",
    "nuts": "http://data.europa.eu/nuts/code/",
    "nace": "http://data.europa.eu/ux2/nace2/",
    "wd": "http://www.wikidata.org/entity/",
    "ror": "https://ror.org/",
}

# Namespaces as rdflib ``Namespace`` values (``str`` subclasses: ``f"<{PROV}used>"`` and
# ``PROV.used`` both work; a term that is also a ``str`` method needs ``DCTERMS["format"]``).
RDF_NS = Namespace(PREFIXES["rdf"])
RDFS_NS = Namespace(PREFIXES["rdfs"])
XSD = Namespace(PREFIXES["xsd"])
SKOS = Namespace(PREFIXES["skos"])
DCTERMS = Namespace(PREFIXES["dct"])
ORG = Namespace(PREFIXES["org"])
PROV = Namespace(PREFIXES["prov"])
TIME = Namespace(PREFIXES["time"])
CV = Namespace(PREFIXES["cv"])
SCHEMA = Namespace(PREFIXES["schema"])
FOAF = Namespace(PREFIXES["foaf"])
ADMS = Namespace(PREFIXES["adms"])
DCAT = Namespace(PREFIXES["dcat"])
SH = Namespace(PREFIXES["sh"])
#: Further vocabularies the catalogue, the service description and the MQA use.
ROV = Namespace("http://www.w3.org/ns/regorg#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
ENT = Namespace("http://www.w3.org/ns/entailment/")
EU_AUTHORITY = Namespace("http://publications.europa.eu/ontology/authority/")
DC11 = Namespace("http://purl.org/dc/elements/1.1/")

#: The ontology's project classes: pc:ClusterProject and its subclasses (local names).
PROJECT_KINDS = (
    "ClusterProject",
    "Study",
    "Demonstration",
    "StructuralInvestment",
    "PromotionActivity",
    "LabourMarketInitiative",
)

#: Where blank nodes a bulk load or a remote store turned into IRIs live: ``{base}{GENID}...``.
GENID = ".well-known/genid/"


def named(var: str) -> str:
    """A SPARQL condition: ``?var`` is an IRI that names a thing, not a skolemised blank node."""
    return f"(isIRI(?{var}) && !CONTAINS(STR(?{var}), '/{GENID}'))"


#: Further IRI spaces the pages know by name (authorities whose identifiers we link to).
KBO = "https://org.belgif.be/id/"


def expand(curie: str) -> str:
    """``dct:source`` -> ``http://purl.org/dc/terms/source`` (prefixes of :data:`PREFIXES`)."""
    prefix, _, local = curie.partition(":")
    return PREFIXES[prefix] + local


_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """ASCII, lower-case, hyphenated reference segment (Flemish URI standard)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _SLUG.sub("-", ascii_text.lower()).strip("-")


def thing_iri(base: str, kind: str, ref: str) -> str:
    """``{base}id/{kind}/{ref}``."""
    return f"{base}id/{kind}/{ref}"


def graph_iri(base: str, name: str) -> str:
    """``{base}graph/{name}`` — the named graph a file or a steward's data lives in."""
    return f"{base}graph/{name}"


def sparql_prologue(names: tuple[str, ...] | None = None) -> str:
    """PREFIX lines for the given prefixes (all by default)."""
    keys = names or tuple(PREFIXES)
    return "".join(f"PREFIX {k}: <{PREFIXES[k]}>\n" for k in keys)
