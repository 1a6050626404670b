"""lmclab's thin client: the wire contract, `LabClient` and the `lmclab` command.

Imports neither torch nor sqlalchemy (nor fastapi, celery): `pip install lmclab` is enough to
submit specs and read results from a lab server.
"""

from client.contract import ExperimentSpec, Hull, HullTable, MetricTable
from client.errors import (
    Conflict,
    LabError,
    NotFound,
    ServerError,
    ServerUnreachable,
    Timeout,
    Unauthorized,
    ValidationFailed,
)
from client.lab import LabClient

__all__ = [
    "Conflict",
    "ExperimentSpec",
    "Hull",
    "HullTable",
    "LabClient",
    "LabError",
    "MetricTable",
    "NotFound",
    "ServerError",
    "ServerUnreachable",
    "Timeout",
    "Unauthorized",
    "ValidationFailed",
]
__version__ = "0.1.0"
