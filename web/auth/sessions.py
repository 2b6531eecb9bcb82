"""Server-side login sessions: create, look up, end (SPEC §11).

The browser holds a random token (256 bits); the database keeps its SHA-256 only. A
session ends at ``expires_at`` (fixed at login: a shift), at logout, or when the user is
disabled or changes password. Every function takes the caller's ``AsyncSession`` and only
flushes; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Role, User, WebSession

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass(frozen=True, slots=True)
class CurrentLogin:
    """Who is behind a request: the user and their session."""

    user_id: int
    login: str
    full_name: str
    role: Role
    extension: str | None
    endpoint: str | None
    csrf_token: str
    expires_at: datetime
    session_hash: str

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0] if self.full_name.strip() else self.login


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # goes into the cookie; never stored
    login: CurrentLogin


def _current(user: User, row: WebSession) -> CurrentLogin:
    return CurrentLogin(
        user_id=user.id,
        login=user.login,
        full_name=user.full_name,
        role=Role(user.role),
        extension=user.extension,
        endpoint=user.endpoint,
        csrf_token=row.csrf_token,
        expires_at=row.expires_at,
        session_hash=row.token_hash,
    )


async def create_session(
    db: AsyncSession, user: User, *, now: datetime, ttl: timedelta, ip: str | None, user_agent: str | None
) -> NewSession:
    """Store a new session for ``user``; the returned token is for the cookie."""
    token = new_token()
    row = WebSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
        created_at=now,
        expires_at=now + ttl,
        ip=ip[:45] if ip else None,
        user_agent=user_agent[:255] if user_agent else None,
    )
    db.add(row)
    await db.flush()
    return NewSession(token, _current(user, row))


async def load_session(db: AsyncSession, token: str, *, now: datetime) -> CurrentLogin | None:
    """The login behind ``token``, or None if unknown, expired or the user is disabled."""
    if not token or len(token) > 128:
        return None
    found = (
        await db.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == token_hash(token), WebSession.expires_at > now, User.active.is_(True))
        )
    ).first()
    if found is None:
        return None
    row, user = found
    return _current(user, row)


async def end_session(db: AsyncSession, session_hash: str) -> None:
    await db.execute(delete(WebSession).where(WebSession.token_hash == session_hash))


async def end_user_sessions(db: AsyncSession, user_id: int) -> int:
    """Log a user out everywhere; returns how many sessions ended."""
    result = await db.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_expired(db: AsyncSession, *, now: datetime) -> int:
    """Delete sessions past their expiry (done at each login, so no background task is needed)."""
    result = await db.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class SessionState:
    """What the database says of a session today: None fields when the session row is gone."""

    user_id: int
    role: Role
    active: bool
    expires_at: datetime


async def session_states(db: AsyncSession, session_hashes: Collection[str]) -> dict[str, SessionState]:
    """The stored state of each session in ``session_hashes`` (one indexed read; absent = ended)."""
    found: dict[str, SessionState] = {}
    hashes = list(session_hashes)
    # chunks keep the IN list far below SQLite's bound-parameter limit
    for start in range(0, len(hashes), 500):
        rows = await db.execute(
            select(WebSession.token_hash, User.id, User.role, User.active, WebSession.expires_at)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash.in_(hashes[start : start + 500]))
        )
        for token, user_id, role, active, expires_at in rows:
            found[token] = SessionState(user_id, Role(role), bool(active), expires_at)
    return found


async def users_active(db: AsyncSession, user_ids: Collection[int]) -> dict[int, bool]:
    """Whether each of ``user_ids`` may log in (absent: the user no longer exists)."""
    rows = await db.execute(select(User.id, User.active).where(User.id.in_(list(user_ids))))
    return {user_id: bool(active) for user_id, active in rows}
