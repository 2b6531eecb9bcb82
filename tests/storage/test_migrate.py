"""Migrations build the schema on empty SQLite and PostgreSQL databases and match the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from storage import migrate
from storage.engine import create_engine
from storage.errors import DatabaseUnavailable, MigrationError, SchemaDrift
from storage.models import Base


def _table_names(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _execute(url: str, *statements: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                for sql in statements:
                    await conn.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_upgrade_head_on_an_empty_database_creates_every_table(empty_db_url: str) -> None:
    assert migrate.current_revision(empty_db_url) is None
    migrate.upgrade(empty_db_url)
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()
    assert _table_names(empty_db_url) == set(Base.metadata.tables) | {"alembic_version"}
    migrate.upgrade(empty_db_url)  # a second run is a no-op
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()


def test_models_match_the_migrations(db_url: str) -> None:
    assert migrate.check(db_url) == migrate.head_revision()


def test_check_names_each_difference(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    _execute(empty_db_url, "ALTER TABLE users ADD COLUMN nickname VARCHAR(20)", "DROP INDEX ix_phones_e164")
    with pytest.raises(SchemaDrift) as caught:
        migrate.check(empty_db_url)
    assert sorted(caught.value.differences) == [
        "column users.nickname: in the database, not in the models",
        "index ix_phones_e164 on phones: in the models, missing from the database",
    ]


def test_check_refuses_a_database_behind_head(empty_db_url: str) -> None:
    with pytest.raises(MigrationError, match="not at head .* run `cobra db upgrade`"):
        migrate.check(empty_db_url)


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    command.downgrade(migrate.alembic_config(empty_db_url), "base")
    assert _table_names(empty_db_url) == {"alembic_version"}
    assert migrate.current_revision(empty_db_url) is None
    migrate.upgrade(empty_db_url)
    assert migrate.check(empty_db_url) == migrate.head_revision()


def test_upgrade_works_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    migrate.upgrade("sqlite+aiosqlite:///./relative.db")
    assert (elsewhere / "relative.db").exists()
    assert migrate.check("sqlite+aiosqlite:///./relative.db") == migrate.head_revision()


def test_upgrade_to_an_unknown_revision_names_it(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="'nope'"):
        migrate.upgrade(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "nope")


def test_unopenable_database_is_reported_as_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="no-such-dir"):
        migrate.upgrade(f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")


def test_revisions_form_one_chain_and_never_import_the_models() -> None:
    versions = migrate.MIGRATIONS_DIR / "versions"
    sources = [p.read_text(encoding="utf-8") for p in versions.glob("*.py") if p.name != "__init__.py"]
    assert sources, "no revision shipped"
    assert all("storage" not in line for src in sources for line in src.splitlines() if "import" in line)
    assert migrate.head_revision()  # raises if the chain forks into several heads


def test_upgrade_rebuilds_referenced_tables_that_hold_data(empty_db_url: str) -> None:
    """A batch migration (SQLite table rebuild) must not trip over rows that reference the table."""
    migrate.upgrade(empty_db_url, "0003")
    _execute(
        empty_db_url,
        "INSERT INTO campaigns (name, mode, status, dial_template, caller_id, pbx_name, ring_timeout_s,"
        " max_dial_level, abandon_cap, created_at)"
        " VALUES ('Cartões', 'progressive', 'active', 'Local/{number}@cust-sim', '551130000000', 'sim', 25, 3, 0.03,"
        " '2026-11-23 12:00:00')",
        "INSERT INTO customers (external_id, name, cpf, deceased, dispute_pending, created_at, updated_at)"
        " VALUES ('C1', 'José', '12345678909', FALSE, FALSE, '2026-11-23 12:00:00', '2026-11-23 12:00:00')",
        "INSERT INTO leads (campaign_id, customer_id, priority, boost, state, attempts, created_at, updated_at)"
        " VALUES (1, 1, 0, 0, 'new', 0, '2026-11-23 12:00:00', '2026-11-23 12:00:00')",
    )
    migrate.upgrade(empty_db_url, "head")
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()
    migrate.check(empty_db_url)
