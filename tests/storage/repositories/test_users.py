"""Users repository on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.engine import session_factory
from storage.errors import AlreadyExists, InvalidValue
from storage.models import Role
from storage.repositories.users import add_user, get_user_by_extension, get_user_by_login
from tests.storage.factories import unique, unique_digits


async def test_add_then_find_by_login_and_extension(engine: AsyncEngine, session: AsyncSession) -> None:
    login, ext = unique("ana-"), unique_digits(6)
    await add_user(session, login=login, password_hash="h", role="agent", full_name="Ana Lima",
                   extension=ext, endpoint="PJSIP/7001", discount_limit_pct=Decimal("5.50"))
    await session.commit()

    async with session_factory(engine)() as fresh:
        by_login = await get_user_by_login(fresh, login)
        by_ext = await get_user_by_extension(fresh, ext)
    assert by_login is not None and by_ext is not None and by_login.id == by_ext.id
    assert by_login.role is Role.AGENT and by_login.endpoint == "PJSIP/7001" and by_login.active
    assert by_login.discount_limit_pct == Decimal("5.50")
    assert await get_user_by_login(session, unique()) is None
    assert await get_user_by_extension(session, unique_digits(6)) is None


async def test_taken_login_or_extension_is_named(session: AsyncSession) -> None:
    login, ext = unique("bia-"), unique_digits(6)
    await add_user(session, login=login, password_hash="h", role=Role.AGENT, full_name="Bia", extension=ext)
    with pytest.raises(AlreadyExists, match=f"login '{login}'"):
        await add_user(session, login=login, password_hash="h", role=Role.QA, full_name="Outra")
    with pytest.raises(AlreadyExists, match=f"extension '{ext}'"):
        await add_user(session, login=unique(), password_hash="h", role=Role.AGENT, full_name="Outra", extension=ext)


async def test_unknown_role_is_refused_with_the_choices(session: AsyncSession) -> None:
    with pytest.raises(InvalidValue, match="role 'root' is not one of: agent, supervisor, qa, admin"):
        await add_user(session, login=unique(), password_hash="h", role="root", full_name="X")


async def test_users_without_extension_may_coexist(session: AsyncSession) -> None:
    for _ in range(2):
        await add_user(session, login=unique("sup-"), password_hash="h", role=Role.SUPERVISOR, full_name="Sup")
