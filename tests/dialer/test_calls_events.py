"""Domain events: the OriginateResponse reason mapping and the events' value semantics."""

from __future__ import annotations

import dataclasses

import pytest

from dialer.calls import AmdDetected, CallAnswered, FailReason, fail_reason


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (0, FailReason.FAILED),
        (1, FailReason.NO_ANSWER),
        (3, FailReason.NO_ANSWER),
        (5, FailReason.BUSY),
        (8, FailReason.CONGESTION),
        (2, FailReason.FAILED),
        (99, FailReason.FAILED),
    ],
)
def test_originate_reason_codes_map_to_fail_reasons(code: int, reason: FailReason) -> None:
    assert fail_reason(code) is reason


def test_fail_reasons_are_the_system_results_of_the_spec() -> None:
    # SPEC §7 system results (busy, no answer, congestion, failed) plus "lost" after a reconnect
    assert {r.value for r in FailReason} == {"busy", "no_answer", "congestion", "failed", "lost"}


def test_amd_machine_verdict() -> None:
    assert AmdDetected("a", "MACHINE", "LONGGREETING", 1.0).is_machine
    assert not AmdDetected("a", "NOTSURE", "TOOLONG", 1.0).is_machine
    assert not AmdDetected("a", "HANGUP", "", 1.0).is_machine


def test_domain_events_are_frozen_values() -> None:
    event = CallAnswered("a", "PJSIP/x-1", "u1", 1.0)
    assert event == CallAnswered("a", "PJSIP/x-1", "u1", 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.at = 2.0  # type: ignore[misc]
