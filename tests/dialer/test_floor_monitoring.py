"""Listen / whisper / barge, pure: the Originate sent, the refusals, following the spy channel's events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer.ami import events as ami
from dialer.floor.monitoring import MonitorMode, MonitorRefused, Monitors

AT = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
LEG = "PJSIP/7001-0000002a"


def _snap(channel: str, uniqueid: str) -> ami.ChannelSnapshot:
    return ami.ChannelSnapshot(channel, uniqueid, uniqueid, 6, "", "", None)


def _start(m: Monitors, mode: MonitorMode = MonitorMode.LISTEN, supervisor: int = 9, agent: int = 1, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "supervisor_id": supervisor, "supervisor_endpoint": "PJSIP/7901", "agent_id": agent, "agent_leg": LEG, "mode": mode, "at": AT,
        "link_up": True,
    }
    args.update(kw)
    return m.start(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "options"), [(MonitorMode.LISTEN, "qE"), (MonitorMode.WHISPER, "qEw"), (MonitorMode.BARGE, "qEB")]
)
def test_the_supervisor_phone_is_originated_into_chanspy_on_the_agent_leg(mode: MonitorMode, options: str) -> None:
    session, action = _start(Monitors(), mode)
    headers = dict(action.headers())
    assert headers["Channel"] == "PJSIP/7901"
    assert headers["Application"] == "ChanSpy"
    assert headers["Data"] == f"{LEG},{options}"
    assert "Context" not in headers and headers["ChannelId"] == session.channel_id


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"supervisor_endpoint": None}, "no_endpoint"),
        ({"agent_leg": None}, "agent_not_connected"),
        ({"link_up": False}, "dialer_unavailable"),
    ],
)
def test_refusals(kw: dict[str, object], code: str) -> None:
    m = Monitors()
    with pytest.raises(MonitorRefused) as caught:
        _start(m, **kw)
    assert caught.value.code == code and m.of_supervisor(9) is None


def test_one_session_per_supervisor_and_one_supervisor_per_agent() -> None:
    m = Monitors()
    _start(m)
    with pytest.raises(MonitorRefused) as twice:
        _start(m, agent=2)
    assert twice.value.code == "already_monitoring"
    with pytest.raises(MonitorRefused) as other:
        _start(m, supervisor=10)
    assert other.value.code == "agent_monitored"


def test_the_spy_channel_is_followed_until_it_hangs_up() -> None:
    m = Monitors()
    session, _ = _start(m, MonitorMode.WHISPER)
    spy = _snap("PJSIP/7901-00000031", session.channel_id)
    assert m.observe(ami.Newchannel(spy)) == ([], [], [])
    assert session.channel == "PJSIP/7901-00000031"
    ended, hangups, spying = m.observe(ami.ChanSpyStart(spy, _snap(LEG, "leg-1")))
    assert spying == [session] and session.spying and not ended and not hangups
    assert m.of_agent(1) is session
    _, hangup = m.stop(9)
    assert hangup is not None and dict(hangup.headers())["Channel"] == "PJSIP/7901-00000031"
    ended, _, _ = m.observe(ami.Hangup(spy, 16, "Normal Clearing"))
    assert [e.session for e in ended] == [session]
    assert m.of_supervisor(9) is None and m.of_agent(1) is None


def test_a_stop_before_the_channel_is_named_hangs_it_up_when_it_appears() -> None:
    m = Monitors()
    session, _ = _start(m)
    assert m.stop(9) == (session, None)
    _, hangups, _ = m.observe(ami.Newchannel(_snap("PJSIP/7901-00000032", session.channel_id)))
    assert [dict(h.headers())["Channel"] for h in hangups] == ["PJSIP/7901-00000032"]


def test_a_failed_originate_ends_the_session() -> None:
    m = Monitors()
    session, action = _start(m)
    other = ami.OriginateResponse("someone-else", False, 0, "x", "", "", None)
    assert m.observe(other) == ([], [], [])
    ended, _, _ = m.observe(ami.OriginateResponse(action.action_id, False, 3, "PJSIP/7901", "", "", None))
    assert [e.session for e in ended] == [session] and m.of_supervisor(9) is None


def test_after_a_reconnect_a_spy_channel_gone_from_the_pbx_ends_its_session() -> None:
    m = Monitors()
    seen, _ = _start(m)
    ringing, _ = _start(m, supervisor=10, agent=2)
    m.observe(ami.Newchannel(_snap("PJSIP/7901-00000033", seen.channel_id)))
    assert m.settle({seen.channel_id}) == []  # still there
    assert [e.session for e in m.settle(set())] == [seen]  # gone; the one never seen may still ring
    assert m.of_supervisor(10) is ringing
