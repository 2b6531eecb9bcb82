"""Alembic migrations of Cobra's schema, shipped inside the package (see storage.migrate)."""
