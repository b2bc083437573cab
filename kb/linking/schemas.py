"""The JSON Schemas of the Reconciliation Service API 0.2, as published (package data in
``kb/resources/reconciliation/``, see the README there), and a validator per message kind.

Requests are checked against them before they are read; the tests check every answer the
service gives against them too.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

#: The message kinds, by file name without ``.json``.
KINDS = (
    "manifest",
    "reconciliation-query-batch",
    "reconciliation-result-batch",
    "suggest-entities-response",
    "suggest-types-response",
    "suggest-properties-response",
    "data-extension-query",
    "data-extension-response",
    "data-extension-property-proposal",
)


@cache
def _schemas() -> tuple[dict[str, dict[str, Any]], Registry]:
    folder = resources.files("kb") / "resources" / "reconciliation"
    schemas: dict[str, dict[str, Any]] = {}
    registry: Registry = Registry()
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        contents = json.loads(entry.read_text(encoding="utf-8"))
        schemas[entry.name.removesuffix(".json")] = contents
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        registry = registry.with_resource(contents["$id"].rstrip("#"), resource)
    return schemas, registry


@cache
def validator(kind: str) -> Draft7Validator:
    schemas, registry = _schemas()
    return Draft7Validator(schemas[kind], registry=registry)


def problem(kind: str, instance: Any) -> tuple[str, str] | None:
    """``None`` if ``instance`` is a valid ``kind`` message; else (where, what) of the most
    telling error, ``where`` a dotted path into the instance."""
    error = best_match(validator(kind).iter_errors(instance))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    return where, error.message[:300]
