"""Steward API tokens: created once, stored only as salted SHA-256 hashes, revocable.

A token reads ``ckb_<id>_<secret>``: the public ``id`` finds the record, the 256-bit random
``secret`` is checked against its salted hash in constant time. (The secret is random, not a
password a person chose, so a fast hash is enough: there is nothing to guess.) Tokens live in a
JSON file next to the store (setting ``tokens_file``), written atomically and re-read when it
changes, so ``kb token revoke`` takes effect in a running server at once and every front end on
the machine sees the same tokens. There are no default credentials: without a token file
nobody may write.

Roles: ``admin`` may write every graph and roll back; ``steward`` may write the graphs granted
(graph names relative to ``{base}graph/``, or absolute IRIs; a trailing ``*`` grants a prefix).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kb.errors import AuthError, KBError

_TOKEN = re.compile(r"^ckb_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
ROLES = ("steward", "admin")


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    role: str
    graphs: tuple[str, ...]
    created: str
    salt: str
    hash: str
    revoked: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def public(self) -> dict[str, object]:
        """What may be shown: never the hash or salt."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "graphs": list(self.graphs),
            "created": self.created,
            "revoked": self.revoked,
        }


@dataclass(frozen=True)
class Principal:
    """Who is writing: the token's id, name, role and grants."""

    id: str
    name: str
    role: str
    graphs: tuple[str, ...] = field(default=())

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_write(self, graph: str | None, base: str) -> bool:
        """``graph`` is a graph IRI, or None for the default graph (grant name ``default``)."""
        if self.is_admin:
            return True
        for grant in self.graphs:
            full = grant if grant == "default" or ":" in grant else f"{base}graph/{grant}"
            if graph is None:
                if full == "default":
                    return True
            elif full.endswith("*"):
                if graph.startswith(full[:-1]):
                    return True
            elif graph == full:
                return True
        return False


def _hash(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class TokenStore:
    """The token file. Safe for several threads and processes (a file lock around changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[int, int, dict[str, Token]] | None = None
        self._lock = threading.Lock()

    def create(self, name: str, *, role: str = "steward", graphs: tuple[str, ...] = ()) -> str:
        """Add a token and return it in full: the only time it is ever shown."""
        if role not in ROLES:
            raise KBError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        if not name.strip():
            raise KBError("a token needs a name (the steward it belongs to)")
        ident = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        token = Token(ident, name.strip(), role, tuple(graphs), _now(), salt, _hash(salt, secret))
        with self._editing() as tokens:
            tokens[ident] = token
        return f"ckb_{ident}_{secret}"

    def revoke(self, ident_or_name: str) -> list[Token]:
        """Revoke the token with this id, or every active token of this name."""
        done: list[Token] = []
        with self._editing() as tokens:
            for key, token in list(tokens.items()):
                if token.active and ident_or_name in (token.id, token.name):
                    tokens[key] = Token(**{**asdict(token), "revoked": _now()})
                    done.append(tokens[key])
        return done

    def rebase(self, old: str, new: str) -> int:
        """Grants written as absolute graph IRIs under ``old`` now name the same path under
        ``new`` (``kb migrate``); the number of grants changed."""
        changed = 0
        with self._editing() as tokens:
            for key, token in list(tokens.items()):
                graphs = tuple(
                    new + g[len(old) :] if g.startswith(old) else g for g in token.graphs
                )
                if graphs != token.graphs:
                    changed += sum(a != b for a, b in zip(graphs, token.graphs, strict=True))
                    tokens[key] = Token(**{**asdict(token), "graphs": graphs})
        return changed

    def list(self) -> list[Token]:
        return sorted(self._read().values(), key=lambda t: t.created)

    def authenticate(self, presented: str | None) -> Principal:
        """The principal a bearer token stands for; :class:`AuthError` if none."""
        if not presented:
            raise AuthError("this needs a steward token: send 'Authorization: Bearer <token>'")
        match = _TOKEN.match(presented.strip())
        token = self._read().get(match.group(1)) if match else None
        # Compare even when the id is unknown, so timing says nothing about which ids exist.
        expected = token.hash if token else "0" * 64
        salt = token.salt if token else "00" * 16
        secret = match.group(2) if match else presented
        ok = hmac.compare_digest(_hash(salt, secret), expected)
        if not (ok and token):
            raise AuthError("the token is not valid")
        if not token.active:
            raise AuthError("the token has been revoked")
        return Principal(token.id, token.name, token.role, token.graphs)

    # --- file --------------------------------------------------------------------------

    def _read(self) -> dict[str, Token]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        with self._lock:
            if self._cache and self._cache[:2] == (st.st_mtime_ns, st.st_size):
                return self._cache[2]
            raw = json.loads(self.path.read_text(encoding="utf-8") or "{}")
            tokens = {
                t["id"]: Token(**{**t, "graphs": tuple(t.get("graphs", ()))})
                for t in raw.get("tokens", [])
            }
            self._cache = (st.st_mtime_ns, st.st_size, tokens)
            return tokens

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, Token]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        with lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                self._cache = None
                tokens = dict(self._read())
                yield tokens
                body = {"tokens": [asdict(t) for t in tokens.values()]}
                tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(body, out, indent=1)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
                self._cache = None
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
