"""When a lead may be dialled again, by the last result or the agent's outcome (SPEC §4, §7).

Pure: results and outcome codes are plain strings (``storage.models.CallResult`` /
``OutcomeCode`` values) so the dialer's middle does not import the storage layer.

Gaps (defaults, SPEC §4): busy 15 min, no answer 2 h, machine 24 h, abandoned 72 h,
RECUSA 24 h, PROMESSA not before the promise date + 1 day. Our choices where the spec is
silent: congestion 15 min (a network problem, like busy, usually clears fast), failed 1 h
(a dial string or trunk problem: retrying at once would only repeat it), a lost attempt
(AMI link dropped before the outcome) 15 min, RECADO (third party answered) 4 h,
SEM_CONDICOES 72 h, an answered call nobody disposed (short hang-up) 2 h, TELEFONE_ERRADO
at once (the phone is marked wrong, the next one is tried). The abandon gap is waived
when the next call is a preview with an agent (the lead is due again at once). ACORDO, JA_PAGO and CONTESTA
stop the lead; FALECIDO stops every lead of the customer. RETORNAR redials at the
callback time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Promise dates are calendar days in Brasília time: "date + 1 day" starts at its midnight there
BRASILIA = ZoneInfo("America/Sao_Paulo")


class Verdict(str, enum.Enum):
    RETRY = "retry"  # dial again at ``at``
    STOP_LEAD = "stop_lead"  # this campaign is done with the customer
    STOP_CUSTOMER = "stop_customer"  # no campaign may call the customer again


@dataclass(frozen=True, slots=True)
class NextAttempt:
    verdict: Verdict
    at: datetime | None = None  # set when verdict is RETRY

    @property
    def retry(self) -> bool:
        return self.verdict is Verdict.RETRY


RESULT_GAPS: dict[str, timedelta] = {
    "busy": timedelta(minutes=15),
    "no_answer": timedelta(hours=2),
    "congestion": timedelta(minutes=15),
    "failed": timedelta(hours=1),
    "lost": timedelta(minutes=15),
    "machine": timedelta(hours=24),
    "abandoned": timedelta(hours=72),
    "answered": timedelta(hours=2),  # answered, hung up before any agent took it (not an abandon)
    "connected": timedelta(hours=2),  # connected but never disposed (wrap-up maximum reached)
    "cancelled": timedelta(0),
}

OUTCOME_GAPS: dict[str, timedelta] = {
    "RECUSA": timedelta(hours=24),
    "RECADO": timedelta(hours=4),
    "SEM_CONDICOES": timedelta(hours=72),
    "TELEFONE_ERRADO": timedelta(0),
}

STOP_LEAD_OUTCOMES = frozenset({"ACORDO", "JA_PAGO", "CONTESTA"})
STOP_CUSTOMER_OUTCOMES = frozenset({"FALECIDO"})


def after_result(result: str, at: datetime, *, preview: bool = False) -> NextAttempt:
    """The next attempt after a call that ended with system ``result`` (no agent outcome).

    ``preview``: the lead's next call is a preview with an agent, which waives the abandon gap.
    """
    gap = RESULT_GAPS.get(result)
    if gap is None:
        raise ValueError(f"result: unknown call result {result!r}; known: {', '.join(sorted(RESULT_GAPS))}")
    if preview and result == "abandoned":
        gap = timedelta(0)
    return NextAttempt(Verdict.RETRY, at + gap)


def promise_retry_at(promise_date: date) -> datetime:
    """Midnight (Brasília) of the day after the promise date."""
    return datetime.combine(promise_date + timedelta(days=1), time(0), tzinfo=BRASILIA)


def after_outcome(
    code: str,
    at: datetime,
    *,
    promise_date: date | None = None,
    callback_at: datetime | None = None,
) -> NextAttempt:
    """The next attempt after the agent disposed a call with outcome ``code``."""
    if code in STOP_CUSTOMER_OUTCOMES:
        return NextAttempt(Verdict.STOP_CUSTOMER)
    if code in STOP_LEAD_OUTCOMES:
        return NextAttempt(Verdict.STOP_LEAD)
    if code == "PROMESSA":
        if promise_date is None:
            raise ValueError("promise_date: PROMESSA needs the promised date")
        return NextAttempt(Verdict.RETRY, promise_retry_at(promise_date))
    if code == "RETORNAR":
        if callback_at is None:
            raise ValueError("callback_at: RETORNAR needs the callback date and time")
        return NextAttempt(Verdict.RETRY, callback_at)
    gap = OUTCOME_GAPS.get(code)
    if gap is None:
        raise ValueError(f"code: unknown outcome {code!r}")
    return NextAttempt(Verdict.RETRY, at + gap)
