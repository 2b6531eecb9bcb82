"""The floor model without a loop or a socket: inputs in, effects out (regressions of the floor-model issue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dialer.agents.desktop import Disposition, PopCustomer, ScreenPop
from dialer.agents.services import NotAllowedNow
from dialer.agents.state import AgentState, AgentStatus, PauseReason
from dialer.ami import events as ami
from dialer.calls.events import (
    AgentLegDown,
    AgentLegUp,
    CallAnswered,
    CallConnected,
    CallEnded,
)
from dialer.calls.refs import AttemptRef
from dialer.floor import effects as fx
from dialer.floor.calls import FloorCall
from dialer.floor.campaigns import CampaignInfo, DialMode
from dialer.floor.model import Floor, KnownAgent
from dialer.floor.session import ScriptBook
from dialer.floor.settings import DialerSettings

T0 = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)  # 11:00 in Brasília, a Friday
BOOK = ScriptBook()  # the default script, validated once for every floor of these tests


class Clocks:
    """One clock for the test: loop seconds and the wall time they map to."""

    def __init__(self) -> None:
        self.t = 100.0

    def mono(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.t - 100.0)


def agent(n: int) -> KnownAgent:
    return KnownAgent(n, f"Agente {n}", f"700{n}", f"Local/700{n}@agent-sim")


def campaign(mode: DialMode = DialMode.PROGRESSIVE, status: str = "active", level: float = 3.0) -> CampaignInfo:
    return CampaignInfo(1, "Carteira", mode, "Local/{number}@cust-sim", "551130000000", status, max_dial_level=level)


def pop(call_id: str) -> ScreenPop:
    customer = PopCustomer(1, "Maria da Silva", "Maria", "***.456.789-**", "SP")
    return ScreenPop(
        call_id,
        1,
        "Carteira",
        "progressive",
        customer,
        "+5511999990001",
        "(11) *****-0001",
        (),
        Decimal(0),
        (),
        (),
        0,
        0,
        T0,
    )


def a_call(call_id: str, info: CampaignInfo, *, preview: bool = False) -> FloorCall:
    return FloorCall(AttemptRef(call_id, 10, 1, 5, info.id), info, "+5511999990001", pop(call_id), preview=preview)


def kinds(effects: list[fx.Effect]) -> list[str]:
    return [type(e).__name__ for e in effects]


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def floor(clocks: Clocks) -> Floor:
    f = Floor(
        DialerSettings(recording=False, connect_window_s=2.0, wrapup_max_s=30.0), wall=clocks.wall, mono=clocks.mono, scripts=BOOK
    )
    f.running = True
    f.link_up = True
    f.campaign_changed(campaign())
    return f


def ready_agent(floor: Floor, n: int) -> None:
    floor.add_agent(agent(n))
    floor.go_ready(n)
    floor.apply_events([AgentLegUp(f"700{n}", f"Local/700{n}@agent-sim-0000000{n};1", floor._mono())])
    assert floor.status(n).state is AgentState.READY


def answered_call(floor: Floor, call_id: str = "c1") -> list[fx.Effect]:
    """A progressive call claimed, originated and answered: the effects of the answer."""
    info = floor.campaigns[1]
    floor.claimed(fx.ClaimRequest(1, 1), [a_call(call_id, info)])
    return floor.apply_events(
        [CallAnswered(call_id, f"Local/5511999990001@cust-sim-{call_id};1", f"u-{call_id}", floor._mono())]
    )


def test_go_ready_originates_one_leg_and_readies_on_its_join(floor: Floor) -> None:
    floor.add_agent(agent(1))
    first = floor.go_ready(1)
    assert kinds(first).count("SendOriginate") == 1
    # a second "Disponível" while connecting (two tabs, a double click) originates nothing
    assert "SendOriginate" not in kinds(floor.go_ready(1))
    assert floor.add_agent(agent(1)) is floor.agents.get(1), "a second session for the same agent is never made"
    floor.apply_events([AgentLegUp("7001", "Local/7001@agent-sim-00000001;1", 100.0)])
    assert floor.status(1).state is AgentState.READY


def test_an_answered_call_pops_before_the_redirect(floor: Floor) -> None:
    ready_agent(floor, 1)
    out = answered_call(floor)
    names = kinds(out)
    assert names.index("NotifyPop") < names.index("SendRedirect")
    assert floor.status(1).state is AgentState.RESERVED


def test_leg_lost_while_ready_leaves_the_agent_offline_and_told(floor: Floor) -> None:
    ready_agent(floor, 1)
    out = floor.apply_events([AgentLegDown("7001", 101.0, 16, "Normal Clearing")])
    assert floor.status(1).state is AgentState.OFFLINE
    errors = [e for e in out if isinstance(e, fx.NotifyError)]
    assert errors and errors[0].code == "agent_leg_lost" and "Telefone desconectado" in errors[0].message
    assert floor.plan_progressive() == []  # nobody to call for


def test_leg_lost_mid_call_hangs_the_customer_up_and_no_call_follows_the_disposition(
    floor: Floor, clocks: Clocks
) -> None:
    # finding 1: ghost agents — after disposing with no phone the agent got calls again
    ready_agent(floor, 1)
    answered_call(floor)
    floor.apply_events([CallConnected("c1", "7001", "agent7001", 100.2, 0.2)])
    assert floor.status(1).state is AgentState.ON_CALL
    out = floor.apply_events([AgentLegDown("7001", 101.0, 16, "Normal Clearing")])
    hangups = [e for e in out if isinstance(e, fx.SendHangup)]
    assert [h.action.channel for h in hangups] == ["Local/5511999990001@cust-sim-c1;1"], (
        "the customer is not left alone"
    )
    assert floor.status(1).state is AgentState.WRAP_UP
    floor.apply_events([CallEnded("c1", 16, "Normal Clearing", 101.1, True, True, False, 1.0, 0.9)])
    ticket = floor.begin_dispose(1, Disposition("c1", "RECUSA", "k1"))
    floor.dispose_done(ticket)
    assert floor.status(1) == AgentStatus(), "offline: no phone, so no call"
    assert floor.plan_progressive() == []
    # a customer answered now finds nobody: it waits (and is abandoned by the dialplan), never goes to agent 1
    out = answered_call(floor, "c2")
    assert "SendRedirect" not in kinds(out)


def test_leg_lost_before_the_connect_reroutes_within_the_window_else_hangs_up(floor: Floor, clocks: Clocks) -> None:
    ready_agent(floor, 1)
    ready_agent(floor, 2)
    answered_call(floor)
    reserved = next(u for u in (1, 2) if floor.status(u).state is AgentState.RESERVED)
    other = 3 - reserved
    out = floor.apply_events([AgentLegDown(f"700{reserved}", clocks.t, 16, "")])
    redirects = [e for e in out if isinstance(e, fx.SendRedirect)]
    assert [r.action.exten for r in redirects] == [f"700{other}"]
    assert floor.status(other).state is AgentState.RESERVED
    # the other one loses their leg too, past the window: the customer is hung up
    clocks.t += 5.0
    out = floor.apply_events([AgentLegDown(f"700{other}", clocks.t, 16, "")])
    assert [type(e).__name__ for e in out if isinstance(e, (fx.SendRedirect, fx.SendHangup))] == ["SendHangup"]


def test_a_customer_joining_an_agent_without_a_leg_is_hung_up_not_stored_connected(floor: Floor) -> None:
    ready_agent(floor, 1)
    answered_call(floor)
    floor.agents.get(1).leg_up = False  # the leg's Hangup is still on its way
    out = floor.apply_events([CallConnected("c1", "7001", "agent7001", 100.3, 0.3)])
    assert "StoreConnected" not in kinds(out) and "SendHangup" in kinds(out)


def test_reconcile_adopts_a_leg_left_in_the_conference_and_hangs_up_a_second_one(floor: Floor) -> None:
    # finding 4: after a restart, "Disponível" originated a second leg
    def row(channel: str, uid: str) -> ami.CoreShowChannel:
        ch = ami.ChannelSnapshot(channel, uid, uid, 6, "cobra-agent-bridge", "7001", "agent1")
        return ami.CoreShowChannel(None, ch, "ConfBridge", "agent7001", "00:00:05", "b")

    out = floor.reconcile(
        [row("Local/7001@agent-sim-00000008;1", "1.16"), row("Local/7001@agent-sim-00000009;1", "1.18")], [agent(1)]
    )
    hangups = [e for e in out if isinstance(e, fx.SendHangup)]
    assert [h.action.channel for h in hangups] == ["Local/7001@agent-sim-00000009;1"]
    ready = floor.go_ready(1)
    assert "SendOriginate" not in kinds(ready)
    assert floor.status(1).state is AgentState.READY
    # the adopted leg is supervised like any other: its hangup takes the agent off
    leg = ami.ChannelSnapshot("Local/7001@agent-sim-00000008;1", "1.16", "1.16", 6, "cobra-agent-bridge", "7001", None)
    floor.ami_event(ami.Hangup(leg, 16, "Normal Clearing"), 102.0)
    assert floor.status(1).state is AgentState.OFFLINE


def test_a_wrapup_maximum_does_not_fire_while_the_disposition_is_stored(floor: Floor) -> None:
    # finding 6: the wrap-up timer ended the wrap-up during a dispose (handle time counted twice)
    ready_agent(floor, 1)
    answered_call(floor)
    floor.apply_events([CallConnected("c1", "7001", "agent7001", 100.2, 0.2)])
    out = floor.apply_events([CallEnded("c1", 16, "", 101.0, True, True, False, 1.0, 0.8)])
    assert any(isinstance(e, fx.StartWrapupTimer) for e in out)
    ticket = floor.begin_dispose(1, Disposition("c1", "RECUSA", "k1"))
    with pytest.raises(NotAllowedNow):
        floor.begin_dispose(1, Disposition("c1", "RECUSA", "another-key"))
    assert floor.wrapup_expired(1, "c1") == []
    assert floor.status(1).state is AgentState.WRAP_UP
    floor.dispose_done(ticket)
    assert floor.status(1).state is AgentState.READY


def test_a_failed_store_lets_the_agent_dispose_again(floor: Floor) -> None:
    ready_agent(floor, 1)
    answered_call(floor)
    floor.apply_events(
        [
            CallConnected("c1", "7001", "agent7001", 100.2, 0.2),
            CallEnded("c1", 16, "", 101.0, True, True, False, 1.0, 0.8),
        ]
    )
    ticket = floor.begin_dispose(1, Disposition("c1", "PROMESSA", "k1", Decimal(10), T0.date()))
    floor.dispose_aborted(ticket)
    again = floor.begin_dispose(1, Disposition("c1", "RECUSA", "k2"))
    floor.dispose_done(again)
    assert floor.status(1).state is AgentState.READY


def test_a_paused_campaign_plans_nothing_and_gives_back_leads_claimed_meanwhile(floor: Floor) -> None:
    # finding 3: a paused campaign kept dialing
    ready_agent(floor, 1)
    assert [r.count for r in floor.plan_progressive()] == [1]
    floor.campaign_changed(campaign(status="paused"))
    assert floor.plan_progressive() == []
    out = floor.claimed(fx.ClaimRequest(1, 1), [a_call("late", floor.campaigns[1])])
    assert kinds(out) == ["StoreCancelled"]
    floor.campaign_changed(campaign(status="active"))
    assert [r.count for r in floor.plan_progressive()] == [1]


def test_a_preview_on_screen_goes_back_when_its_campaign_stops(floor: Floor) -> None:
    floor.campaign_changed(campaign(DialMode.PREVIEW))
    ready_agent(floor, 1)
    [request] = floor.plan_previews()
    floor.claimed(request, [a_call("p1", floor.campaigns[1], preview=True)])
    assert floor.status(1).state is AgentState.RESERVED
    out = floor.campaign_changed(campaign(DialMode.PREVIEW, status="stopped"))
    assert "StoreCancelled" in kinds(out)
    assert floor.status(1).state is AgentState.READY


def test_predictive_never_has_more_calls_in_flight_than_ready_agents_times_the_level(floor: Floor) -> None:
    # finding 5: right after warm-up, predictive placed 5 calls at once for 3 agents
    info = campaign(DialMode.PREDICTIVE, level=1.5)
    floor.campaign_changed(info)
    for n in (1, 2, 3):
        ready_agent(floor, n)
    pacing = floor.pacing.of(info)
    pacing.decide = lambda snap: type("D", (), {"calls": 50})()  # type: ignore[method-assign]  # the tick ending warm-up, at its worst
    request = floor.plan_predictive(1)
    assert request is not None and request.count == 4  # ⌊1.5 × 3⌋
    floor.claimed(request, [a_call(f"q{i}", info) for i in range(4)])
    assert floor.plan_predictive(1) is None, "4 ringing already: no room for more"


def test_logout_hangs_up_the_leg_and_a_late_join_is_hung_up(floor: Floor) -> None:
    floor.add_agent(agent(1))
    floor.go_ready(1)
    out = floor.logout(1)
    assert floor.status(1).state is AgentState.OFFLINE
    assert "SendHangup" not in kinds(out)  # no leg yet
    out = floor.apply_events([AgentLegUp("7001", "Local/7001@agent-sim-00000001;1", 100.5)])
    assert kinds(out) == ["SendHangup"]


def test_pause_after_disposition(floor: Floor) -> None:
    ready_agent(floor, 1)
    answered_call(floor)
    floor.apply_events(
        [
            CallConnected("c1", "7001", "agent7001", 100.2, 0.2),
            CallEnded("c1", 16, "", 101.0, True, True, False, 1.0, 0.8),
        ]
    )
    done = floor.dispose_done(floor.begin_dispose(1, Disposition("c1", "RECUSA", "k1", pause_after=PauseReason.LANCHE)))
    assert floor.status(1) == AgentStatus(AgentState.PAUSED, pause_reason=PauseReason.LANCHE)
    assert any(isinstance(e, fx.CancelWrapupTimer) for e in done), "the armed wrap-up maximum is cancelled"


def test_connects_in_the_last_hour_are_counted_per_campaign(floor: Floor, clocks: Clocks) -> None:
    ready_agent(floor, 1)
    answered_call(floor)
    floor.apply_events([CallConnected("c1", "7001", "agent7001", clocks.t, 0.2)])
    info = floor.campaigns[1]
    figures = floor.pacing.figures(info, list(floor.agents), list(floor.calls.values()), running=True)
    assert figures.connects_last_hour == 1
    clocks.t += 3601.0
    assert floor.pacing.connects_last_hour(1) == 0


def test_the_sparkline_counts_the_last_hour_in_five_minute_slots(floor: Floor, clocks: Clocks) -> None:
    ready_agent(floor, 1)
    answered_call(floor)
    floor.apply_events([CallConnected("c1", "7001", "agent7001", clocks.t, 0.2)])
    assert floor.pacing.connects_by_slot(1) == (0,) * 11 + (1,)
    assert floor.snapshot().campaigns[0].connects_by_slot == (0,) * 11 + (1,)
    clocks.t += 12 * 60 * floor.pacing.settings.clock_scale  # 12 minutes later: two slots back
    assert floor.pacing.connects_by_slot(1) == (0,) * 9 + (1, 0, 0)
    clocks.t += 3600.0 * floor.pacing.settings.clock_scale
    assert floor.pacing.connects_by_slot(1) == (0,) * 12
    assert floor.pacing.connects_by_slot(99) == (0,) * 12


def test_orphans_of_a_stopped_dialer_are_closed_or_followed_to_their_end(floor: Floor) -> None:
    from dialer.floor.recovery import Orphan

    def ref(i: str) -> AttemptRef:
        return AttemptRef(i, 10, 1, 5, 1)

    live = ami.ChannelSnapshot("Local/5511999990001@cust-sim-00000004;1", "o-live", "o-live", 6, "cobra-agent-bridge", "7001", None)
    channels = [ami.CoreShowChannel(None, live, "ConfBridge", "agent7001", "00:01:00", "b")]
    out = floor.settle_orphans(
        [
            Orphan(ref("o-ring"), originated=True, answered=False, connected=False),
            Orphan(ref("o-talk"), originated=True, answered=True, connected=True),
            Orphan(ref("o-prev"), originated=False, answered=False, connected=False),
            Orphan(ref("o-live"), originated=True, answered=True, connected=True),
        ],
        channels,
    )
    by_call = {e.ref.attempt_id: e for e in out if isinstance(e, (fx.StoreFailed, fx.StoreEnded, fx.StoreCancelled))}
    assert isinstance(by_call["o-ring"], fx.StoreFailed) and by_call["o-ring"].result == "lost"
    assert isinstance(by_call["o-talk"], fx.StoreEnded) and by_call["o-talk"].connected
    assert isinstance(by_call["o-prev"], fx.StoreCancelled)
    assert "o-live" not in by_call and floor.calls["o-live"].adopted
    assert not any(isinstance(e, (fx.NotifyPop, fx.SendRedirect)) for e in out), "an adopted call is never routed"
    ended = floor.ami_event(ami.Hangup(live, 16, "Normal Clearing"), floor._mono() + 30)
    stored = [e for e in ended if isinstance(e, fx.StoreEnded)]
    assert [(e.ref.attempt_id, e.connected) for e in stored] == [("o-live", True)]


def test_an_unfinished_wrap_up_is_put_back_on_the_agents_screen(floor: Floor) -> None:
    info = floor.campaigns[1]
    call = a_call("w1", info)
    out = floor.resume_wrap_up(agent(1), call)
    assert floor.status(1).state is AgentState.WRAP_UP and floor.current_pop(1) is not None
    assert "NotifyPop" in kinds(out) and floor.session_of(1, "w1") is not None
    floor.dispose_done(floor.begin_dispose(1, Disposition("w1", "RECUSA", "k-w1")))
    assert floor.status(1).state is AgentState.OFFLINE, "the phone is unknown after a restart: Disponível calls it in"


def test_a_clean_stop_hands_back_every_live_call(floor: Floor) -> None:
    ready_agent(floor, 1)
    answered_call(floor, "h1")
    floor.claimed(fx.ClaimRequest(1, 1), [a_call("h2", floor.campaigns[1])])  # still ringing
    floor.stop()
    out = floor.hand_back()
    closed = {e.ref.attempt_id: type(e).__name__ for e in out if isinstance(e, (fx.StoreEnded, fx.StoreFailed))}
    assert closed == {"h1": "StoreEnded", "h2": "StoreFailed"} and not floor.calls


def test_the_snapshot_shows_agents_and_campaigns_as_supervisors_see_them(floor: Floor, clocks: Clocks) -> None:
    ready_agent(floor, 1)
    floor.add_agent(agent(2))
    answered_call(floor)
    floor.apply_events([CallConnected("c1", "7001", "agent7001", clocks.t, 0.2)])
    snap = floor.snapshot()
    by_id = {a.user_id: a for a in snap.agents}
    one = by_id[1]
    assert (one.state, one.phone_connected, one.call_id, one.campaign_id) == ("on_call", True, "c1", 1)
    assert one.customer == "Maria S." and "Silva" not in one.customer  # first name and initial only
    assert (one.calls_today, one.contacts_today) == (1, 1)
    assert (by_id[2].state, by_id[2].phone_connected, by_id[2].customer) == ("offline", False, None)
    [row] = snap.campaigns
    assert (row.id, row.status, row.mode, row.talking, row.ringing, row.waiting) == (1, "active", "progressive", 1, 0, 0)
    assert row.connects_last_hour == 1 and snap.link_up


def test_an_agent_is_never_left_reserved_for_a_customer_who_never_joins(floor: Floor) -> None:
    ready_agent(floor, 1)
    out = answered_call(floor)
    [guard] = [e for e in out if isinstance(e, fx.StartConnectTimer)]
    assert guard.delay_s >= 5.0
    freed = floor.connect_expired(1, "c1")
    assert floor.status(1).state is AgentState.READY
    assert "SendHangup" in kinds(freed) and "NotifyEnded" in kinds(freed)
    # a customer who did join cancels the guard, and a late guard changes nothing
    answered_call(floor, "c2")
    joined = floor.apply_events([CallConnected("c2", "7001", "agent7001", floor._mono(), 0.1)])
    assert any(isinstance(e, fx.CancelConnectTimer) for e in joined)
    assert floor.connect_expired(1, "c2") == [] and floor.status(1).state is AgentState.ON_CALL


# ---------------------------------------------------------------- a refused Redirect, the connect guard (robust2)

CUSTOMER_CHANNEL = "Local/5511999990001@cust-sim-0000000a;1"


def answered_through_the_tracker(floor: Floor, call_id: str = "c1") -> list[fx.Effect]:
    """A progressive call claimed and answered as Asterisk reports it (``OriginateResponse`` through the tracker)."""
    info = floor.campaigns[1]
    floor.claimed(fx.ClaimRequest(1, 1), [a_call(call_id, info)])
    answer = ami.OriginateResponse(call_id, True, 4, CUSTOMER_CHANNEL, "cobra-outbound", "s", call_id)
    return floor.ami_event(answer, floor._mono())


def customer_hangup(floor: Floor, call_id: str = "c1") -> list[fx.Effect]:
    ch = ami.ChannelSnapshot(CUSTOMER_CHANNEL, call_id, call_id, 6, "cobra-outbound", "s", "5511999990001")
    return floor.ami_event(ami.Hangup(ch, 16, "Normal Clearing"), floor._mono())


@pytest.mark.parametrize("hangup_after_s", [0.5, 2.5], ids=["customer-left-inside-the-window", "dialplan-dropped-it"])
def test_a_refused_redirect_frees_the_agent_at_once_and_the_call_is_stored_as_its_hangup_says(
    clocks: Clocks, hangup_after_s: float
) -> None:
    def run(refused: bool) -> tuple[list[fx.StoreEnded], Floor]:
        clocks.t = 100.0
        f = Floor(DialerSettings(recording=False, connect_window_s=2.0), wall=clocks.wall, mono=clocks.mono, scripts=BOOK)
        f.running = f.link_up = True
        f.campaign_changed(campaign())
        ready_agent(f, 1)
        out = answered_through_the_tracker(f)
        [redirect] = [e for e in out if isinstance(e, fx.SendRedirect)]
        assert (redirect.call_id, redirect.user_id, redirect.action.channel) == ("c1", 1, CUSTOMER_CHANNEL)
        if refused:
            clocks.t += 0.05
            freed = f.redirect_failed(1, "c1", f"Redirect: Channel does not exist: {CUSTOMER_CHANNEL}")
            # the agent is ready again at once, told the call ended, the guard cancelled; nothing is stored yet
            assert f.status(1).state is AgentState.READY
            assert [(e.user_id, e.call_id) for e in freed if isinstance(e, fx.NotifyEnded)] == [(1, "c1")]
            assert [e.call_id for e in freed if isinstance(e, fx.CancelConnectTimer)] == ["c1"]
            assert not any(isinstance(e, (fx.StoreEnded, fx.StoreFailed, fx.SendHangup, fx.SendRedirect)) for e in freed)
            # nobody will be given to it: not waiting on the wallboard, not holding back the agent's next call
            assert f.snapshot().campaigns[0].waiting == 0
            assert [(r.campaign_id, r.count) for r in f.plan_progressive()] == [(1, 1)]
            assert f.redirect_failed(1, "c1", "again") == [], "a second report changes nothing"
        clocks.t = 100.0 + hangup_after_s
        ended = customer_hangup(f)
        if refused:
            assert not any(isinstance(e, fx.NotifyEnded) for e in ended), "the agent was told already"
        assert f.calls == {}
        return [e for e in ended if isinstance(e, fx.StoreEnded)], f

    stored, floor = run(refused=True)
    baseline, _ = run(refused=False)
    assert len(stored) == 1, "stored once, from the Hangup"
    assert (stored[0].abandoned, stored[0].connected) == (baseline[0].abandoned, baseline[0].connected)
    assert stored[0].abandoned is (hangup_after_s > 2.0)
    assert floor.status(1).state is AgentState.READY


def test_a_redirect_refused_after_the_hangup_or_for_an_agent_moved_on_changes_nothing(floor: Floor, clocks: Clocks) -> None:
    ready_agent(floor, 1)
    answered_through_the_tracker(floor)
    clocks.t += 0.5
    customer_hangup(floor)  # the Hangup was read before the Redirect's error
    assert floor.status(1).state is AgentState.READY
    assert floor.redirect_failed(1, "c1", "Redirect: Channel does not exist") == []
    # rerouted after agent 1 lost their leg: a late refusal of agent 1's Redirect leaves agent 2 reserved
    ready_agent(floor, 2)
    answered_call(floor, "c2")
    first = next(u for u in (1, 2) if floor.status(u).state is AgentState.RESERVED)
    floor.apply_events([AgentLegDown(f"700{first}", clocks.t, 16, "")])
    second = 3 - first
    assert floor.status(second).state is AgentState.RESERVED
    assert floor.redirect_failed(first, "c2", "Redirect: Channel does not exist") == []
    assert floor.status(second).state is AgentState.RESERVED


def test_a_call_whose_agent_the_guard_freed_is_not_waiting_and_leaves_with_its_hangup(floor: Floor, clocks: Clocks) -> None:
    ready_agent(floor, 1)
    answered_through_the_tracker(floor)
    clocks.t += 6.0
    freed = floor.connect_expired(1, "c1")
    assert [e.action.channel for e in freed if isinstance(e, fx.SendHangup)] == [CUSTOMER_CHANNEL]
    # until its Hangup arrives it waits for no agent: the wallboard does not count it, the freed agent gets a call
    assert floor.snapshot().campaigns[0].waiting == 0
    assert [(r.campaign_id, r.count) for r in floor.plan_progressive()] == [(1, 1)]
    ended = customer_hangup(floor)
    assert floor.calls == {} and floor.tracker.attempt_ids() == []
    [stored] = [e for e in ended if isinstance(e, fx.StoreEnded)]
    assert stored.abandoned and stored.side == "system"


def test_the_connect_window_is_in_pbx_seconds_and_converted_once_under_a_clock_scale(clocks: Clocks) -> None:
    # a simulator ten times faster than life: 3 s of the PBX's window are 0.3 s of the loop's
    settings = DialerSettings(recording=False, connect_window_s=3.0, clock_scale=0.1)
    f = Floor(settings, wall=clocks.wall, mono=clocks.mono, scripts=BOOK)
    f.running = f.link_up = True
    f.campaign_changed(campaign())
    info = f.campaigns[1]
    placed = f.claimed(fx.ClaimRequest(1, 1), [a_call("c1", info)])
    [originate] = [e.action for e in placed if isinstance(e, fx.SendOriginate)]
    assert originate.variables["COBRA_CONNECT_WINDOW"] == "3", "the PBX reads its own seconds"
    assert f.pacing.of(info).connect_window_s == 3.0, "pacing counts PBX seconds"
    # the tracker judges loop-stamped events: a drop 0.4 loop seconds (4 PBX seconds) after the answer is an abandon
    f.ami_event(ami.OriginateResponse("c1", True, 4, CUSTOMER_CHANNEL, "cobra-outbound", "s", "c1"), clocks.t)
    clocks.t += 0.4
    [stored] = [e for e in customer_hangup(f) if isinstance(e, fx.StoreEnded)]
    assert stored.abandoned
    # a person left waiting 0.3 loop seconds (the whole window) is not offered to an agent who frees up then
    f.claimed(fx.ClaimRequest(1, 1), [a_call("c2", info)])
    f.ami_event(ami.OriginateResponse("c2", True, 4, CUSTOMER_CHANNEL, "cobra-outbound", "s", "c2"), clocks.t)
    clocks.t += 0.3
    ready_agent(f, 1)
    assert f.status(1).state is AgentState.READY and f.calls["c2"].agent_id is None
