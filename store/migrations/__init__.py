"""Alembic migrations of the store schema (driven from ``store.schema``)."""
