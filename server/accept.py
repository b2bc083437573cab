"""The one ``Accept`` ranking (:func:`preferred`), and negotiation of SPARQL result formats:
suffix > ``?format=`` > ``Accept`` (q-values) > 406.

The offered formats are rows of :mod:`kb.formats`; this module only reads the request's
wishes. :func:`preferred` decides for pages and RDF documents (:mod:`server.negotiate`), the
SPARQL results, the submissions' reports and the error pages (:mod:`server.errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable

from kb.results import ResultSyntax, by_format_name


def negotiate(
    offered: tuple[ResultSyntax, ...],
    *,
    accept: MIMEAccept,
    format_param: str | None = None,
    suffix: str | None = None,
) -> ResultSyntax:
    """The format to answer in. ``offered[0]`` is the default for ``*/*`` or no ``Accept``."""
    kind = offered[0].kind
    if suffix:
        return by_format_name(suffix, kind)
    if format_param:
        return by_format_name(format_param, kind)
    best = preferred(accept, offered, lambda s: s.accepts)
    if best is None:
        listed = ", ".join(s.media_type for s in offered)
        raise NotAcceptable(f"none of the requested media types is offered; offered: {listed}")
    return best


T = TypeVar("T")


def preferred(
    accept: MIMEAccept, offered: Sequence[T], media_types: Callable[[T], Sequence[str]]
) -> T | None:
    """The offered representation the Accept header prefers; ``media_types(r)`` gives its own
    media type first, then aliases. No Accept: the first. None: nothing acceptable.

    An exact media type beats an alias at the same q (application/json -> SPARQL JSON, not
    JSON-LD); earlier representations win ties.
    """
    if not accept or not accept.values():
        return offered[0]
    best: tuple[float, float, T] | None = None
    for rank, rep in enumerate(offered):
        own, *aliases = media_types(rep)
        for media in (own, *(a for a in aliases if "/" in a)):
            q = quality(accept, media)
            score = (q, -rank - (0.5 if media != own else 0.0))
            if q > 0 and (best is None or score > best[:2]):
                best = (*score, rep)
    return None if best is None else best[2]


def quality(accept: MIMEAccept, media: str) -> float:
    """The q-value the client gives ``media``: the most specific matching range decides
    (RFC 9110 §12.5.1), so ``text/*;q=0.1, text/csv`` gives text/csv q=1."""
    kind = media.split("/")[0]
    found: tuple[int, float] | None = None
    for value, q in accept:
        value = value.split(";")[0].strip().lower()
        if value == media:
            rank = 3
        elif value == f"{kind}/*":
            rank = 2
        elif value in ("*/*", "*"):
            rank = 1
        else:
            continue
        if found is None or rank > found[0]:
            found = (rank, q)
    return found[1] if found else 0.0
