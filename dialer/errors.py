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


class AmiLinkLost(AmiError):
    """The AMI link dropped while an action was in flight.

    Whether Asterisk ran the action is unknown, and the gateway never re-sends it: the
    caller reconciles (e.g. looks for ``channel_id`` in ``CoreShowChannels``) and decides.
    """

    def __init__(self, action: str, action_id: str, channel_id: str | None = None) -> None:
        super().__init__(f"{action} {action_id}: AMI link lost before the reply; outcome unknown, not re-sent")
        self.action = action
        self.action_id = action_id
        self.channel_id = channel_id
