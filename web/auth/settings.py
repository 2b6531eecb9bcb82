"""Authentication settings and the per-application auth state (limiter, hasher, clock)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher

from storage.models import utcnow
from web.auth.clients import IPNetwork, parse_networks
from web.auth.ratelimit import LoginRateLimiter, ThrottlePolicy
from web.config import WebConfig

SESSION_COOKIE = "cobra_session"
# Double-submit cookie protecting the login form itself (no session exists yet)
LOGIN_CSRF_COOKIE = "cobra_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
MAX_CONCURRENT_HASHES = 2


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How long sessions last, cookie flags, login throttling and the proxies trusted to name the client."""

    session_ttl: timedelta = timedelta(hours=12)
    secure_cookies: bool = False
    login_free_failures: int = 5
    login_max_delay_s: float = 60.0
    client_free_failures: int = 20
    client_max_delay_s: float = 900.0
    first_delay_s: float = 1.0
    failure_window: timedelta = timedelta(minutes=15)
    trusted_proxies: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_config(cls, web: WebConfig) -> AuthSettings:
        return cls(
            session_ttl=timedelta(hours=web.session_hours),
            secure_cookies=web.secure_cookies,
            login_free_failures=web.login_free_failures,
            login_max_delay_s=web.login_max_delay_s,
            client_free_failures=web.client_free_failures,
            client_max_delay_s=web.client_max_delay_s,
            trusted_proxies=parse_networks(web.trusted_proxies),
        )


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
            per_login=ThrottlePolicy(s.login_free_failures, s.login_max_delay_s, s.first_delay_s),
            per_client=ThrottlePolicy(s.client_free_failures, s.client_max_delay_s, s.first_delay_s),
            window_s=s.failure_window.total_seconds(),
            clock=lambda: self.clock().timestamp(),
        )
