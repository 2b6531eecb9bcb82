"""How to reach and watch one Asterisk over AMI (the gateway's settings)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

from dialer.ami.actions import DEFAULT_EVENT_CLASSES, Login
from dialer.errors import AmiValueError


class _PbxFields(Protocol):
    """The fields of ``web.config.PbxConfig`` the gateway reads (no import of ``web``)."""

    host: str
    port: int
    username: str
    secret: str
    ping_interval_s: float
    action_timeout_s: float


@dataclass(frozen=True, slots=True)
class AmiSettings:
    """How to reach and watch one Asterisk."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "cobra"
    secret: str = field(default="cobra", repr=False)
    ping_interval_s: float = 5.0
    action_timeout_s: float = 10.0
    # Wait this long for a Pong before declaring the link dead; None: the smaller of
    # action_timeout_s and ping_interval_s
    ping_timeout_s: float | None = None
    connect_timeout_s: float = 5.0
    # Wait this long for the reply to Login before dropping the connection; None: action_timeout_s
    login_timeout_s: float | None = None
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    events: tuple[str, ...] = DEFAULT_EVENT_CLASSES
    queue_size: int = 10_000

    @classmethod
    def from_pbx(cls, pbx: _PbxFields, **overrides: object) -> AmiSettings:
        """Settings from a ``PbxConfig`` (or anything with its fields)."""
        base = cls(
            host=pbx.host,
            port=pbx.port,
            username=pbx.username,
            secret=pbx.secret,
            ping_interval_s=pbx.ping_interval_s,
            action_timeout_s=pbx.action_timeout_s,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    @property
    def effective_ping_timeout_s(self) -> float:
        if self.ping_timeout_s is not None:
            return self.ping_timeout_s
        return min(self.action_timeout_s, self.ping_interval_s)

    @property
    def effective_login_timeout_s(self) -> float:
        return self.login_timeout_s if self.login_timeout_s is not None else self.action_timeout_s

    def validate(self) -> None:
        """Refuse unusable settings, naming the field."""
        for name in (
            "ping_interval_s",
            "action_timeout_s",
            "connect_timeout_s",
            "reconnect_initial_s",
            "reconnect_max_s",
        ):
            if not getattr(self, name) > 0:
                raise AmiValueError(f"{name}: must be greater than 0")
        if self.ping_timeout_s is not None and not self.ping_timeout_s > 0:
            raise AmiValueError("ping_timeout_s: must be greater than 0")
        if self.login_timeout_s is not None and not self.login_timeout_s > 0:
            raise AmiValueError("login_timeout_s: must be greater than 0")
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise AmiValueError("reconnect_max_s: must not be smaller than reconnect_initial_s")
        if not 0 < self.port <= 65535:
            raise AmiValueError(f"port: {self.port} is not a TCP port")
        if self.queue_size < 2:
            raise AmiValueError("queue_size: must be at least 2")
        Login(self.username, self.secret, self.events).headers()
