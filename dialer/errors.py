"""The dialer's exception hierarchy: one root, so callers can catch what they mean."""

from __future__ import annotations


class DialerError(Exception):
    """Root of every error the dialer package raises."""


class AmiError(DialerError):
    """Anything that went wrong talking AMI."""


class AmiProtocolError(AmiError):
    """Asterisk (or a peer) sent something that does not parse as the AMI we know."""


class AmiValueError(AmiError, ValueError):
    """A value we were about to send over AMI is unsafe (CR/LF, too long, not digits...)."""


class AmiNotConnected(AmiError):
    """The AMI link is down; the action was not sent."""


class AmiTimeout(AmiError, TimeoutError):
    """An action got no complete reply in time."""


class AmiActionFailed(AmiError):
    """Asterisk answered ``Response: Error`` to an action."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message


class AmiAuthError(AmiError):
    """Login refused (wrong username or secret)."""
