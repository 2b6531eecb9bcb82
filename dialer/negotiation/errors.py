"""Errors of the negotiation services: each carries a ``code`` and, when one is to blame, the ``field``.

Messages are pt-BR (the agent and supervisor read them). ``str(error)`` is
``"<field>: <message>"`` when there is a field, which is how the agent desktop's
websocket handler turns a ``DialerError`` into an ``error`` frame naming the field.
"""

from __future__ import annotations

from dialer.errors import DialerError


class NegotiationError(DialerError):
    code = "negotiation_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class NoPolicy(NegotiationError):
    code = "no_policy"


class NothingToNegotiate(NegotiationError):
    code = "nothing_to_negotiate"


class NotAllowed(NegotiationError):
    """Outside the agent's authority, or the policy's."""

    code = "not_allowed"


class AlreadyDecided(NegotiationError):
    """Another supervisor decided first, or the request expired."""

    code = "already_decided"


class UnknownRequest(NegotiationError):
    code = "unknown_request"


__all__ = ["AlreadyDecided", "NegotiationError", "NoPolicy", "NotAllowed", "NothingToNegotiate", "UnknownRequest"]
