"""The client's small exception tree: one class per way a request can fail."""

from __future__ import annotations

from typing import Any


class LabError(Exception):
    """Any failure talking to an lmclab server."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ServerUnreachable(LabError):
    """No server answered at the URL (not started, wrong LMCLAB_SERVER_URL, network)."""


class NotFound(LabError):
    """404: the experiment, hull, run or checkpoint does not exist."""


class Conflict(LabError):
    """409: the request does not fit the current state (e.g. a job already done or leased)."""


class Unauthorized(LabError):
    """401/403: a token is missing or not allowed to do this."""


class ValidationFailed(LabError):
    """422: the body did not validate; `errors` lists {field, message, type} per problem."""

    def __init__(self, errors: list[dict[str, Any]], *, status_code: int = 422) -> None:
        self.errors = errors
        lines = [f"{e.get('field') or '(spec)'}: {e.get('message')}" for e in errors]
        super().__init__("invalid request:\n  " + "\n  ".join(lines), status_code=status_code)

    @property
    def fields(self) -> list[str]:
        return [str(e.get("field")) for e in self.errors]


class ServerError(LabError):
    """5xx: the server failed; the message carries what it said."""


class Timeout(LabError):
    """wait() ran past its timeout before the experiment finished."""
