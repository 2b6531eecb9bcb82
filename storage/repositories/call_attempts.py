"""Call attempts: create one when dialling, update it as the call progresses, read it back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound, UnknownField
from storage.models import CallAttempt, CampaignMode, new_attempt_id
from storage.repositories._values import enum_value

# What identifies an attempt never changes after creation; ``amount`` is derived (calls.refresh_call_amount owns it)
_FROZEN = frozenset({"id", "campaign_id", "created_at", "amount"})
UPDATABLE_FIELDS: frozenset[str] = frozenset(c.key for c in CallAttempt.__table__.columns) - _FROZEN


async def create_call_attempt(
    session: AsyncSession,
    *,
    campaign_id: int,
    mode: CampaignMode | str,
    number: str,
    lead_id: int | None = None,
    customer_id: int | None = None,
    phone_id: int | None = None,
    agent_id: int | None = None,
    caller_id: str | None = None,
    pbx_name: str | None = None,
    attempt_id: str | None = None,
) -> CallAttempt:
    """Store a new attempt before it is originated; its id is the AMI ActionID to use."""
    attempt = CallAttempt(
        id=attempt_id or new_attempt_id(),
        campaign_id=campaign_id,
        mode=enum_value(CampaignMode, mode, "mode"),
        number=number,
        lead_id=lead_id,
        customer_id=customer_id,
        phone_id=phone_id,
        agent_id=agent_id,
        caller_id=caller_id,
        pbx_name=pbx_name,
    )
    session.add(attempt)
    await session.flush()
    return attempt


async def get_call_attempt(session: AsyncSession, attempt_id: str) -> CallAttempt | None:
    return await session.get(CallAttempt, attempt_id)


async def update_call_attempt(session: AsyncSession, attempt_id: str, **changes: Any) -> CallAttempt:
    """Set the given fields (e.g. ``answered_at=...``, ``result=CallResult.BUSY``) and flush.

    Raises UnknownField naming any field that does not exist or may not change, and
    NotFound if there is no such attempt; nothing is written in either case.
    """
    bad = sorted(set(changes) - UPDATABLE_FIELDS)
    if bad:
        raise UnknownField(
            f"call attempt field(s) {', '.join(bad)} cannot be updated; updatable: {', '.join(sorted(UPDATABLE_FIELDS))}"
        )
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is None:
        raise NotFound(f"no call attempt with id {attempt_id!r}")
    for name, value in changes.items():
        setattr(attempt, name, value)
    await session.flush()
    return attempt


async def set_call_attempt(session: AsyncSession, attempt_id: str, **changes: Any) -> None:
    """:func:`update_call_attempt` in one ``UPDATE`` statement (no read of the row first).

    The dialer's writer stores half a dozen of these per call (answered, connected, ended...);
    the read before each write was half its statements (issue 10). Same errors: UnknownField
    for a field that may not change, NotFound when there is no such attempt; an attempt object
    the session already holds has those fields read again.
    """
    bad = sorted(set(changes) - UPDATABLE_FIELDS)
    if bad:
        raise UnknownField(
            f"call attempt field(s) {', '.join(bad)} cannot be updated; updatable: {', '.join(sorted(UPDATABLE_FIELDS))}"
        )
    if not changes:
        return
    result = await session.execute(
        update(CallAttempt).where(CallAttempt.id == attempt_id).values(**changes),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no call attempt with id {attempt_id!r}")
    # an attempt object this session already holds is read again (the writer's fresh sessions hold none)
    loaded = session.sync_session.identity_map.get(session.sync_session.identity_key(CallAttempt, attempt_id))
    if loaded is not None:
        await session.refresh(loaded, attribute_names=list(changes))
