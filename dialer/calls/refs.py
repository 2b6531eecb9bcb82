"""Which attempt, lead, customer and phone a live call belongs to (a pure value)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AttemptRef:
    """What the writer needs to know about an attempt to close it."""

    attempt_id: str
    lead_id: int | None
    customer_id: int | None
    phone_id: int | None
    campaign_id: int
    callback_id: int | None = None
    preview: bool = False
    """Dialled from a preview campaign: its next call is a preview with an agent too."""
