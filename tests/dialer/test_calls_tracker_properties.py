"""Property tests of CallTracker over the recorded transcripts: order independence between
calls, and no exception nor leak whatever the order or loss of events."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.calls import (
    AgentLegDown,
    AgentLegFailed,
    CallAnswered,
    CallEnded,
    CallFailed,
    CallTracker,
    DomainEvent,
)
from tests.dialer.test_calls_tracker import Step, call_var, feed_all, originates, per_attempt, register, steps
from tests.support.traces import trace_names

CONCURRENT = "concurrent_mixed"


def split_by_call(name: str) -> dict[str, list[Step]]:
    """The transcript's messages grouped by the originate they belong to (ActionID or Linkedid);
    messages of no call go under ``""``."""
    action_by_var = {call_var(o): o["ActionID"] for o in originates(name)}
    action_by_linkedid: dict[str, str] = {}
    for s in steps(name):
        m = s.message
        if m.get("Event") == "VarSet" and m.get("Variable") == "COBRA_CALL":
            action_by_linkedid[m["Linkedid"]] = action_by_var[m["Value"]]
    streams: dict[str, list[Step]] = {}
    for s in steps(name):
        m = s.message
        if m.get("Event") == "OriginateResponse":
            key = m["ActionID"]
        else:
            linkedid = m.get("Linkedid") or m.get("DestLinkedid") or m.get("LocalOneLinkedid") or ""
            key = action_by_linkedid.get(linkedid, "")
        streams.setdefault(key, []).append(s)
    return streams


def interleave(streams: list[list[Step]], rnd: random.Random) -> list[Step]:
    """A random merge that keeps each stream's own order."""
    pending = [list(reversed(s)) for s in streams if s]
    out: list[Step] = []
    while pending:
        i = rnd.randrange(len(pending))
        out.append(pending[i].pop())
        if not pending[i]:
            pending.pop(i)
    return out


def recorded_results() -> dict[str, list[DomainEvent]]:
    tracker = CallTracker()
    register(tracker, CONCURRENT)
    return per_attempt(feed_all(tracker, steps(CONCURRENT)))


RECORDED = recorded_results()
STREAMS = split_by_call(CONCURRENT)
CALL_IDS = sorted(k for k in STREAMS if k)


def test_every_call_of_the_concurrent_transcript_has_a_stream() -> None:
    assert len(CALL_IDS) == 20
    assert set(CALL_IDS) == set(RECORDED)


@settings(max_examples=60, deadline=None)
@given(
    calls=st.lists(st.sampled_from(CALL_IDS), min_size=2, max_size=6, unique=True),
    rnd=st.randoms(use_true_random=False),
)
def test_interleaving_calls_differently_gives_each_call_the_same_events(
    calls: list[str], rnd: random.Random
) -> None:
    tracker = CallTracker()
    register(tracker, CONCURRENT)
    merged = interleave([STREAMS[c] for c in calls] + [STREAMS.get("", [])], rnd)
    results = per_attempt(feed_all(tracker, merged))
    assert results == {c: RECORDED[c] for c in calls}
    # the calls that got no event at all are still waiting for theirs: nothing else is held
    assert sorted(tracker.attempt_ids()) == sorted(set(CALL_IDS) - set(calls))


def registered(name: str) -> tuple[set[str], Counter[str]]:
    """Attempt ids and agent extensions (with counts) the transcript's originates register."""
    tracker = CallTracker()
    register(tracker, name)
    return set(tracker.attempt_ids()), Counter(tracker.agent_extensions())


def check_settles(name: str, items: list[Step]) -> None:
    """Feeding never raises; after a reconcile with no channel every attempt and leg ended once."""
    tracker = CallTracker()
    register(tracker, name)
    attempts, legs = registered(name)
    events = feed_all(tracker, items) + tracker.reconcile([], at=1e6)
    assert tracker.is_empty()
    terminal = Counter(e.attempt_id for e in events if isinstance(e, (CallEnded, CallFailed)))
    assert terminal == Counter({a: 1 for a in attempts})
    answered = Counter(e.attempt_id for e in events if isinstance(e, CallAnswered))
    assert all(n == 1 for n in answered.values())
    legs_down = Counter(e.extension for e in events if isinstance(e, (AgentLegDown, AgentLegFailed)))
    assert legs_down == legs


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(trace_names()), rnd=st.randoms(use_true_random=False))
def test_any_order_of_events_never_raises_nor_leaks(name: str, rnd: random.Random) -> None:
    items = list(steps(name))
    rnd.shuffle(items)
    check_settles(name, items)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(trace_names()),
    rnd=st.randoms(use_true_random=False),
    keep=st.floats(min_value=0.0, max_value=1.0),
)
def test_lost_events_never_raise_nor_leak(name: str, rnd: random.Random, keep: float) -> None:
    items = [s for s in steps(name) if rnd.random() < keep]
    check_settles(name, items)
