"""Settings: one frozen dataclass whose fields carry each setting's default and help.

Production reads ``KB_<NAME>`` environment variables; tests and ``create_app`` pass a mapping.
Nothing here is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import ConfigError
from kb.namespaces import KB_NS

#: The project folder (ontology/, shapes/, data/ live here).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


def setting(default: Any, help: str) -> Any:
    """A field of :class:`Settings` with what it does (the README's settings table and the
    ``kb`` help are made from it)."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every setting, its default and what it does, written once."""

    namespace: str = setting(
        KB_NS,
        "Persistent namespace of every identifier, graph name and commit ({namespace}id/..., "
        "{namespace}graph/...). It never follows host, port or deployment: every server "
        "answers it by path. The bundled data is written under the default, so change it "
        "only for a separate knowledge base that brings its own data.",
    )
    host: str = setting(
        "127.0.0.1",
        "Interface the web server listens on.",
    )
    port: int = setting(
        8080,
        "Port the web server listens on.",
    )
    store: str = setting(
        "var/store",
        "Folder of the embedded Oxigraph database (relative to the working directory).",
    )
    store_query_url: str = setting(
        "",
        "SPARQL 1.1 query URL of an already running store. Empty: a managed Oxigraph server "
        "is started on loopback over the `store` folder.",
    )
    store_update_url: str = setting(
        "",
        "SPARQL 1.1 update URL of the running store.",
    )
    store_gsp_url: str = setting(
        "",
        "Graph Store Protocol URL of the running store.",
    )
    store_user: str = setting(
        "",
        "User name for the running store's update and graph-store URLs.",
    )
    store_password: str = setting(
        "",
        "Password for the running store (never logged).",
    )
    store_dialect: str = setting(
        "virtuoso",
        "How the running store departs from SPARQL 1.1: virtuoso (its per-query `timeout` "
        "parameter) or sparql11 (any other server). Both send small update requests, blank "
        "nodes outside INSERT DATA, and probe whether updates are transactional.",
    )
    store_auth: str = setting(
        "digest",
        "HTTP authentication the running store expects: digest (Virtuoso) or basic.",
    )
    store_lease: float = setting(
        30.0,
        "Seconds a writer's lease on a remote store lasts without renewal (renewed every "
        "quarter of it while held); a front end that dies holding it blocks writes this "
        "long.",
    )
    store_freshness: float = setting(
        0.25,
        "Seconds a front end on a remote store may answer queries from its last view of "
        "which graphs exist (refreshed in the background twice as often); every write "
        "through a front end waits this long before it answers, so the change is in the "
        "next answer of every other front end. 0: the store is asked before every query. "
        "The same on every front end of one store.",
    )
    query_timeout: float = setting(
        30.0,
        "Seconds a SPARQL query may run before the store stops it.",
    )
    max_query_bytes: int = setting(
        65_536,
        "Largest SPARQL query text accepted, in bytes.",
    )
    max_query_depth: int = setting(
        128,
        "Deepest nesting of brackets/braces accepted in a query (the store crashes on very "
        "deep queries, so they are refused before they reach it).",
    )
    service_allow: str = setting(
        "",
        "Space-separated IRI prefixes a SPARQL SERVICE clause may call; empty: SERVICE is refused.",
    )
    harvest_timeout: float = setting(
        120.0,
        "Seconds a harvest of a partner's endpoint (kb harvest) may take to answer in full.",
    )
    harvest_max_bytes: int = setting(
        67_108_864,
        "Largest answer a partner's endpoint may give a harvest, in bytes; a larger one fails.",
    )
    max_literal_bytes: int = setting(
        1_048_576,
        "Largest literal accepted in loaded data, in bytes.",
    )
    max_iri_bytes: int = setting(
        4096,
        "Longest IRI accepted in loaded data, in bytes.",
    )
    max_upload_bytes: int = setting(
        16_777_216,
        "Largest request body the web app accepts, in bytes.",
    )
    threads: int = setting(
        8,
        "Worker threads of the production web server.",
    )
    validation_timeout: float = setting(
        30.0,
        "Seconds the validation of one write may take; past that the write is refused (0: "
        "no limit, validation runs in the serving process).",
    )
    max_rows: int = setting(
        10_000,
        "Most solutions (or triples) a /sparql result carries; a longer result is cut and "
        "the response says so (header `X-SPARQL-Truncated`). 0: no cap, results stream "
        "through.",
    )
    cache_bytes: int = setting(
        67_108_864,
        "Size bound of the /sparql result cache, in bytes (results over 1/8 of it are not "
        "kept); 0 turns the cache off. Invalidated on every write.",
    )
    downloads: str = setting(
        "",
        "Folder of the generated dumps (/downloads), one sub-folder per data version. "
        "Empty: a `downloads` folder beside the store folder.",
    )
    catalog_page_size: int = setting(
        100,
        "Datasets per page of the DCAT-AP catalogue (/catalog).",
    )
    publisher_name: str = setting(
        "ClusterKB",
        "Name of the publisher in the DCAT-AP catalogue.",
    )
    contact_email: str = setting(
        "opendata@example.org",
        "E-mail address of the catalogue's contact point (set it before publishing).",
    )
    licence: str = setting(
        "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0",
        "Licence IRI the catalogue gives the data (default: the Flemish model licence for "
        "free reuse).",
    )
    tokens_file: str = setting(
        "",
        "JSON file of the steward API tokens (salted hashes only; `kb token` manages it). "
        "Empty: clusterkb-tokens.json in the `store` folder.",
    )
    audit_log: str = setting(
        "",
        "JSON-lines file that records every write attempt (who, when, what, outcome). "
        "Empty: clusterkb-audit.jsonl in the `store` folder.",
    )
    max_auth_failures: int = setting(
        30,
        "Failed token checks per minute from one address before its writes get 429 with "
        "Retry-After (counted per server process); 0: no limit.",
    )

    @property
    def base_iri(self) -> str:
        """The namespace of every identifier, graph name and commit (setting ``namespace``,
        :data:`kb.namespaces.KB_NS` by default), whatever host or port serves it; it always
        ends in a slash."""
        ns = self.namespace or KB_NS
        return ns if ns.endswith("/") else ns + "/"

    @property
    def store_path(self) -> Path:
        return Path(self.store).expanduser().resolve()

    @property
    def tokens_path(self) -> Path:
        if self.tokens_file:
            return Path(self.tokens_file).expanduser().resolve()
        return self.store_path / "clusterkb-tokens.json"

    @property
    def audit_path(self) -> Path:
        if self.audit_log:
            return Path(self.audit_log).expanduser().resolve()
        return self.store_path / "clusterkb-audit.jsonl"

    @property
    def remote_store(self) -> bool:
        return bool(self.store_query_url)

    @property
    def service_allow_list(self) -> tuple[str, ...]:
        return tuple(p for p in self.service_allow.split() if p)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **_coerce(changes))


#: Every setting in the order of the README's settings table (tested against it).
SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.default, f.metadata["help"]) for f in dataclasses.fields(Settings)
)
_BY_NAME = {s.name: s for s in SETTINGS}


def display_host(host: str) -> str:
    """The host name to show in a URL for the interface ``host`` listens on."""
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1", "") else host


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in values.items():
        name = key.lower()
        if name not in _BY_NAME:
            raise ConfigError(f"unknown setting {key!r}")
        kind = type(_BY_NAME[name].default)
        try:
            out[name] = kind(raw) if not isinstance(raw, kind) else raw
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"setting {key!r}: expected {kind.__name__}, got {raw!r}") from exc
    return out


def load_settings(
    overrides: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from ``KB_*`` environment variables, then ``overrides`` (which win)."""
    env = os.environ if environ is None else environ
    if "KB_BASE" in env or "base" in (overrides or {}):
        raise ConfigError(
            f"the setting KB_BASE is gone: identifiers no longer follow host and port but lie "
            f"in the persistent namespace {KB_NS} (setting `namespace`). Unset KB_BASE; a "
            "store loaded under an old base is converted once with `kb migrate` (see the "
            "README, *Identifiers*)"
        )
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        key = "KB_" + setting.name.upper()
        if key in env:
            values[setting.name] = env[key]
    values.update({k.lower(): v for k, v in (overrides or {}).items() if v is not None})
    settings = Settings(**_coerce(values))
    if settings.store_dialect not in ("virtuoso", "sparql11"):
        raise ConfigError(
            f"setting 'store_dialect' must be virtuoso or sparql11, got {settings.store_dialect!r}"
        )
    for name in _NOT_NEGATIVE:
        if (value := getattr(settings, name)) < 0:
            raise ConfigError(f"setting {name!r} must not be negative, got {value}")
    for name in _POSITIVE:
        if (value := getattr(settings, name)) <= 0:
            raise ConfigError(f"setting {name!r} must be more than 0, got {value}")
    return settings


#: Durations where a negative value has no meaning.
_NOT_NEGATIVE = ("store_lease", "store_freshness", "query_timeout", "validation_timeout")
#: Limits that must be more than 0.
_POSITIVE = ("harvest_timeout", "harvest_max_bytes")
