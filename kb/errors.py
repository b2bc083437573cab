"""The knowledge base's exceptions. No HTTP status codes here: server/errors.py maps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kb.submit import Outcome


class KBError(Exception):
    """Base class: a failure the caller can explain to a person."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.message}


class ConfigError(KBError):
    code = "bad_configuration"


class ParseError(KBError):
    """Input that is not valid RDF (or not acceptable RDF), with where it went wrong."""

    code = "parse_error"

    def __init__(
        self,
        message: str,
        *,
        source: str = "<input>",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.reason = message
        self.source = source
        self.line = line
        self.column = column
        where = source
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "source": self.source,
            "line": self.line,
            "column": self.column,
        }


class InputTooLarge(ParseError):
    code = "too_large"


class UnsupportedFormat(KBError):
    code = "unsupported_format"


class NotFound(KBError):
    code = "not_found"


class QueryRejected(KBError):
    """A query refused by policy or syntax before it reaches the store."""

    code = "query_rejected"


class QueryTimeout(KBError):
    code = "query_timeout"


class StoreError(KBError):
    """The store answered with an error or could not be reached."""

    code = "store_error"


class StoreUnavailable(StoreError):
    code = "store_unavailable"


class ValidationTimeout(KBError):
    """Validation did not finish within its deadline (the write is refused)."""

    code = "validation_timeout"


class ValidationFailed(KBError):
    """The data has SHACL violations; carries the readable report."""

    code = "validation_failed"

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        n = len(outcome.report.violations) if outcome.report else 0
        super().__init__(f"the data has {n} SHACL violation(s); nothing was written")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), **self.outcome.to_dict()}


class InvalidRequest(KBError):
    """A request the protocol does not allow (a reconciliation batch that fails its JSON
    Schema, an unknown type, too many queries); ``where`` names the part of the input."""

    code = "bad_request"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "where": self.where}


class PreconditionFailed(KBError):
    """If-Match / If-None-Match does not hold."""

    code = "precondition_failed"


class Conflict(KBError):
    """The request conflicts with what was committed before."""

    code = "conflict"


class BadGraph(KBError):
    """A graph name that is not acceptable."""

    code = "bad_graph_name"


class AuthError(KBError):
    """No valid credentials."""

    code = "unauthorized"


class Forbidden(KBError):
    """Valid credentials, but not for this."""

    code = "forbidden"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a spreadsheet: its row, its column, what is wrong."""

    row: int
    column: str  # "C (founding_date)" or "" for the whole row/sheet
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class SheetError(ParseError):
    """A spreadsheet that cannot be mapped: every problem with its row and column."""

    code = "invalid_spreadsheet"

    def __init__(self, problems: list[Problem], *, source: str = "<sheet>") -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        first = problems[0] if problems else None
        super().__init__(shown + more, source=source, line=first.row if first else None)

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "problems": [
                {"row": p.row, "column": p.column, "message": p.message} for p in self.problems
            ],
        }
