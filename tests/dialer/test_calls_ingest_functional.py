"""End to end over a real loopback socket: the P4 bench's stream through parser + tracker.

Checks what the bench's figures rest on (renumbered copies don't collide, every call
ends, the tracker empties), not its speed.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import ami_ingest
from dialer.ami.events import OriginateResponse, parse_event
from dialer.ami.wire import MessageParser


def test_renumbered_copies_of_the_transcript_do_not_collide() -> None:
    data, messages, events = ami_ingest.build_stream(3)
    parsed = MessageParser(expect_banner=True).feed(data)
    assert len(parsed) == messages
    assert sum(1 for m in parsed if m.event) == events
    responses = [e for e in map(parse_event, parsed) if isinstance(e, OriginateResponse)]
    assert len({r.action_id for r in responses}) == 3 * ami_ingest.originate_count() == 60
    answered = [r.uniqueid for r in responses if r.success]
    assert len(set(answered)) == len(answered) == 3 * 8


def test_bench_runs_over_a_socket_and_every_call_ends(tmp_path: Path) -> None:
    out = tmp_path / "ami_ingest.json"
    assert ami_ingest.main(["--repeat", "2", "--rounds", "1", "--output", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["stream"]["calls"] == 40
    finished = result["ingest"]["domain_events"]
    assert finished["CallFailed"] + finished["CallEnded"] == 40
    assert result["ratio_ingest_to_raw"] > 0
    assert isinstance(result["target_met"], bool)
