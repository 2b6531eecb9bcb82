"""Authentication settings and the per-application auth state (limiter, hasher, clock)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher

from storage.models import utcnow
from web.auth.ratelimit import LoginRateLimiter
from web.config import WebConfig

SESSION_COOKIE = "cobra_session"
# Double-submit cookie protecting the login form itself (no session exists yet)
LOGIN_CSRF_COOKIE = "cobra_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
MAX_CONCURRENT_HASHES = 2


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How long sessions last, cookie flags, and login throttling limits."""

    session_ttl: timedelta = timedelta(hours=12)
    secure_cookies: bool = False
    max_failures_per_login: int = 5
    max_failures_per_ip: int = 20
    failure_window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, web: WebConfig) -> AuthSettings:
        return cls(session_ttl=timedelta(hours=web.session_hours), secure_cookies=web.secure_cookies)


@dataclass(slots=True)
class Auth:
    """What the auth code needs at run time, one per application (stored under ``keys.AUTH``).

    ``clock`` gives aware UTC datetimes; tests pass their own to move time forward.
    """

    settings: AuthSettings = field(default_factory=AuthSettings)
    clock: Callable[[], datetime] = utcnow
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    # How many password hashes may be computed at once (each takes the hasher's memory_cost)
    hashing_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_CONCURRENT_HASHES))
    limiter: LoginRateLimiter = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.limiter = LoginRateLimiter(
            max_per_login=s.max_failures_per_login,
            max_per_ip=s.max_failures_per_ip,
            window_s=s.failure_window.total_seconds(),
            clock=lambda: self.clock().timestamp(),
        )
