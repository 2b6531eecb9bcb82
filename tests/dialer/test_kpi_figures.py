"""The KPI math of SPEC §8 on hand-computed examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dialer.kpis.figures import (
    AgentTime,
    AgreementFact,
    CallFact,
    CallTotals,
    DealTotals,
    GroupInput,
    PromiseFact,
    ReasonCatalogue,
    StateChange,
    agent_time,
    combine,
    figures,
    split_reasons,
    state_spans,
    tally_calls,
    tally_deals,
    tally_reasons,
)
from dialer.kpis.reasons import reason_catalogue
from scripting.script import load_default_script

BRT = -3 * 3600.0
CATALOGUE = reason_catalogue([load_default_script()])


def _connected(outcome: str | None, *, handle_s: float, identity: bool = False, reason: str | None = None,
               short: bool = False) -> CallFact:
    return CallFact("connected", answered=True, ended=True, connected=True, handle_s=handle_s, outcome=outcome,
                    identity_confirmed=identity, reason=reason, short_call=short)


# Ten attempts of one campaign-day, worked out by hand below
CALLS = [
    CallFact("busy", ended=True),
    CallFact("no_answer", ended=True),
    CallFact("cancelled", ended=True),  # the dialer's own cancellation: not an attempt
    CallFact("machine", answered=True, ended=True, short_call=True),  # completed, short, not live
    CallFact("abandoned", answered=True, ended=True, abandoned=True, short_call=True),  # live, abandoned
    _connected("ACORDO", handle_s=300.0, identity=True, reason="DESEMPREGO"),
    _connected("PROMESSA", handle_s=200.0, reason="NAO_RECEBEU_FATURA"),  # CPC by its outcome
    _connected("RECADO", handle_s=40.0),  # a third party: not CPC
    _connected("CONTESTA", handle_s=100.0, identity=True),  # a dispute: company-caused reason
    _connected("TELEFONE_ERRADO", handle_s=5.0, short=True),
]


def test_call_counts_by_hand() -> None:
    t = tally_calls(CALLS)
    assert t == CallTotals(
        attempts=9, live_answers=6, abandons=1, contacts=5, right_party=3, completed=7, short_calls=3,
        handled=5, handle_s=645.0,
    )
    assert tally_reasons(CALLS) == {"DESEMPREGO": 1, "NAO_RECEBEU_FATURA": 1, "CONTESTA": 1}


def test_deals_by_hand() -> None:
    d = tally_deals(
        [PromiseFact(Decimal("100.00"), "kept", Decimal("100.00")), PromiseFact(Decimal("50.10"), "broken", Decimal("20.00")),
         PromiseFact(Decimal("30.00"), "pending")],
        [AgreementFact(Decimal("1050.20"), Decimal("350.00"))],
    )
    assert d == DealTotals(promises=3, promised=Decimal("180.10"), promises_kept=1, promises_broken=1,
                           promise_paid=Decimal("120.00"), agreements=1, agreed=Decimal("1050.20"),
                           agreement_paid=Decimal("350.00"))


def test_figures_by_hand() -> None:
    deals = DealTotals(promises=1, promised=Decimal("180.10"), promises_kept=1, promises_broken=1,
                       promise_paid=Decimal("120.00"), agreements=1, agreed=Decimal("1050.20"),
                       agreement_paid=Decimal("350.00"))
    time = AgentTime(logged_s=2 * 3600.0, paused_s=1800.0, busy_s=2700.0)
    f = figures(GroupInput(tally_calls(CALLS), deals, time, tally_reasons(CALLS)), CATALOGUE)
    assert f.attempts == 9 and f.live_answers == 6 and f.contacts == 5 and f.right_party == 3
    assert f.abandon_rate == 1 / 6
    assert f.right_party_rate == 3 / 5
    assert f.promise_rate == 1 / 3 and f.agreement_rate == 1 / 3
    assert f.promises_kept == 1 and f.promises_kept_rate == 0.5
    assert f.negotiated == Decimal("1230.30")
    assert f.recovered == Decimal("470.00")
    assert f.aht_s == 129.0  # 645 s over 5 handled contacts
    assert f.short_call_share == 3 / 7
    assert f.hours_in_position == 1.5
    assert f.occupancy == 2700.0 / 5400.0
    assert f.contacts_per_agent_hour == 5 / 1.5
    # DESEMPREGO is financial; NAO_RECEBEU_FATURA (catalogue) and CONTESTA (a dispute) are company-caused
    assert (f.reasons_company, f.reasons_financial, f.reasons_unclassified) == (2, 1, 0)


def test_rates_of_nothing_are_none_not_zero() -> None:
    f = figures(GroupInput(), CATALOGUE)
    assert f.attempts == 0
    assert f.abandon_rate is None and f.right_party_rate is None and f.aht_s is None
    assert f.occupancy is None and f.contacts_per_agent_hour is None  # no agent time per campaign
    assert f.negotiated == Decimal("0.00")


def test_reason_split_labels_and_unknown_codes() -> None:
    split = split_reasons({"DESEMPREGO": 2, "PROBLEMA_PRODUTO_SERVICO": 3, "XPTO": 1}, CATALOGUE)
    assert (split.company_caused, split.financial, split.unclassified) == (3, 2, 1)
    assert [i.code for i in split.items] == ["PROBLEMA_PRODUTO_SERVICO", "DESEMPREGO", "XPTO"]
    assert split.items[0].label == "Problema com o produto ou serviço" and split.items[0].company_caused
    assert split.items[2].company_caused is None and split.items[2].label == "XPTO"


def test_catalogue_from_a_published_script_overrides() -> None:
    assert CATALOGUE.describe("DESEMPREGO") == ("Desemprego", False)
    assert CATALOGUE.describe("CONTESTA_COBRANCA")[1] is True
    assert ReasonCatalogue({}).describe("DESEMPREGO") == ("DESEMPREGO", None)


T0 = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 08:00 in Brasília


def test_state_spans_clip_to_the_period_and_skip_offline() -> None:
    changes = [
        StateChange(1, "ready", T0 - timedelta(hours=1)),  # began before the period
        StateChange(1, "on_call", T0 + timedelta(minutes=10)),
        StateChange(1, "wrap_up", T0 + timedelta(minutes=15)),
        StateChange(1, "paused", T0 + timedelta(minutes=16)),
        StateChange(1, "offline", T0 + timedelta(minutes=30)),
        StateChange(2, "ready", T0 + timedelta(minutes=50)),  # still ready at "now"
    ]
    spans = state_spans(changes, start=T0, end=T0 + timedelta(days=1), now=T0 + timedelta(hours=1), utc_offset_s=BRT)
    by_user: dict[int, AgentTime] = {}
    for s in spans:
        by_user[s.user_id] = by_user.get(s.user_id, AgentTime()) + agent_time([s])
        assert s.day == date(2026, 3, 2)
    assert by_user[1] == AgentTime(logged_s=30 * 60.0, paused_s=14 * 60.0, busy_s=6 * 60.0)
    assert by_user[2] == AgentTime(logged_s=10 * 60.0)


def test_a_span_counts_on_the_local_day_it_began() -> None:
    late = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)  # 23:30 on 02/03 in Brasília
    spans = state_spans([StateChange(7, "ready", late), StateChange(7, "offline", late + timedelta(hours=1))],
                        start=late - timedelta(days=1), end=late + timedelta(days=1), now=late + timedelta(days=1),
                        utc_offset_s=BRT)
    assert [(s.day, s.seconds) for s in spans] == [(date(2026, 3, 2), 3600.0)]


def test_totals_drop_agent_time_unless_every_group_has_it() -> None:
    a = GroupInput(CallTotals(attempts=2, contacts=1), time=AgentTime(3600.0, 0.0, 600.0), reasons={"X": 1})
    b = GroupInput(CallTotals(attempts=3, contacts=2), time=AgentTime(3600.0, 1800.0, 600.0), reasons={"X": 2})
    both = combine([a, b], with_time=True)
    assert both.calls.attempts == 5 and both.time == AgentTime(7200.0, 1800.0, 1200.0)
    assert both.reasons == {"X": 3}
    assert combine([a, b], with_time=False).time is None
