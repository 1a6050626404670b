"""The lmclab server: FastAPI routes -> services -> SQLAlchemy, artifact store, Celery dispatch.

The only writer of the database and the artifact store (DESIGN §1); it never imports torch.
"""

from __future__ import annotations

from importlib import metadata


def _version() -> str:
    """The installed distribution's version, or a marker when run from a source tree."""
    try:
        return metadata.version("lmclab")
    except metadata.PackageNotFoundError:
        return "0.0.0+source"


__version__ = _version()
