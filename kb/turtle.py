"""Turtle, TriG and N3 that read back as the terms that were written.

rdflib writes a literal of ``xsd:boolean``, ``xsd:integer``, ``xsd:decimal`` or ``xsd:double``
in Turtle's short form (``true``, ``42``) made from its *value*, not from its lexical form: an
ill-typed ``"none"^^xsd:boolean`` comes out as the bare word ``none``, which is not Turtle;
``"1"^^xsd:boolean`` as ``true`` and ``"1.5E0"^^xsd:double`` as ``1.5e+00``, which are other
terms. The serializers here write the short form only when the literal's lexical form is
exactly a token of the grammar production for its datatype, and the quoted form with its
datatype otherwise.

Importing :mod:`kb` registers them under rdflib's own names (``turtle``, ``ttl``,
``text/turtle``, ``trig``, ``application/trig``, ``n3``, ``text/n3``), so every
``Graph.serialize(format="turtle")`` in a ClusterKB process — reports, pages, the catalogue —
writes what it holds.
"""

from __future__ import annotations

import re

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.plugin import register
from rdflib.plugins.serializers.n3 import N3Serializer
from rdflib.plugins.serializers.trig import TrigSerializer
from rdflib.plugins.serializers.turtle import _GEN_QNAME_FOR_DT, TurtleSerializer
from rdflib.serializer import Serializer
from rdflib.term import Node

_EXPONENT = r"[eE][+-]?[0-9]+"

#: Turtle's productions for the short forms, each read as its datatype (Turtle 1.1, §6.5).
SHORT_FORMS: dict[URIRef, re.Pattern[str]] = {
    XSD.integer: re.compile(r"[+-]?[0-9]+"),
    XSD.decimal: re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    XSD.double: re.compile(
        rf"[+-]?(?:[0-9]+\.[0-9]*{_EXPONENT}|\.[0-9]+{_EXPONENT}|[0-9]+{_EXPONENT})"
    ),
    XSD.boolean: re.compile(r"true|false"),
}


def literal_n3(literal: Literal, qname: object = None) -> str:
    """``literal`` in Turtle: the short form when it spells the lexical form, else quoted."""
    form = SHORT_FORMS.get(literal.datatype) if literal.datatype is not None else None
    lexical = str(literal)
    if form is not None and form.fullmatch(lexical):
        return lexical
    return literal._literal_n3(use_plain=False, qname_callback=qname)  # type: ignore[arg-type]


class _Faithful:
    """Mixin over rdflib's Turtle family: literals through :func:`literal_n3`."""

    def label(self, node: Node, position: int) -> str:
        if isinstance(node, Literal):
            return literal_n3(node, lambda dt: self.get_pname(dt, _GEN_QNAME_FOR_DT))  # type: ignore[attr-defined]
        return super().label(node, position)  # type: ignore[misc]


class FaithfulTurtleSerializer(_Faithful, TurtleSerializer):
    """rdflib's Turtle serializer, writing every literal so that it reads back the same."""


class FaithfulTrigSerializer(_Faithful, TrigSerializer):
    """rdflib's TriG serializer, writing every literal so that it reads back the same."""


class FaithfulN3Serializer(_Faithful, N3Serializer):
    """rdflib's N3 serializer, writing every literal so that it reads back the same."""


_NAMES = {
    "FaithfulTurtleSerializer": ("turtle", "ttl", "text/turtle"),
    "FaithfulTrigSerializer": ("trig", "application/trig"),
    "FaithfulN3Serializer": ("n3", "text/n3"),
}


def register_serializers() -> None:
    """Put the faithful serializers under rdflib's names (idempotent)."""
    for cls, names in _NAMES.items():
        for name in names:
            register(name, Serializer, __name__, cls)
