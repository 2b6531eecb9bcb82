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


def facts_of(detail: CallDetail) -> CallFacts:
    """What the flag rules read, from everything stored about the call."""
    call, agreement, promise, run, outcome = detail.call, detail.agreement, detail.promise, detail.script_run, detail.outcome
    negotiated = [row.created_at for row in (agreement, promise) if row is not None]
    limits = (agreement.calculation or {}).get("limits", {}) if agreement is not None else {}
    promise_amount = promise.amount if promise is not None else (outcome.promise_amount if outcome is not None else None)
    return CallFacts(
        outcome=None if outcome is None else str(outcome.code),
        talk_s=talk_seconds(call.connected_at, call.ended_at),
        identity_confirmed_at=None if run is None else run.identity_confirmed_at,
        negotiated_at=min(negotiated) if negotiated else None,
        discount_pct=None if agreement is None else agreement.discount_pct,
        agent_limit_pct=_decimal(limits.get("agent_pct")) if isinstance(limits, dict) else None,
        approval_id=None if agreement is None else agreement.approval_id,
        promise_amount=promise_amount,
        balance=detail.customer_balance,
    )


async def flag_call(session: AsyncSession, call_id: str, *, short_call_s: int, at: datetime) -> list[Flag]:
    """Compute and store the flags of ``call_id`` (replacing the old ones); the flags."""
    detail = await call_detail(session, call_id)
    if detail is None:
        return []
    flags = compute_flags(facts_of(detail), short_call_s=short_call_s)
    await replace_flags(session, call_id, [(f.code, f.detail) for f in flags], at=at)
    return flags


__all__ = ["DEFAULT_SHORT_CALL_S", "facts_of", "flag_call"]
