"""Domain errors raised by services; one handler in `server.app` maps them to HTTP statuses.

Services never raise HTTPException: they say what went wrong (not found, conflict, invalid) and
the web layer decides how that looks on the wire (404, 409, 422).
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of the errors a service may raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist (HTTP 404)."""


class Conflict(DomainError):
    """The request is valid but the current state forbids it, e.g. a stale lease (HTTP 409)."""


class Unavailable(DomainError):
    """A dependency (database) does not answer (HTTP 503)."""


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field, in the same shape as a request validation error."""

    field: str
    message: str
    type: str = "invalid"


class Invalid(DomainError):
    """The request is well-formed but its content is unacceptable (HTTP 422)."""

    def __init__(self, message: str, *, field: str = "", type: str = "invalid") -> None:
        super().__init__(message)
        self.problems: list[FieldProblem] = [FieldProblem(field=field, message=message, type=type)]
