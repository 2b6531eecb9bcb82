"""The simulated PBX: channels, Local channel pairs, dialplan, conferences, driven by one
timer queue. Pure: it takes AMI actions as :class:`Message` and hands back responses and
events as :class:`Message`; sockets live in :mod:`dialer.simulator.server`.

What it emits follows the transcripts recorded from Asterisk 22 (``tests/fixtures/ami-traces``):
the same event names, keys in the same order, the same response messages. Where Asterisk
races (its stasis topics deliver, say, ``ConfbridgeJoin`` before or after the ``Newexten``
of the same channel), the simulator picks one of the recorded orders.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from dialer.ami.wire import Message
from dialer.simulator.actions import PbxActions
from dialer.simulator.channels import (
    BUSY,
    DOWN,
    RING,
    RINGING,
    UNKNOWN,
    UP,
    Channel,
    IdAllocator,
    cause_text,
)
from dialer.simulator.customers import CustomerModel, LastDigitCustomers
from dialer.simulator.dialplan import (
    CUSTOMER_CONTEXT,
    RECORDED_AGENT_PHONE_S,
    Dialplan,
    Step,
    pattern_matches,
)
from dialer.simulator.recordings import FinishedRecording
from dialer.simulator.requests import (  # noqa: F401 - re-exported: the server and tests import them here
    PBX_ACTIONS,
    Conference,
    Headers,
    OriginateRequest,
    Sink,
    ast_true,
    error,
    response,
    split_variables,
)
from dialer.simulator.timers import TimerQueue

CALL = "call,all"
DIALPLAN = "dialplan,all"

NEXT = object()  # the step finished: go on with the next priority
BLOCK = object()  # the step waits (timer, bridge, hangup): something resumes it later

# Originate failure reasons (Asterisk's AST_CONTROL_* codes as OriginateResponse reports them)
REASON_UNAVAILABLE, REASON_HANGUP, REASON_NO_ANSWER, REASON_ANSWERED, REASON_BUSY, REASON_CONGESTION = 0, 1, 3, 4, 5, 8

class Pbx(PbxActions):
    """The simulated Asterisk behind the AMI server (see module docstring)."""

    def __init__(
        self,
        customers: CustomerModel | None = None,
        *,
        timers: TimerQueue | None = None,
        wall_clock: Callable[[], float] = time.time,
        connect_window_s: float | None = None,
    ) -> None:
        self.timers = timers if timers is not None else TimerQueue()
        self.customers: CustomerModel = customers if customers is not None else LastDigitCustomers()
        window = connect_window_s or getattr(self.customers, "connect_window_s", None) or 3.0
        agent_phone_s = getattr(self.customers, "agent_phone_s", None) or RECORDED_AGENT_PHONE_S
        self.dialplan = Dialplan(window, agent_phone_s)
        self.ids = IdAllocator(wall_clock)
        self.channels: dict[str, Channel] = {}  # live channels by name, in creation order
        self.conferences: dict[str, Conference] = {}
        self.listeners: list[Sink] = []
        self.originates = 0
        # told of each MixMonitor recording as its channel goes (the server writes the WAV)
        self.on_recording: Callable[[FinishedRecording], None] | None = None

    # ---- event plumbing -------------------------------------------------------------

    def add_listener(self, sink: Sink) -> None:
        self.listeners.append(sink)

    def remove_listener(self, sink: Sink) -> None:
        if sink in self.listeners:
            self.listeners.remove(sink)

    def _emit(self, name: str, privilege: str, headers: Headers) -> None:
        msg = Message((("Event", name), ("Privilege", privilege), *headers))
        for sink in list(self.listeners):
            sink(msg)

    def _chan_event(self, name: str, ch: Channel, extra: Headers | None = None, privilege: str = CALL) -> None:
        self._emit(name, privilege, ch.snapshot() + (extra or []))

    def _varset(self, ch: Channel, name: str, value: str) -> None:
        ch.variables[name] = value
        self._chan_event("VarSet", ch, [("Variable", name), ("Value", value)], DIALPLAN)

    def _device_state(self, device: str, state: str) -> None:
        self._emit("DeviceStateChange", CALL, [("Device", device), ("State", state)])

    def _defer(self, fn: Callable[[], None]) -> None:
        self.timers.call_later(0.0, fn)

    # ---- actions ----------------------------------------------------------------------

    def _originate_failed(self, req: OriginateRequest, reason: int) -> None:
        if req.is_async:
            name, num = req.caller or (UNKNOWN, UNKNOWN)
            target = ([("Application", req.application), ("Data", req.data)] if req.application
                      else [("Context", req.context), ("Exten", req.exten)])
            self._emit("OriginateResponse", CALL, [
                *([("ActionID", req.action_id)] if req.action_id is not None else []),
                ("Response", "Failure"), ("Channel", req.channel), *target, ("Reason", str(reason)),
                ("Uniqueid", UNKNOWN), ("CallerIDNum", num), ("CallerIDName", name),
            ])
        else:
            req.reply(error(req.action, "Originate failed"))

    def _originate_succeeded(self, req: OriginateRequest, one: Channel) -> None:
        if req.is_async:
            target = ([("Application", req.application), ("Data", req.data)] if req.application
                      else [("Context", req.context), ("Exten", req.exten)])
            self._emit("OriginateResponse", CALL, [
                *([("ActionID", req.action_id)] if req.action_id is not None else []),
                ("Response", "Success"), ("Channel", one.name), *target, ("Reason", str(REASON_ANSWERED)),
                ("Uniqueid", one.uniqueid), ("CallerIDNum", one.caller_num), ("CallerIDName", one.caller_name),
            ])
        else:
            req.reply(response(req.action, "Success", message="Originate successfully queued"))

    def _start_dial(self, req: OriginateRequest) -> None:
        tech, _, rest = req.channel.partition("/")
        if tech.lower() != "local" or "@" not in rest:
            # Only Local channels exist here: anything else is "channel unavailable"
            self._originate_failed(req, REASON_UNAVAILABLE)
            return
        exten, _, ctx = rest.partition("@")
        ctx, _, opts = ctx.partition("/")
        seq = self.ids.channel_seq()
        base = f"Local/{exten}@{ctx}-{seq}"
        u1 = req.channel_id or self.ids.uniqueid()
        u2 = req.other_channel_id or (f"{req.channel_id};2" if req.channel_id else self.ids.uniqueid())
        now = self.timers.now
        one = Channel(base + ";1", u1, u1, ctx, exten, now, state=DOWN)
        two = Channel(base + ";2", u2, u1, ctx, exten, now, state=RING)
        one.peer, two.peer = two, one
        self.channels[one.name] = one
        self.channels[two.name] = two
        self._chan_event("Newchannel", one)
        self._chan_event("Newchannel", two)
        one.app, one.app_data = "AppDial2", "(Outgoing Line)"
        self._chan_event("Newexten", one, [("Extension", exten), ("Application", "AppDial2"),
                                           ("AppData", "(Outgoing Line)")], DIALPLAN)
        if ctx == CUSTOMER_CONTEXT:
            valid = pattern_matches("_X.", exten)
            if valid:
                two.plan = self.customers.plan(exten, now)
        else:
            valid = self.dialplan.lookup(ctx, exten) is not None
        if not valid:
            self._drop(two, 0)
            self._originate_failed(req, REASON_UNAVAILABLE)
            self._drop(one, 0)
            self._device_state(one.device, "INVALID")
            self._device_state(one.device, "INVALID")
            return
        for k, v in req.variables:
            self._varset(one, k, v)
        if req.caller is not None:
            one.caller_name, one.caller_num = req.caller
            self._chan_event("NewCallerid", one, [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")])
            one.connected_name, one.connected_num = req.caller
            self._chan_event("NewConnectedLine", one)
        for k, v in req.variables:
            self._varset(two, k, v)
        if req.caller is not None:
            two.caller_name, two.caller_num = req.caller
            two.connected_name, two.connected_num = req.caller
            self._chan_event("NewCallerid", two, [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")])
            self._chan_event("NewConnectedLine", two)
        self._emit("LocalBridge", CALL, one.snapshot("LocalOne") + two.snapshot("LocalTwo") + [
            ("Context", ctx), ("Exten", exten), ("LocalOptimization", "No" if "n" in opts else "Yes")])
        self._dest_event("DialBegin", one, ("DialString", f"{exten}@{ctx}"))
        one.dial = req
        req.timer = self.timers.call_later(req.timeout_s, lambda: self._dial_timeout(one))
        self._goto(two, ctx, exten, 1)

    def _dest_event(self, name: str, one: Channel, extra: tuple[str, str]) -> None:
        self._emit(name, CALL, one.snapshot("Dest") + [extra])

    def _dial_timeout(self, one: Channel) -> None:
        req, two = one.dial, one.peer
        if req is None or two is None or not one.alive:
            return
        one.dial = None
        self._chan_event("HangupRequest", two, [("Cause", "19")])
        self._originate_failed(req, REASON_NO_ANSWER)
        self._chan_event("SoftHangupRequest", two, [("Cause", "16")])
        self._drop(one, 19)
        self._drop(two, 19)
        self._device_state(one.device, "NOT_INUSE")
        self._device_state(one.device, "NOT_INUSE")

    def _dial_failed(self, one: Channel, status: str, reason: int, cause: int) -> None:
        """The customer half signalled busy/congestion: the dial ends and both halves go."""
        req, two = one.dial, one.peer
        if req is None or two is None:
            return
        one.dial = None
        req.timer.cancel()
        self._dest_event("DialEnd", one, ("DialStatus", status))
        self._chan_event("HangupRequest", two, [("Cause", "0")])
        self._chan_event("SoftHangupRequest", two, [("Cause", "16")])
        self._drop(two, cause)
        self._drop(one, 0)
        self._originate_failed(req, reason)
        self._device_state(one.device, "INUSE")
        self._device_state(one.device, "NOT_INUSE")
        self._device_state(one.device, "NOT_INUSE")

    def _far_end_hung_up(self, two: Channel, one: Channel, req: OriginateRequest, cause: int) -> None:
        """The customer half hangs up while still ringing, before the Originate timeout.

        As recorded in ``no_answer_far_end.ami`` (cause 19): Asterisk reports this as
        ``Reason 0``, with the cause only in the ``HangupRequest`` before the response and
        the ``Hangup`` events after it, and ``DialEnd`` between the two Hangups.
        """
        one.dial = None
        req.timer.cancel()  # type: ignore[attr-defined]
        self._release(two)
        two.hangup_cause = cause
        self._chan_event("SoftHangupRequest", two, [("Cause", "16")])
        self._chan_event("HangupRequest", one, [("Cause", str(cause))])
        self._originate_failed(req, REASON_UNAVAILABLE)
        self._drop(two, cause)
        # the recording shows NOANSWER (for cause 19), the only far-end hang-up it holds
        self._dest_event("DialEnd", one, ("DialStatus", "NOANSWER"))
        self._device_state(one.device, "NOT_INUSE")
        self._drop(one, cause)
        self._device_state(one.device, "NOT_INUSE")

    def _dial_answered(self, two: Channel) -> None:
        one = two.peer
        req = one.dial if one is not None else None
        if one is None or req is None:
            return
        one.dial = None
        req.timer.cancel()
        one.state = UP
        one.answered_at = self.timers.now
        self._chan_event("Newstate", one)
        self._dest_event("DialEnd", one, ("DialStatus", "ANSWER"))
        self._originate_succeeded(req, one)
        if req.application:
            self._defer(lambda: self._run_application(one, req.application or "", req.data))
        else:
            self._defer(lambda: self._goto(one, req.context, req.exten, req.priority))
        def in_use() -> None:
            self._device_state(one.device, "INUSE")
            self._device_state(one.device, "INUSE")

        self._defer(in_use)

    # ---- dialplan -------------------------------------------------------------------

    def _steps_for(self, ch: Channel) -> list[Step] | tuple[Step, ...] | None:
        if ch.context == CUSTOMER_CONTEXT:
            return ch.plan.steps if ch.plan is not None and pattern_matches("_X.", ch.exten) else None
        return self.dialplan.lookup(ch.context, ch.exten)

    def _goto(self, ch: Channel, context: str, exten: str, priority: int) -> None:
        if not ch.alive:
            return
        ch.context, ch.exten, ch.priority = context, exten, priority
        ch.in_dialplan = True
        self._run(ch)

    def _run(self, ch: Channel) -> None:
        while ch.alive:
            steps = self._steps_for(ch)
            if steps is None or not 1 <= ch.priority <= len(steps):
                self._hangup(ch, 16 if steps else 0)
                return
            step = steps[ch.priority - 1]
            data = step.render(ch).rstrip()  # Asterisk reports "answered ", say, as "answered"
            ch.app, ch.app_data = step.app, data
            self._chan_event("Newexten", ch, [("Extension", ch.exten), ("Application", step.app),
                                              ("AppData", data)], DIALPLAN)
            outcome = self._exec(ch, step.app, data, steps)
            if outcome is BLOCK:
                return
            if isinstance(outcome, int):
                ch.priority = outcome
            else:
                ch.priority += 1

    def _resume(self, ch: Channel) -> None:
        ch.timer = None
        if not ch.alive:
            return
        if not ch.in_dialplan:  # an originated application finished: the channel goes
            self._hangup(ch, 16)
            return
        ch.priority += 1
        self._run(ch)

    def _wait(self, ch: Channel, seconds: float) -> object:
        ch.timer = self.timers.call_later(seconds, lambda: self._resume(ch))
        return BLOCK

    def _exec(self, ch: Channel, app: str, data: str, steps: list[Step] | tuple[Step, ...]) -> object:
        """Run one application; NEXT, BLOCK, or the priority to jump to."""
        name = app.lower()
        if name == "noop":
            return NEXT
        if name == "set":
            var_name, sep, value = data.partition("=")
            if sep and "(" not in var_name:  # functions like CDR_PROP() raise no VarSet
                self._varset(ch, var_name.strip(), value)
            return NEXT
        if name == "gotoif":
            cond, _, labels = data.partition("?")
            if_true, _, if_false = labels.partition(":")
            label = if_true if cond.strip() not in ("", "0") else if_false
            if not label:
                return NEXT
            for i, step in enumerate(steps, start=1):
                if step.label == label:
                    return i
            self._hangup(ch, 0)
            return BLOCK
        if name == "goto":
            parts = [p.strip() for p in data.split(",")]
            if len(parts) == 3 and parts[2].isdigit():
                ch.context, ch.exten, ch.priority = parts[0], parts[1], int(parts[2])
                self._defer(lambda: self._run(ch))
                return BLOCK
            self._hangup(ch, 0)
            return BLOCK
        if name == "ringing":
            self._ringing(ch)
            return NEXT
        if name == "wait":
            try:
                seconds = float(data or 0)
            except ValueError:
                seconds = 0.0
            return self._wait(ch, seconds)
        if name == "answer":
            if ch.state == UP:
                return NEXT
            self._answer(ch)
            # Answer() then waits up to 500 ms for the first voice frame; one comes at once
            # when the other side is already bridged (an agent phone), else it times out.
            ch.timer = self.timers.call_later(0.02, lambda: self._answer_settle(ch))
            return BLOCK
        if name == "hangup":
            cause = int(data) if data.strip().isdigit() else 16
            self._hangup(ch, cause)
            return BLOCK
        if name in ("busy", "congestion"):
            ch.state = BUSY
            ch.hangup_cause = 17 if name == "busy" else 34
            self._chan_event("Newstate", ch)
            one = ch.peer
            if one is not None and one.dial is not None:
                if name == "busy":
                    self._dial_failed(one, "BUSY", REASON_BUSY, 17)
                else:
                    self._dial_failed(one, "CONGESTION", REASON_CONGESTION, 34)
                return BLOCK
            return self._wait(ch, float(data or 0) if data.replace(".", "", 1).isdigit() else 0.0)
        if name == "confbridge":
            self._join_conference(ch, data)
            return BLOCK
        if name == "amd":
            self._amd(ch)
            return BLOCK
        if name == "chanspy":
            self._chanspy(ch, data)
            return BLOCK
        # An application the simulator does not know: Asterisk would fail it and hang up
        self._hangup(ch, 0)
        return BLOCK

    def _run_application(self, one: Channel, app: str, data: str) -> None:
        """An Originate with Application=: the ;1 half runs it outside the dialplan."""
        if not one.alive:
            return
        one.in_dialplan = False
        one.app, one.app_data = app, data
        outcome = self._exec(one, app, data, ())
        if outcome is not BLOCK:
            self._hangup(one, 16)

    def _ringing(self, two: Channel) -> None:
        one = two.peer
        if one is None or one.dial is None or one.state == RINGING:
            return
        one.state = RINGING
        self._chan_event("Newstate", one)

        def dial_state() -> None:
            if one.alive and one.dial is not None:
                self._dest_event("DialState", one, ("DialStatus", "RINGING"))
                self._device_state(one.device, "INUSE")

        self._defer(dial_state)

    def _answer(self, ch: Channel) -> None:
        ch.state = UP
        ch.answered_at = self.timers.now
        self._chan_event("Newstate", ch)
        if ch.peer is not None and ch.peer.dial is not None:
            self._dial_answered(ch)

    def _answer_settle(self, ch: Channel) -> None:
        peer = ch.peer
        if peer is not None and (peer.conference is not None or peer.spying_on is not None):
            self._resume(ch)
        else:
            ch.timer = self.timers.call_later(0.48, lambda: self._resume(ch))

    def _redirect(self, ch: Channel, context: str, exten: str, priority: int) -> None:
        if not ch.alive:
            return
        ch.cancel_timer()
        if ch.conference is not None:
            self._leave_conference(ch, result=None)
        ch.on_hangup.clear()
        self._goto(ch, context, exten, priority)

    # ---- hangup ---------------------------------------------------------------------

    def _drop(self, ch: Channel, cause: int) -> None:
        """Emit ``Hangup`` for ``ch`` and forget it (no propagation)."""
        if not ch.alive:
            return
        ch.alive = False
        ch.cancel_timer()
        if ch.recording is not None:
            finished, ch.recording = ch.recording.finish(self.timers.now), None
            if self.on_recording is not None:
                self.on_recording(finished)  # the file is complete before anyone hears of the hang-up
        self._chan_event("Hangup", ch, [("Cause", str(cause)), ("Cause-txt", cause_text(cause))])
        self.channels.pop(ch.name, None)

    def _release(self, ch: Channel) -> None:
        """What the channel's running application does as the channel goes (leave bridge, AMD...)."""
        ch.cancel_timer()
        hooks, ch.on_hangup = ch.on_hangup, []
        for hook in hooks:
            hook()

    def _hangup(self, ch: Channel, cause: int) -> None:
        """``ch`` hangs up (its dialplan ran Hangup, or a Hangup action); its Local peer follows."""
        if not ch.alive:
            return
        peer = ch.peer if ch.peer is not None and ch.peer.alive else None
        # Still dialling: the originate fails ("hung up" before answer)
        dialling = ch.dial if ch.dial is not None else (peer.dial if peer is not None else None)
        if dialling is not None and ch.dial is None and peer is not None:
            self._far_end_hung_up(ch, peer, dialling, cause)
            return
        if dialling is not None:
            one = ch if ch.dial is not None else peer
            assert one is not None
            one.dial = None
            dialling.timer.cancel()
            self._chan_event("SoftHangupRequest", ch, [("Cause", "16")])
            if peer is not None:
                self._chan_event("HangupRequest", peer, [("Cause", str(cause))])
            self._drop(ch, cause)
            if peer is not None:
                self._drop(peer, cause)
            self._originate_failed(dialling, REASON_HANGUP)
            self._device_state(one.device, "NOT_INUSE")
            self._device_state(one.device, "NOT_INUSE")
            return
        if cause == 0 and ch.in_dialplan:
            cause = 16  # the PBX loop ends a dialplan channel with Normal Clearing
        self._release(ch)
        ch.hangup_cause = cause
        self._chan_event("SoftHangupRequest", ch, [("Cause", "16")])
        if peer is not None:
            self._chan_event("HangupRequest", peer, [("Cause", str(cause))])
        self._drop(ch, cause)
        if peer is not None:
            self._release(peer)
            self._chan_event("SoftHangupRequest", peer, [("Cause", "16")])
            self._drop(peer, cause)
        if ch.name.startswith("Local/"):
            self._device_state(ch.device, "NOT_INUSE")
            if peer is not None:
                self._device_state(peer.device, "NOT_INUSE")

    # ---- conferences ----------------------------------------------------------------

    def _join_conference(self, ch: Channel, name: str) -> None:
        conf = self.conferences.get(name)
        if conf is None:
            # ConfBridge's announcer channel (CBAnn) takes a channel number and two uniqueids
            seq = self.ids.channel_seq()
            self.ids.uniqueid()
            self.ids.uniqueid()
            conf = Conference(name, str(uuid.uuid4()), f"CBAnn/{name}-{seq};2")
            self.conferences[name] = conf
            self._emit("BridgeCreate", CALL, conf.bridge_headers(0))
            self._device_state(f"confbridge:{name}", "INUSE")
            self._emit("ConfbridgeStart", CALL, [("Conference", name)] + conf.bridge_headers(1))
        conf.members.append(ch)
        ch.conference = conf
        count = len(conf.members) + 1  # + the announcer
        self._emit("BridgeEnter", CALL, conf.bridge_headers(count) + ch.snapshot())
        for other in conf.members:
            if other is not ch:
                self._varset(other, "BRIDGEPEER", conf.peers_of(other))
        self._varset(ch, "BRIDGEPEER", conf.peers_of(ch))
        self._emit("ConfbridgeJoin", CALL, [("Conference", name)] + conf.bridge_headers(count) + ch.snapshot()
                   + [("Admin", "No"), ("Muted", "No")])
        ch.on_hangup.append(lambda: self._leave_conference(ch, result="HANGUP"))
        customer = ch.peer
        if customer is not None and customer.plan is not None and customer.plan.talk_s is not None:
            talk = customer.plan.talk_s
            self.timers.call_later(talk, lambda: self._customer_says_bye(customer))

    def _leave_conference(self, ch: Channel, result: str | None) -> None:
        conf = ch.conference
        if conf is None or ch not in conf.members:
            return
        before = len(conf.members) + 1
        self._varset(ch, "BRIDGEPEER", "")
        self._emit("ConfbridgeLeave", CALL, [("Conference", conf.name)] + conf.bridge_headers(before)
                   + ch.snapshot() + [("Admin", "No")])
        conf.members.remove(ch)
        ch.conference = None
        self._emit("BridgeLeave", CALL, conf.bridge_headers(before - 1) + ch.snapshot())
        for other in conf.members:
            self._varset(other, "BRIDGEPEER", conf.peers_of(other))
        if result is not None:
            self._varset(ch, "CONFBRIDGE_RESULT", result)
        if not conf.members:
            self._device_state(f"confbridge:{conf.name}", "NOT_INUSE")
            self._emit("ConfbridgeEnd", CALL, [("Conference", conf.name)] + conf.bridge_headers(1))
            self._emit("BridgeDestroy", CALL, conf.bridge_headers(0))
            self._device_state(conf.announcer.rsplit("-", 1)[0], "UNKNOWN")
            del self.conferences[conf.name]

    def _customer_says_bye(self, two: Channel) -> None:
        """A live scenario customer ends the conversation: jump to its ``bye`` Hangup."""
        if not two.alive or two.plan is None:
            return
        for i, step in enumerate(two.plan.steps, start=1):
            if step.label == "bye":
                two.cancel_timer()
                two.priority = i
                self._run(two)
                return

    # ---- AMD and ChanSpy --------------------------------------------------------------

    def _amd(self, ch: Channel) -> None:
        customer = ch.peer
        verdict = customer.plan.amd if customer is not None and customer.plan is not None else None

        def on_hangup() -> None:
            self._varset(ch, "AMDSTATUS", "HANGUP")
            self._varset(ch, "AMDCAUSE", "")

        ch.on_hangup.append(on_hangup)
        if verdict is None:
            return  # silence: AMD() is still listening when the call ends

        def decided() -> None:
            ch.timer = None
            if not ch.alive:
                return
            if on_hangup in ch.on_hangup:
                ch.on_hangup.remove(on_hangup)
            self._varset(ch, "AMDSTATUS", verdict.status)
            self._varset(ch, "AMDCAUSE", verdict.cause)
            self._resume(ch)

        ch.timer = self.timers.call_later(verdict.after_s, decided)

    def _chanspy(self, spyer: Channel, data: str) -> None:
        prefix, _, options = data.partition(",")

        def start() -> None:
            if not spyer.alive:
                return
            own = {spyer.name, spyer.peer.name if spyer.peer else ""}
            targets = [c for c in self.channels.values()
                       if c.name not in own and (not prefix or c.name.startswith(prefix))]
            if not targets:
                return  # nothing to spy on: ChanSpy keeps waiting
            spyee = targets[-1]
            spyer.spying_on = spyee
            spyee.spied_by.append(spyer)
            self._emit("ChanSpyStart", CALL, spyer.snapshot("Spyer") + spyee.snapshot("Spyee"))

            def stop() -> None:
                if spyer.spying_on is spyee:
                    spyer.spying_on = None
                    self._emit("ChanSpyStop", CALL, spyer.snapshot("Spyer") + spyee.snapshot("Spyee"))

            spyer.on_hangup.append(stop)

            def spyee_gone() -> None:
                stop()
                if "E" in options and spyer.alive:
                    self._defer(lambda: self._hangup(spyer, 16))

            spyee.on_hangup.append(spyee_gone)

        spyer.timer = self.timers.call_later(0.1, start)
