"""The simulator's timer queue."""

from __future__ import annotations

from dialer.simulator.timers import TimerQueue


def test_due_callbacks_run_in_deadline_then_scheduling_order() -> None:
    q = TimerQueue()
    ran: list[str] = []
    q.call_later(2, lambda: ran.append("late"))
    for name in "abc":
        q.call_later(1, lambda name=name: ran.append(name))
    q.call_later(0, lambda: q.call_later(0, lambda: ran.append("nested")))
    q.advance_to(1.5)
    assert ran == ["nested", "a", "b", "c"]
    assert q.now == 1.5
    q.advance_to(3)
    assert ran[-1] == "late"


def test_cancelled_callbacks_do_not_run_and_clock_follows_deadlines() -> None:
    q = TimerQueue()
    seen: list[float] = []
    q.call_later(1, lambda: seen.append(q.now)).cancel()
    q.call_later(2, lambda: seen.append(q.now))
    assert q.next_deadline() == 2
    q.run_until_idle()
    assert seen == [2.0] and len(q) == 0
