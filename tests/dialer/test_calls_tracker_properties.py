"""Property tests of CallTracker over the recorded transcripts: order independence between
calls, and no exception nor leak whatever the order or loss of events."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.ami.events import parse_event
from dialer.ami.wire import Message
from dialer.calls import (
    AgentLegDown,
    AgentLegFailed,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallFailed,
    CallTracker,
    DomainEvent,
)
from tests.dialer.test_calls_tracker import (
    Step,
    call_var,
    feed_all,
    originates,
    per_attempt,
    register,
    steps,
)
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


# ---- AMD calls (SPEC §5): only a detected person is ever owed an agent ------------------------

WINDOW_S = 2.0
VERDICTS = ("HUMAN", "NOTSURE", "MACHINE", "HANGUP", None)


def trunk_event(t: float, **kv: str) -> Step:
    """A synthetic event about the trunk channel ``u1`` of an AMD call (state Up)."""
    base = {"Channel": "PJSIP/trunk-0001", "Uniqueid": "u1", "Linkedid": "u1", "ChannelState": "6"}
    msg = Message.of(*{**base, **kv}.items())
    return Step(t, msg, parse_event(msg))


@settings(max_examples=200, deadline=None)
@given(
    verdict=st.sampled_from(VERDICTS),
    answer_at=st.floats(min_value=0.0, max_value=60.0),
    verdict_after=st.floats(min_value=0.0, max_value=10.0),
    hangup_after=st.floats(min_value=0.0, max_value=30.0),
    response_first=st.booleans(),
)
def test_an_amd_call_is_abandoned_only_after_a_person_verdict_and_a_full_window(
    verdict: str | None, answer_at: float, verdict_after: float, hangup_after: float, response_first: bool
) -> None:
    verdict_at = answer_at + verdict_after
    hangup_at = (verdict_at if verdict is not None else answer_at) + hangup_after
    answer = [
        trunk_event(answer_at, Event="Newstate"),
        Step(answer_at, m := Message.of(Event="OriginateResponse", ActionID="a-1", Response="Success",
                                        Channel="PJSIP/trunk-0001", Reason="4", Uniqueid="u1"), parse_event(m)),
    ]
    items = answer if response_first else answer[::-1]
    if verdict is not None:
        items += [
            trunk_event(verdict_at, Event="VarSet", Variable="AMDSTATUS", Value=verdict),
            trunk_event(verdict_at, Event="VarSet", Variable="AMDCAUSE", Value="X"),
        ]
    items.append(trunk_event(hangup_at, Event="Hangup", Cause="16"))
    tracker = CallTracker(connect_window_s=WINDOW_S)
    tracker.expect_call("a-1", channel_id="u1", amd=True)
    events = feed_all(tracker, items)
    ended = events[-1]
    assert isinstance(ended, CallEnded)
    person = verdict in ("HUMAN", "NOTSURE")
    expected = person and hangup_at - verdict_at >= WINDOW_S - tracker.window_tolerance_s
    assert ended.abandoned is expected
    assert any(isinstance(e, CallAbandoned) for e in events) is expected
    assert tracker.is_empty()
