"""CallTracker fed with every transcript recorded from a real Asterisk 22, no sockets.

Each test registers the originates the transcript's ``send`` blocks show, feeds the
``parse_event`` of every received message with its ``t=`` time, and asserts the exact
domain events, then that the tracker holds nothing any more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from dialer.ami.events import AmiEvent, ChannelSnapshot, CoreShowChannel, parse_event
from dialer.ami.wire import Message
from dialer.calls import (
    AgentLegDown,
    AgentLegFailed,
    AgentLegUp,
    AmdDetected,
    CallAbandoned,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallFailed,
    CallRinging,
    CallTracker,
    DomainEvent,
    FailReason,
    RecordingStarted,
)
from dialer.calls.events import REASON_UNKNOWN
from dialer.calls.tracker import GONE_AFTER_RECONNECT
from tests.support.traces import load_trace, trace_names

CALL_CONTEXTS = ("cobra-outbound", "cobra-amd")


@dataclass(frozen=True)
class Step:
    """One message Asterisk sent, with its time and typed event (None if Cobra doesn't read it)."""

    t: float
    message: Message
    event: AmiEvent | None


@cache
def steps(name: str) -> tuple[Step, ...]:
    out = []
    for block in load_trace(name):
        if block.direction != "recv" or block.is_banner or block.is_close:
            continue
        msg = block.message()
        out.append(Step(block.t, msg, parse_event(msg)))
    return tuple(out)


@cache
def originates(name: str) -> tuple[Message, ...]:
    return tuple(
        b.message()
        for b in load_trace(name)
        if b.direction == "send" and b.message().get("Action") == "Originate"
    )


def call_var(originate: Message) -> str | None:
    variable = originate.get("Variable")
    if variable and variable.startswith("COBRA_CALL="):
        return variable.partition("=")[2]
    return None


def register(tracker: CallTracker, name: str) -> None:
    """Register what the transcript's Originates were: agent legs and customer calls."""
    for orig in originates(name):
        action_id, context = orig["ActionID"], orig.get("Context")
        if context == "cobra-agent-bridge":
            tracker.expect_agent_leg(action_id, orig["Exten"])
        elif context in CALL_CONTEXTS and orig.get("Channel"):
            tracker.expect_call(action_id, call_var=call_var(orig), amd=context == "cobra-amd")


def feed_all(tracker: CallTracker, items: Iterable[Step]) -> list[DomainEvent]:
    out: list[DomainEvent] = []
    for step in items:
        out.extend(tracker.feed(step.event, step.t))
    return out


def replay(name: str, tracker: CallTracker | None = None) -> tuple[CallTracker, list[DomainEvent]]:
    tracker = CallTracker() if tracker is None else tracker
    register(tracker, name)
    return tracker, feed_all(tracker, steps(name))


def rounded(events: Sequence[DomainEvent]) -> list[DomainEvent]:
    """Events with float fields rounded to the microsecond (durations are differences of floats)."""
    out = []
    for e in events:
        changes = {f.name: round(v, 6) for f in dataclasses.fields(e) if isinstance(v := getattr(e, f.name), float)}
        event: Any = e  # replace() can't be typed over a union of dataclasses
        out.append(dataclasses.replace(event, **changes))
    return out


# ------------------------------------------------------------------ originate failures


def test_busy_is_a_failed_call_with_reason_busy() -> None:
    tracker, events = replay("busy")
    # the ;2 half's Hangup (cause 17) comes before the response: its cause is kept
    assert events == [CallFailed("orig-2", FailReason.BUSY, 5, 0.003, cause=17)]
    assert tracker.is_empty()


def test_congestion_is_a_failed_call_with_reason_congestion() -> None:
    tracker, events = replay("congestion")
    assert events == [CallFailed("orig-4", FailReason.CONGESTION, 8, 0.004, cause=34)]
    assert tracker.is_empty()


def test_ring_timeout_rings_then_fails_with_no_answer() -> None:
    tracker, events = replay("no_answer_timeout")
    assert events == [
        CallRinging("orig-3", 0.002),
        CallFailed("orig-3", FailReason.NO_ANSWER, 3, 4.007, cause=19),
    ]
    assert tracker.is_empty()


def test_no_such_extension_fails_even_with_the_response_after_the_first_hangup() -> None:
    tracker, events = replay("no_such_extension")
    assert events == [CallFailed("orig-5", FailReason.FAILED, 0, 0.002, cause=None)]
    assert tracker.is_empty()


def test_no_such_extension_with_channel_ids_frees_both_halves() -> None:
    # ;2 hangs up, then OriginateResponse Failure, then ;1 hangs up: every order must settle
    tracker = CallTracker()
    tracker.expect_call("orig-5", channel_id="1795389829.6", other_channel_id="1795389829.7")
    assert tracker.channel_count == 2
    events = feed_all(tracker, steps("no_such_extension"))
    assert events == [CallFailed("orig-5", FailReason.FAILED, 0, 0.002)]
    assert tracker.is_empty()


# ------------------------------------------------------------------ Reason 0: the cause decides


def test_far_end_no_answer_is_reason_0_settled_by_cause_19() -> None:
    # HangupRequest (19) on ;1, then OriginateResponse Failure Reason 0, then the Hangups (19)
    tracker, events = replay("no_answer_far_end")
    assert events == [
        CallRinging("orig-9", 0.003),
        CallFailed("orig-9", FailReason.NO_ANSWER, 0, 20.026, cause=19),
    ]
    assert tracker.is_empty()


def test_reason_0_is_held_until_the_customer_channel_hangs_up() -> None:
    items = steps("no_answer_far_end")
    response = next(i for i, s in enumerate(items) if s.message.get("Event") == "OriginateResponse")
    tracker = CallTracker()
    register(tracker, "no_answer_far_end")
    assert feed_all(tracker, items[: response + 1]) == [CallRinging("orig-9", 0.003)]
    assert tracker.attempt_ids() == ["orig-9"]  # the cause is still to come with the Hangup
    rest = feed_all(tracker, items[response + 1 :])
    assert rest == [CallFailed("orig-9", FailReason.NO_ANSWER, 0, 20.026, cause=19)]
    assert tracker.is_empty()


def test_reason_0_after_every_hangup_is_settled_at_once() -> None:
    items = list(steps("no_answer_far_end"))
    response = next(s for s in items if s.message.get("Event") == "OriginateResponse")
    items.remove(response)
    items.append(dataclasses.replace(response, t=20.5))
    tracker = CallTracker()
    register(tracker, "no_answer_far_end")
    events = feed_all(tracker, items)
    assert events[-1] == CallFailed("orig-9", FailReason.NO_ANSWER, 0, 20.5, cause=19)
    assert tracker.is_empty()


def test_reason_0_held_then_link_lost_is_settled_by_reconcile() -> None:
    items = steps("no_answer_far_end")
    response = next(i for i, s in enumerate(items) if s.message.get("Event") == "OriginateResponse")
    tracker = CallTracker()
    register(tracker, "no_answer_far_end")
    feed_all(tracker, items[: response + 1])
    assert tracker.reconcile([], at=30.0) == [CallFailed("orig-9", FailReason.NO_ANSWER, 0, 30.0, cause=19)]
    assert tracker.is_empty()


PJSIP = {"Channel": "PJSIP/trunk-0001", "Uniqueid": "u1", "Linkedid": "u1", "ChannelState": "5"}


def pjsip(tracker: CallTracker, t: float, **kv: str) -> list[DomainEvent]:
    """Feed one synthetic event about the trunk channel ``u1`` (a real, non-Local originate)."""
    fields = {**PJSIP, **kv}  # a field given here replaces the default one
    return tracker.feed(parse_event(Message.of(*fields.items())), t)


def response(action_id: str, reason: int) -> Message:
    return Message.of(Event="OriginateResponse", ActionID=action_id, Response="Failure",
                      Channel="PJSIP/5511999990003@trunk", Reason=str(reason), Uniqueid="<unknown>")


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (19, FailReason.NO_ANSWER),
        (17, FailReason.BUSY),
        (34, FailReason.CONGESTION),
        (38, FailReason.CONGESTION),
        (1, FailReason.FAILED),
        (3, FailReason.FAILED),
        (28, FailReason.FAILED),
        (21, FailReason.FAILED),  # call rejected: not a cause SPEC §3 maps
    ],
)
def test_reason_0_is_classified_by_the_cause_around_it(cause: int, expected: FailReason) -> None:
    tracker = CallTracker()
    tracker.expect_call("a-1", channel_id="u1")
    assert pjsip(tracker, 1.0, Event="Newstate") == [CallRinging("a-1", 1.0)]
    assert pjsip(tracker, 9.0, Event="HangupRequest", Cause=str(cause)) == []
    assert tracker.feed(parse_event(response("a-1", 0)), 9.0) == []
    # a PJSIP channel's own Hangup may say 0: the HangupRequest's cause still stands
    assert pjsip(tracker, 9.1, Event="Hangup", Cause="0") == [CallFailed("a-1", expected, 0, 9.1, cause=cause)]
    assert tracker.is_empty()


def test_reason_0_cause_may_come_only_with_the_hangup() -> None:
    tracker = CallTracker()
    tracker.expect_call("a-1", channel_id="u1")
    pjsip(tracker, 1.0, Event="Newstate")
    assert tracker.feed(parse_event(response("a-1", 0)), 9.0) == []
    assert pjsip(tracker, 9.1, Event="Hangup", Cause="17") == [CallFailed("a-1", FailReason.BUSY, 0, 9.1, cause=17)]


def test_reason_0_for_a_channel_asterisk_never_created_is_not_waited_for() -> None:
    # ChannelId passed, endpoint unavailable: no channel event at all, so no Hangup will come
    tracker = CallTracker()
    tracker.expect_call("a-1", channel_id="u1", other_channel_id="u1-2")
    assert tracker.feed(parse_event(response("a-1", 0)), 0.1) == [
        CallFailed("a-1", FailReason.FAILED, 0, 0.1, cause=None)
    ]
    assert tracker.is_empty()


@pytest.mark.parametrize(("reason", "expected"), [(5, FailReason.BUSY), (8, FailReason.CONGESTION), (3, FailReason.NO_ANSWER)])
def test_other_reasons_keep_their_mapping_whatever_the_cause(reason: int, expected: FailReason) -> None:
    tracker = CallTracker()
    tracker.expect_call("a-1", channel_id="u1")
    pjsip(tracker, 1.0, Event="Newstate")
    pjsip(tracker, 2.0, Event="HangupRequest", Cause="1")
    # not held: a Reason other than 0 says what happened by itself
    assert tracker.feed(parse_event(response("a-1", reason)), 2.0) == [
        CallFailed("a-1", expected, reason, 2.0, cause=1)
    ]
    assert tracker.is_empty()


# ------------------------------------------------------------------ answered calls


def test_answered_and_never_connected_is_abandoned() -> None:
    tracker, events = replay("answered_abandoned")
    assert rounded(events) == [
        CallRinging("orig-1", 0.002),
        CallAnswered("orig-1", "Local/5511999990001@cust-sim-00000004;1", "1795389831.8", 1.004),
        CallAbandoned("orig-1", 4.007, 3.003),
        CallEnded("orig-1", 16, "Normal Clearing", 4.007, True, False, True, 3.003, 0.0),
    ]
    assert tracker.is_empty()


def test_customer_hanging_up_within_the_connect_window_is_not_an_abandon() -> None:
    # answered at 1.004, the person hung up at 2.006: inside the 2 s window, not the dialer's drop
    tracker, events = replay("quick_hangup_after_answer")
    assert rounded(events) == [
        CallRinging("orig-8", 0.002),
        CallAnswered("orig-8", "Local/5511999990005@cust-sim-00000006;1", "1795389902.12", 1.004),
        CallEnded("orig-8", 16, "Normal Clearing", 2.006, True, False, False, 1.002, 0.0),
    ]
    assert tracker.is_empty()


def test_the_same_quick_hangup_is_an_abandon_with_a_shorter_window() -> None:
    tracker, events = replay("quick_hangup_after_answer", CallTracker(connect_window_s=0.5))
    assert [type(e) for e in events] == [CallRinging, CallAnswered, CallAbandoned, CallEnded]
    ended = events[-1]
    assert isinstance(ended, CallEnded) and ended.abandoned
    assert tracker.is_empty()


def test_agent_login_and_connect() -> None:
    tracker, events = replay("agent_login_and_connect")
    customer = "Local/5511999990001@cust-sim-0000000a;1"
    assert rounded(events) == [
        AgentLegUp("7001", "Local/7001@agent-sim-00000008;1", 0.003),
        CallRinging("orig-6", 0.004),
        CallAnswered("orig-6", customer, "1795389919.20", 1.006),
        CallConnected("orig-6", "7001", "agent7001", 1.007, 0.001),
        CallEnded("orig-6", 16, "Normal Clearing", 5.025, True, True, False, 4.019, 4.018),
        AgentLegDown("7001", 5.028, 16, "Normal Clearing"),
    ]
    assert tracker.is_empty()


def test_agent_hangs_up_customer_with_recording() -> None:
    tracker, events = replay("agent_hangs_up_customer")
    customer = "Local/5511999990001@cust-sim-0000000d;1"
    assert rounded(events) == [
        AgentLegUp("7002", "Local/7002@agent-sim-0000000b;1", 0.003),
        CallRinging("orig-7", 0.004),
        CallAnswered("orig-7", customer, "1795389926.26", 1.006),
        RecordingStarted("orig-7", 1.006, "/tmp/amirec/call-7.wav"),
        CallConnected("orig-7", "7002", "agent7002", 1.007, 0.001),
        CallEnded("orig-7", 16, "Normal Clearing", 2.009, True, True, False, 1.003, 1.002),
        AgentLegDown("7002", 3.014, 16, "Normal Clearing"),
    ]
    assert tracker.is_empty()


@pytest.mark.parametrize("amd", [True, False])
def test_hanging_up_during_amd_is_not_an_abandon(amd: bool) -> None:
    # no COBRA_CALL here: the call is matched by OriginateResponse's Uniqueid, so its ringing
    # (before that response) is not seen. AMD said HANGUP after 4.5 s of silence: no person
    # was detected, so nobody was owed an agent (SPEC §5), whether or not the tracker was
    # told the call runs AMD (the AMDSTATUS itself says it ran).
    tracker = CallTracker()
    tracker.expect_call("amd-1", amd=amd)
    events = feed_all(tracker, steps("amd_on_silence"))
    assert rounded(events) == [
        CallAnswered("amd-1", "Local/5511999990001@cust-sim-00000011;1", "1795389936.34", 1.004),
        AmdDetected("amd-1", "HANGUP", "", 5.509),
        CallEnded("amd-1", 16, "Normal Clearing", 5.51, True, False, False, 4.506, 0.0),
    ]
    assert tracker.is_empty()


def test_an_amd_call_whose_verdict_never_came_is_not_an_abandon() -> None:
    # the AMDSTATUS VarSet is lost: with amd=True the window never started
    items = [s for s in steps("amd_on_silence") if s.message.get("Variable") != "AMDSTATUS"]
    tracker = CallTracker()
    tracker.expect_call("amd-1", amd=True)
    events = feed_all(tracker, items)
    assert [type(e) for e in events] == [CallAnswered, CallEnded]
    assert isinstance(events[-1], CallEnded) and not events[-1].abandoned
    # the same loss without amd=True: the window ran from the answer
    tracker = CallTracker()
    tracker.expect_call("amd-1")
    assert CallAbandoned in [type(e) for e in feed_all(tracker, items)]


def test_agent_leg_dropping_mid_call_leaves_the_customer_connected() -> None:
    tracker, events = replay("agent_leg_drops_mid_call")
    customer = "Local/5511999990001@cust-sim-00000003;1"
    assert rounded(events) == [
        AgentLegUp("7004", "Local/7004@agent-sim-00000001;1", 0.005),
        CallRinging("orig-10", 0.006),
        CallAnswered("orig-10", customer, "1796394554.6", 1.008),
        CallConnected("orig-10", "7004", "agent7004", 1.009, 0.001),
        AgentLegDown("7004", 1.512, 16, "Normal Clearing"),
        CallEnded("orig-10", 16, "Normal Clearing", 5.028, True, True, False, 4.02, 4.019),
    ]
    assert tracker.is_empty()


def test_after_the_agent_leg_drops_the_call_is_still_tracked_until_its_hangup() -> None:
    items = steps("agent_leg_drops_mid_call")
    agent_gone = next(
        i for i, s in enumerate(items) if s.message.get("Event") == "Hangup" and "agent-sim" in s.message["Channel"]
    )
    tracker = CallTracker()
    register(tracker, "agent_leg_drops_mid_call")
    before = feed_all(tracker, items[: agent_gone + 1])
    assert before[-1] == AgentLegDown("7004", 1.512, 16, "Normal Clearing")
    assert not any(isinstance(e, CallEnded) for e in before)
    assert tracker.attempt_ids() == ["orig-10"] and tracker.agent_extensions() == []
    after = feed_all(tracker, items[agent_gone + 1 :])
    assert [type(e) for e in after] == [CallEnded]
    assert isinstance(after[0], CallEnded) and after[0].connected and not after[0].abandoned


def test_supervisor_listen_keeps_only_the_agent_leg() -> None:
    # the ChanSpy originate (spy-1) is not an agent leg nor a call: its events are ignored
    tracker, events = replay("supervisor_listen")
    assert events == [
        AgentLegUp("7003", "Local/7003@agent-sim-0000000e;1", 0.003),
        AgentLegDown("7003", 2.011, 16, "Normal Clearing"),
    ]
    assert tracker.is_empty()


@pytest.mark.parametrize("name", ["login_ping_status", "login_bad_secret"])
def test_transcripts_without_calls_produce_nothing(name: str) -> None:
    tracker, events = replay(name)
    assert events == []
    assert tracker.is_empty()


def test_injection_attempt_call_is_answered_then_reconciled_away() -> None:
    # the recording stops while the call waits in cobra-outbound: it is still tracked,
    # until a reconnect's empty CoreShowChannels listing says it is gone
    tracker, events = replay("injection_attempt")
    assert events == [
        CallAnswered("inj-1", "Local/5511999990001@cust-sim-00000007;1", "1795389906.14", 1.003),
    ]
    assert tracker.attempt_ids() == ["inj-1"]
    gone = tracker.reconcile([], at=9.0)
    assert rounded(gone) == [CallEnded("inj-1", 0, GONE_AFTER_RECONNECT, 9.0, True, False, False, 7.997, 0.0)]
    assert tracker.is_empty()


# ------------------------------------------------------------------ concurrency

OUTCOME_BY_LAST_DIGIT = {
    "1": "abandoned",  # answers after 1 s, dropped by cobra-outbound after 3 s
    "2": "busy",
    "3": "no_answer",  # rings past the 6 s ring timeout
    "4": "congestion",
    "5": "ended",  # answers and hangs up 0.5 s later: inside the connect window
}


def outcome(events: Sequence[DomainEvent]) -> str:
    last = events[-1]
    if isinstance(last, CallFailed):
        return last.reason.value
    assert isinstance(last, CallEnded)
    return "abandoned" if last.abandoned else "ended"


def per_attempt(events: Iterable[DomainEvent]) -> dict[str, list[DomainEvent]]:
    out: dict[str, list[DomainEvent]] = {}
    for e in events:
        key = f"agent:{e.extension}" if isinstance(e, AgentLegUp | AgentLegDown | AgentLegFailed) else e.attempt_id
        out.setdefault(key, []).append(e)
    return out


def test_concurrent_mixed_twenty_calls_each_get_the_outcome_of_their_number() -> None:
    tracker, events = replay("concurrent_mixed")
    calls = per_attempt(events)
    expected = {
        o["ActionID"]: OUTCOME_BY_LAST_DIGIT[o["Channel"].split("@")[0][-1]] for o in originates("concurrent_mixed")
    }
    assert len(expected) == 20
    assert {aid: outcome(evs) for aid, evs in calls.items()} == expected
    for aid, evs in calls.items():
        kinds = [type(e) for e in evs]
        if expected[aid] == "abandoned":
            assert kinds == [CallRinging, CallAnswered, CallAbandoned, CallEnded], aid
        elif expected[aid] == "ended":
            assert kinds == [CallRinging, CallAnswered, CallEnded], aid
        elif expected[aid] == "no_answer":
            assert kinds == [CallRinging, CallFailed], aid
        else:
            assert kinds == [CallFailed], aid
    assert tracker.is_empty()


def channel_ids(name: str) -> dict[str, tuple[str, str]]:
    """call var -> (Uniqueid of the ;1 half, of the ;2 half), read from the transcript's VarSets."""
    halves: dict[str, dict[str, str]] = {}
    for step in steps(name):
        m = step.message
        if m.get("Event") == "VarSet" and m.get("Variable") == "COBRA_CALL":
            halves.setdefault(m["Value"], {})[m["Channel"][-1]] = m["Uniqueid"]
    return {var: (h["1"], h["2"]) for var, h in halves.items()}


@pytest.mark.parametrize(
    "name",
    [
        "busy",
        "congestion",
        "no_answer_timeout",
        "answered_abandoned",
        "quick_hangup_after_answer",
        "agent_login_and_connect",
        "agent_hangs_up_customer",
        "concurrent_mixed",
        "no_answer_far_end",
        "agent_leg_drops_mid_call",
    ],
)
def test_channel_id_path_gives_the_same_events_as_the_cobra_call_path(name: str) -> None:
    """Production passes ChannelId/OtherChannelId; matching by them must agree with COBRA_CALL."""
    _, by_var = replay(name)
    ids = channel_ids(name)
    tracker = CallTracker()
    for orig in originates(name):
        if orig.get("Context") == "cobra-agent-bridge":
            tracker.expect_agent_leg(orig["ActionID"], orig["Exten"])
            continue
        one, two = ids[call_var(orig) or ""]
        # a call var that never appears: only the channel ids can match
        tracker.expect_call(orig["ActionID"], one, two, call_var=f"unused-{orig['ActionID']}")
    assert feed_all(tracker, steps(name)) == by_var
    assert tracker.is_empty()


# ------------------------------------------------------------------ robustness


@pytest.mark.parametrize("name", trace_names())
def test_events_of_unknown_channels_are_ignored(name: str) -> None:
    tracker = CallTracker()
    assert feed_all(tracker, steps(name)) == []
    assert tracker.is_empty()


def test_response_success_after_the_hangup_still_answers_and_ends() -> None:
    """Odd ordering: the Up state was never seen and OriginateResponse arrives after the hangup."""
    items = [s for s in steps("quick_hangup_after_answer") if s.message.get("Event") != "Newstate"]
    response = next(s for s in items if s.message.get("Event") == "OriginateResponse")
    items.remove(response)
    items.append(dataclasses.replace(response, t=2.5))
    tracker = CallTracker()
    register(tracker, "quick_hangup_after_answer")
    events = feed_all(tracker, items)
    assert [type(e) for e in events] == [CallAnswered, CallEnded]
    ended = events[-1]
    assert isinstance(ended, CallEnded)
    assert (ended.at, ended.cause, ended.duration_s, ended.abandoned) == (2.006, 16, 0.0, False)
    assert tracker.is_empty()


def test_none_and_unread_events_produce_nothing() -> None:
    tracker = CallTracker()
    assert tracker.feed(None, 1.0) == []
    fully_booted = parse_event(Message.of(Event="FullyBooted", Status="Fully Booted"))
    assert tracker.feed(fully_booted, 1.0) == []


def test_amd_machine_verdict_is_never_an_abandon() -> None:
    tracker = CallTracker()
    tracker.expect_call("a-1", channel_id="u1")
    snap = {"Channel": "PJSIP/trunk-0001", "Uniqueid": "u1", "Linkedid": "u1", "ChannelState": "6"}

    def feed(t: float, **kv: str) -> list[DomainEvent]:
        return tracker.feed(parse_event(Message.of(*snap.items(), **kv)), t)

    assert feed(1.0, Event="Newstate") == [CallAnswered("a-1", "PJSIP/trunk-0001", "u1", 1.0)]
    assert feed(3.5, Event="VarSet", Variable="AMDSTATUS", Value="MACHINE") == []
    assert feed(3.5, Event="VarSet", Variable="AMDCAUSE", Value="LONGGREETING-1500-1500") == [
        AmdDetected("a-1", "MACHINE", "LONGGREETING-1500-1500", 3.5)
    ]
    ended = feed(9.0, Event="Hangup", Cause="16")
    assert [type(e) for e in ended] == [CallEnded]
    assert isinstance(ended[0], CallEnded) and not ended[0].abandoned
    assert tracker.is_empty()


@pytest.mark.parametrize(
    ("verdict", "hangup_at", "abandoned"),
    [
        ("HUMAN", 5.0, True),  # 2 s after the verdict: the window ran out
        ("NOTSURE", 5.0, True),
        ("HUMAN", 4.0, False),  # 1 s after the verdict: the person left within the window
        ("MACHINE", 30.0, False),
        ("HANGUP", 30.0, False),
        (None, 30.0, False),  # no verdict at all: nobody was owed an agent
    ],
)
def test_amd_call_window_starts_at_a_person_verdict(verdict: str | None, hangup_at: float, abandoned: bool) -> None:
    tracker = CallTracker(connect_window_s=2.0)
    tracker.expect_call("a-3", channel_id="u1", amd=True)
    pjsip(tracker, 1.0, Event="Newstate", ChannelState="6")
    if verdict is not None:
        pjsip(tracker, 3.0, Event="VarSet", Variable="AMDSTATUS", Value=verdict)
        pjsip(tracker, 3.0, Event="VarSet", Variable="AMDCAUSE", Value="X")
    ended = pjsip(tracker, hangup_at, Event="Hangup", Cause="16")
    assert (CallAbandoned in [type(e) for e in ended]) is abandoned
    assert isinstance(ended[-1], CallEnded) and ended[-1].abandoned is abandoned
    assert tracker.is_empty()


def test_amd_human_starts_the_connect_window_at_the_verdict() -> None:
    tracker = CallTracker(connect_window_s=2.0)
    tracker.expect_call("a-2", channel_id="u2")
    snap = {"Channel": "PJSIP/trunk-0002", "Uniqueid": "u2", "Linkedid": "u2", "ChannelState": "6"}

    def feed(t: float, **kv: str) -> list[DomainEvent]:
        return tracker.feed(parse_event(Message.of(*snap.items(), **kv)), t)

    feed(1.0, Event="Newstate")
    feed(3.0, Event="VarSet", Variable="AMDSTATUS", Value="HUMAN")
    feed(3.0, Event="VarSet", Variable="AMDCAUSE", Value="HUMAN-1-1")
    # 3.5 s after the answer but 0.5 s after the verdict: the person hung up within the window
    ended = feed(4.5, Event="Hangup", Cause="16")
    assert [type(e) for e in ended] == [CallEnded]
    assert tracker.is_empty()


def test_agent_leg_failure_is_reported() -> None:
    tracker = CallTracker()
    tracker.expect_agent_leg("agent-9", "7009")
    response = Message.of(
        Event="OriginateResponse", ActionID="agent-9", Response="Failure", Reason="0", Channel="PJSIP/7009"
    )
    assert tracker.feed(parse_event(response), 0.5) == [AgentLegFailed("7009", FailReason.FAILED, 0, 0.5)]
    assert tracker.is_empty()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempt_id": "orig-1"}, "attempt 'orig-1' is already tracked"),
        ({"attempt_id": "other", "action_id": "orig-1"}, "ActionID 'orig-1' is already tracked"),
        ({"attempt_id": "other", "call_var": "orig-1"}, "COBRA_CALL='orig-1' is already tracked"),
        ({"attempt_id": "other", "channel_id": "u-1"}, "channel id 'u-1' is already tracked"),
        ({"attempt_id": ""}, "attempt_id must not be empty"),
    ],
)
def test_bad_registrations_say_what_is_wrong(kwargs: dict[str, Any], message: str) -> None:
    tracker = CallTracker()
    tracker.expect_call("orig-1", channel_id="u-1")
    with pytest.raises(ValueError, match=message):
        tracker.expect_call(**kwargs)


def test_bad_connect_window_is_refused() -> None:
    with pytest.raises(ValueError, match="connect_window_s"):
        CallTracker(connect_window_s=0)


# ------------------------------------------------------------------ reconcile


def listing(*rows: tuple[str, str, int, str, str]) -> list[CoreShowChannel]:
    """CoreShowChannel rows from (channel, uniqueid, state, application, application data)."""
    return [
        CoreShowChannel("csc", ChannelSnapshot(ch, uid, uid, state, "", "", None), app, data, "00:00:01", "")
        for ch, uid, state, app, data in rows
    ]


def test_reconcile_keeps_the_agent_leg_listed_by_core_show_channels() -> None:
    name = "agent_login_and_connect"
    tracker = CallTracker()
    register(tracker, name)
    before = [s for s in steps(name) if s.t < 5.026 or s.message.get("Event") == "CoreShowChannel"]
    feed_all(tracker, before)
    rows = [s.event for s in before if isinstance(s.event, CoreShowChannel)]
    assert len(rows) == 2
    assert tracker.reconcile(rows, at=5.026) == []
    assert tracker.agent_extensions() == ["7001"]
    assert tracker.reconcile([], at=6.0) == [AgentLegDown("7001", 6.0, 0, GONE_AFTER_RECONNECT)]
    assert tracker.is_empty()


def test_reconcile_fails_unanswered_attempts_whose_channel_is_gone() -> None:
    tracker = CallTracker()
    tracker.expect_call("pending-no-channel")
    tracker.expect_call("ringing", channel_id="u-ring")
    tracker.expect_call("still-there", channel_id="u-live")
    tracker.expect_agent_leg("agent-x", "7010")
    events = tracker.reconcile(listing(("PJSIP/trunk-1", "u-live", 5, "AppDial", "")), at=10.0)
    assert events == [
        CallFailed("pending-no-channel", FailReason.LOST, REASON_UNKNOWN, 10.0),
        CallFailed("ringing", FailReason.LOST, REASON_UNKNOWN, 10.0),
        AgentLegFailed("7010", FailReason.LOST, REASON_UNKNOWN, 10.0),
    ]
    assert tracker.attempt_ids() == ["still-there"]


def test_reconcile_reports_the_answer_and_connect_missed_while_disconnected() -> None:
    tracker = CallTracker()
    tracker.expect_call("c-1", channel_id="u-c1")
    rows = listing(("PJSIP/trunk-9", "u-c1", 6, "ConfBridge", "agent7004"))
    assert tracker.reconcile(rows, at=20.0) == [
        CallAnswered("c-1", "PJSIP/trunk-9", "u-c1", 20.0),
        CallConnected("c-1", "7004", "agent7004", 20.0, 0.0),
    ]
    assert tracker.reconcile(rows, at=21.0) == []  # idempotent
    ended = tracker.reconcile([], at=30.0)
    assert ended == [CallEnded("c-1", 0, GONE_AFTER_RECONNECT, 30.0, True, True, False, 10.0, 10.0)]
    assert tracker.is_empty()


@pytest.mark.parametrize("half", ["one", "two"])
def test_the_other_half_of_a_local_channel_is_paired(half: str) -> None:
    """Registered with one half only: the other is found by its name (;1 known) or LocalBridge (;2 known)."""
    name = "answered_abandoned"
    _, expected = replay(name)
    one, two = channel_ids(name)["call-1"]
    tracker = CallTracker()
    if half == "one":
        tracker.expect_call("orig-1", channel_id=one, call_var="unused")
    else:
        tracker.expect_call("orig-1", other_channel_id=two, call_var="unused")
    items = steps(name)
    bridge_at = next(i for i, s in enumerate(items) if s.message.get("Event") == "LocalBridge")
    events = feed_all(tracker, items[: bridge_at + 1])
    assert tracker.channel_count == 2
    events += feed_all(tracker, items[bridge_at + 1 :])
    assert events == expected
    assert tracker.is_empty()
