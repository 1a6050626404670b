"""Alembic migrations of the lmclab server's database; a package so that it ships in the wheel.

`server.db.migrate` locates this folder through `migrations.__file__`; no alembic.ini is needed.
"""
