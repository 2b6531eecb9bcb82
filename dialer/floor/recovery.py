"""What a stopped dialer left behind, as the floor settles it (pure values)."""

from __future__ import annotations

from dataclasses import dataclass

from dialer.calls.refs import AttemptRef


@dataclass(frozen=True, slots=True)
class Orphan:
    """An attempt with no end, left by a process that stopped (``kill -9``, a crash, a cut host)."""

    ref: AttemptRef
    originated: bool  # False: a preview on screen that was never dialled
    answered: bool
    connected: bool

    @property
    def channel_ids(self) -> tuple[str, str]:
        """The channel ids the dialer asked Asterisk to use (``ChannelId``/``OtherChannelId``)."""
        return self.ref.attempt_id, f"{self.ref.attempt_id}-2"
