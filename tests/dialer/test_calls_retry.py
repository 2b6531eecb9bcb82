"""Retry gaps by result and outcome (SPEC §4, §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dialer.calls.retry import BRASILIA, Verdict, after_outcome, after_result

AT = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("result", "gap"),
    [
        ("busy", timedelta(minutes=15)),
        ("no_answer", timedelta(hours=2)),
        ("machine", timedelta(hours=24)),
        ("abandoned", timedelta(hours=72)),
        ("congestion", timedelta(minutes=15)),
        ("failed", timedelta(hours=1)),
    ],
)
def test_system_results_wait_their_gap(result: str, gap: timedelta) -> None:
    nxt = after_result(result, AT)
    assert nxt.verdict is Verdict.RETRY and nxt.at == AT + gap


def test_unknown_result_is_named() -> None:
    with pytest.raises(ValueError, match="result: unknown call result 'ringing'"):
        after_result("ringing", AT)


def test_recusa_waits_a_day() -> None:
    assert after_outcome("RECUSA", AT).at == AT + timedelta(hours=24)


def test_promise_redials_the_day_after_the_promise_date_in_brasilia() -> None:
    nxt = after_outcome("PROMESSA", AT, promise_date=date(2026, 3, 20))
    assert nxt.at == datetime(2026, 3, 21, 0, 0, tzinfo=BRASILIA)
    assert nxt.at is not None and nxt.at.astimezone(UTC).hour == 3


def test_promise_and_callback_need_their_fields() -> None:
    with pytest.raises(ValueError, match="promise_date"):
        after_outcome("PROMESSA", AT)
    with pytest.raises(ValueError, match="callback_at"):
        after_outcome("RETORNAR", AT)


def test_retornar_redials_at_the_callback_time() -> None:
    when = AT + timedelta(days=2)
    assert after_outcome("RETORNAR", AT, callback_at=when).at == when


@pytest.mark.parametrize(("code", "verdict"), [("ACORDO", Verdict.STOP_LEAD), ("JA_PAGO", Verdict.STOP_LEAD), ("FALECIDO", Verdict.STOP_CUSTOMER)])
def test_final_outcomes_stop(code: str, verdict: Verdict) -> None:
    nxt = after_outcome(code, AT)
    assert nxt.verdict is verdict and nxt.at is None and not nxt.retry
