"""Alembic from code: the migrations package is found next to the code, in a repo or a wheel.

No alembic.ini is needed (DESIGN §10: migrations must be found whether the server runs from the
repository or from an installed wheel).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations
from server.db.session import normalize_url


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the `migrations` package and at `url`."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    rendered = normalize_url(url).render_as_string(hide_password=False)
    # ConfigParser interpolation: a literal % (e.g. in an escaped password) must be doubled.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creating SQLite's folder if needed)."""
    command.upgrade(alembic_config(url), revision)
