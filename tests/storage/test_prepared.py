"""A statement prepared for sqlite3 sends and returns exactly what SQLAlchemy would."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import bindparam, create_engine, insert, or_, select, update

from storage import migrate
from storage.models import Customer, Phone, PhoneStatus, UtcDateTime
from storage.repositories.prepared import PreparedSqlite
from tests.storage.conftest import in_thread

BRT = timezone(timedelta(hours=-3))


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, sqlite3.Connection]:
    path = tmp_path / "p.db"
    in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{path}")
    return str(path), sqlite3.connect(path, isolation_level=None)


def test_rows_and_parameters_match_sqlalchemy(db: tuple[str, sqlite3.Connection]) -> None:
    path, raw = db
    engine = create_engine(f"sqlite:///{path}")
    at = datetime(2026, 3, 3, 12, 0, 0, 123456, tzinfo=BRT)
    customers, phones = Customer.__table__, Phone.__table__
    with engine.begin() as conn:
        conn.execute(insert(customers), [{
            "id": 1, "external_id": "C1", "name": "Ana", "cpf": "52998224725", "uf": "SP", "deceased": True,
            "dispute_pending": False, "balance_total": 10, "oldest_due_date": date(2025, 1, 2),
            "call_window": {"mon": ["08:00", "12:00"]}, "hold_until": at, "created_at": at, "updated_at": at,
        }])
        conn.execute(insert(phones), [{"customer_id": 1, "e164": "+5511987654321", "ddd": "11", "created_at": at}])
    statement = (
        select(customers.c.id, customers.c.deceased, customers.c.call_window, customers.c.hold_until,
               customers.c.oldest_due_date, phones.c.kind, phones.c.status)
        .join(phones, phones.c.customer_id == customers.c.id)
        .where(customers.c.hold_until <= bindparam("now", type_=customers.c.hold_until.type),
               or_(customers.c.uf == "SP", customers.c.uf == "RJ"))
    )
    values = {"now": at + timedelta(seconds=1)}
    with engine.connect() as conn:
        expected = [tuple(r) for r in conn.execute(statement, values)]
    prepared = PreparedSqlite(statement, engine.dialect)
    got = prepared.rows(raw, values)
    assert got == expected and len(got) == 1
    assert got[0][3] == at and got[0][3].tzinfo == UTC and got[0][1] is True
    assert got[0][2] == {"mon": ["08:00", "12:00"]} and got[0][4] == date(2025, 1, 2)


def test_dml_with_returning_and_constants(db: tuple[str, sqlite3.Connection]) -> None:
    path, raw = db
    engine = create_engine(f"sqlite:///{path}")
    phones = Phone.__table__
    at = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(Customer.__table__), [{
            "id": 1, "external_id": "C1", "name": "Ana", "cpf": "52998224725", "deceased": False,
            "dispute_pending": False, "balance_total": 10, "created_at": at, "updated_at": at,
        }])
        conn.execute(insert(phones), [{"id": 7, "customer_id": 1, "e164": "+5511987654321", "ddd": "11",
                                       "created_at": at}])
    statement = (
        update(phones)
        .where(phones.c.id == bindparam("b_id"))
        .values(status=PhoneStatus.WRONG.value, last_attempt_at=bindparam("b_at", type_=UtcDateTime()))
        .returning(phones.c.id, phones.c.status, phones.c.last_attempt_at)
    )
    prepared = PreparedSqlite(statement, engine.dialect)
    assert prepared.parameters({"b_id": 7, "b_at": at}) == ("wrong", "2026-03-03 15:00:00.000000", 7)
    raw.execute("BEGIN")
    rows = prepared.rows(raw, {"b_id": 7, "b_at": at + timedelta(minutes=10)})
    raw.execute("COMMIT")
    assert rows == [(7, PhoneStatus.WRONG, at + timedelta(minutes=10))]


def test_in_lists_are_refused_they_would_change_the_sql() -> None:
    engine = create_engine("sqlite://")
    statement = select(Phone.__table__.c.id).where(Phone.__table__.c.status.in_(["ok", "wrong"]))
    with pytest.raises(TypeError, match="IN lists"):
        PreparedSqlite(statement, engine.dialect)
