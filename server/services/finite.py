"""Refuse NaN and infinity before they reach the database.

SQLite stores NaN as NULL (breaking NOT NULL columns), Postgres' JSON rejects it, and JSON
responses cannot carry it (it would come back as null, which no float field accepts): a
non-finite number is refused with a 422 that names where it was.
"""

from __future__ import annotations

import math
from typing import Any

from server.errors import Invalid


def first_non_finite(value: Any, path: str) -> str | None:
    """The dotted path of the first NaN or infinity inside `value` (dicts, lists, floats)."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = first_non_finite(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def require_finite(value: Any, path: str) -> None:
    """Raise Invalid naming the first non-finite number inside `value`."""
    found = first_non_finite(value, path)
    if found is not None:
        raise Invalid(
            "must be a finite number (NaN and infinity cannot be stored); a diverged run "
            "should fail its job instead",
            field=found,
            type="finite_number",
        )
