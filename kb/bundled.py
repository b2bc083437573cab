"""The knowledge base shipped with the project: ontology, shapes and data, one graph per file.

``ontology/x.ttl`` -> ``{base}graph/ontology/x``, ``shapes/x.ttl`` -> ``{base}graph/shapes/x``,
``data/a/b.ttl`` -> ``{base}graph/a/b``. Relative IRIs in the files resolve against the base,
so on a newcomer's machine every identifier opens on the local server.

The files are read from the copies an installed wheel carries under ``kb/_bundled/``
(pyproject.toml maps the three folders there), and from the checkout
(:data:`kb.config.PROJECT_ROOT`) when there are none: a checkout or an editable install.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

from kb.config import PROJECT_ROOT
from kb.formats import syntax_for_path
from kb.load import Limits, parse_graph
from kb.namespaces import graph_iri


def _root() -> Path:
    packaged = Path(__file__).resolve().parent / "_bundled"
    return packaged if (packaged / "ontology").is_dir() else PROJECT_ROOT


#: The folder holding ``ontology/``, ``shapes/`` and ``data/``.
BUNDLED_ROOT = _root()


@dataclass(frozen=True)
class BundledFile:
    path: Path
    graph_name: str  # relative: "clusters/west-vlaanderen-blauwe-energie"

    def graph(self, base: str) -> str:
        return graph_iri(base, self.graph_name)


def bundled_files(
    root: Path = BUNDLED_ROOT, *, kinds: tuple[str, ...] = ("ontology", "shapes", "data")
) -> Iterator[BundledFile]:
    for kind in kinds:
        folder = root / kind
        for path in sorted(folder.rglob("*.ttl")):
            rel = path.relative_to(folder).with_suffix("")
            name = "/".join(rel.parts) if kind == "data" else f"{kind}/{'/'.join(rel.parts)}"
            yield BundledFile(path, name)


def read_graph(paths: Iterator[Path] | list[Path], base: str) -> Graph:
    """Parse and merge Turtle files (hardened parser, relative IRIs against ``base``)."""
    merged = Graph()
    for path in paths:
        merged += parse_graph(
            path,
            syntax=syntax_for_path(path),
            base_iri=base,
            limits=Limits(max_literal_bytes=1 << 24),
        )
    return merged


def ontology_graph(base: str, root: Path = BUNDLED_ROOT) -> Graph:
    return read_graph([f.path for f in bundled_files(root, kinds=("ontology",))], base)


#: Shapes that validate no data of ClusterKB's own: the partner-data shapes a harvest of a
#: partner's dataset is checked with (``kb.linking.harvest``). Loaded as a graph like the others.
PARTNER_SHAPES = "shapes/harvest/"


def shapes_graph(base: str, root: Path = BUNDLED_ROOT) -> Graph:
    """The project's shapes (every file of ``shapes/`` but the partner-data shapes)."""
    files = bundled_files(root, kinds=("shapes",))
    return read_graph([f.path for f in files if not f.graph_name.startswith(PARTNER_SHAPES)], base)


def partner_shapes_graph(base: str, root: Path = BUNDLED_ROOT) -> Graph:
    """The partner-data shapes (``shapes/harvest/``)."""
    files = bundled_files(root, kinds=("shapes",))
    return read_graph([f.path for f in files if f.graph_name.startswith(PARTNER_SHAPES)], base)


def data_graph(base: str, root: Path = BUNDLED_ROOT) -> Graph:
    return read_graph([f.path for f in bundled_files(root, kinds=("data",))], base)


def reference_graph(base: str, root: Path = BUNDLED_ROOT) -> Graph:
    """The reference data (``data/reference/``) that submitted data may point to."""
    return read_graph(
        [
            f.path
            for f in bundled_files(root, kinds=("data",))
            if f.graph_name.startswith("reference/")
        ],
        base,
    )
