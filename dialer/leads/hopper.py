"""The hopper: which lead a campaign dials next, compliant with every rule of SPEC §4.

Order of a pick: a due callback first (an owned one only for its agent), then the
campaign's priority levels (segment weight + boost, then segment order; see
``dialer.leads.segments``), then the oldest ``next_attempt_at``. Within that order the SQL
pre-filter (``storage.repositories.hopper``) claims the first candidate atomically and the
pure ``check_eligibility`` decides on its stored facts; a candidate that may not be
dialled now goes back with ``next_attempt_at`` pushed to when it may (the window's next
opening, the end of a retry gap...), so it is not examined again on every tick.

Usage from an asyncio dialer::

    hopper = Hopper(sessions, claimer="cobra@host-1")
    lead = await hopper.claim_next(campaign_id, now_utc, agent_id=7)
    ...  # dial lead.e164
    await hopper.complete(lead.lead_id, now_utc, result="no_answer", next_attempt_at=...)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialer.leads.eligibility import (
    AttemptFacts,
    CallResult,
    CustomerFacts,
    DebtFacts,
    DncEntry,
    Eligibility,
    EligibilityPolicy,
    LeadFacts,
    PhoneFacts,
    PhoneKind,
    PhoneStatus,
    check_eligibility,
)
from dialer.leads.segments import (
    NO_SEGMENT_POSITION,
    SegmentError,
    SegmentSpec,
    parse_filter,
    position_of,
    priority_of,
)
from dialer.leads.windows import DEFAULT_RULES, CallingRules, WeeklyWindow
from storage.models import Campaign, LeadState
from storage.repositories import hopper as sql
from storage.repositories import segments as segment_sql
from storage.repositories.portfolio import campaigns_of_customers

log = logging.getLogger(__name__)

BRASILIA = timezone(timedelta(hours=-3))
"""Aging buckets and promise dates are judged on the Brasília calendar day."""
RECHECK_AFTER = timedelta(hours=24)
"""A lead held back by something only a change of facts lifts is looked at again after this."""
OWNER_GRACE = timedelta(minutes=30)
"""How long a due callback waits for its own agent before its lead is looked at again."""
MAX_EXAMINED = 200
"""Candidates one pick may examine before giving up until the next tick (bounds its latency)."""
DEFAULT_LEASE = timedelta(minutes=10)


class PickReason(StrEnum):
    CALLBACK = "callback"
    BOOST = "boost"
    SEGMENT = "segment"
    QUEUE = "queue"
    """No segment, no boost: the oldest due lead."""


@dataclass(frozen=True, slots=True)
class ClaimedLead:
    """A lead taken for one call: whom to call, on which phone, and why it came now."""

    lead_id: int
    campaign_id: int
    customer_id: int
    external_id: str
    customer_name: str
    phone_id: int
    e164: str
    reason: PickReason
    priority: int
    boost: int
    segment_position: int | None
    callback_id: int | None = None
    owner_agent_id: int | None = None


def brasilia_today(now_utc: datetime) -> date:
    return now_utc.astimezone(BRASILIA).date()


def policy_for(campaign: Campaign | sql.CampaignRules) -> EligibilityPolicy:
    """The eligibility policy of a campaign: SPEC defaults, its window override, its caps.

    ``campaign.policy["eligibility"]`` may set ``max_attempts_phone_day``,
    ``max_attempts_customer_day``, ``max_attempts_customer_7d``, ``call_reference_phones``,
    ``creditor_window`` and ``company_window`` (weekly window mappings; the latter replaces
    Cobra's default Mon–Fri 08–20, Sat 08–14 for this operation; state laws still apply).
    """
    rules: CallingRules = DEFAULT_RULES
    settings: dict[str, Any] = dict((campaign.policy or {}).get("eligibility") or {})
    creditor = settings.pop("creditor_window", None)
    company = settings.pop("company_window", None)
    if campaign.window_override or creditor or company:
        rules = CallingRules(
            company_default=WeeklyWindow.parse(company) if company else DEFAULT_RULES.company_default,
            campaign=WeeklyWindow.parse(campaign.window_override) if campaign.window_override else None,
            creditor=WeeklyWindow.parse(creditor) if creditor else None,
        )
    known = {"max_attempts_phone_day", "max_attempts_customer_day", "max_attempts_customer_7d", "call_reference_phones"}
    changes = {k: v for k, v in settings.items() if k in known}
    return EligibilityPolicy(calling=rules).with_overrides(**changes)


def _result(value: str | None) -> CallResult:
    if value is None:  # in flight: counts for the caps, sets no gap
        return CallResult.FAILED
    try:
        return CallResult(value)
    except ValueError:
        # in flight, answered without a disposition yet: counts for the caps, sets no gap
        return CallResult.FAILED


def _e164(number: str) -> str:
    return number if number.startswith("+") else f"+{number}"


def lead_facts(rows: sql.FactRows, phone: sql.PhoneRow) -> LeadFacts:
    """The pure facts for one phone of a customer, from what storage returned."""
    customer = rows.customer
    kinds = customer.hold_kinds
    attempts = []
    for a in rows.attempts:
        if a.result == "cancelled":
            continue  # never dialled
        result = _result(a.result)
        promise_date = a.promise_date
        if result is CallResult.PROMISE and promise_date is None:
            promise_date = a.at.astimezone(BRASILIA).date()
        attempts.append(AttemptFacts(a.at, _e164(a.phone_e164), result, promise_date, a.callback_at))
    return LeadFacts(
        phone=PhoneFacts(phone.e164, PhoneKind(phone.kind), PhoneStatus(phone.status)),
        customer=CustomerFacts(
            cpf=customer.cpf,
            address_uf=customer.uf,
            deceased=customer.deceased or "deceased" in kinds,
            dispute_pending=customer.dispute_pending or "dispute" in kinds,
            has_lawyer="lawyer" in kinds,
            insolvency="insolvency" in kinds,
            declared_window=WeeklyWindow.parse(customer.call_window) if customer.call_window else None,
        ),
        debts=tuple(DebtFacts(d) for d in rows.open_due_dates),
        attempts=tuple(attempts),
        dnc=tuple(
            DncEntry(
                phone_e164=d.value if d.kind == "phone" else None,
                cpf=d.value if d.kind == "cpf" else None,
                until=d.until,
                source=d.source,
            )
            for d in rows.dnc
        ),
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """The phone to dial, or when to look at the lead again."""

    phone: sql.PhoneRow | None
    retry_at: datetime
    checks: tuple[Eligibility, ...]


def decide(
    rows: sql.FactRows,
    policy: EligibilityPolicy,
    now: datetime,
    *,
    preferred_phone_id: int | None = None,
    preview: bool = False,
) -> Decision:
    """Check the customer's phones (preferred first, then least recently tried) and pick the first dialable."""
    phones: Sequence[sql.PhoneRow] = rows.phones
    if preferred_phone_id is not None:
        phones = sorted(phones, key=lambda p: p.id != preferred_phone_id)
    checks = []
    hold_until = rows.customer.hold_until
    if hold_until is not None and hold_until > now:
        return Decision(None, hold_until, ())
    for phone in phones:
        verdict = check_eligibility(lead_facts(rows, phone), policy, now, preview=preview)
        checks.append(verdict)
        if verdict.dialable:
            return Decision(phone, now, tuple(checks))
    times = [c.not_before for c in checks if c.not_before is not None]
    return Decision(None, min(times) if times else now + RECHECK_AFTER, tuple(checks))


def _reason(claim: sql.ClaimRow) -> tuple[PickReason, int | None]:
    position = position_of(claim.priority)
    segment = None if position == NO_SEGMENT_POSITION else position
    if claim.boost > 0:
        return PickReason.BOOST, segment
    return (PickReason.SEGMENT if segment is not None else PickReason.QUEUE), segment


def segment_specs(stored: Sequence[segment_sql.StoredSegment]) -> list[SegmentSpec]:
    """Stored segments as domain specs (their filters validated again: a bad row fails loudly)."""
    specs = []
    for seg in stored:
        try:
            specs.append(SegmentSpec(seg.name, seg.weight, parse_filter(seg.filters, f"segments[{seg.position}].filters")))
        except SegmentError as exc:
            raise SegmentError(exc.field, f"stored segment {seg.name!r}: {exc.message}") from None
    return specs


async def reprioritise_campaign(
    session: AsyncSession,
    campaign_id: int,
    *,
    now: datetime,
    customer_ids: Sequence[int] | None = None,
    only: Any = None,
) -> int:
    """Recompute the stored priority of the campaign's live leads from its segments and boosts
    (only ``customer_ids``' leads, or those matching the SQL condition ``only``, when given)."""
    stored = await segment_sql.list_segments(session, campaign_id)
    segment_specs(stored)  # validates
    levels = [priority_of(seg.weight, i, 0) for i, seg in enumerate(stored)]
    return await segment_sql.reprioritise(
        session,
        campaign_id,
        stored,
        levels,
        priority_of(0, NO_SEGMENT_POSITION, 0),
        today=brasilia_today(now),
        now=now,
        customer_ids=customer_ids,
        only=only,
    )


async def reprioritise_customers(session: AsyncSession, customer_ids: Sequence[int], *, now: datetime) -> None:
    """Re-rank these customers' leads in every campaign they are in (after an import changed them)."""
    chunk = 1000
    for start in range(0, len(customer_ids), chunk):
        part = list(customer_ids[start : start + chunk])
        for campaign_id in await campaigns_of_customers(session, part):
            await reprioritise_campaign(session, campaign_id, now=now, customer_ids=part)


class Hopper:
    """Claims leads for dialers; one per process (``claimer`` names the process in the lease)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        claimer: str = "cobra",
        lease: timedelta = DEFAULT_LEASE,
        max_examined: int = MAX_EXAMINED,
    ) -> None:
        self._sessions = sessions
        self._claimer = claimer
        self._lease = lease
        self._max_examined = max_examined
        self._policies: dict[str, EligibilityPolicy] = {}

    async def claim_next(
        self, campaign_id: int, now_utc: datetime, *, agent_id: int | None = None, preview: bool = False
    ) -> ClaimedLead | None:
        """The next lead to dial in the campaign, claimed for this process; None if none may be dialled now."""
        if now_utc.tzinfo is None:
            raise ValueError(f"now_utc must be timezone-aware, got {now_utc.isoformat()}")
        now = now_utc.astimezone(UTC)
        # The whole pick (statements and pure rules) is one transaction on one connection; on
        # SQLite it runs in the driver's thread in one hop (see storage.repositories.hopper.run_pick)
        return await sql.run_pick(self._engine, lambda q: self._pick(q, campaign_id, now, agent_id, preview))

    async def claim_many(
        self,
        campaign_id: int,
        now_utc: datetime,
        agents: Sequence[int | None],
        *,
        preview: bool = False,
        attempt_for: Callable[[int, ClaimedLead], sql.NewAttempt] | None = None,
    ) -> list[ClaimedLead]:
        """Up to ``len(agents)`` leads, claimed in one transaction: the i-th pick is made for
        ``agents[i]`` (whose owned callbacks come first; None: nobody's) exactly as
        :meth:`claim_next` would make it after the picks before it; stops at the first pick that
        finds nothing. All or none: if a pick raises, the whole transaction is rolled back.

        One hop and one commit for a tick's claims: at 200 agents the claims of a ready burst
        one by one (a transaction, a thread hop and a commit each) held the dialing back (issue 10).

        ``attempt_for(i, lead)``: the call attempt of the i-th pick, stored in the same
        transaction (a claim never commits without its attempt, and the dialer's writer queue,
        busy with a floor's call events, is not in the way of the next call)."""
        if now_utc.tzinfo is None:
            raise ValueError(f"now_utc must be timezone-aware, got {now_utc.isoformat()}")
        now = now_utc.astimezone(UTC)

        def picks(q: sql.PickQueries) -> list[ClaimedLead]:
            out: list[ClaimedLead] = []
            for agent_id in agents:
                claimed = self._pick(q, campaign_id, now, agent_id, preview)
                if claimed is None:
                    break
                if attempt_for is not None:
                    q.insert_attempt(attempt_for(len(out), claimed))
                out.append(claimed)
            return out

        if not agents:
            return []
        return await sql.run_pick(self._engine, picks)

    @property
    def _engine(self) -> AsyncEngine:
        bind = self._sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("Hopper needs an async_sessionmaker bound to an AsyncEngine")
        return bind

    def _pick(
        self, q: sql.PickQueries, campaign_id: int, now: datetime, agent_id: int | None, preview: bool
    ) -> ClaimedLead | None:
        # the callback step writes first (see take_due_callback), so it runs before any read
        claimed, rules = self._callback(q, campaign_id, now, agent_id, preview)
        if claimed is None:
            rules = rules or self._rules(q, campaign_id)
            claimed = self._by_priority(q, campaign_id, rules, now, agent_id, preview)
        return claimed

    def _rules(self, q: sql.PickQueries, campaign_id: int) -> sql.CampaignRules:
        rules = q.campaign_rules(campaign_id)
        if rules is None:
            raise LookupError(f"no campaign with id {campaign_id}")
        return rules

    def _policy(self, rules: sql.CampaignRules) -> EligibilityPolicy:
        # parsing windows costs more than a pick's queries: keep the last policy per campaign settings
        key = repr((rules.window_override, rules.policy))
        policy = self._policies.get(key)
        if policy is None:
            if len(self._policies) > 64:
                self._policies.clear()
            policy = self._policies[key] = policy_for(rules)
        return policy

    def _callback(
        self, q: sql.PickQueries, campaign_id: int, now: datetime, agent_id: int | None, preview: bool
    ) -> tuple[ClaimedLead | None, sql.CampaignRules | None]:
        rules = None
        for _ in range(self._max_examined):
            callback = q.take_due_callback(campaign_id, now=now, agent_id=agent_id)
            if callback is None:
                break
            rules = rules or self._rules(q, campaign_id)
            policy = self._policy(rules)
            claim = q.claim_lead(campaign_id, callback.customer_id, now=now, claimer=self._claimer, lease=self._lease)
            if claim is None:  # the lead is in a call or finished: the callback waits
                q.reopen_callback(callback.id, due_at=now + timedelta(minutes=5))
                continue
            rows = q.load_facts(callback.customer_id, campaign_id=campaign_id, now=now)
            decision = (
                decide(rows, policy, now, preferred_phone_id=callback.phone_id, preview=preview)
                if rows is not None
                else Decision(None, now + RECHECK_AFTER, ())
            )
            if decision.phone is None or rows is None:
                q.reopen_callback(callback.id, due_at=decision.retry_at)
                q.put_back(claim.lead_id, now=now, next_attempt_at=decision.retry_at)
                continue
            _, segment = _reason(claim)
            return ClaimedLead(
                claim.lead_id, campaign_id, claim.customer_id, rows.customer.external_id, rows.customer.name,
                decision.phone.id, decision.phone.e164, PickReason.CALLBACK, claim.priority, claim.boost, segment,
                callback.id, callback.owner_agent_id,
            ), rules
        return None, rules

    def _by_priority(
        self,
        q: sql.PickQueries,
        campaign_id: int,
        rules: sql.CampaignRules,
        now: datetime,
        agent_id: int | None,
        preview: bool,
    ) -> ClaimedLead | None:
        policy = self._policy(rules)
        examined = 0
        level = rules.first_level
        while level is not None and examined < self._max_examined:
            claim = q.claim_in_level(campaign_id, level, now=now, claimer=self._claimer, lease=self._lease)
            if claim is None:
                level = q.next_priority_level(campaign_id, level)
                continue
            examined += 1
            # the pre-filter just ruled out holds in this transaction: no need to load them
            rows = q.load_facts(claim.customer_id, campaign_id=campaign_id, now=now, with_holds=False)
            if rows is None:
                continue
            if rows.open_callback is not None:
                # A scheduled callback decides when (and by whom) this customer is called
                due_at, owner = rows.open_callback
                retry = due_at if due_at > now else now + OWNER_GRACE
                if due_at <= now and owner in (None, agent_id):
                    retry = now  # taken by the callback step of the next pick
                q.put_back(claim.lead_id, now=now, next_attempt_at=retry)
                continue
            decision = decide(rows, policy, now, preview=preview)
            if decision.phone is None:
                q.put_back(claim.lead_id, now=now, next_attempt_at=decision.retry_at)
                continue
            reason, segment = _reason(claim)
            return ClaimedLead(
                claim.lead_id, campaign_id, claim.customer_id, rows.customer.external_id, rows.customer.name,
                decision.phone.id, decision.phone.e164, reason, claim.priority, claim.boost, segment,
            )
        if examined >= self._max_examined:
            log.info("campaign %s: %d candidates examined, none dialable now; next tick goes on", campaign_id, examined)
        return None

    async def release(self, lead_id: int, now_utc: datetime, *, next_attempt_at: datetime | None = None) -> None:
        """Give a claimed lead back untouched (not dialled): due again at ``next_attempt_at`` (default now)."""
        async with self._sessions() as session:
            await sql.put_back(session, lead_id, now=now_utc, next_attempt_at=next_attempt_at or now_utc)
            await session.commit()

    async def complete(
        self,
        lead_id: int,
        now_utc: datetime,
        *,
        result: str,
        next_attempt_at: datetime | None = None,
        final: LeadState | None = None,
    ) -> None:
        """Record that the lead was dialled: due again at ``next_attempt_at`` (default now: the rules
        push it as needed), or finished for good with ``final`` (done or stopped)."""
        async with self._sessions() as session:
            if final is not None:
                if final not in (LeadState.DONE, LeadState.STOPPED):
                    raise ValueError(f"final must be done or stopped, got {final}")
                await sql.finish_lead(session, lead_id, now=now_utc, state=final, last_result=result)
            else:
                await sql.put_back(
                    session, lead_id, now=now_utc, next_attempt_at=next_attempt_at or now_utc,
                    last_result=result, count_attempt=True,
                )
            await session.commit()

    async def reprioritise(self, campaign_id: int, now_utc: datetime) -> int:
        """Re-rank every live lead of the campaign (after a segment change, and once a day for aging)."""
        async with self._sessions() as session:
            count = await reprioritise_campaign(session, campaign_id, now=now_utc)
            await session.commit()
            return count
