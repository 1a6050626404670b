"""Persistence: typed SQLAlchemy models, engines and sessions, dialect-aware upserts, migrations."""
