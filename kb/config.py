"""Settings: one frozen dataclass and one table that documents every setting.

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

#: The project folder (ontology/, shapes/, data/ live here).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


#: Every setting, its default and what it does. The README's settings table is generated from
#: (and tested against) this list.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "base",
        "",
        "Base IRI of every identifier the knowledge base mints ({base}id/...). Empty: "
        "http://{host}:{port}/, so identifiers open on the local server. A store folder "
        "keeps the base it was loaded with: `kb serve` refuses to serve it under another "
        "base and says what to do.",
    ),
    Setting("host", "127.0.0.1", "Interface the web server listens on."),
    Setting("port", 8080, "Port the web server listens on."),
    Setting(
        "store",
        "var/store",
        "Folder of the embedded Oxigraph database (relative to the working directory).",
    ),
    Setting(
        "store_query_url",
        "",
        "SPARQL 1.1 query URL of an already running store. Empty: a managed Oxigraph "
        "server is started on loopback over the `store` folder.",
    ),
    Setting("store_update_url", "", "SPARQL 1.1 update URL of the running store."),
    Setting("store_gsp_url", "", "Graph Store Protocol URL of the running store."),
    Setting("store_user", "", "User name for the running store's update and graph-store URLs."),
    Setting("store_password", "", "Password for the running store (never logged)."),
    Setting(
        "store_dialect",
        "virtuoso",
        "How the running store departs from SPARQL 1.1: virtuoso (its per-query `timeout` "
        "parameter) or sparql11 (any other server). Both send small update requests, blank "
        "nodes outside INSERT DATA, and probe whether updates are transactional.",
    ),
    Setting(
        "store_auth",
        "digest",
        "HTTP authentication the running store expects: digest (Virtuoso) or basic.",
    ),
    Setting(
        "store_lease",
        30.0,
        "Seconds a writer's lease on a remote store lasts without renewal (renewed every "
        "quarter of it while held); a front end that dies holding it blocks writes this long.",
    ),
    Setting(
        "store_freshness",
        0.25,
        "Seconds a front end on a remote store may answer queries from its last view of which "
        "graphs exist (refreshed in the background twice as often); every write through a "
        "front end waits this long before it answers, so the change is in the next answer of "
        "every other front end. 0: the store is asked before every query. The same on every "
        "front end of one store.",
    ),
    Setting("query_timeout", 30.0, "Seconds a SPARQL query may run before the store stops it."),
    Setting("max_query_bytes", 65536, "Largest SPARQL query text accepted, in bytes."),
    Setting(
        "max_query_depth",
        128,
        "Deepest nesting of brackets/braces accepted in a query (the store crashes on "
        "very deep queries, so they are refused before they reach it).",
    ),
    Setting(
        "service_allow",
        "",
        "Space-separated IRI prefixes a SPARQL SERVICE clause may call; empty: SERVICE is refused.",
    ),
    Setting("max_literal_bytes", 1_048_576, "Largest literal accepted in loaded data, in bytes."),
    Setting("max_iri_bytes", 4096, "Longest IRI accepted in loaded data, in bytes."),
    Setting("max_upload_bytes", 16_777_216, "Largest request body the web app accepts, in bytes."),
    Setting("threads", 8, "Worker threads of the production web server."),
    Setting(
        "validation_timeout",
        30.0,
        "Seconds the validation of one write may take; past that the write is refused "
        "(0: no limit, validation runs in the serving process).",
    ),
    Setting(
        "max_rows",
        10000,
        "Most solutions (or triples) a /sparql result carries; a longer result is cut and the "
        "response says so (header `X-SPARQL-Truncated`). 0: no cap, results stream through.",
    ),
    Setting(
        "cache_bytes",
        67_108_864,
        "Size bound of the /sparql result cache, in bytes (results over 1/8 of it are not "
        "kept); 0 turns the cache off. Invalidated on every write.",
    ),
    Setting(
        "downloads",
        "",
        "Folder of the generated dumps (/downloads), one sub-folder per data version. Empty: "
        "a `downloads` folder beside the store folder.",
    ),
    Setting("catalog_page_size", 100, "Datasets per page of the DCAT-AP catalogue (/catalog)."),
    Setting("publisher_name", "ClusterKB", "Name of the publisher in the DCAT-AP catalogue."),
    Setting(
        "contact_email",
        "opendata@example.org",
        "E-mail address of the catalogue's contact point (set it before publishing).",
    ),
    Setting(
        "licence",
        "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0",
        "Licence IRI the catalogue gives the data (default: the Flemish model licence for free "
        "reuse).",
    ),
    Setting(
        "tokens_file",
        "",
        "JSON file of the steward API tokens (salted hashes only; `kb token` manages it). "
        "Empty: clusterkb-tokens.json in the `store` folder.",
    ),
    Setting(
        "audit_log",
        "",
        "JSON-lines file that records every write attempt (who, when, what, outcome). "
        "Empty: clusterkb-audit.jsonl in the `store` folder.",
    ),
    Setting(
        "max_auth_failures",
        30,
        "Failed token checks per minute from one address before its writes get 429 with "
        "Retry-After (counted per server process); 0: no limit.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    base: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    store: str = "var/store"
    store_query_url: str = ""
    store_update_url: str = ""
    store_gsp_url: str = ""
    store_user: str = ""
    store_password: str = ""
    store_dialect: str = "virtuoso"
    store_auth: str = "digest"
    store_lease: float = 30.0
    store_freshness: float = 0.25
    query_timeout: float = 30.0
    max_query_bytes: int = 65536
    max_query_depth: int = 128
    service_allow: str = ""
    max_literal_bytes: int = 1_048_576
    max_iri_bytes: int = 4096
    max_upload_bytes: int = 16_777_216
    threads: int = 8
    validation_timeout: float = 30.0
    max_rows: int = 10000
    cache_bytes: int = 67_108_864
    downloads: str = ""
    catalog_page_size: int = 100
    publisher_name: str = "ClusterKB"
    contact_email: str = "opendata@example.org"
    licence: str = "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0"
    tokens_file: str = ""
    audit_log: str = ""
    max_auth_failures: int = 30

    @property
    def base_iri(self) -> str:
        """The base IRI, always ending in a slash."""
        base = self.base or f"http://{_display_host(self.host)}:{self.port}/"
        return base if base.endswith("/") else base + "/"

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


def _display_host(host: str) -> str:
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
    return settings


#: Durations where a negative value has no meaning.
_NOT_NEGATIVE = ("store_lease", "store_freshness", "query_timeout", "validation_timeout")
