"""The AMI link machine under random event orders (hypothesis).

A small model of the world around the machine (connects in flight, open sockets, login
replies, timers) delivers what is pending in any order an adversary picks, including a
socket that closes before its connect is reported (the proxy in front of a stopped
Asterisk). After every step the machine must have exactly one thing pending that moves it
on; once the PBX behaves again it must come up within a few steps.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.ami import link
from dialer.ami.link import Link, LinkState, Notice

POLICY = link.LinkPolicy(login_timeout_s=1.0, reconnect_initial_s=0.5, reconnect_max_s=4.0)


@dataclass
class World:
    """What is pending outside the machine, by connection attempt."""

    machine: Link = field(default_factory=Link)
    now: float = 0.0
    connects: set[int] = field(default_factory=set)  # TCP connects in flight
    late_connected: set[int] = field(default_factory=set)  # socket closed first; "connected" still to come
    sockets: set[int] = field(default_factory=set)  # open sockets the machine knows of
    closing: set[int] = field(default_factory=set)  # dropped/closed by us: "closed" still to come
    logins: set[int] = field(default_factory=set)  # Login sent, no reply yet
    login_timer: int | None = None
    retry_timer: int | None = None
    reports: list[link.Report] = field(default_factory=list)
    retries: list[float] = field(default_factory=list)
    states: list[LinkState] = field(default_factory=list)

    def feed(self, event: link.LinkEvent) -> None:
        self.now += 0.001
        before = self.machine
        self.machine, actions = link.step(before, event, self.now, POLICY)
        if self.machine.state is not before.state:
            self.states.append(self.machine.state)
        for action in actions:
            self.apply(action)
        self.check()

    def apply(self, action: link.LinkAction) -> None:  # noqa: C901 - one branch per action
        if isinstance(action, link.OpenConnection):
            assert not self.connects, "a second connect while one is in flight"
            assert action.attempt not in self.sockets | self.closing
            self.connects.add(action.attempt)
        elif isinstance(action, link.CancelConnect):
            self.connects.discard(action.attempt)
        elif isinstance(action, link.SendLogin):
            assert action.attempt in self.sockets, "Login on a socket that is not open"
            self.logins.add(action.attempt)
        elif isinstance(action, link.StartLoginTimer):
            assert action.delay_s == POLICY.login_timeout_s
            self.login_timer = action.attempt
        elif isinstance(action, link.CancelLoginTimer):
            self.login_timer = None
        elif isinstance(action, link.DropConnection | link.CloseConnection):
            if action.attempt in self.sockets:
                self.sockets.discard(action.attempt)
                self.logins.discard(action.attempt)
                self.closing.add(action.attempt)
        elif isinstance(action, link.ScheduleRetry):
            assert POLICY.reconnect_initial_s <= action.delay_s <= POLICY.reconnect_max_s
            self.retry_timer = action.attempt
            self.retries.append(action.delay_s)
        elif isinstance(action, link.CancelRetry):
            self.retry_timer = None
        elif isinstance(action, link.Report):
            self.reports.append(action)

    def check(self) -> None:
        """Whatever happened, exactly the one thing that moves the machine on is pending."""
        m = self.machine
        stale_sockets = self.sockets - {m.attempt}
        assert not stale_sockets, f"sockets {stale_sockets} left open"
        if m.state is LinkState.CONNECTING:
            assert self.connects == {m.attempt} and m.attempt not in self.sockets
        elif m.state is LinkState.LOGGING_IN:
            assert self.login_timer == m.attempt and m.attempt in self.sockets
        elif m.state is LinkState.RECONNECTING:
            assert self.retry_timer == m.attempt and m.retry_at is not None
            assert m.attempt not in self.sockets and not self.connects
            assert m.last_error
        elif m.state is LinkState.UP:
            assert m.attempt in self.sockets and self.login_timer is None and m.failed_attempts == 0
        if m.state is not LinkState.LOGGING_IN:
            assert self.login_timer is None, "a login timer outlived logging in"
        if m.state is not LinkState.RECONNECTING:
            assert self.retry_timer is None, "a retry timer outlived reconnecting"

    # -- what the world can do next ----------------------------------------------------

    def moves(self, pbx_ok: bool) -> list[tuple[str, int]]:
        """Every delivery possible now; with ``pbx_ok`` only the good outcomes."""
        out: list[tuple[str, int]] = []
        for a in sorted(self.connects):
            out.append(("connect_ok", a))
            if not pbx_ok:
                out += [("connect_fail", a), ("accept_and_close", a)]
        out += [("late_connected", a) for a in sorted(self.late_connected)]
        out += [("closed", a) for a in sorted(self.closing)]
        for a in sorted(self.logins):
            out.append(("login_ok", a))
            if not pbx_ok:
                out += [("login_refused", a)]
        if not pbx_ok:
            out += [("peer_closes", a) for a in sorted(self.sockets)]
            if self.machine.state is LinkState.UP:
                out.append(("ping_missed", self.machine.attempt))
        if self.login_timer is not None and (not pbx_ok or not self.logins):
            out.append(("login_timeout", self.login_timer))
        if self.retry_timer is not None:
            out.append(("retry", self.retry_timer))
        return out

    def play(self, move: tuple[str, int]) -> None:  # noqa: C901 - one branch per move
        kind, a = move
        if kind == "connect_ok":
            self.connects.discard(a)
            self.sockets.add(a)
            self.feed(link.Connected(a))
        elif kind == "connect_fail":
            self.connects.discard(a)
            self.feed(link.ConnectFailed(a, "connect failed: refused"))
        elif kind == "accept_and_close":
            # the socket closes before the connect's callback runs: "closed" first
            self.connects.discard(a)
            self.late_connected.add(a)
            self.feed(link.Closed(a, "connection closed"))
        elif kind == "late_connected":
            self.late_connected.discard(a)
            self.sockets.add(a)  # the callback hands over a socket that is in fact closed
            self.feed(link.Connected(a))
            if a in self.sockets:  # not dropped: the model closes it as the kernel would
                self.sockets.discard(a)
                self.logins.discard(a)
                self.feed(link.Closed(a, "connection closed"))
        elif kind == "closed":
            self.closing.discard(a)
            self.feed(link.Closed(a, "connection closed"))
        elif kind == "login_ok":
            self.logins.discard(a)
            self.feed(link.LoginAccepted(a))
        elif kind == "login_refused":
            self.logins.discard(a)
            self.feed(link.LoginRefused(a, "login as 'cobra' refused: Authentication failed"))
        elif kind == "peer_closes":
            self.sockets.discard(a)
            self.logins.discard(a)
            self.feed(link.Closed(a, "connection lost: reset by peer"))
        elif kind == "ping_missed":
            self.feed(link.PingMissed(a, "no reply to Ping within 1 s"))
        elif kind == "login_timeout":
            self.login_timer = None
            self.feed(link.LoginTimedOut(a))
        elif kind == "retry":
            self.retry_timer = None
            self.feed(link.RetryDue(a))


def _started() -> World:
    world = World()
    world.feed(link.Start())
    assert world.machine.state is LinkState.CONNECTING and world.connects == {1}
    return world


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_order_of_events_ends_up_or_reconnecting_and_comes_back(data: st.DataObject) -> None:
    world = _started()
    for _ in range(data.draw(st.integers(0, 60), label="bad steps")):
        moves = world.moves(pbx_ok=False)
        assert moves, f"stuck in {world.machine.state} with nothing pending"
        world.play(data.draw(st.sampled_from(moves)))
        # the whole point: never waiting with nothing that can move the link on
        assert world.machine.state is not LinkState.STOPPED
    # the PBX behaves again: whatever the order of what is still pending, up within a few steps
    for _ in range(40):
        if world.machine.state is LinkState.UP and not (world.closing or world.late_connected):
            break
        moves = world.moves(pbx_ok=True)
        assert moves, f"stuck in {world.machine.state} with nothing pending"
        world.play(data.draw(st.sampled_from(moves)))
    assert world.machine.state is LinkState.UP
    assert world.machine.last_error is None and world.machine.failed_attempts == 0
    # consecutive states always differ (one LinkChanged per change)
    assert all(a is not b for a, b in itertools.pairwise(world.states))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_each_outage_is_reported_once_at_warning_and_a_refusal_once_at_error(data: st.DataObject) -> None:
    world = _started()
    for _ in range(data.draw(st.integers(1, 80))):
        moves = world.moves(pbx_ok=data.draw(st.booleans()))
        if moves:  # (up with a good PBX: nothing happens)
            world.play(data.draw(st.sampled_from(moves)))
    # a wrong secret is worth its own ERROR even after the outage's WARNING, once
    warnings, errors = {Notice.DOWN, Notice.CANNOT_CONNECT}, {Notice.REFUSED}
    outage: list[Notice] = []
    for report in world.reports:
        if report.notice is Notice.UP:
            outage = []
        elif report.notice in warnings | errors:
            outage.append(report.notice)
            assert len([n for n in outage if n in warnings]) <= 1, f"outage reported {outage}"
            assert len([n for n in outage if n in errors]) <= 1, f"outage reported {outage}"
            assert outage[0] is not Notice.REFUSED or len(outage) == 1, "a refusal stands for the warning"


@given(st.lists(st.integers(0, 3), min_size=1, max_size=30))
def test_the_backoff_doubles_up_to_the_cap_and_resets_when_up(failures: list[int]) -> None:
    world = _started()
    for k, n in enumerate(failures):
        for _ in range(n + 1):
            world.play(("connect_fail", world.machine.attempt))
            world.play(("retry", world.machine.attempt))
        # the first retry after a drop waits the initial backoff too, then it doubles
        delays = [min(POLICY.reconnect_initial_s * 2**i, POLICY.reconnect_max_s) for i in range(n + 2)]
        assert world.retries == (delays[: n + 1] if k == 0 else delays)
        world.play(("connect_ok", world.machine.attempt))
        world.play(("login_ok", world.machine.attempt))
        assert world.machine.state is LinkState.UP
        world.retries.clear()
        world.play(("peer_closes", world.machine.attempt))
        world.play(("retry", world.machine.attempt))


ANY_EVENT = st.one_of(
    st.builds(link.Start),
    st.builds(link.Stop),
    *(
        st.builds(cls, st.integers(0, 4))
        for cls in (link.Connected, link.LoginAccepted, link.LoginTimedOut, link.RetryDue)
    ),
    *(
        st.builds(cls, st.integers(0, 4), st.just("why"))
        for cls in (link.ConnectFailed, link.Closed, link.LoginRefused, link.PingMissed)
    ),
)


@given(st.lists(ANY_EVENT, max_size=40))
def test_no_sequence_of_events_breaks_the_machine(events: list[link.LinkEvent]) -> None:
    """Even nonsense (events for attempts never made) is ignored or refused cleanly."""
    machine = Link()
    for i, event in enumerate(events):
        after, actions = link.step(machine, event, float(i), POLICY)
        assert after.attempt >= machine.attempt
        if isinstance(event, link.Connected) and not isinstance(actions[0], link.SendLogin):
            assert actions == [link.DropConnection(event.attempt, "stale connection")]
        if after.state is LinkState.RECONNECTING and after.state is not machine.state:
            assert any(isinstance(a, link.ScheduleRetry) for a in actions)
        if after.state is LinkState.CONNECTING and after.state is not machine.state:
            assert link.OpenConnection(after.attempt) in actions
        machine = after


def test_a_connection_closed_before_its_connect_is_reported_is_never_adopted() -> None:
    """The issue's trace: accepted, closed at once, then the connect callback runs."""
    world = _started()
    world.play(("accept_and_close", 1))
    assert world.machine.state is LinkState.RECONNECTING
    assert world.machine.last_error == "connection closed" and world.machine.failed_attempts == 1
    world.play(("late_connected", 1))  # the socket is handed over after all
    assert world.machine.state is LinkState.RECONNECTING and not world.sockets
    world.play(("retry", 1))
    world.play(("connect_ok", 2))
    world.play(("login_ok", 2))
    assert world.states[-1] is LinkState.UP and world.machine.attempt == 2
    assert world.states == [LinkState.CONNECTING, LinkState.RECONNECTING, LinkState.CONNECTING,
                            LinkState.LOGGING_IN, LinkState.UP]  # fmt: skip


def test_a_login_timeout_on_a_socket_already_closed_still_reconnects() -> None:
    world = _started()
    world.play(("connect_ok", 1))
    world.sockets.discard(1)  # closed, and its "closed" lost for good
    world.logins.clear()
    world.play(("login_timeout", 1))
    assert world.machine.state is LinkState.RECONNECTING
    assert world.machine.last_error == "no reply to Login within 1 s"


@pytest.mark.parametrize("state_moves", [[], [("connect_ok", 1)], [("connect_ok", 1), ("login_ok", 1)]])
def test_stop_from_any_state_cancels_everything(state_moves: list[tuple[str, int]]) -> None:
    world = _started()
    for move in state_moves:
        world.play(move)
    world.feed(link.Stop())
    assert world.machine.state is LinkState.STOPPED
    assert not world.connects and not world.sockets and world.login_timer is None and world.retry_timer is None
    assert world.reports[-1] == link.Report(Notice.STOPPED)
