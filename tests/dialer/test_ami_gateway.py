"""AmiGateway pieces that need no socket: settings, backoff, the bounded queue."""

from __future__ import annotations

import pytest

from dialer.ami.gateway import AmiGateway, AmiSettings, EventsLost, LinkChanged, LinkState, Received
from dialer.ami.wire import Message
from dialer.errors import AmiValueError
from web.config import PbxConfig


def test_settings_from_the_pbx_config() -> None:
    pbx = PbxConfig(host="10.0.0.5", port=5039, username="dialer", secret="s3cret", ping_interval_s=3, action_timeout_s=4)
    settings = AmiSettings.from_pbx(pbx, reconnect_max_s=10.0)
    assert (settings.host, settings.port, settings.username, settings.secret) == ("10.0.0.5", 5039, "dialer", "s3cret")
    assert (settings.ping_interval_s, settings.action_timeout_s, settings.reconnect_max_s) == (3, 4, 10.0)
    assert settings.effective_ping_timeout_s == 3
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ping_interval_s": 0}, r"^ping_interval_s: must be greater than 0"),
        ({"action_timeout_s": -1}, r"^action_timeout_s: must be greater than 0"),
        ({"ping_timeout_s": 0}, r"^ping_timeout_s: must be greater than 0"),
        ({"reconnect_initial_s": 2, "reconnect_max_s": 1}, r"^reconnect_max_s: must not be smaller"),
        ({"port": 0}, r"^port: 0 is not a TCP port"),
        ({"queue_size": 1}, r"^queue_size: must be at least 2"),
        ({"secret": "x\r\nAction: Command"}, r"^secret: contains a line break"),
        ({"username": "co bra"}, r"^username: "),
        ({"events": ("call", "all")}, None),
        ({"events": ("call,all",)}, r"^events\[0\]: "),
    ],
)
def test_bad_settings_are_refused_at_construction(overrides: dict[str, object], message: str | None) -> None:
    settings = AmiSettings(**overrides)  # type: ignore[arg-type]
    if message is None:
        AmiGateway(settings)
        return
    with pytest.raises(AmiValueError, match=message):
        AmiGateway(settings)


def test_the_login_timeout_defaults_to_the_action_timeout() -> None:
    assert AmiSettings(action_timeout_s=4).effective_login_timeout_s == 4
    assert AmiSettings(action_timeout_s=4, login_timeout_s=0.5).effective_login_timeout_s == 0.5
    with pytest.raises(AmiValueError, match=r"^login_timeout_s: must be greater than 0"):
        AmiGateway(AmiSettings(login_timeout_s=0))


def _newchannel(uniqueid: str) -> Message:
    return Message.of(Event="Newchannel", Channel=f"PJSIP/1-{uniqueid}", Uniqueid=uniqueid, ChannelState="0")


async def test_a_full_queue_drops_and_then_reports_the_gap_in_order() -> None:
    gw = AmiGateway(AmiSettings(queue_size=3))
    for i in range(5):
        gw._on_message(_newchannel(f"u{i}"), float(i))
    assert gw.dropped_events == 2
    got = [gw.queue.get_nowait() for _ in range(3)]
    assert [i.event.ch.uniqueid for i in got if isinstance(i, Received)] == ["u0", "u1", "u2"]

    gw._on_message(_newchannel("u5"), 5.0)
    gap, after = gw.queue.get_nowait(), gw.queue.get_nowait()
    assert gap == EventsLost(count=2, at=5.0)
    assert isinstance(after, Received) and after.event.ch.uniqueid == "u5"  # type: ignore[union-attr]


async def test_events_cobra_does_not_read_are_not_queued_and_malformed_ones_are_counted() -> None:
    gw = AmiGateway(AmiSettings())
    gw._on_message(Message.of(Event="DeviceStateChange", Device="PJSIP/1", State="INUSE"), 1.0)
    gw._on_message(Message.of(Event="Newchannel", Channel="PJSIP/1-01"), 2.0)  # no Uniqueid
    assert gw.queue.empty()
    assert gw.malformed_events == 1


async def test_link_listeners_see_each_change_once_and_a_bad_listener_is_contained() -> None:
    gw = AmiGateway(AmiSettings())
    seen: list[tuple[LinkState, str | None]] = []

    def broken(state: LinkState, reason: str | None) -> None:
        raise RuntimeError("listener bug")

    gw.on_link_change(broken)
    gw.on_link_change(lambda state, reason: seen.append((state, reason)))
    gw._announce(LinkState.CONNECTING, "first")
    gw._announce(LinkState.CONNECTING, "again")
    gw._announce(LinkState.UP)
    assert seen == [(LinkState.CONNECTING, "first"), (LinkState.UP, None)]
    assert gw.up.is_set()
    items = [gw.queue.get_nowait() for _ in range(gw.queue.qsize())]
    assert [i.state for i in items if isinstance(i, LinkChanged)] == [LinkState.CONNECTING, LinkState.UP]
