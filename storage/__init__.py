"""Cobra storage: SQLAlchemy models, async engines, repositories and Alembic migrations (SPEC §2)."""
