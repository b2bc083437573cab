"""Content negotiation for pages and RDF documents, in one order: file suffix > ``?format=`` >
``Accept`` (q-values, most specific range wins) > 406.

The representations are rows of the format table (:mod:`kb.formats`): each has a ``?format=``
name, a media type, a suffix, the rdflib serializer and aliases (other media types and short
names that mean the same). The ``Accept`` ranking is :func:`server.accept.preferred`, the one
used everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Request
from werkzeug.exceptions import NotAcceptable

from kb.formats import Format, formats
from server.accept import preferred

#: A representation is a row of the one format table.
Representation = Format

HTML, TURTLE, JSONLD, RDFXML, NTRIPLES = formats("html", "turtle", "jsonld", "rdfxml", "ntriples")

#: A resource page: HTML first, so ``*/*`` (and browsers) get the page.
PAGE: tuple[Representation, ...] = (HTML, TURTLE, JSONLD, RDFXML, NTRIPLES)
#: A pure RDF document (catalogue, VoID): Turtle first, as harvesters often send ``*/*``.
RDF_ONLY: tuple[Representation, ...] = (TURTLE, RDFXML, JSONLD, NTRIPLES)


def split_suffix(ref: str, offered: Sequence[Representation]) -> tuple[str, str | None]:
    """``("cluster/x", ".ttl")`` for ``"cluster/x.ttl"``; ``(ref, None)`` without a suffix."""
    for rep in offered:
        if ref.endswith(rep.suffix) and len(ref) > len(rep.suffix):
            return ref[: -len(rep.suffix)], rep.suffix
    return ref, None


def negotiate(
    req: Request, offered: Sequence[Representation], *, suffix: str | None = None
) -> Representation:
    """The representation to send; ``offered[0]`` for no ``Accept`` or ``*/*``; raises 406
    (:class:`NotAcceptable`) when nothing offered fits."""
    if suffix:
        for rep in offered:
            if rep.suffix == suffix:
                return rep
        raise NotAcceptable(f"{suffix} is not offered here; offered: {_names(offered)}")
    fmt = req.args.get("format", "").strip().lower()
    if fmt:
        for rep in offered:
            if rep.means(fmt) or fmt in rep.also_serves:
                return rep
        raise NotAcceptable(f"format {fmt!r} is not offered here; offered: {_names(offered)}")
    best = preferred(req.accept_mimetypes, offered, lambda r: r.accepts)
    if best is None:
        listed = ", ".join(r.media_type for r in offered)
        raise NotAcceptable(f"none of the requested media types is offered; offered: {listed}")
    return best


def _names(offered: Sequence[Representation]) -> str:
    return ", ".join(r.name for r in offered)
