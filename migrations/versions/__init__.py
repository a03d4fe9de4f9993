"""Revisions, loaded by Alembic from their files (it skips this one)."""
