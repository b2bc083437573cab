"""The knowledge base described for portals: a DCAT-AP 3.0.1 catalogue (also meeting DCAT-AP
VL 3.0), built from the dumps' manifest — no store queries. No HTTP. Its VoID description is
:mod:`kb.void`.

Identifiers (Flemish URI standard): ``{base}id/catalogus/clusterkb``,
``{base}id/dataset/{name}``, ``{base}id/distributie/{name}/{format}``,
``{base}id/dataservice/sparql``, ``{base}id/organisatie/clusterkb`` (publisher) and
``{base}id/contactpunt/clusterkb``. They dereference on the server (the pages fall back to the
catalogue graph for them).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from kb.dumps import FORMAT_BY_KEY, WHOLE, Dumps, graph_name
from kb.namespaces import ADMS, DCATAP, HYDRA, ONTOLOGY_IRI, SPDX, VCARD

EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = EU + "file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
FLEMISH_LICENCE = "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0"
PUBLIC = URIRef(EU + "access-right/PUBLIC")
THEMES = (URIRef(EU + "data-theme/ECON"), URIRef(EU + "data-theme/REGI"))
KEYWORDS = {
    "nl": ("clusterbeleid", "innovatie", "provincies", "triple helix", "linked open data"),
    "en": ("cluster policy", "innovation", "provinces", "triple helix", "linked open data"),
}
#: Paths (under the base) of the identifiers the catalogue mints.
RESOURCE_PATHS = (
    "id/catalogus/",
    "id/dataset/",
    "id/distributie/",
    "id/dataservice/",
    "id/organisatie/clusterkb",
    "id/contactpunt/",
    "id/rechten/",
)
NUTS = "http://data.europa.eu/nuts/code/"
COUNTRIES = URIRef(EU + "country")
BELGIUM = URIRef(EU + "country/BEL")
#: The countries of the NUTS classification: NUTS country code -> (EU Countries authority table
#: code, i.e. ISO 3166-1 alpha-3; Dutch name; English name). NUTS writes Greece EL.
NUTS_COUNTRIES = {
    "AL": ("ALB", "Albanië", "Albania"), "AT": ("AUT", "Oostenrijk", "Austria"),
    "BE": ("BEL", "België", "Belgium"), "BG": ("BGR", "Bulgarije", "Bulgaria"),
    "CH": ("CHE", "Zwitserland", "Switzerland"), "CY": ("CYP", "Cyprus", "Cyprus"),
    "CZ": ("CZE", "Tsjechië", "Czechia"), "DE": ("DEU", "Duitsland", "Germany"),
    "DK": ("DNK", "Denemarken", "Denmark"), "EE": ("EST", "Estland", "Estonia"),
    "EL": ("GRC", "Griekenland", "Greece"), "ES": ("ESP", "Spanje", "Spain"),
    "FI": ("FIN", "Finland", "Finland"), "FR": ("FRA", "Frankrijk", "France"),
    "HR": ("HRV", "Kroatië", "Croatia"), "HU": ("HUN", "Hongarije", "Hungary"),
    "IE": ("IRL", "Ierland", "Ireland"), "IS": ("ISL", "IJsland", "Iceland"),
    "IT": ("ITA", "Italië", "Italy"), "LI": ("LIE", "Liechtenstein", "Liechtenstein"),
    "LT": ("LTU", "Litouwen", "Lithuania"), "LU": ("LUX", "Luxemburg", "Luxembourg"),
    "LV": ("LVA", "Letland", "Latvia"), "ME": ("MNE", "Montenegro", "Montenegro"),
    "MK": ("MKD", "Noord-Macedonië", "North Macedonia"), "MT": ("MLT", "Malta", "Malta"),
    "NL": ("NLD", "Nederland", "Netherlands"), "NO": ("NOR", "Noorwegen", "Norway"),
    "PL": ("POL", "Polen", "Poland"), "PT": ("PRT", "Portugal", "Portugal"),
    "RO": ("ROU", "Roemenië", "Romania"), "RS": ("SRB", "Servië", "Serbia"),
    "SE": ("SWE", "Zweden", "Sweden"), "SI": ("SVN", "Slovenië", "Slovenia"),
    "SK": ("SVK", "Slowakije", "Slovakia"), "TR": ("TUR", "Turkije", "Türkiye"),
    "UK": ("GBR", "Verenigd Koninkrijk", "United Kingdom"),
}  # fmt: skip
_COUNTRY_NAMES = {code: (nl, en) for code, nl, en in NUTS_COUNTRIES.values()}


#: How the catalogue names the authorities of the linksets (``data/links/``).
LINKSET_NAMES = {
    "wikidata": "Wikidata",
    "kbo": "KBO/BCE",
    "ror": "ROR",
    "nuts": "NUTS",
    "nace": "NACE",
}


def spatial_coverage(nuts_regions: Iterable[str]) -> list[URIRef]:
    """The dct:spatial values of a dataset whose data name ``nuts_regions`` (NUTS IRIs): the
    countries they lie in, as IRIs of the EU Countries table, Belgium always.

    DCAT-AP 3.0.1 (mdr-vocabularies) wants a dct:spatial value from the EU Countries, Places
    or Continents tables or GeoNames; a NUTS IRI fails those rules. The regions themselves
    stay in the data (dct:spatial of clusters, provinces, partnerships) and in the VoID's NUTS
    linkset, where a consumer finds them at region level."""
    countries = {BELGIUM}
    for iri in nuts_regions:
        if iri.startswith(NUTS) and (found := NUTS_COUNTRIES.get(iri[len(NUTS) :][:2])):
            countries.add(URIRef(f"{COUNTRIES}/{found[0]}"))
    return sorted(countries)


DUTCH = URIRef(EU + "language/NLD")
ENGLISH = URIRef(EU + "language/ENG")


@dataclass(frozen=True)
class Publisher:
    """Who publishes the catalogue (settings ``publisher_name``, ``contact_email``,
    ``licence``)."""

    name: str = "ClusterKB"
    email: str = "opendata@example.org"
    licence: str = FLEMISH_LICENCE


@dataclass(frozen=True)
class Site:
    """Where the downloads are: the server's ``/downloads`` or a static release."""

    landing: str  # the page listing the downloads (access URL, landing page)
    downloads: str  # prefix of the download URLs

    @classmethod
    def served(cls, base: str) -> Site:
        return cls(base + "downloads", base + "downloads/")

    def download(self, path: str) -> str:
        return self.downloads + urllib.parse.quote(path)


def _u(base: str, path: str) -> URIRef:
    return URIRef(base + path)


def dataset_name(base: str, graph: str | None) -> str:
    return WHOLE if graph is None else graph_name(base, graph).replace("/", "--")


def datetime_literal(iso: str) -> Literal:
    """An ISO timestamp as an ``xsd:dateTime`` to the second."""
    return Literal(iso[:19], datatype=XSD.dateTime)


# --- DCAT-AP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int  # datasets matching

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


def datasets(base: str, dumps: Dumps, modified_since: dt.datetime | None = None) -> list[str]:
    """Graph IRIs ("" for the whole knowledge base) in catalogue order; with
    ``modified_since``, only those whose content changed since then."""
    graphs = ["", *sorted(k for k in dumps.stats if k)]
    if modified_since is None:
        return graphs
    if modified_since.tzinfo is None:
        modified_since = modified_since.replace(tzinfo=dt.UTC)
    return [
        g
        for g in graphs
        if dt.datetime.fromisoformat(dumps.stats[g].modified or dumps.generated) >= modified_since
    ]


def catalogue_graph(
    base: str,
    dumps: Dumps,
    publisher: Publisher = Publisher(),
    *,
    page: int = 1,
    page_size: int | None = None,
    modified_since: dt.datetime | None = None,
    page_url: str | None = None,
    site: Site | None = None,
) -> Graph:
    """The DCAT-AP catalogue; with ``page_size`` one Hydra page of its datasets."""
    site = site or Site.served(base)
    g = Graph()
    for prefix, ns in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("spdx", SPDX),
        ("dcatap", DCATAP),
        ("adms", ADMS),
        ("hydra", HYDRA),
        ("skos", SKOS),
    ):
        g.bind(prefix, ns)
    cat = _u(base, "id/catalogus/clusterkb")
    agent = _u(base, "id/organisatie/clusterkb")
    contact = _u(base, "id/contactpunt/clusterkb")
    service = _u(base, "id/dataservice/sparql")
    licence = URIRef(publisher.licence)
    modified = datetime_literal(dumps.generated)
    issued = Literal("2026-11-27", datatype=XSD.date)

    g.add((cat, RDF.type, DCAT.Catalog))
    _ident(g, cat, "clusterkb-catalogus")
    _text(g, cat, DCTERMS.title, "Catalogus van ClusterKB", "ClusterKB catalogue")
    _text(
        g,
        cat,
        DCTERMS.description,
        "Linked open data over het provinciaal innovatieclusterbeleid in Vlaanderen: clusters, "
        "sectoren, helixactoren, werven, projecten, financiering en spiegelregio's.",
        "Linked open data on Flemish provincial innovation-cluster policy: clusters, sectors, "
        "helix actors, work streams, projects, funding and mirror regions.",
    )
    g.add((cat, DCTERMS.publisher, agent))
    g.add((cat, DCAT.contactPoint, contact))
    g.add((cat, FOAF.homepage, URIRef(base)))
    g.add((cat, DCTERMS.license, licence))
    g.add((cat, DCTERMS.language, DUTCH))
    g.add((cat, DCTERMS.language, ENGLISH))
    g.add((cat, DCTERMS.issued, issued))
    g.add((cat, DCTERMS.modified, datetime_literal(dumps.stats[""].modified or dumps.generated)))
    g.add((cat, DCTERMS.spatial, BELGIUM))
    g.add((cat, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
    g.add((cat, DCAT.service, service))

    _agent(g, agent, publisher)
    g.add((contact, RDF.type, VCARD.Kind))
    g.add((contact, VCARD.fn, Literal(f"Open data – {publisher.name}", lang="nl")))
    g.add((contact, VCARD.hasEmail, URIRef("mailto:" + publisher.email)))
    _licence(g, licence)

    # the SPARQL endpoint
    g.add((service, RDF.type, DCAT.DataService))
    _ident(g, service, "clusterkb-sparql")
    _text(g, service, DCTERMS.title, "SPARQL-eindpunt van ClusterKB", "ClusterKB SPARQL endpoint")
    _text(
        g,
        service,
        DCTERMS.description,
        "SPARQL 1.1-eindpunt (alleen lezen) over de hele kennisbank.",
        "Read-only SPARQL 1.1 endpoint over the whole knowledge base.",
    )
    g.add((service, DCAT.endpointURL, _u(base, "sparql")))
    g.add((service, DCAT.endpointDescription, _u(base, "sparql")))
    g.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    g.add((URIRef("https://www.w3.org/TR/sparql11-protocol/"), RDF.type, DCTERMS.Standard))
    g.add((service, DCAT.servesDataset, _u(base, "id/dataset/" + WHOLE)))
    g.add((service, DCTERMS.publisher, agent))
    g.add((service, DCAT.contactPoint, contact))
    g.add((service, DCTERMS.accessRights, PUBLIC))
    g.add((service, DCTERMS.license, licence))
    g.add((service, DCAT.landingPage, URIRef(base)))
    g.add((URIRef(base), RDF.type, FOAF.Document))
    for theme in THEMES:
        g.add((service, DCAT.theme, theme))
    for word in ("SPARQL", "linked open data"):
        g.add((service, DCAT.keyword, Literal(word, lang="en")))

    chosen = datasets(base, dumps, modified_since)
    if page_size is not None:
        view = Page(page, page_size, len(chosen))
        chosen = chosen[(page - 1) * page_size : page * page_size]
        _hydra(g, page_url or base + "catalog", view)
    for graph in chosen:
        ds = _dataset(
            g, base, site, dumps, graph or None, agent, contact, licence, modified, issued
        )
        g.add((cat, DCAT.dataset, ds))
    _typing(g)
    return g


def _dataset(
    g: Graph,
    base: str,
    site: Site,
    dumps: Dumps,
    graph: str | None,
    agent: URIRef,
    contact: URIRef,
    licence: URIRef,
    modified: Literal,
    issued: Literal,
) -> URIRef:
    name = dataset_name(base, graph)
    stats = dumps.stats[graph or ""]
    whole = dumps.stats[""]
    modified = datetime_literal(stats.modified or dumps.generated)
    ds = _u(base, "id/dataset/" + name)
    g.add((ds, RDF.type, DCAT.Dataset))
    _ident(g, ds, name)
    if graph is None:
        title_nl, title_en = (
            "ClusterKB – de hele kennisbank",
            "ClusterKB – the whole knowledge base",
        )
        desc_nl = "Alle grafen van ClusterKB: ontologie, SHACL-vormen, referentiedata en clusters."
        desc_en = "Every graph of ClusterKB: ontology, SHACL shapes, reference data and clusters."
    else:
        short = graph_name(base, graph)
        title_nl = f"ClusterKB – {stats.title.get('nl') or short}"
        title_en = f"ClusterKB – {stats.title.get('en') or short}"
        desc_nl = f"De graaf <{graph}> van ClusterKB ({stats.triples} tripels)."
        desc_en = f"The graph <{graph}> of ClusterKB ({stats.triples} triples)."
        if short.startswith("links/") and stats.linksets:
            names = ", ".join(LINKSET_NAMES.get(t, t) for t in stats.linksets)
            title_nl = f"ClusterKB – linkset naar {names}"
            title_en = f"ClusterKB – linkset to {names}"
            desc_nl = (
                f"De links (owl:sameAs) van ClusterKB naar {names}, elk nagegaan in een openbare "
                f"bron ({stats.triples} links, graaf <{graph}>)."
            )
            desc_en = (
                f"ClusterKB's links (owl:sameAs) to {names}, each checked against a public "
                f"source ({stats.triples} links, graph <{graph}>)."
            )
        elif short == "links/unknown":
            title_nl = "ClusterKB – identificatoren die ClusterKB niet kent"
            title_en = "ClusterKB – identifiers ClusterKB does not know"
            desc_nl = (
                "Per ding en per autoriteit waarvoor geen geverifieerde identificator bekend is, "
                f"de uitdrukkelijke vermelding daarvan (pc:identifierUnknown; graaf <{graph}>)."
            )
            desc_en = (
                "For each thing and authority with no verified identifier known, the explicit "
                f"statement of it (pc:identifierUnknown; graph <{graph}>)."
            )
        g.add((ds, DCTERMS.isPartOf, _u(base, "id/dataset/" + WHOLE)))
    _text(g, ds, DCTERMS.title, title_nl, title_en)
    _text(g, ds, DCTERMS.description, desc_nl, desc_en)
    for lang, words in KEYWORDS.items():
        for word in words:
            g.add((ds, DCAT.keyword, Literal(word, lang=lang)))
    for theme in THEMES:
        g.add((ds, DCAT.theme, theme))
    g.add((ds, DCTERMS.publisher, agent))
    g.add((ds, DCAT.contactPoint, contact))
    g.add((ds, DCTERMS.accessRights, PUBLIC))
    g.add((ds, DCTERMS.language, DUTCH))
    g.add((ds, DCTERMS.language, ENGLISH))
    g.add((ds, DCTERMS.issued, issued))
    g.add((ds, DCTERMS.modified, modified))
    g.add((ds, DCAT.landingPage, URIRef(site.landing)))
    g.add((ds, DCTERMS.conformsTo, URIRef(ONTOLOGY_IRI)))
    g.add((URIRef(ONTOLOGY_IRI), RDF.type, DCTERMS.Standard))
    for country in spatial_coverage(stats.spatial):
        g.add((ds, DCTERMS.spatial, country))
    period = stats.temporal or whole.temporal
    if period:
        node = BNode(f"period-{name}")
        g.add((ds, DCTERMS.temporal, node))
        g.add((node, RDF.type, DCTERMS.PeriodOfTime))
        g.add((node, DCAT.startDate, Literal(period[0], datatype=XSD.date)))
        g.add((node, DCAT.endDate, Literal(period[1], datatype=XSD.date)))
    for f in dumps.for_graph(graph):
        fmt = FORMAT_BY_KEY[f.format]
        dist = _u(base, f"id/distributie/{name}/{f.format.replace('.', '-')}")
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        _ident(g, dist, f"{name}-{f.format.replace('.', '-')}")
        _text(g, dist, DCTERMS.title, f"{title_nl} ({fmt.label})", f"{title_en} ({fmt.label})")
        _text(
            g,
            dist,
            DCTERMS.description,
            f"Download in {fmt.label}, {f.bytes} bytes, SHA-256 {f.sha256}.",
            f"Download as {fmt.label}, {f.bytes} bytes, SHA-256 {f.sha256}.",
        )
        download = URIRef(site.download(f.path))
        g.add((dist, DCAT.accessURL, URIRef(site.landing)))
        g.add((dist, DCAT.downloadURL, download))
        g.add((download, RDF.type, RDFS.Resource))
        g.add((dist, DCTERMS.format, URIRef(f"{FILE_TYPE}{fmt.file_type}")))
        g.add((dist, DCAT.mediaType, URIRef(IANA + fmt.media_type)))
        if fmt.gzip:
            g.add((dist, DCAT.compressFormat, URIRef(IANA + "application/gzip")))
        g.add((dist, DCTERMS.license, licence))
        g.add((dist, DCTERMS.rights, _u(base, "id/rechten/bronvermelding")))
        g.add((dist, DCAT.byteSize, Literal(f.bytes, datatype=XSD.nonNegativeInteger)))
        g.add((dist, DCTERMS.issued, issued))
        g.add((dist, DCTERMS.modified, modified))
        g.add((dist, DCATAP.availability, URIRef(EU + "planned-availability/STABLE")))
        checksum = BNode(f"sha256-{name}-{f.format.replace('.', '-')}")
        g.add((dist, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(f.sha256, datatype=XSD.hexBinary)))
    rights = _u(base, "id/rechten/bronvermelding")
    g.add((rights, RDF.type, DCTERMS.RightsStatement))
    g.add(
        (
            rights,
            RDFS.label,
            Literal("Bronvermelding: ClusterKB en de bron (dct:source) van elk feit.", lang="nl"),
        )
    )
    g.add(
        (
            rights,
            RDFS.label,
            Literal("Attribution: ClusterKB and the source (dct:source) of each fact.", lang="en"),
        )
    )
    return ds


def _ident(g: Graph, subject: URIRef, identifier: str) -> None:
    g.add((subject, DCTERMS.identifier, Literal(identifier)))


def _text(g: Graph, subject: URIRef, prop: URIRef, nl: str, en: str) -> None:
    g.add((subject, prop, Literal(nl, lang="nl")))
    g.add((subject, prop, Literal(en, lang="en")))


def _agent(g: Graph, agent: URIRef, publisher: Publisher) -> None:
    g.add((agent, RDF.type, FOAF.Agent))
    g.add((agent, RDF.type, DCTERMS.Agent))
    g.add((agent, FOAF.name, Literal(publisher.name, lang="nl")))
    g.add((agent, FOAF.name, Literal(publisher.name, lang="en")))


def _licence(g: Graph, licence: URIRef) -> None:
    g.add((licence, RDF.type, DCTERMS.LicenseDocument))
    g.add((licence, DCTERMS.type, URIRef("http://purl.org/adms/licencetype/Attribution")))
    if str(licence) == FLEMISH_LICENCE:
        g.add((licence, RDFS.label, Literal("Modellicentie Gratis Hergebruik v1.0", lang="nl")))


def _hydra(g: Graph, url: str, view: Page) -> None:
    """ckanext-dcat style paging: ``hydra:PagedCollection`` (with the newer
    ``hydra:PartialCollectionView`` terms alongside)."""
    here = URIRef(_page_url(url, view.number))
    g.add((here, RDF.type, HYDRA.PagedCollection))
    g.add((here, RDF.type, HYDRA.PartialCollectionView))
    g.add((here, HYDRA.totalItems, Literal(view.total)))
    g.add((here, HYDRA.itemsPerPage, Literal(view.size)))
    pages = {
        "firstPage": 1,
        "lastPage": view.last,
        "nextPage": view.number + 1 if view.number < view.last else None,
        "previousPage": view.number - 1 if view.number > 1 else None,
    }
    new_terms = {"firstPage": "first", "lastPage": "last", "nextPage": "next"}
    new_terms["previousPage"] = "previous"
    for term, number in pages.items():
        if number is not None:
            target = Literal(_page_url(url, number))
            g.add((here, HYDRA[term], target))
            g.add((here, HYDRA[new_terms[term]], URIRef(str(target))))


def _page_url(url: str, number: int) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "page"]
    query.append(("page", str(number)))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _typing(g: Graph) -> None:
    """Class memberships of the referenced EU vocabulary concepts, as the range shapes need
    (what a validator's background knowledge supplies)."""
    for node in set(g.objects(None, DCTERMS.format)):
        g.add((node, RDF.type, DCTERMS.MediaTypeOrExtent))
        g.add((node, RDF.type, SKOS.Concept))
    for node in set(g.objects(None, DCAT.mediaType)) | set(g.objects(None, DCAT.compressFormat)):
        g.add((node, RDF.type, DCTERMS.MediaType))
    for node in set(g.objects(None, DCTERMS.accessRights)):
        g.add((node, RDF.type, DCTERMS.RightsStatement))
        g.add((node, RDF.type, SKOS.Concept))
    for node in set(g.objects(None, DCTERMS.language)):
        g.add((node, RDF.type, DCTERMS.LinguisticSystem))
    for node in set(g.objects(None, DCTERMS.spatial)):
        g.add((node, RDF.type, DCTERMS.Location))
        code = str(node).rpartition("/")[2]
        if isinstance(node, URIRef) and node.startswith(f"{COUNTRIES}/") and code in _COUNTRY_NAMES:
            # the entry of the EU Countries table, so that the catalogue alone says which
            # controlled vocabulary its coverage comes from (and names it in nl and en)
            g.add((node, RDF.type, SKOS.Concept))
            g.add((node, SKOS.inScheme, COUNTRIES))
            g.add((node, SKOS.notation, Literal(code)))
            _text(g, node, SKOS.prefLabel, *_COUNTRY_NAMES[code])
    for node in set(g.objects(None, DCAT.theme)):
        g.add((node, RDF.type, SKOS.Concept))
    for node in set(g.objects(None, DCAT.landingPage)) | set(g.objects(None, FOAF.homepage)):
        g.add((node, RDF.type, FOAF.Document))
        g.add((node, RDF.type, RDFS.Resource))
    for node in set(g.objects(None, DCAT.accessURL)) | set(g.objects(None, DCAT.endpointURL)):
        g.add((node, RDF.type, RDFS.Resource))
    for node in set(g.objects(None, DCAT.endpointDescription)):
        g.add((node, RDF.type, RDFS.Resource))
    for node in set(g.objects(None, VCARD.hasEmail)):
        g.add((node, RDF.type, RDFS.Resource))


def page_count(total: int, size: int) -> int:
    return Page(1, size, total).last


def catalogue_subjects(g: Graph) -> Sequence[URIRef]:
    """The catalogue's own resources (what validation focuses on)."""
    return sorted({s for s in g.subjects() if isinstance(s, URIRef)})
