"""Users: add one, find one by login or by extension."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import AlreadyExists
from storage.models import Role, User
from storage.repositories._values import enum_value


async def add_user(
    session: AsyncSession,
    *,
    login: str,
    password_hash: str,
    role: Role | str,
    full_name: str,
    extension: str | None = None,
    endpoint: str | None = None,
    discount_limit_pct: Decimal | None = None,
    active: bool = True,
) -> User:
    """Store a new user; AlreadyExists names the login or extension already taken."""
    if await get_user_by_login(session, login) is not None:
        raise AlreadyExists(f"login {login!r} is already taken")
    if extension is not None and await get_user_by_extension(session, extension) is not None:
        raise AlreadyExists(f"extension {extension!r} is already assigned to another user")
    user = User(
        login=login,
        password_hash=password_hash,
        role=enum_value(Role, role, "role"),
        full_name=full_name,
        extension=extension,
        endpoint=endpoint,
        discount_limit_pct=discount_limit_pct,
        active=active,
    )
    session.add(user)
    await session.flush()
    return user


async def get_user_by_login(session: AsyncSession, login: str) -> User | None:
    return await session.scalar(select(User).where(User.login == login))


async def get_user_by_extension(session: AsyncSession, extension: str) -> User | None:
    return await session.scalar(select(User).where(User.extension == extension))
