"""Typed keys for application and request state (aiohttp wants ``AppKey``/``RequestKey``, SPEC §13)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialer.clocks import Clock
from storage.checkpoint import WalCheckpointer
from web.auth.revocation import SessionGuard
from web.auth.sessions import CurrentLogin
from web.auth.settings import Auth
from web.config import Config

CONFIG: web.AppKey[Config] = web.AppKey("cobra.config", Config)
ENGINE: web.AppKey[AsyncEngine] = web.AppKey("cobra.engine", AsyncEngine)
# Sessions for request handlers: ``async with request.app[DB]() as db: ...``
DB: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("cobra.db")
# Sessions that only read (session lookups, GET routes): same engine, but on SQLite they take no
# lock, so a writer holding the lock can't make them wait or fail (storage.engine.read_session_factory)
DB_READ: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("cobra.db_read")
# On a SQLite file: checkpoints the WAL in the background so commits don't (storage.checkpoint); None otherwise
WAL_CHECKPOINTER: web.AppKey[WalCheckpointer | None] = web.AppKey("cobra.wal_checkpointer")
AUTH: web.AppKey[Auth] = web.AppKey("cobra.auth", Auth)
# Closes open websockets whose session ended (logout, disable, password or role change)
SESSION_GUARD: web.AppKey[SessionGuard] = web.AppKey("cobra.session_guard", SessionGuard)
# The one "now" of the web layer (aware UTC): sessions, hubs, approvals, pacing and the dialer
# must agree on the day, and the demo moves it into business hours (see dialer.clocks)
CLOCK: web.AppKey[Clock] = web.AppKey("cobra.clock")

# Set by the auth middleware on every routed request: None when nobody is logged in
CURRENT_LOGIN: web.RequestKey[CurrentLogin | None] = web.RequestKey("cobra.current_login")
