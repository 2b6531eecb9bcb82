from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from web.agent.outbox import Outbox


def test_frames_are_numbered_from_one() -> None:
    box = Outbox()
    assert box.last_seq == 0
    a = box.push("hello", {"agent": "ana"})
    b = box.push("agent_state", {"state": "ready"})
    assert (a.seq, b.seq) == (1, 2)
    assert b.as_json_obj() == {"type": "agent_state", "seq": 2, "state": "ready"}


def test_replay_gives_exactly_what_was_missed() -> None:
    box = Outbox()
    for i in range(5):
        box.push("call_state", {"i": i})
    assert [f.seq for f in box.since(2) or []] == [3, 4, 5]
    assert box.since(5) == []


def test_too_old_or_foreign_seq_asks_for_a_snapshot() -> None:
    box = Outbox(capacity=3)
    for i in range(10):
        box.push("call_state", {"i": i})
    assert box.since(6) is None  # 7 was dropped
    assert [f.seq for f in box.since(7) or []] == [8, 9, 10]
    assert box.since(11) is None  # a seq this session never sent
    assert box.since(-1) is None


@given(st.integers(1, 20), st.integers(0, 60), st.integers(0, 70))
def test_replay_is_never_a_gap(capacity: int, sent: int, last_seen: int) -> None:
    box = Outbox(capacity=capacity)
    for i in range(sent):
        box.push("x", {"i": i})
    got = box.since(last_seen)
    if got is not None:
        assert [f.seq for f in got] == list(range(last_seen + 1, sent + 1))


def test_an_encoded_frame_is_kept_as_its_text_only_and_replayed_as_sent() -> None:
    import gc
    import json

    box = Outbox(capacity=4)
    body = {"call_id": "c1", "summary": {"flags": ["advogado"], "attempts_today": 2}}
    sent = box.push_encoded("screen_pop", body, lambda f: json.dumps(f.as_json_obj()))
    assert (sent.seq, sent.body) == (1, body)
    assert sent.text is not None and json.loads(sent.text) == {"type": "screen_pop", "seq": 1, **body}
    (kept,) = box.since(0) or []
    assert (kept.seq, kept.type, kept.text) == (1, "screen_pop", sent.text)
    assert dict(kept.body) == {}  # nothing for the garbage collector to walk but a string
    assert not gc.is_tracked(kept.text)
