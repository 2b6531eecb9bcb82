"""The what-if tool's pure parts: a campaign's measured calls become a scenario; inputs are checked."""

from __future__ import annotations

import pytest

from storage.repositories.pacing import MeasuredCalls
from web.pacing.whatif import (
    MIN_SAMPLES,
    WhatIfError,
    check_cap,
    check_hours,
    named_scenario,
    parse_agent_counts,
    run_whatif,
    scenario_from_measured,
)


def test_measured_shares_and_durations_replace_the_base_scenario() -> None:
    base = named_scenario("mid-floor")
    m = MeasuredCalls(live=30, machine=10, busy=5, congestion=5, no_answer=50)
    m.ring_to_answer_s = [6.0, 10.0] * (MIN_SAMPLES // 2)
    m.talk_s = [100.0, 140.0] * (MIN_SAMPLES // 2)
    m.wrap_s = [15.0] * 3  # too few: the base scenario's stays
    s = scenario_from_measured(m, base, name="Carteira X", ring_timeout_s=20.0)
    assert (s.name, s.no_answer_timeout_s) == ("Carteira X", 20.0)
    o = s.outcomes
    assert (o.live, o.machine, o.busy, o.congestion, o.no_answer) == (0.3, 0.1, 0.05, 0.05, 0.5)
    assert (s.ring_to_answer_s.mean, s.ring_to_answer_s.sd) == (8.0, 2.0)
    assert (s.talk_s.mean, s.talk_s.sd) == (120.0, 20.0)
    assert s.wrap_s == base.wrap_s and s.ring_to_fail_s == base.ring_to_fail_s
    rows = run_whatif(s, [2], cap=0.03, hours=0.25)
    assert len(rows) == 1 and rows[0].agents == 2 and rows[0].calls_placed > 0


def test_inputs_are_checked_with_the_field_named() -> None:
    assert parse_agent_counts(" 5, 10,5 ,20") == [5, 10, 20]
    for text in ("", "0", "5,x", "1,2,3,4,5,6,7", "201"):
        with pytest.raises(WhatIfError) as bad:
            parse_agent_counts(text)
        assert bad.value.field == "agents"
    with pytest.raises(WhatIfError) as bad:
        check_cap(0.0)
    assert bad.value.field == "cap"
    with pytest.raises(WhatIfError) as bad:
        check_hours(24)
    assert bad.value.field == "hours"
    assert check_cap(0.03) == 0.03 and check_hours(8) == 8
