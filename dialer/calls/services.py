"""The life of a call attempt in the database, and the screen-pop built for it.

Each ``store_*`` function is one short unit of work on the caller's ``AsyncSession`` (the
runtime's writer commits after each): creating the attempt, its answer, connect, end or
failure, and the agent's disposition with its effects (SPEC §7): TELEFONE_ERRADO marks
the phone wrong, FALECIDO marks the customer deceased and stops every lead, CONTESTA
marks the dispute, RETORNAR creates a callback, PROMESSA/RETORNAR set the redial time,
ACORDO/JA_PAGO/CONTESTA finish the lead. Next attempt times come from
:mod:`dialer.calls.retry`: a lead that may be called again always gets one (the hopper
never picks a lead without it); a finished lead has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.agents.desktop import (
    Disposition,
    PopAttempt,
    PopCustomer,
    PopDebt,
    PopPromise,
    PopWindow,
    ScreenPop,
)
from dialer.calls.refs import AttemptRef
from dialer.calls.retry import Verdict, after_outcome, after_result
from dialer.floor.identity import DEFAULT_OTHER_QUESTION, IdentityKey, OtherQuestion
from dialer.leads.windows import is_callable_at
from storage.models import CallResult, CampaignMode, LeadState, OutcomeCode
from storage.repositories.call_attempts import (
    create_call_attempt,
    set_call_attempt,
    update_call_attempt,
)
from storage.repositories.callbacks import add_callback, reopen_callback
from storage.repositories.contact_flags import (
    mark_customer_deceased,
    mark_customer_disputing,
    mark_phone_wrong,
    note_phone_attempt,
)
from storage.repositories.leads import finish_lead, release_lead, stop_customer_leads
from storage.repositories.outcomes import add_outcome
from storage.repositories.screen_pop import PopData

# Anatel: a completed call of at most 6 s is a "short call" (SPEC §5)
SHORT_CALL_S = 6.0


async def store_new_attempt(
    session: AsyncSession,
    ref: AttemptRef,
    *,
    mode: CampaignMode,
    number: str,
    caller_id: str | None,
    pbx_name: str | None,
    agent_id: int | None,
    originated_at: datetime | None,
    created_at: datetime | None = None,
) -> None:
    """Store the attempt before it is dialled; ``created_at`` is the dialer's clock (default: now)."""
    attempt = await create_call_attempt(
        session,
        attempt_id=ref.attempt_id,
        campaign_id=ref.campaign_id,
        mode=mode,
        number=number,
        lead_id=ref.lead_id,
        customer_id=ref.customer_id,
        phone_id=ref.phone_id,
        agent_id=agent_id,
        caller_id=caller_id,
        pbx_name=pbx_name,
    )
    if created_at is not None:
        # the caps and pacing count attempts by created_at: keep it on the clock that decided the call
        attempt.created_at = created_at
        await session.flush()
    if originated_at is not None:
        await update_call_attempt(session, ref.attempt_id, originated_at=originated_at)


async def _close_lead(session: AsyncSession, ref: AttemptRef, result: str, at: datetime) -> datetime | None:
    """Put the lead back with the retry gap of ``result``; reopen its callback if it reached nobody."""
    nxt = after_result(result, at, preview=ref.preview)
    assert nxt.at is not None  # a system result always retries
    if ref.lead_id is not None:
        await release_lead(session, ref.lead_id, now=at, last_result=result, next_attempt_at=nxt.at, count_attempt=True)
    if ref.phone_id is not None:
        await note_phone_attempt(session, ref.phone_id, at=at, result=result)
    if ref.callback_id is not None and result != CallResult.CONNECTED.value:
        await reopen_callback(session, ref.callback_id, due_at=nxt.at)
    return nxt.at


async def store_failed(
    session: AsyncSession,
    ref: AttemptRef,
    *,
    result: str,
    originate_reason: int,
    at: datetime,
    cause: int | None = None,
    ringing_at: datetime | None = None,
) -> datetime | None:
    """An originate that never reached an answer; returns the lead's next attempt time.

    ``cause`` (``CallFailed.cause``) is the Q.850 cause Asterisk showed, kept in
    ``hangup_cause``: with Reason 0 it is the only record of why (1/3/28 = invalid number).
    """
    stored = CallResult(result) if result in CallResult._value2member_map_ else CallResult.FAILED
    await set_call_attempt(
        session, ref.attempt_id, result=stored, originate_reason=originate_reason, ended_at=at, hangup_cause=cause,
        ringing_at=ringing_at,
    )
    return await _close_lead(session, ref, result, at)


async def store_answered(
    session: AsyncSession, attempt_id: str, *, at: datetime, channel: str, uniqueid: str, agent_id: int | None
) -> None:
    changes: dict[str, object] = {"answered_at": at, "customer_channel": channel, "customer_uniqueid": uniqueid or None}
    if agent_id is not None:
        changes["agent_id"] = agent_id
    await set_call_attempt(session, attempt_id, **changes)


async def store_connected(
    session: AsyncSession,
    attempt_id: str,
    *,
    at: datetime,
    agent_id: int | None,
    agent_channel: str | None,
    recording_path: str | None,
) -> None:
    await set_call_attempt(
        session,
        attempt_id,
        connected_at=at,
        agent_id=agent_id,
        agent_channel=agent_channel,
        recording_path=recording_path,
        result=CallResult.CONNECTED,
    )


async def store_ended(
    session: AsyncSession,
    ref: AttemptRef,
    *,
    at: datetime,
    cause: int,
    connected: bool,
    abandoned: bool,
    duration_s: float,
    amd_machine: bool = False,
    ringing_at: datetime | None = None,
    side: str | None = None,
) -> datetime | None:
    """An answered call ended; the result follows what happened. Returns the next attempt time.

    ``ringing_at`` and ``side`` (who hung up: agent, customer, system) complete the QA timeline."""
    if abandoned:
        result = CallResult.ABANDONED
    elif connected:
        result = CallResult.CONNECTED
    elif amd_machine:
        result = CallResult.MACHINE
    else:
        result = CallResult.ANSWERED
    await set_call_attempt(
        session,
        ref.attempt_id,
        result=result,
        hangup_cause=cause,
        ended_at=at,
        abandoned=abandoned,
        short_call=duration_s <= SHORT_CALL_S,
        ringing_at=ringing_at,
        hangup_side=side,
    )
    return await _close_lead(session, ref, result.value, at)


@dataclass(frozen=True, slots=True)
class StoredDisposition:
    outcome_id: int
    created: bool
    next_attempt_at: datetime | None
    callback_id: int | None


async def store_disposition(
    session: AsyncSession, ref: AttemptRef, d: Disposition, *, agent_id: int, at: datetime
) -> StoredDisposition:
    """Store the outcome once per ``d.client_key`` and apply its effects (first time only)."""
    outcome, created = await add_outcome(
        session,
        attempt_id=ref.attempt_id,
        agent_id=agent_id,
        code=d.code,
        client_key=d.client_key,
        promise_amount=d.promise_amount,
        promise_date=d.promise_date,
        callback_at=d.callback_at,
        notes=d.notes,
        at=at,
    )
    if not created:
        return StoredDisposition(outcome.id, False, None, None)
    await update_call_attempt(session, ref.attempt_id, wrapup_ended_at=at)
    code = OutcomeCode(d.code)
    nxt = after_outcome(code.value, at, promise_date=d.promise_date, callback_at=d.callback_at)
    callback_id: int | None = None
    if code is OutcomeCode.TELEFONE_ERRADO and ref.phone_id is not None:
        await mark_phone_wrong(session, ref.phone_id)
    if code is OutcomeCode.CONTESTA and ref.customer_id is not None:
        await mark_customer_disputing(session, ref.customer_id, now=at)
    if code is OutcomeCode.RETORNAR and ref.customer_id is not None and d.callback_at is not None:
        callback = await add_callback(
            session,
            customer_id=ref.customer_id,
            campaign_id=ref.campaign_id,
            due_at=d.callback_at,
            owner_agent_id=agent_id if d.callback_own else None,
            created_by_id=agent_id,
            phone_id=ref.phone_id,
            notes=d.notes,
            at=at,
        )
        callback_id = callback.id
    if nxt.verdict is Verdict.STOP_CUSTOMER and ref.customer_id is not None:
        await mark_customer_deceased(session, ref.customer_id, now=at)
        await stop_customer_leads(session, ref.customer_id, now=at)
    elif ref.lead_id is not None and nxt.verdict is Verdict.STOP_LEAD:
        await finish_lead(session, ref.lead_id, now=at, last_result=code.value, state=LeadState.DONE)
    elif ref.lead_id is not None:
        assert nxt.at is not None  # RETRY always carries its time
        # the attempt was counted when the call ended; this only sets the outcome's gap
        await release_lead(session, ref.lead_id, now=at, last_result=code.value, next_attempt_at=nxt.at)
    return StoredDisposition(outcome.id, True, nxt.at, callback_id)


async def store_wrapup_timeout(session: AsyncSession, attempt_id: str, *, at: datetime) -> None:
    """Wrap-up reached its maximum with no disposition: the attempt keeps its system result."""
    await set_call_attempt(session, attempt_id, wrapup_ended_at=at)


# ---------------------------------------------------------------- screen-pop


def mask_cpf(cpf: str) -> str:
    """``***.456.789-**``: the middle six digits only (SPEC §6)."""
    digits = "".join(c for c in cpf if c.isdigit()).rjust(11, "0")
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


def mask_phone(e164: str) -> str:
    """``(11) *****-4321``: area code and last four digits."""
    digits = "".join(c for c in e164 if c.isdigit())
    national = digits.removeprefix("55")
    ddd, rest = national[:2], national[2:]
    return f"({ddd}) {'*' * max(0, len(rest) - 4)}-{rest[-4:]}"


def pop_window(now: datetime, phone_e164: str, uf: str | None) -> PopWindow:
    """The calling window the pop shows at ``now`` (the minute it holds for is ``now``'s)."""
    minute = now.replace(second=0, microsecond=0)
    try:
        decision = is_callable_at(now, phone_e164, uf)
    except ValueError:
        return PopWindow(minute, None, None, None)  # a number or UF our tables do not know: no clock shown
    local_time = decision.local_times[0].strftime("%H:%M") if decision.local_times else None
    return PopWindow(minute, local_time, decision.allowed, decision.message_pt)


def build_screen_pop(
    data: PopData,
    *,
    call_id: str,
    campaign_id: int,
    campaign_name: str,
    mode: str,
    phone_e164: str,
    at: datetime,
    today_local: date,
    other_question: OtherQuestion = DEFAULT_OTHER_QUESTION,
) -> ScreenPop:
    """The pop for one call from what :func:`storage.repositories.screen_pop.load_pop_data` read;
    ``other_question`` is the configured third identity question (``[identity]``)."""
    debts = tuple(
        PopDebt(d.contract, d.creditor, d.product, d.original_amount, d.balance, d.due_date, max(0, (today_local - d.due_date).days))
        for d in data.debts
    )
    first = data.name.split()[0] if data.name.split() else data.name
    key = IdentityKey.of(
        other_question,
        birth_date=data.birth_date,
        cpf=data.cpf,
        email=data.email,
        uf=data.uf,
        external_id=data.external_id,
        contracts=tuple(d.contract for d in data.debts),
    )
    customer = PopCustomer(data.customer_id, data.name, first, mask_cpf(data.cpf), data.uf, data.tags, key)
    return ScreenPop(
        call_id=call_id,
        campaign_id=campaign_id,
        campaign_name=campaign_name,
        mode=mode,
        customer=customer,
        phone_e164=phone_e164,
        phone_masked=mask_phone(phone_e164),
        debts=debts,
        total_balance=sum((d.balance for d in debts), Decimal("0.00")),
        attempts=tuple(PopAttempt(a.at, a.result, a.agent_name, a.outcome_code, a.notes) for a in data.attempts),
        promises=tuple(PopPromise(p.created_at, p.amount, p.due, p.kept) for p in data.promises),
        attempts_today=data.attempts_today,
        attempts_7d=data.attempts_7d,
        created_at=at,
        extras={**negotiation_extras(data), "regua": {"reasons": list(data.lead_reasons), "opted_out": list(data.opted_out)}},
        window=pop_window(at, phone_e164, data.uf),
    )


def negotiation_extras(data: PopData) -> dict[str, object]:
    """Agreements (with installments) and payments for ``ScreenPop.extras``, JSON-ready (money as strings)."""
    return {
        "agreements": [
            {
                "created_at": a.created_at.isoformat(),
                "kind": a.kind,
                "total": str(a.total),
                "discount": str(a.discount_amount),
                "status": a.status,
                "contracts": list(a.contracts),
                "installments": [
                    {"number": i.number, "due_date": i.due_date.isoformat(), "amount": str(i.amount), "paid": i.paid,
                     "paid_on": None if i.paid_on is None else i.paid_on.isoformat()}
                    for i in a.installments
                ],
            }
            for a in data.agreements
        ],
        "payments": [{"paid_on": p.paid_on.isoformat(), "amount": str(p.amount)} for p in data.payments],
    }

