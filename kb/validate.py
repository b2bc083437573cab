"""SHACL validation: ``validate(graph) -> Report``. Non-conformance is a value, not an exception.

The shapes are always the project's (``shapes/``) unless the caller passes others explicitly:
pySHACL would otherwise take shapes from the data graph, letting data bring its own rules.
The ontology is merged into (a copy of) the data graph so that ``sh:class`` sees subclasses.
"""

from __future__ import annotations

import json
import os
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing import get_context
from typing import Any

from pyshacl import validate as pyshacl_validate
from rdflib import RDF, RDFS, SKOS, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from kb import bundled, processes
from kb.errors import ValidationTimeout
from kb.namespaces import KB_NS, SH

_SEVERITY = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True)
class Result:
    """One validation result, ready for a person to read."""

    severity: str
    focus_node: str
    focus_label: str | None
    path: str | None
    value: str | None
    messages: dict[str, str]
    source_shape: str
    component: str

    def message(self, lang: str = "en") -> str:
        return (
            self.messages.get(lang)
            or self.messages.get("en")
            or self.messages.get("")
            or next(iter(self.messages.values()), self.component)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "focusNode": self.focus_node,
            "focusLabel": self.focus_label,
            "path": self.path,
            "value": self.value,
            "message": self.messages,
            "sourceShape": self.source_shape,
            "constraintComponent": self.component,
        }


@dataclass(frozen=True)
class Report:
    """A SHACL validation report. ``conforms`` is SHACL's own verdict (any result fails it);
    ``accepted`` is ClusterKB's gate: no result of severity Violation."""

    conforms: bool
    results: tuple[Result, ...]
    graph: Graph = field(repr=False, compare=False)

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity != "Violation"]

    @property
    def accepted(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "accepted": self.accepted,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_text(self, lang: str = "en") -> str:
        head = (
            "conforms"
            if self.conforms
            else f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s)"
        )
        lines = [head]
        for r in self.results:
            focus = f"{r.focus_node}" + (f" ({r.focus_label})" if r.focus_label else "")
            lines.append(f"{r.severity}: {focus}")
            if r.path:
                lines.append(f"  path:  {r.path}")
            if r.value is not None:
                lines.append(f"  value: {r.value}")
            lines.append(f"  {r.message(lang)}")
            lines.append(f"  shape: {r.source_shape} ({r.component.rsplit('#', 1)[-1]})")
        return "\n".join(lines)


def validate(
    data: Graph,
    *,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    base: str = KB_NS,
) -> Report:
    """Validate ``data`` against ``shapes`` (default: the project's) with ``ontology``
    (default: the project's) merged in. Raises only on real failures (broken shapes)."""
    shapes_g = _spec_booleans(shapes) if shapes is not None else project_shapes(base)
    ont = ontology if ontology is not None else project_ontology(base)
    conforms, report_graph = _run(data, shapes_g, ont)
    results = tuple(
        sorted(
            (
                _result(report_graph, node, data, shapes_g)
                for node in report_graph.objects(None, SH.result)
            ),
            key=lambda r: (r.severity != "Violation", r.focus_node, r.path or "", r.component),
        )
    )
    return Report(bool(conforms), results, report_graph)


def _run(data: Graph, shapes: Graph, ont: Graph) -> tuple[bool, Graph]:
    conforms, report_graph, _ = pyshacl_validate(
        data,
        shacl_graph=shapes,
        ont_graph=ont if len(ont) else None,
        inference="none",
        abort_on_first=False,
        allow_infos=False,
        allow_warnings=False,
        meta_shacl=False,
        advanced=False,
        js=False,
        debug=False,
    )
    return bool(conforms), report_graph


@lru_cache(maxsize=4)
def project_shapes(base: str) -> Graph:
    """The project's shapes as validation uses them (parsed once per base; reports name
    blank-node property shapes by this graph's identifiers)."""
    return _spec_booleans(bundled.shapes_graph(base))


_TRUE = Literal("true", datatype=XSD.boolean)
_BOOLEAN_PARAMETERS = (SH.uniqueLang, SH.closed, SH.deactivated, SH.qualifiedValueShapesDisjoint)


def _spec_booleans(shapes: Graph) -> Graph:
    """SHACL activates boolean parameters only for the literal ``true``; pySHACL also takes
    ``"1"^^xsd:boolean`` (W3C test core/property/uniqueLang-002). Return a copy without such
    parameters, so they are ignored as the spec says; the caller's graph is left alone."""
    odd = [
        (s, p, o)
        for p in _BOOLEAN_PARAMETERS
        for s, o in shapes.subject_objects(p)
        if isinstance(o, Literal)
        and o.datatype == XSD.boolean
        and str(o) != "true"
        and o.toPython() is True
    ]
    if not odd:
        return shapes
    fixed = Graph()
    fixed += shapes
    for triple in odd:
        fixed.remove(triple)
    return fixed


@lru_cache(maxsize=4)
def project_ontology(base: str) -> Graph:
    return bundled.ontology_graph(base)


def _result(g: Graph, node: Node, data: Graph, shapes: Graph) -> Result:
    focus = g.value(node, SH.focusNode)
    path = g.value(node, SH.resultPath)
    value = g.value(node, SH.value)
    shape = g.value(node, SH.sourceShape)
    messages: dict[str, str] = {}
    for msg in g.objects(node, SH.resultMessage):
        if isinstance(msg, Literal):
            # only a message filled from a template comes back untagged: look the tag up then
            lang = msg.language or _language_of(str(msg), _templates(shapes, shape))
            messages.setdefault(lang, str(msg))
    if g.value(node, SH.sourceConstraintComponent) == SH.OrConstraintComponent and shape:
        for lang, options in _alternatives(shapes, shape).items():
            if lang in messages and options:
                messages[lang] += f" {_ONE_OF[lang]} " + " | ".join(options)
    severity = g.value(node, SH.resultSeverity)
    return Result(
        severity=_SEVERITY.get(severity, "Violation") if isinstance(severity, URIRef) else "?",
        focus_node=_show(focus),
        focus_label=_label(data, focus),
        path=render_path(g, path) if path is not None else None,
        value=_show(value) if value is not None else None,
        messages=messages,
        source_shape=_show(g.value(node, SH.sourceShape)),
        component=str(g.value(node, SH.sourceConstraintComponent)),
    )


#: How a report introduces the alternatives of an sh:or (whose own messages pySHACL drops).
_ONE_OF = {"nl": "Eén hiervan moet gelden:", "en": "One of these must hold:", "": "One of:"}


def _templates(shapes: Graph, shape: Node | None) -> list[Literal]:
    """The language-tagged messages of a shape and of its SPARQL constraints."""
    if shape is None:
        return []
    nodes = [shape, *shapes.objects(shape, SH.sparql)]
    return [m for n in nodes for m in shapes.objects(n, SH.message) if isinstance(m, Literal)]


def _language_of(message: str, templates: list[Literal]) -> str:
    """The language of a message pySHACL filled in from a template (``{?var}`` substituted),
    which it returns without the template's language tag."""
    for t in templates:
        pattern = re.escape(str(t))
        pattern = re.sub(r"\\\{\\[?$][A-Za-z_][A-Za-z0-9_]*\\\}", ".*", pattern)
        if t.language and re.fullmatch(pattern, message, flags=re.S):
            return t.language
    return ""


def _alternatives(shapes: Graph, shape: Node) -> dict[str, list[str]]:
    """Per language, the messages of the alternatives of the shape's sh:or (each member's own
    message, or those of its property shapes)."""
    found: dict[str, list[str]] = {}
    for head in shapes.objects(shape, SH["or"]):
        for member in Collection(shapes, head):
            parts = [member, *shapes.objects(member, SH.property)]
            per_lang: dict[str, list[str]] = {}
            for part in parts:
                for m in shapes.objects(part, SH.message):
                    if isinstance(m, Literal):
                        per_lang.setdefault(m.language or "", []).append(str(m))
            for lang, texts in per_lang.items():
                found.setdefault(lang, []).append(" ".join(texts))
    return found


def _show(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return str(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    return term.n3()


def _label(data: Graph, node: Node | None) -> str | None:
    if node is None:
        return None
    labels = [o for p in (SKOS.prefLabel, RDFS.label) for o in data.objects(node, p)]
    for lang in ("en", "nl", None):
        for label in labels:
            if isinstance(label, Literal) and (lang is None or label.language == lang):
                return str(label)
    return None


def render_path(g: Graph, path: Node) -> str:
    """A SHACL property path in SPARQL property-path syntax."""
    if isinstance(path, URIRef):
        return f"<{path}>"
    if (g.value(path, RDF.first)) is not None:
        return "/".join(render_path(g, p) for p in Collection(g, path))
    for prop, fmt in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "({})*"),
        (SH.oneOrMorePath, "({})+"),
        (SH.zeroOrOnePath, "({})?"),
    ):
        inner = g.value(path, prop)
        if inner is not None:
            return fmt.format(render_path(g, inner))
    alt = g.value(path, SH.alternativePath)
    if alt is not None:
        return "(" + "|".join(render_path(g, p) for p in Collection(g, alt)) + ")"
    return _show(path)


# --- a deadline (pySHACL has none) ---------------------------------------------------------

_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ProcessPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(
                max_workers=1,
                mp_context=get_context("spawn"),
                initializer=processes.end_with_parent,  # even when this process is kill -9'd
                initargs=(os.getpid(),),
            )
        return _POOL


def start_validation_worker() -> None:
    """Start the worker process now (it takes a second or two to import), not at the first
    write."""
    _pool().submit(project_shapes, KB_NS)


def validate_within(seconds: float, data: Graph, **kwargs: Any) -> Report:
    """:func:`validate` in a worker process that is killed after ``seconds``.

    pySHACL cannot be interrupted, and crafted data can make it run for a very long time
    (CATALOGUE O2), so a write's validation runs in a separate, pre-started process
    (``spawn``: no fork of this multi-threaded server). On time-out the worker is killed,
    :class:`ValidationTimeout` is raised and a fresh worker is started for the next call.
    """
    global _POOL
    pool = _pool()
    future = pool.submit(validate, data, **kwargs)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        with _POOL_LOCK:
            if _POOL is pool:
                _POOL = None
        for process in list(getattr(pool, "_processes", {}).values()):  # no public kill API
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise ValidationTimeout(
            f"validation did not finish within {seconds:g} s (the data makes the shapes too "
            "expensive to check); nothing was written"
        ) from None
