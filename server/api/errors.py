"""The 422 body: `{"detail": [{"field": "optimizer.lr", "message": ..., "type": ...}]}`.

`field` is the dotted path inside the body, query or path, without that leading part. An error
of the whole body (a model-level validator, empty loc) keeps its own message; when that message
starts with a dotted field name and a colon ("splits.epochs: 0.5 and 0.51 both round to step 4"),
as the contract's validators write them, that name becomes the field, else the field is "".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from server.errors import FieldProblem

LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
PREFIXES = ("Value error, ", "Assertion failed, ")
NAMED_MESSAGE = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*): (.+)$", re.DOTALL)


def _field(loc: Sequence[Any], error_type: str) -> str:
    parts = list(loc)
    if parts and parts[0] in LOCATIONS:
        parts = parts[1:]
    if error_type == "json_invalid":
        return ""  # FastAPI puts the character offset of the JSON error in loc
    return ".".join(str(part) for part in parts)


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", ""))
    for prefix in PREFIXES:
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if error.get("type") == "json_invalid" and error.get("ctx", {}).get("error"):
        message = f"{message}: {error['ctx']['error']}"
    return message


def _problem(error: dict[str, Any]) -> FieldProblem:
    error_type = str(error.get("type", "invalid"))
    field = _field(error.get("loc", ()), error_type)
    message = _message(error)
    named = NAMED_MESSAGE.match(message) if not field else None
    if named:
        field, message = named.group(1), named.group(2)
    return FieldProblem(field=field, message=message, type=error_type)


def validation_problems(errors: Iterable[dict[str, Any]]) -> list[FieldProblem]:
    """FastAPI/pydantic errors -> FieldProblems."""
    return [_problem(error) for error in errors]


def problems_body(problems: Iterable[FieldProblem]) -> dict[str, list[dict[str, str]]]:
    return {"detail": [{"field": p.field, "message": p.message, "type": p.type} for p in problems]}
