"""Automatic flags of a stored call: the facts read from the database, the pure rules, the flags stored.

:func:`flag_call` runs inside the dispose transaction (``DialerRuntime.dispose``), after the
outcome, agreement or promise and the script run are stored, so the flags commit with them;
``cobra qa reflag`` runs it again for older calls.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.qa.flags import CallFacts, Flag, compute_flags
from dialer.qa.records import talk_seconds
from storage.repositories.calls import CallDetail, call_detail
from storage.repositories.qa import replace_flags

DEFAULT_SHORT_CALL_S = 30


def _decimal(value: object) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _call_seconds(stored_s: int | None, clock_scale: float) -> int | None:
    if stored_s is None or clock_scale == 1.0:
        return stored_s
    return int(stored_s / clock_scale)


def facts_of(detail: CallDetail, *, clock_scale: float = 1.0) -> CallFacts:
    """What the flag rules read, from everything stored about the call.

    The stored times are the dialer's clock; ``clock_scale`` is its seconds per second of the
    call (1 against a real PBX; the simulator's time scale when it runs faster, as in ``cobra demo
    --speed``), so the talk time the rules judge is the call's own and a threshold in seconds
    means the same thing at any speed."""
    call, agreement, promise, run, outcome = detail.call, detail.agreement, detail.promise, detail.script_run, detail.outcome
    negotiated = [row.created_at for row in (agreement, promise) if row is not None]
    limits = (agreement.calculation or {}).get("limits", {}) if agreement is not None else {}
    promise_amount = promise.amount if promise is not None else (outcome.promise_amount if outcome is not None else None)
    return CallFacts(
        outcome=None if outcome is None else str(outcome.code),
        talk_s=_call_seconds(talk_seconds(call.connected_at, call.ended_at), clock_scale),
        identity_confirmed_at=None if run is None else run.identity_confirmed_at,
        negotiated_at=min(negotiated) if negotiated else None,
        discount_pct=None if agreement is None else agreement.discount_pct,
        agent_limit_pct=_decimal(limits.get("agent_pct")) if isinstance(limits, dict) else None,
        approval_id=None if agreement is None else agreement.approval_id,
        promise_amount=promise_amount,
        balance=detail.customer_balance,
    )


async def flag_call(
    session: AsyncSession, call_id: str, *, short_call_s: int, at: datetime, clock_scale: float = 1.0
) -> list[Flag]:
    """Compute and store the flags of ``call_id`` (replacing the old ones); the flags.

    ``clock_scale``: the dialer's seconds per call second (see :func:`facts_of`)."""
    if not clock_scale > 0:
        raise ValueError(f"clock_scale: must be > 0, got {clock_scale!r}")
    detail = await call_detail(session, call_id)
    if detail is None:
        return []
    flags = compute_flags(facts_of(detail, clock_scale=clock_scale), short_call_s=short_call_s)
    await replace_flags(session, call_id, [(f.code, f.detail) for f in flags], at=at)
    return flags


__all__ = ["DEFAULT_SHORT_CALL_S", "facts_of", "flag_call"]
