"""The KPI definitions of SPEC §8 as pure math: dataclasses in, dataclasses out.

Every figure is defined here once. Storage aggregates the same definitions in SQL
(``storage.repositories.kpis``) and a test checks both agree on random data; the
per-call functions below (``tally_calls``, ``tally_deals``, ``agent_time``) are the
reference the SQL must match.

Definitions, per group (a campaign, an agent or a local calendar day):

- **attempts**: calls placed (every call attempt but the dialer's own cancellations);
- **live answers**: answered, ended, not an AMD machine (the pacing module's definition);
- **abandon rate**: abandoned live answers ÷ live answers (the same as the wallboard's);
- **contacts**: calls connected to an agent;
- **right-party contacts (CPC)**: contacts where the system verified the debtor's identity,
  or whose outcome can only come from talking to the debtor (``RIGHT_PARTY_OUTCOMES``);
  **CPC rate** = CPC ÷ contacts;
- **promise rate** / **agreement rate**: promises / agreements made ÷ CPC;
- **promises kept**: promises made in the period and already kept; the kept rate is kept ÷
  (kept + broken): promises still pending count in neither;
- **negotiated**: agreements' totals + promised amounts; **recovered**: what was paid so far
  on those promises and on those agreements' installments;
- **AHT** (average handle time): (talk + wrap-up) ÷ contacts that ended;
- **short-call share** (Anatel): completed calls of ≤ 6 s ÷ completed (answered and ended) calls;
- **occupancy**: time on call or in wrap-up ÷ time in position (logged in and not paused),
  from the agents' state history; **contacts per agent-hour**: contacts ÷ hours in position.
  Agents are not tied to a campaign in their state history, so the figures built on it are
  None per campaign and whenever a campaign filter applies;
- **reasons for default**: the reason the agent recorded in the script (capture
  ``motivo_atraso``), or a dispute (outcome ``CONTESTA``, company-caused by definition),
  split into company-caused and financial by the script catalogue's ``company_caused`` flag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Outcomes an agent can only record after talking to the debtor (SPEC §7's catalogue):
# RECADO is a third party, TELEFONE_ERRADO and FALECIDO are not the debtor, RETORNAR may be anyone
RIGHT_PARTY_OUTCOMES: frozenset[str] = frozenset({"ACORDO", "PROMESSA", "RECUSA", "SEM_CONDICOES", "CONTESTA", "JA_PAGO"})
DISPUTE_OUTCOME = "CONTESTA"
REASON_CAPTURE_KEY = "motivo_atraso"
NOT_ATTEMPTS: frozenset[str] = frozenset({"cancelled"})
NOT_LIVE: frozenset[str] = frozenset({"machine", "cancelled"})
BUSY_STATES: frozenset[str] = frozenset({"on_call", "wrap_up"})
PAUSED_STATE = "paused"
OFFLINE_STATE = "offline"


def cents(value: Decimal | float | str | None) -> Decimal:
    """Money rounded half-up to cents (SQLite sums Numeric as floats: this puts them back)."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(part: float, whole: float) -> float | None:
    """part ÷ whole, None when there is nothing to divide by (a rate of nothing is not 0 %)."""
    return None if not whole else part / whole


def local_day(at: datetime, utc_offset_s: float) -> date:
    """The calendar day of the aware datetime ``at`` at ``utc_offset_s`` from UTC."""
    return (at.astimezone(UTC) + timedelta(seconds=utc_offset_s)).date()


# ---------------------------------------------------------------- calls


@dataclass(frozen=True, slots=True)
class CallFact:
    """One call attempt, as much of it as the KPIs read."""

    result: str | None
    answered: bool = False
    ended: bool = False
    connected: bool = False
    abandoned: bool = False
    short_call: bool = False
    handle_s: float | None = None  # connected → wrap-up end (or hang-up when wrap-up never ended)
    outcome: str | None = None
    identity_confirmed: bool = False
    reason: str | None = None  # the script's ``motivo_atraso`` capture

    @property
    def is_attempt(self) -> bool:
        return self.result not in NOT_ATTEMPTS

    @property
    def is_live_answer(self) -> bool:
        return self.answered and self.ended and self.result is not None and self.result not in NOT_LIVE

    @property
    def is_completed(self) -> bool:
        return self.answered and self.ended

    @property
    def is_right_party(self) -> bool:
        return self.connected and (self.identity_confirmed or self.outcome in RIGHT_PARTY_OUTCOMES)

    @property
    def is_handled(self) -> bool:
        return self.connected and self.ended

    @property
    def reason_code(self) -> str | None:
        """Reasons are heard on contacts: only they have a script run and a disposition."""
        if not self.connected:
            return None
        if self.reason:
            return self.reason
        return DISPUTE_OUTCOME if self.outcome == DISPUTE_OUTCOME else None


@dataclass(frozen=True, slots=True)
class CallTotals:
    """Additive counts of a group's calls (sums of groups are the group of the union)."""

    attempts: int = 0
    live_answers: int = 0
    abandons: int = 0
    contacts: int = 0
    right_party: int = 0
    completed: int = 0
    short_calls: int = 0
    handled: int = 0
    handle_s: float = 0.0

    def __add__(self, other: CallTotals) -> CallTotals:
        return CallTotals(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(CallTotals)))


def tally_calls(calls: Iterable[CallFact]) -> CallTotals:
    """The counts of SPEC §8 over ``calls`` (the reference the SQL aggregation matches)."""
    n = {f.name: 0 for f in fields(CallTotals) if f.name != "handle_s"}
    handle_s = 0.0
    for c in calls:
        n["attempts"] += c.is_attempt
        n["live_answers"] += c.is_live_answer
        n["abandons"] += c.is_live_answer and c.abandoned
        n["contacts"] += c.connected
        n["right_party"] += c.is_right_party
        n["completed"] += c.is_completed
        n["short_calls"] += c.is_completed and c.short_call
        if c.is_handled:
            n["handled"] += 1
            handle_s += c.handle_s or 0.0
    return CallTotals(**n, handle_s=handle_s)


def tally_reasons(calls: Iterable[CallFact]) -> dict[str, int]:
    """Calls per reason for default (code → calls)."""
    out: dict[str, int] = {}
    for c in calls:
        code = c.reason_code
        if code is not None:
            out[code] = out.get(code, 0) + 1
    return out


# ---------------------------------------------------------------- promises and agreements


@dataclass(frozen=True, slots=True)
class PromiseFact:
    amount: Decimal
    status: str  # pending / kept / broken
    paid: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class AgreementFact:
    total: Decimal
    paid: Decimal = ZERO  # the sum of its installments' paid amounts


@dataclass(frozen=True, slots=True)
class DealTotals:
    promises: int = 0
    promised: Decimal = ZERO
    promises_kept: int = 0
    promises_broken: int = 0
    promise_paid: Decimal = ZERO
    agreements: int = 0
    agreed: Decimal = ZERO
    agreement_paid: Decimal = ZERO

    def __add__(self, other: DealTotals) -> DealTotals:
        return DealTotals(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(DealTotals)))


def tally_deals(promises: Iterable[PromiseFact], agreements: Iterable[AgreementFact]) -> DealTotals:
    p = list(promises)
    a = list(agreements)
    return DealTotals(
        promises=len(p),
        promised=cents(sum((x.amount for x in p), ZERO)),
        promises_kept=sum(1 for x in p if x.status == "kept"),
        promises_broken=sum(1 for x in p if x.status == "broken"),
        promise_paid=cents(sum((x.paid for x in p), ZERO)),
        agreements=len(a),
        agreed=cents(sum((x.total for x in a), ZERO)),
        agreement_paid=cents(sum((x.paid for x in a), ZERO)),
    )


# ---------------------------------------------------------------- agent time


@dataclass(frozen=True, slots=True)
class AgentTime:
    """Seconds an agent (or agents) spent logged in, paused, and on call or in wrap-up."""

    logged_s: float = 0.0  # every state but offline, pauses included
    paused_s: float = 0.0
    busy_s: float = 0.0  # on_call + wrap_up

    @property
    def in_position_s(self) -> float:
        return self.logged_s - self.paused_s

    def __add__(self, other: AgentTime) -> AgentTime:
        return AgentTime(self.logged_s + other.logged_s, self.paused_s + other.paused_s, self.busy_s + other.busy_s)


@dataclass(frozen=True, slots=True)
class StateChange:
    user_id: int
    to_state: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StateSpan:
    """Time an agent spent in one state, clipped to the period; ``day`` is the local day it began."""

    user_id: int
    state: str
    day: date
    seconds: float


def state_spans(
    changes: Iterable[StateChange], *, start: datetime, end: datetime, now: datetime, utc_offset_s: float
) -> list[StateSpan]:
    """Each change lasts until the agent's next one (the last until ``now``), clipped to [start, end).

    A span that crosses midnight counts on the day it began (shifts rarely cross it, and the
    SQL can then group without splitting rows)."""
    by_user: dict[int, list[StateChange]] = {}
    for c in sorted(changes, key=lambda c: c.at):
        by_user.setdefault(c.user_id, []).append(c)
    cap = min(now, end)
    out: list[StateSpan] = []
    for user_id, seq in by_user.items():
        for i, c in enumerate(seq):
            nxt = seq[i + 1].at if i + 1 < len(seq) else cap
            s = max(c.at, start)
            e = min(nxt, end)
            if c.to_state == OFFLINE_STATE or e <= s:
                continue
            out.append(StateSpan(user_id, c.to_state, local_day(s, utc_offset_s), (e - s).total_seconds()))
    return out


def agent_time(spans: Iterable[StateSpan]) -> AgentTime:
    t = AgentTime()
    for s in spans:
        t += AgentTime(
            logged_s=s.seconds,
            paused_s=s.seconds if s.state == PAUSED_STATE else 0.0,
            busy_s=s.seconds if s.state in BUSY_STATES else 0.0,
        )
    return t


# ---------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class GroupInput:
    """What storage adds up for one group; ``time`` None when agents' time can't be attributed."""

    calls: CallTotals = field(default_factory=CallTotals)
    deals: DealTotals = field(default_factory=DealTotals)
    time: AgentTime | None = None
    reasons: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: GroupInput) -> GroupInput:
        time = None if self.time is None or other.time is None else self.time + other.time
        reasons = dict(self.reasons)
        for code, n in other.reasons.items():
            reasons[code] = reasons.get(code, 0) + n
        return GroupInput(self.calls + other.calls, self.deals + other.deals, time, reasons)


def combine(inputs: Iterable[GroupInput], *, with_time: bool) -> GroupInput:
    """The union of groups (the totals row): agent time only when every group has it."""
    total = GroupInput(time=AgentTime() if with_time else None)
    for inp in inputs:
        total += inp if with_time or inp.time is None else GroupInput(inp.calls, inp.deals, None, inp.reasons)
    return total


@dataclass(frozen=True, slots=True)
class ReasonItem:
    code: str
    label: str
    company_caused: bool | None  # None: a code no script's catalogue knows
    calls: int


@dataclass(frozen=True, slots=True)
class ReasonCatalogue:
    """Code → (pt-BR label, company-caused?) from the scripts' reason captures."""

    items: Mapping[str, tuple[str, bool]]

    def describe(self, code: str) -> tuple[str, bool | None]:
        found = self.items.get(code)
        return (code, None) if found is None else found


DISPUTE_LABEL = "Contestação da cobrança"


@dataclass(frozen=True, slots=True)
class ReasonSplit:
    company_caused: int
    financial: int
    unclassified: int
    items: tuple[ReasonItem, ...]  # most frequent first


def split_reasons(reasons: Mapping[str, int], catalogue: ReasonCatalogue) -> ReasonSplit:
    """Reasons for default split into company-caused and financial (the feedback SPEC §8 asks for)."""
    items: list[ReasonItem] = []
    company = financial = unknown = 0
    for code, n in reasons.items():
        caused: bool | None
        if code == DISPUTE_OUTCOME and code not in catalogue.items:
            label, caused = DISPUTE_LABEL, True
        else:
            label, caused = catalogue.describe(code)
        items.append(ReasonItem(code, label, caused, n))
        if caused is None:
            unknown += n
        elif caused:
            company += n
        else:
            financial += n
    items.sort(key=lambda i: (-i.calls, i.code))
    return ReasonSplit(company, financial, unknown, tuple(items))


@dataclass(frozen=True, slots=True)
class KpiFigures:
    """The KPIs of one group (rates are fractions, None when their denominator is 0)."""

    attempts: int
    live_answers: int
    abandons: int
    abandon_rate: float | None
    contacts: int
    right_party: int
    right_party_rate: float | None
    promises: int
    promise_rate: float | None
    agreements: int
    agreement_rate: float | None
    promises_kept: int
    promises_kept_rate: float | None
    negotiated: Decimal
    recovered: Decimal
    aht_s: float | None
    short_calls: int
    short_call_share: float | None
    occupancy: float | None
    contacts_per_agent_hour: float | None
    hours_in_position: float | None
    reasons_company: int
    reasons_financial: int
    reasons_unclassified: int


def figures(inp: GroupInput, catalogue: ReasonCatalogue) -> KpiFigures:
    c, d, t = inp.calls, inp.deals, inp.time
    hours = None if t is None else t.in_position_s / 3600.0
    split = split_reasons(inp.reasons, catalogue)
    return KpiFigures(
        attempts=c.attempts,
        live_answers=c.live_answers,
        abandons=c.abandons,
        abandon_rate=ratio(c.abandons, c.live_answers),
        contacts=c.contacts,
        right_party=c.right_party,
        right_party_rate=ratio(c.right_party, c.contacts),
        promises=d.promises,
        promise_rate=ratio(d.promises, c.right_party),
        agreements=d.agreements,
        agreement_rate=ratio(d.agreements, c.right_party),
        promises_kept=d.promises_kept,
        promises_kept_rate=ratio(d.promises_kept, d.promises_kept + d.promises_broken),
        negotiated=cents(d.agreed + d.promised),
        recovered=cents(d.agreement_paid + d.promise_paid),
        aht_s=ratio(c.handle_s, c.handled),
        short_calls=c.short_calls,
        short_call_share=ratio(c.short_calls, c.completed),
        occupancy=None if t is None else ratio(t.busy_s, t.in_position_s),
        contacts_per_agent_hour=None if hours is None else ratio(c.contacts, hours),
        hours_in_position=hours,
        reasons_company=split.company_caused,
        reasons_financial=split.financial,
        reasons_unclassified=split.unclassified,
    )


__all__ = [
    "REASON_CAPTURE_KEY",
    "RIGHT_PARTY_OUTCOMES",
    "AgentTime",
    "AgreementFact",
    "CallFact",
    "CallTotals",
    "DealTotals",
    "GroupInput",
    "KpiFigures",
    "PromiseFact",
    "ReasonCatalogue",
    "ReasonItem",
    "ReasonSplit",
    "StateChange",
    "StateSpan",
    "agent_time",
    "cents",
    "combine",
    "figures",
    "local_day",
    "ratio",
    "split_reasons",
    "state_spans",
    "tally_calls",
    "tally_deals",
    "tally_reasons",
]
