"""The call tracker: a pure state machine from typed AMI events to domain events.

Fed every typed AMI event (:func:`dialer.ami.events.parse_event`) with the time it was
read, it follows the originates Cobra sent and says what happened to them. No I/O, no
asyncio, no clock of its own: everything it knows comes through :meth:`CallTracker.feed`.

How an AMI channel is matched to an attempt (any one is enough):

- its Uniqueid is the ``ChannelId`` (or ``OtherChannelId``) we asked Asterisk to use;
- it carries ``COBRA_CALL=<call var>`` (a ``VarSet`` event; the Originate's ``Variable``);
- ``OriginateResponse: Success`` names it (``ActionID`` = the attempt's action id);
- it is the other half of a Local channel we track (``LocalBridge``, or ``…;2`` beside ``…;1``),
  or its Linkedid is the Uniqueid of a call's customer channel.

The *customer channel* of an attempt is the originated one (for a Local channel, the
``;1`` half, which runs our dialplan and is what ``Redirect`` moves). Its answer is the
call's answer, its ``ConfbridgeJoin`` of ``agent<ext>`` the connect, its ``Hangup`` the end.

Abandon rule (SPEC §5): an answered call is *abandoned* when it ends without ever joining
an agent conference, a live person was owed an agent, and it lasted at least the connect
window counted from the moment that person was there: the answer, or, when AMD ran, its
HUMAN/NOTSURE verdict (the greeting is over then). A call registered with ``amd=True`` owes
nobody anything until such a verdict, and any other AMDSTATUS (HANGUP, MACHINE) withdraws
the debt: no person was detected, so no abandon (a person who hangs up during AMD is not
one). A person who hangs up *within* the window was not dropped by the dialer: that call
ends (``CallEnded(answered=True, connected=False, abandoned=False)``) without a
``CallAbandoned``; its short ``duration_s`` still counts as a short call. A person who
hangs up after the window, still unconnected, is an abandon whoever hung up: the dialer
had already failed them.

Failures: ``OriginateResponse: Failure`` ends an unanswered attempt with ``CallFailed``.
Reason 0 says nothing by itself (no such number, but also the usual far-end no-answer,
``no_answer_far_end.ami``), so the Q.850 cause seen on the call's channels (``HangupRequest``
and ``Hangup``, either half of a Local channel) decides it (:func:`fail_reason`). That cause
may only come after the response: if the customer channel was seen and has not hung up
yet, the attempt is held until its ``Hangup``, which Asterisk always sends for a channel it
created (and :meth:`CallTracker.reconcile` settles it if the link drops first). A channel
never seen (an originate Asterisk could not even start, ``no_such_extension.ami`` without
ids) is not waited for. So no deadline is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dialer.ami import events as ami
from dialer.calls.events import (
    AMD_MACHINE,
    REASON_UNKNOWN,
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
    DomainEvent,
    FailReason,
    RecordingStarted,
    fail_reason,
)

CALL_VARIABLE = "COBRA_CALL"
AGENT_CONFERENCE_PREFIX = "agent"
GONE_AFTER_RECONNECT = "gone after AMI reconnect"

_STATE_RINGING = 5
_STATE_UP = 6
_AMD_STATUS = "AMDSTATUS"
_AMD_CAUSE = "AMDCAUSE"
_RECORDING_FILE = "MIXMONITOR_FILENAME"
_VARS_READ = frozenset({_AMD_STATUS, _AMD_CAUSE, _RECORDING_FILE})
# AMD verdicts after which a live person is listening (the connect window starts there)
_AMD_LIVE = frozenset({"HUMAN", "NOTSURE"})
# OriginateResponse Reason that does not say why (SPEC §3): the hang-up cause decides
_REASON_AMBIGUOUS = 0


class _Owner:
    """What a tracked channel belongs to: an attempt or an agent leg."""

    __slots__ = ("action_id", "channel", "linkedid", "local_base", "primary", "uids")

    def __init__(self, action_id: str) -> None:
        self.action_id = action_id
        self.primary: str | None = None  # Uniqueid of the originated channel
        self.channel: str | None = None  # its name
        self.linkedid: str | None = None
        self.local_base: str | None = None  # "Local/x@ctx-0000000a" when the channel is a ;1 half
        self.uids: set[str] = set()


class _Attempt(_Owner):
    __slots__ = (
        "amd",
        "amd_reported",
        "amd_status",
        "answered_at",
        "attempt_id",
        "call_var",
        "cause",
        "connected_at",
        "early_hangup",
        "failed_at",
        "primary_seen",
        "rang",
        "recording_path",
        "responded",
        "window_from",
    )

    def __init__(self, attempt_id: str, action_id: str, call_var: str, amd: bool = False) -> None:
        super().__init__(action_id)
        self.attempt_id = attempt_id
        self.call_var = call_var
        self.rang = False
        self.responded = False
        self.answered_at: float | None = None
        self.window_from: float | None = None
        self.connected_at: float | None = None
        self.amd_status: str | None = None
        self.amd_reported = False
        self.recording_path: str | None = None
        # the customer channel hung up before OriginateResponse told us the outcome
        self.early_hangup: tuple[float, int, str] | None = None
        # originated into AMD: nobody is owed an agent before a HUMAN/NOTSURE verdict
        self.amd = amd
        # the last non-zero Q.850 cause seen on any of its channels (settles a Reason 0)
        self.cause: int | None = None
        # an event showed the customer channel exists, so its Hangup will come
        self.primary_seen = False
        # when an ambiguous failure (Reason 0) was reported, awaiting the channel's Hangup
        self.failed_at: float | None = None


class _AgentLeg(_Owner):
    __slots__ = ("extension", "up")

    def __init__(self, action_id: str, extension: str) -> None:
        super().__init__(action_id)
        self.extension = extension
        self.up = False


_Out = list[DomainEvent]


class CallTracker:
    """Pure state machine: typed AMI events in, domain events out (see the module doc)."""

    def __init__(self, connect_window_s: float = 2.0, window_tolerance_s: float | None = None) -> None:
        if not connect_window_s > 0:
            raise ValueError(f"connect_window_s must be > 0, got {connect_window_s!r}")
        if window_tolerance_s is None:
            window_tolerance_s = min(0.25, connect_window_s / 10)
        if not 0 <= window_tolerance_s < connect_window_s:
            raise ValueError(f"window_tolerance_s must be in [0, connect_window_s), got {window_tolerance_s!r}")
        self.connect_window_s = connect_window_s
        # Asterisk starts the dialplan's Wait() when it answers, a little before we read the
        # answer event, so the dialplan's own drop arrives slightly "early" by our clock; a
        # hang-up this close to the window's end is counted as an abandon (the stricter side).
        self.window_tolerance_s = window_tolerance_s
        self._attempts: dict[str, _Attempt] = {}
        self._legs: dict[str, _AgentLeg] = {}  # by action id
        self._by_action: dict[str, _Owner] = {}
        self._by_var: dict[str, _Attempt] = {}
        self._by_uniqueid: dict[str, _Owner] = {}
        self._by_linkedid: dict[str, _Attempt] = {}
        self._by_local_base: dict[str, _Owner] = {}
        self._handlers: dict[type[Any], Callable[[Any, float, _Out], None]] = {
            ami.Newchannel: self._on_newchannel,
            ami.Newstate: self._on_newstate,
            ami.VarSet: self._on_varset,
            ami.LocalBridge: self._on_local_bridge,
            ami.OriginateResponse: self._on_originate_response,
            ami.ConfbridgeJoin: self._on_confbridge_join,
            ami.MixMonitorStart: self._on_mixmonitor_start,
            ami.HangupRequest: self._on_hangup_request,
            ami.Hangup: self._on_hangup,
        }

    # ---------------------------------------------------------------- registration

    def expect_call(
        self,
        attempt_id: str,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        *,
        action_id: str | None = None,
        call_var: str | None = None,
        amd: bool = False,
    ) -> None:
        """Register an outbound originate we sent.

        ``action_id`` (default: ``attempt_id``) is the Originate's ActionID; ``call_var``
        (default: ``attempt_id``) the value of its ``COBRA_CALL`` variable; ``channel_id`` and
        ``other_channel_id`` the ``ChannelId``/``OtherChannelId`` we passed, if any. ``amd``:
        the call runs ``AMD()`` after the answer, so the connect window starts at a
        HUMAN/NOTSURE verdict and a call without one is never abandoned (SPEC §5).
        """
        action_id = attempt_id if action_id is None else action_id
        call_var = attempt_id if call_var is None else call_var
        if not attempt_id:
            raise ValueError("attempt_id must not be empty")
        if attempt_id in self._attempts:
            raise ValueError(f"attempt {attempt_id!r} is already tracked")
        if action_id in self._by_action:
            raise ValueError(f"ActionID {action_id!r} is already tracked")
        if call_var in self._by_var:
            raise ValueError(f"{CALL_VARIABLE}={call_var!r} is already tracked")
        for uid in (channel_id, other_channel_id):
            if uid is not None and uid in self._by_uniqueid:
                raise ValueError(f"channel id {uid!r} is already tracked")
        attempt = _Attempt(attempt_id, action_id, call_var, amd)
        self._attempts[attempt_id] = attempt
        self._by_action[action_id] = attempt
        self._by_var[call_var] = attempt
        if channel_id is not None:
            self._bind(attempt, channel_id, None, True, channel_id)
        if other_channel_id is not None:
            self._bind(attempt, other_channel_id, None, False, None)

    def expect_agent_leg(
        self, action_id: str, extension: str, channel_id: str | None = None, *, up: bool = False
    ) -> None:
        """Register an originate to an agent's phone into its ``agent<extension>`` conference.

        ``up``: the leg is already in the conference (adopted from a ``CoreShowChannels``
        listing after a restart), so no ``AgentLegUp`` is reported for it; its hangup is.
        """
        if not action_id:
            raise ValueError("action_id must not be empty")
        if not extension:
            raise ValueError("extension must not be empty")
        if action_id in self._by_action:
            raise ValueError(f"ActionID {action_id!r} is already tracked")
        if channel_id is not None and channel_id in self._by_uniqueid:
            raise ValueError(f"channel id {channel_id!r} is already tracked")
        leg = _AgentLeg(action_id, extension)
        leg.up = up
        self._legs[action_id] = leg
        self._by_action[action_id] = leg
        if channel_id is not None:
            self._bind(leg, channel_id, None, True, None)

    # ---------------------------------------------------------------- feeding

    def feed(self, event: ami.AmiEvent | None, at: float) -> list[DomainEvent]:
        """Apply one typed AMI event read at ``at``; return the domain events it caused."""
        if event is None:
            return []
        handler = self._handlers.get(type(event))
        if handler is None:
            return []
        out: _Out = []
        handler(event, at, out)
        return out

    def reconcile(self, channels: Iterable[ami.CoreShowChannel], at: float) -> list[DomainEvent]:
        """After an AMI reconnect: settle what we track against a fresh ``CoreShowChannels`` listing.

        An attempt whose customer channel is gone ends (``CallEnded``, cause 0, with no
        abandon verdict: when it hung up is unknown) if it had been answered, or fails with
        ``FailReason.LOST`` if not (we never learnt the outcome; it may have rung). An
        attempt never matched to any channel counts as gone. A live channel that is Up or in
        an agent conference yields the ``CallAnswered``/``CallConnected``/``AgentLegUp`` missed
        while the link was down. Agent legs whose channel is gone go down (or fail).
        """
        live = {row.ch.uniqueid: row for row in channels}
        out: _Out = []
        for attempt in list(self._attempts.values()):
            row = live.get(attempt.primary) if attempt.primary is not None else None
            if row is None:
                if attempt.answered_at is not None:
                    self._finish(attempt, at, 0, GONE_AFTER_RECONNECT, out, judge_abandon=False)
                elif attempt.failed_at is not None:
                    # the failure was reported; its Hangup went missing with the link
                    self._fail(attempt, _REASON_AMBIGUOUS, at, out)
                else:
                    out.append(CallFailed(attempt.attempt_id, FailReason.LOST, REASON_UNKNOWN, at))
                    self._drop(attempt)
                continue
            if attempt.failed_at is not None:
                continue  # failed, still tearing down: its Hangup settles it
            if row.ch.state == _STATE_UP:
                self._answered(attempt, row.ch.channel, row.ch.uniqueid, at, out)
            conference = _conference_of(row)
            if conference is not None:
                self._connected(attempt, row.ch, conference, at, out)
        for leg in list(self._legs.values()):
            row = live.get(leg.primary) if leg.primary is not None else None
            if row is None:
                if leg.primary is not None:
                    out.append(AgentLegDown(leg.extension, at, 0, GONE_AFTER_RECONNECT))
                else:
                    out.append(AgentLegFailed(leg.extension, FailReason.LOST, REASON_UNKNOWN, at))
                self._drop(leg)
            elif not leg.up and _conference_of(row) is not None:
                leg.up = True
                out.append(AgentLegUp(leg.extension, row.ch.channel, at))
        return out

    # ---------------------------------------------------------------- introspection

    @property
    def tracked(self) -> int:
        """Attempts and agent legs still tracked (not ``__len__``: an idle tracker must stay truthy)."""
        return len(self._attempts) + len(self._legs)

    def is_empty(self) -> bool:
        """True when nothing at all is held (no attempt, leg, channel or index entry)."""
        return not (
            self._attempts
            or self._legs
            or self._by_action
            or self._by_var
            or self._by_uniqueid
            or self._by_linkedid
            or self._by_local_base
        )

    def attempt_ids(self) -> list[str]:
        return list(self._attempts)

    def agent_extensions(self) -> list[str]:
        return [leg.extension for leg in self._legs.values()]

    @property
    def channel_count(self) -> int:
        return len(self._by_uniqueid)

    # ---------------------------------------------------------------- channel matching

    def _bind(self, owner: _Owner, uid: str, name: str | None, primary: bool | None, linkedid: str | None) -> None:
        if primary is None:
            primary = name is None or not name.endswith(";2")
        self._by_uniqueid[uid] = owner
        owner.uids.add(uid)
        if primary and owner.primary is None:
            owner.primary = uid
            if name is not None:
                self._learn_name(owner, name)
                self._saw_primary(owner, uid)
            if isinstance(owner, _Attempt):
                # channels spawned from the customer channel carry its Linkedid
                owner.linkedid = linkedid or uid
                self._by_linkedid.setdefault(owner.linkedid, owner)

    @staticmethod
    def _saw_primary(owner: _Owner, uid: str) -> None:
        """Note that Asterisk showed the customer channel (a ChannelId alone may never exist)."""
        if uid == owner.primary and isinstance(owner, _Attempt):
            owner.primary_seen = True

    def _learn_name(self, owner: _Owner, name: str) -> None:
        owner.channel = name
        if name.endswith(";1"):
            base = name[:-2]
            owner.local_base = base
            self._by_local_base.setdefault(base, owner)

    def _lookup(self, ch: ami.ChannelSnapshot) -> _Owner | None:
        """The owner of ``ch``, binding it when it is the partner of a channel we track."""
        uid = ch.uniqueid
        owner = self._by_uniqueid.get(uid)
        if owner is not None:
            if owner.channel is None and uid == owner.primary:
                self._learn_name(owner, ch.channel)
            self._saw_primary(owner, uid)
            return owner
        name = ch.channel
        if name.endswith(";2"):
            owner = self._by_local_base.get(name[:-2])
            if owner is not None:
                self._bind(owner, uid, name, False, None)
                return owner
        if ch.linkedid != uid:
            attempt = self._by_linkedid.get(ch.linkedid)
            if attempt is not None:
                self._bind(attempt, uid, name, False, None)
                return attempt
        return None

    # ---------------------------------------------------------------- handlers

    def _on_newchannel(self, ev: ami.Newchannel, at: float, out: _Out) -> None:
        self._lookup(ev.ch)

    def _on_newstate(self, ev: ami.Newstate, at: float, out: _Out) -> None:
        ch = ev.ch
        owner = self._lookup(ch)
        if not isinstance(owner, _Attempt):
            return
        if ch.state == _STATE_RINGING:
            if not owner.rang and owner.answered_at is None:
                owner.rang = True
                out.append(CallRinging(owner.attempt_id, at))
        elif ch.state == _STATE_UP and ch.uniqueid == owner.primary:
            self._answered(owner, ch.channel, ch.uniqueid, at, out)

    def _on_varset(self, ev: ami.VarSet, at: float, out: _Out) -> None:
        variable = ev.variable
        if variable == CALL_VARIABLE:
            attempt = self._by_var.get(ev.value)
            if attempt is not None:
                if ev.ch.uniqueid not in self._by_uniqueid:
                    self._bind(attempt, ev.ch.uniqueid, ev.ch.channel, None, ev.ch.linkedid)
                else:
                    self._saw_primary(attempt, ev.ch.uniqueid)
            return
        if variable not in _VARS_READ:
            return
        owner = self._lookup(ev.ch)
        if not isinstance(owner, _Attempt):
            return
        if variable == _AMD_STATUS:
            owner.amd_status = ev.value
            owner.amd_reported = False
            # a person detected: owed an agent from now; anything else: nobody is owed one
            owner.window_from = at if ev.value in _AMD_LIVE else None
        elif variable == _AMD_CAUSE:
            if owner.amd_status is not None and not owner.amd_reported:
                owner.amd_reported = True
                out.append(AmdDetected(owner.attempt_id, owner.amd_status, ev.value, at))
        else:
            owner.recording_path = ev.value or None

    def _on_local_bridge(self, ev: ami.LocalBridge, at: float, out: _Out) -> None:
        one = self._by_uniqueid.get(ev.one.uniqueid)
        two = self._by_uniqueid.get(ev.two.uniqueid)
        if one is not None:
            self._saw_primary(one, ev.one.uniqueid)
        if one is not None and two is None:
            self._bind(one, ev.two.uniqueid, ev.two.channel, False, None)
        elif two is not None and one is None:
            self._bind(two, ev.one.uniqueid, ev.one.channel, None, ev.one.linkedid)

    def _on_originate_response(self, ev: ami.OriginateResponse, at: float, out: _Out) -> None:
        owner = self._by_action.pop(ev.action_id, None)
        if owner is None:
            return
        if isinstance(owner, _AgentLeg):
            if ev.success:
                if ev.uniqueid and owner.primary is None and ev.uniqueid not in self._by_uniqueid:
                    self._bind(owner, ev.uniqueid, ev.channel, True, None)
            else:
                out.append(AgentLegFailed(owner.extension, fail_reason(ev.reason), ev.reason, at))
                self._drop(owner)
            return
        assert isinstance(owner, _Attempt)
        owner.responded = True
        if ev.success:
            uid = ev.uniqueid
            if uid and uid not in self._by_uniqueid:
                self._bind(owner, uid, ev.channel, True, None)
            self._answered(owner, ev.channel, uid or owner.primary or "", at, out)
            if owner.early_hangup is not None:
                self._finish(owner, *owner.early_hangup, out)
        elif owner.answered_at is None:
            if ev.reason == _REASON_AMBIGUOUS and owner.primary_seen and owner.early_hangup is None:
                # the cause that says what Reason 0 means comes with the channel's Hangup
                owner.failed_at = at
            else:
                self._fail(owner, ev.reason, at, out)
        elif owner.early_hangup is not None:
            # answered (Newstate Up) yet reported as failed: the hangup already seen ends it
            self._finish(owner, *owner.early_hangup, out)

    def _on_confbridge_join(self, ev: ami.ConfbridgeJoin, at: float, out: _Out) -> None:
        owner = self._lookup(ev.ch)
        if owner is None:
            return
        if isinstance(owner, _AgentLeg):
            if not owner.up:
                owner.up = True
                out.append(AgentLegUp(owner.extension, ev.ch.channel, at))
            return
        assert isinstance(owner, _Attempt)
        if ev.conference.startswith(AGENT_CONFERENCE_PREFIX):
            self._connected(owner, ev.ch, ev.conference, at, out)

    def _on_mixmonitor_start(self, ev: ami.MixMonitorStart, at: float, out: _Out) -> None:
        owner = self._lookup(ev.ch)
        if isinstance(owner, _Attempt):
            out.append(RecordingStarted(owner.attempt_id, at, owner.recording_path))

    def _on_hangup_request(self, ev: ami.HangupRequest, at: float, out: _Out) -> None:
        owner = self._lookup(ev.ch)
        if isinstance(owner, _Attempt):
            self._note_cause(owner, ev.cause)

    def _on_hangup(self, ev: ami.Hangup, at: float, out: _Out) -> None:
        uid = ev.ch.uniqueid
        owner = self._by_uniqueid.pop(uid, None)
        if owner is None:
            return
        owner.uids.discard(uid)
        if isinstance(owner, _Attempt):
            self._note_cause(owner, ev.cause)
        if uid != owner.primary:
            return  # the far half of a Local channel, or a linked channel: the customer channel decides
        if isinstance(owner, _AgentLeg):
            out.append(AgentLegDown(owner.extension, at, ev.cause, ev.cause_txt))
            self._drop(owner)
            return
        assert isinstance(owner, _Attempt)
        if owner.answered_at is not None:
            self._finish(owner, at, ev.cause, ev.cause_txt, out)
        elif owner.failed_at is not None:
            self._fail(owner, _REASON_AMBIGUOUS, at, out)
        elif owner.responded:
            self._drop(owner)  # unreachable in practice: a response either answered or dropped it
        else:
            # OriginateResponse (Failure, with the reason) comes after the hangup: wait for it
            owner.early_hangup = (at, ev.cause, ev.cause_txt)

    # ---------------------------------------------------------------- transitions

    @staticmethod
    def _note_cause(attempt: _Attempt, cause: int) -> None:
        # 0 is "no cause" (a Local half torn down by its partner), never an outcome
        if cause > 0:
            attempt.cause = cause

    def _fail(self, attempt: _Attempt, originate_reason: int, at: float, out: _Out) -> None:
        """End an unanswered attempt; the cause seen so far settles an ambiguous Reason."""
        reason = fail_reason(originate_reason, attempt.cause)
        out.append(CallFailed(attempt.attempt_id, reason, originate_reason, at, attempt.cause))
        self._drop(attempt)

    def _answered(self, attempt: _Attempt, channel: str, uid: str, at: float, out: _Out) -> None:
        if attempt.failed_at is not None:
            return  # reported as failed: a late state of the dying channel is no answer
        if attempt.answered_at is None:
            attempt.answered_at = at
            # without AMD the person is there from the answer; with AMD only once it says so
            if not attempt.amd and attempt.amd_status is None:
                attempt.window_from = at
            out.append(CallAnswered(attempt.attempt_id, channel, uid, at))

    def _connected(
        self, attempt: _Attempt, ch: ami.ChannelSnapshot, conference: str, at: float, out: _Out
    ) -> None:
        if attempt.connected_at is not None:
            return
        # a connect implies an answer, even if we never saw one (preview calls, reconnects)
        self._answered(attempt, ch.channel, ch.uniqueid, at, out)
        attempt.connected_at = at
        answered_at = attempt.answered_at if attempt.answered_at is not None else at
        extension = conference[len(AGENT_CONFERENCE_PREFIX) :]
        out.append(CallConnected(attempt.attempt_id, extension, conference, at, at - answered_at))

    def _finish(
        self, attempt: _Attempt, at: float, cause: int, cause_txt: str, out: _Out, judge_abandon: bool = True
    ) -> None:
        """End an answered attempt: the AMD verdict still pending, the abandon verdict, CallEnded."""
        answered_at = attempt.answered_at if attempt.answered_at is not None else at
        if attempt.amd_status is not None and not attempt.amd_reported:
            attempt.amd_reported = True
            out.append(AmdDetected(attempt.attempt_id, attempt.amd_status, "", at))
        connected = attempt.connected_at is not None
        window_from = attempt.window_from  # None: no live person was ever owed an agent
        abandoned = (
            judge_abandon
            and not connected
            and window_from is not None
            and attempt.amd_status != AMD_MACHINE
            and at - window_from >= self.connect_window_s - self.window_tolerance_s
        )
        if abandoned:
            out.append(CallAbandoned(attempt.attempt_id, at, at - answered_at))
        # max(): with a hangup seen before the OriginateResponse that reported the answer,
        # the answer time we hold is later than the end
        talk_s = max(0.0, at - attempt.connected_at) if attempt.connected_at is not None else 0.0
        out.append(
            CallEnded(
                attempt_id=attempt.attempt_id,
                cause=cause,
                cause_txt=cause_txt,
                at=at,
                answered=attempt.answered_at is not None,
                connected=connected,
                abandoned=abandoned,
                duration_s=max(0.0, at - answered_at),
                talk_s=talk_s,
            )
        )
        self._drop(attempt)

    def _drop(self, owner: _Owner) -> None:
        """Forget ``owner`` and every index entry that points at it."""
        if isinstance(owner, _Attempt):
            self._attempts.pop(owner.attempt_id, None)
            if self._by_var.get(owner.call_var) is owner:
                del self._by_var[owner.call_var]
            if owner.linkedid is not None and self._by_linkedid.get(owner.linkedid) is owner:
                del self._by_linkedid[owner.linkedid]
        else:
            self._legs.pop(owner.action_id, None)
        if self._by_action.get(owner.action_id) is owner:
            del self._by_action[owner.action_id]
        for uid in owner.uids:
            if self._by_uniqueid.get(uid) is owner:
                del self._by_uniqueid[uid]
        owner.uids.clear()
        if owner.local_base is not None and self._by_local_base.get(owner.local_base) is owner:
            del self._by_local_base[owner.local_base]


def _conference_of(row: ami.CoreShowChannel) -> str | None:
    """The agent conference a listed channel sits in (``ConfBridge`` with data ``agent<ext>[,…]``)."""
    if row.application != "ConfBridge":
        return None
    conference = row.application_data.split(",", 1)[0]
    return conference if conference.startswith(AGENT_CONFERENCE_PREFIX) else None
