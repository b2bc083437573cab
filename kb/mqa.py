"""A local data.europa.eu Metadata Quality Assessment (MQA) score, and DCAT-AP validation.

Scoring follows the table in ``resources/dcat-ap/MQA.md`` (405 points): each indicator earns
its weight times the share of datasets (or distributions) that pass it. Reachability of access
and download URLs is checked with HTTP HEAD (GET when HEAD is refused) — but only against
loopback: URLs under the catalogue's base IRI are rewritten to the running server's URL, and
any other host is never contacted (it counts as unreachable, and the report says so).

Validation runs pySHACL with the vendored official DCAT-AP 3.0.1 shapes (shapes, range,
recommended, deprecated, mdr-vocabularies; the EU vocabularies loaded into the data graph) and
the pyshacl-normalised DCAT-AP VL 3.0 shapes, focused on the catalogue's own resources.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SH, SKOS
from rdflib.term import Node

from kb.catalogue import EU, catalogue_subjects
from kb.formats import named
from kb.namespaces import DC11 as DC
from kb.namespaces import EU_AUTHORITY as AT

RESOURCES = Path(str(resources.files("kb") / "resources" / "dcat-ap"))
DCAT_AP_SHAPES = (
    "shapes.ttl",
    "range.ttl",
    "shapes_recommended.ttl",
    "deprecateduris.ttl",
    "mdr-vocabularies.shape.ttl",
)
VL_SHAPES = "DCAT-AP-VL-SHACL.pyshacl-normalised.ttl"
VOCABULARIES = (
    "filetypes-skos.rdf",
    "data-theme-skos.rdf",
    "frequencies-skos.rdf",
    "licences-skos.rdf",
    "ADMS_SKOS_v1.00.rdf",
    "background-fixture.ttl",
)
#: The EDP list of machine-readable formats (MQA.md), used when the vocabulary says nothing.
MACHINE_READABLE = {
    "CSV", "GEOJSON", "ICS", "JSON", "JSON_LD", "KML", "KMZ", "NETCDF", "ODS", "RDFA",
    "RDF_N_QUADS", "RDF_N_TRIPLES", "RDF_TRIG", "RDF_TURTLE", "RDF_XML", "RSS", "SHP", "XLS",
    "XLSX", "XML",
}  # fmt: skip
RATINGS = ((351, "Excellent"), (221, "Good"), (121, "Sufficient"), (0, "Bad"))


# --- validation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    profile: str
    conforms: bool
    violations: int
    warnings: int
    infos: int
    failing: frozenset[str]  # focus nodes with a violation
    text: str
    #: the nested results (``sh:detail``) that explain why a top-level result failed a
    #: ``sh:node``/``sh:or``: pySHACL gives them severity Violation even under a Warning, so
    #: a validator that counts every result counts them as violations
    details: int = 0
    #: (focus node, path) of every result at any depth
    places: frozenset[tuple[str, str]] = frozenset()

    def line(self) -> str:
        nested = f"; {self.details} nested details under them" if self.details else ""
        return (
            f"{self.profile}: {'conforms' if self.violations == 0 else 'does not conform'} "
            f"({self.violations} violations, {self.warnings} warnings, {self.infos} infos"
            f"{nested})"
        )


@cache
def _shapes(kind: str) -> Graph:
    graph = Graph()
    if kind == "dcat-ap":
        for name in DCAT_AP_SHAPES:
            graph.parse(RESOURCES / "dcat-ap-3.0.1" / name)
    else:
        graph.parse(RESOURCES / "dcat-ap-vl-3.0" / VL_SHAPES)
    return graph


@cache
def vocabularies() -> Graph:
    graph = Graph()
    for name in VOCABULARIES:
        graph.parse(RESOURCES / "vocabularies" / name)
    return graph


def validate_catalogue(catalogue: Graph) -> tuple[Validation, Validation]:
    """(DCAT-AP 3.0.1, DCAT-AP VL 3.0) results for ``catalogue``."""
    from pyshacl import validate

    data = Graph()
    data += catalogue
    data += vocabularies()
    focus = [str(s) for s in catalogue_subjects(catalogue)]
    out = []
    for kind, profile in (("dcat-ap", "DCAT-AP 3.0.1"), ("vl", "DCAT-AP VL 3.0")):
        _conforms, report, text = validate(
            data,
            shacl_graph=_shapes(kind),
            inference="none",
            allow_warnings=True,
            focus_nodes=focus,
        )
        top = set(report.objects(None, SH.result))
        every = set(report.subjects(RDF.type, SH.ValidationResult)) | top
        severities = [report.value(r, SH.resultSeverity) for r in top]
        failing = frozenset(
            str(report.value(r, SH.focusNode))
            for r in report.objects(None, SH.result)
            if report.value(r, SH.resultSeverity) == SH.Violation
        )
        out.append(
            Validation(
                profile,
                severities.count(SH.Violation) == 0,
                severities.count(SH.Violation),
                severities.count(SH.Warning),
                severities.count(SH.Info),
                failing,
                str(text),
                details=len(every - top),
                places=frozenset(
                    (str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)))
                    for r in every
                ),
            )
        )
    return out[0], out[1]


# --- reachability ----------------------------------------------------------------------------


def loopback_mapper(base: str, server: str) -> Callable[[str], str | None]:
    """URLs under ``base`` -> the same path on ``server``; loopback URLs as they are; anything
    else -> ``None`` (never contacted)."""
    if not is_loopback(server):
        raise ValueError(f"{server} is not a loopback URL; reachability is checked on loopback")

    def mapped(url: str) -> str | None:
        if url.startswith(base):
            return server.rstrip("/") + "/" + url[len(base) :]
        return url if is_loopback(url) else None

    return mapped


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Reachability:
    """HEAD (then GET) on loopback URLs, each URL once."""

    def __init__(self, mapper: Callable[[str], str | None], timeout: float = 10.0) -> None:
        self.mapper = mapper
        self.timeout = timeout
        self.http = requests.Session()
        self.http.trust_env = False
        self.results: dict[str, int | str] = {}

    def ok(self, url: str) -> bool:
        if url not in self.results:
            self.results[url] = self._check(url)
        status = self.results[url]
        return isinstance(status, int) and 200 <= status < 400

    def _check(self, url: str) -> int | str:
        target = self.mapper(url)
        if target is None:
            return "not checked (not loopback)"
        try:
            r = self.http.head(target, timeout=self.timeout, allow_redirects=True)
            if r.status_code in (405, 501):
                r = self.http.get(target, timeout=self.timeout, stream=True)
                r.close()
            return r.status_code
        except requests.RequestException as exc:
            return f"error: {exc.__class__.__name__}"

    def close(self) -> None:
        self.http.close()


# --- scoring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    dimension: str
    name: str
    weight: int
    passed: int
    total: int

    @property
    def points(self) -> float:
        return self.weight * self.passed / self.total if self.total else 0.0


@dataclass
class Score:
    indicators: list[Indicator]
    validation: tuple[Validation, Validation] | None = None
    unreachable: dict[str, int | str] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(i.points for i in self.indicators)

    @property
    def maximum(self) -> int:
        return sum(i.weight for i in self.indicators)

    @property
    def rating(self) -> str:
        points = round(self.total)
        return next(name for floor, name in RATINGS if points >= floor)

    def report(self) -> str:
        lines = []
        dimension = ""
        for i in self.indicators:
            if i.dimension != dimension:
                dimension = i.dimension
                lines.append(f"{dimension}")
            lines.append(
                f"  {i.name:<42} {i.points:6.1f} / {i.weight:<3} ({i.passed}/{i.total} passed)"
            )
        lines.append(f"Total {self.total:.1f} / {self.maximum}: {self.rating}")
        for url, status in sorted(self.unreachable.items())[:20]:
            lines.append(f"  unreachable: {url} ({status})")
        if self.validation:
            lines += [v.line() for v in self.validation]
        return "\n".join(lines)


def _file_type_flags() -> tuple[set[str], set[str], set[str]]:
    """(file-type IRIs, machine-readable, non-proprietary) from the EU file-type vocabulary."""
    vocab = vocabularies()
    scheme = URIRef(EU + "file-type")
    types = {str(c) for c in vocab.subjects(SKOS.inScheme, scheme)}
    machine, open_ = set(), set()
    for c in types:
        flags = {
            (str(vocab.value(m, DC.source)), str(vocab.value(m, AT["legacy-code"])))
            for m in vocab.objects(URIRef(c), AT["op-mapped-code"])
        }
        code = c.rsplit("/", 1)[-1]
        if ("is-machine-readable", "true") in flags or code in MACHINE_READABLE:
            machine.add(c)
        if ("is-nonPropExt", "true") in flags:
            open_.add(c)
    return types, machine, open_


def score(
    catalogue: Graph,
    reach: Reachability,
    *,
    validation: tuple[Validation, Validation] | None = None,
) -> Score:
    """The MQA score of ``catalogue`` (all its pages merged)."""
    datasets: list[Node] = sorted(set(catalogue.subjects(RDF.type, DCAT.Dataset)), key=str)
    dists: list[Node] = sorted(set(catalogue.subjects(RDF.type, DCAT.Distribution)), key=str)
    vocab = vocabularies()
    file_types, machine, open_ = _file_type_flags()
    licences = {str(c) for c in vocab.subjects(SKOS.inScheme, URIRef(EU + "licence"))}
    if validation is None:
        validation = validate_catalogue(catalogue)
    failing = validation[0].failing
    iana = "https://www.iana.org/assignments/media-types/"

    def has(prop: URIRef) -> Callable[[Node], bool]:
        return lambda x: (x, prop, None) in catalogue

    def values(x: Node, prop: URIRef) -> list[str]:
        return [str(o) for o in catalogue.objects(x, prop)]

    def any_value(prop: URIRef, test: Callable[[str], bool]) -> Callable[[Node], bool]:
        return lambda x: any(test(v) for v in values(x, prop))

    def share(items: list[Node], test: Callable[[Node], bool]) -> tuple[int, int]:
        return sum(1 for x in items if test(x)), len(items)

    def from_vocabulary(x: Node) -> bool:
        return any(f in file_types for f in values(x, DCTERMS.format)) or any(
            m.startswith(iana) for m in values(x, DCAT.mediaType)
        )

    def compliant(x: Node) -> bool:
        parts = [str(x), *values(x, DCAT.distribution)]
        return not any(p in failing for p in parts)

    def public_vocab(v: str) -> bool:
        return v.startswith(EU + "access-right/")

    access_vocab = any_value(DCTERMS.accessRights, public_vocab)
    open_format = any_value(DCTERMS.format, open_.__contains__)
    machine_format = any_value(DCTERMS.format, machine.__contains__)
    known_licence = any_value(DCTERMS.license, licences.__contains__)

    def byte_size(x: Node) -> bool:
        return any(isinstance(o, Literal) for o in catalogue.objects(x, DCAT.byteSize))

    D, X = datasets, dists
    F, A, IO, R, C = (
        "Findability",
        "Accessibility",
        "Interoperability",
        "Reusability",
        "Contextuality",
    )
    rows: list[tuple[str, str, int, tuple[int, int]]] = [
        (F, "keywords", 30, share(D, has(DCAT.keyword))),
        (F, "categories (themes)", 30, share(D, has(DCAT.theme))),
        (F, "geo search (spatial)", 20, share(D, has(DCTERMS.spatial))),
        (F, "time-based search (temporal)", 20, share(D, has(DCTERMS.temporal))),
        (A, "accessURL reachable (HEAD)", 50, share(X, any_value(DCAT.accessURL, reach.ok))),
        (A, "downloadURL present", 20, share(X, has(DCAT.downloadURL))),
        (A, "downloadURL reachable (HEAD)", 30, share(X, any_value(DCAT.downloadURL, reach.ok))),
        (IO, "format present", 20, share(X, has(DCTERMS.format))),
        (IO, "media type present", 10, share(X, has(DCAT.mediaType))),
        (IO, "format/media type from vocabulary", 10, share(X, from_vocabulary)),
        (IO, "non-proprietary format", 20, share(X, open_format)),
        (IO, "machine-readable format", 20, share(X, machine_format)),
        (IO, "DCAT-AP compliance (SHACL)", 30, share(D, compliant)),
        (R, "licence present", 20, share(X, has(DCTERMS.license))),
        (R, "known licence (EU vocabulary)", 10, share(X, known_licence)),
        (R, "access restrictions present", 10, share(D, has(DCTERMS.accessRights))),
        (R, "access restrictions from vocabulary", 5, share(D, access_vocab)),
        (R, "contact point", 20, share(D, has(DCAT.contactPoint))),
        (R, "publisher", 10, share(D, has(DCTERMS.publisher))),
        (C, "rights", 5, share(X, has(DCTERMS.rights))),
        (C, "file size", 5, share(X, byte_size)),
        (C, "date of issue", 5, share(X, has(DCTERMS.issued))),
        (C, "modification date", 5, share(X, has(DCTERMS.modified))),
    ]  # fmt: skip
    indicators = [Indicator(dim, name, w, p, t) for dim, name, w, (p, t) in rows]
    unreachable = {u: s for u, s in reach.results.items() if not reach.ok(u)}
    return Score(indicators, validation, unreachable)


# --- fetching a harvested catalogue ---------------------------------------------------------


def fetch_catalogue(url: str, *, max_pages: int = 1000, timeout: float = 30.0) -> Graph:
    """GET the catalogue at a loopback ``url`` (Turtle), following Hydra next pages."""
    from kb.catalogue import HYDRA

    if not is_loopback(url):
        raise ValueError(f"{url} is not a loopback URL")
    http = requests.Session()
    http.trust_env = False
    merged = Graph()
    seen: set[str] = set()
    next_url: str | None = url
    try:
        while next_url and next_url not in seen and len(seen) < max_pages:
            seen.add(next_url)
            r = http.get(next_url, headers={"Accept": named("turtle").media_type}, timeout=timeout)
            r.raise_for_status()
            page = Graph().parse(data=r.text, format="turtle")
            merged += page
            nxt = next(iter(page.objects(None, HYDRA.nextPage)), None)
            next_url = urllib.parse.urljoin(url, str(nxt)) if nxt is not None else None
            if next_url and not is_loopback(next_url):
                next_url = url.split("?", 1)[0] + "?" + next_url.split("?", 1)[-1]
    finally:
        http.close()
    for s in list(
        merged.subjects(RDF.type, URIRef("http://www.w3.org/ns/hydra/core#PagedCollection"))
    ):
        merged.remove((s, None, None))
    return merged
