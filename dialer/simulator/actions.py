"""The simulated PBX's AMI actions: Originate, Redirect, Hangup, CoreShowChannels, ConfbridgeList, MixMonitor,
MixMonitorMute.

A mixin of :class:`~dialer.simulator.pbx.Pbx`: each action checks its headers as Asterisk 22
does (the same responses and messages as the recorded traces) and hands the work to the
PBX's channel model.
"""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING

from dialer.ami.wire import Message
from dialer.simulator.channels import Channel, parse_caller_id
from dialer.simulator.recordings import SimRecording
from dialer.simulator.requests import (
    PBX_ACTIONS,
    Conference,
    OriginateRequest,
    Sink,
    _aid,
    _duration,
    ast_true,
    error,
    response,
    split_variables,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from dialer.simulator.timers import TimerQueue


class PbxActions:
    """The AMI actions the simulated PBX answers (mixed into ``Pbx``, which owns the state below)."""

    if TYPE_CHECKING:
        channels: dict[str, Channel]
        conferences: dict[str, Conference]
        timers: TimerQueue
        originates: int

        def _defer(self, fn: Callable[[], None]) -> None: ...
        def _varset(self, ch: Channel, name: str, value: str) -> None: ...
        def _start_dial(self, req: OriginateRequest) -> None: ...
        def _redirect(self, ch: Channel, context: str, exten: str, priority: int) -> None: ...
        def _hangup(self, ch: Channel, cause: int) -> None: ...
        def _chan_event(self, name: str, ch: Channel, extra: list[tuple[str, str]] | None = None, privilege: str = ...) -> None: ...

    def handles(self, action_name: str) -> bool:
        return action_name.lower() in PBX_ACTIONS

    def handle(self, action: Message, reply: Sink) -> None:
        """Run one AMI action; its response (and list events) go to ``reply``."""
        name = (action.get("Action") or "").lower()
        getattr(self, f"_action_{name}")(action, reply)

    def _action_originate(self, a: Message, reply: Sink) -> None:
        channel = a.get("Channel")
        if not channel:
            reply(error(a, "Channel not specified"))
            return
        timeout = a.get("Timeout")
        if timeout and not timeout.strip().isdigit():
            reply(error(a, "Invalid timeout"))
            return
        priority = a.get("Priority") or "1"
        if not priority.strip().isdigit():
            reply(error(a, "Invalid priority"))
            return
        cid = a.get("CallerID")
        req = OriginateRequest(
            action_id=a.action_id,
            channel=channel,
            context=a.get("Context") or "default",
            exten=a.get("Exten") or "s",
            priority=int(priority),
            application=a.get("Application") or None,
            data=a.get("Data") or "",
            timeout_s=int(timeout) / 1000.0 if timeout else 30.0,
            variables=split_variables(a.get_all("Variable")),
            caller=parse_caller_id(cid) if cid else None,
            channel_id=a.get("ChannelId") or None,
            other_channel_id=a.get("OtherChannelId") or None,
            is_async=ast_true(a.get("Async")),
            reply=reply,
            action=a,
        )
        self.originates += 1
        if req.is_async:
            reply(response(a, "Success", message="Originate successfully queued"))
        self._defer(lambda: self._start_dial(req))

    def _action_redirect(self, a: Message, reply: Sink) -> None:
        name = a.get("Channel")
        if not name:
            reply(error(a, "Channel not specified"))
            return
        ch = self.channels.get(name)
        if ch is None:
            reply(error(a, f"Channel does not exist: {name}"))
            return
        priority = a.get("Priority") or "1"
        if not priority.strip().isdigit():
            reply(error(a, "Invalid priority"))
            return
        reply(response(a, "Success", message="Redirect successful"))
        context = a.get("Context") or ch.context
        exten = a.get("Exten") or ch.exten
        self._defer(lambda: self._redirect(ch, context, exten, int(priority)))

    def _action_hangup(self, a: Message, reply: Sink) -> None:
        target = a.get("Channel")
        if not target:
            reply(error(a, "No channel specified"))
            return
        # No (or an invalid) Cause hangs up with cause 0, which the dialplan turns into 16
        # ("Normal Clearing") and an originated application leaves at 0 (see _hangup).
        cause = 0
        raw_cause = (a.get("Cause") or "").strip()
        if raw_cause.isdigit() and 0 < int(raw_cause) <= 127:
            cause = int(raw_cause)
        if len(target) > 1 and target.startswith("/") and target.endswith("/"):
            try:
                rx = re.compile(target[1:-1])
            except re.error:
                reply(error(a, f"Regex compile failed on: {target[1:-1]}"))
                return
            victims = [ch for ch in self.channels.values() if rx.search(ch.name)]
            reply(response(a, "Success", ("EventList", "start"), message="Channels hung up will follow"))
            for ch in victims:
                reply(Message((("Event", "ChannelHungup"), ("Channel", ch.name), *_aid(a))))
            reply(Message((("Event", "ChannelsHungupListComplete"), *_aid(a), ("EventList", "Complete"),
                           ("ListItems", str(len(victims))))))
        else:
            found = self.channels.get(target)
            if found is None:
                reply(error(a, "No such channel"))
                return
            victims = [found]
            reply(response(a, "Success", message="Channel Hungup"))
        for victim in victims:
            self._defer(partial(self._hangup, victim, cause))

    def _action_coreshowchannels(self, a: Message, reply: Sink) -> None:
        reply(response(a, "Success", ("EventList", "start"), message="Channels will follow"))
        chans = list(self.channels.values())
        for ch in chans:
            reply(Message((
                ("Event", "CoreShowChannel"), *_aid(a), *ch.snapshot(),
                ("Application", ch.app), ("ApplicationData", ch.app_data),
                ("Duration", _duration(self.timers.now - ch.created_at)),
                ("BridgeId", ch.conference.bridge_id if ch.conference else ""),
            )))
        reply(Message((("Event", "CoreShowChannelsComplete"), *_aid(a), ("EventList", "Complete"),
                       ("ListItems", str(len(chans))))))

    def _action_confbridgelist(self, a: Message, reply: Sink) -> None:
        name = a.get("Conference")
        if not name:
            reply(error(a, "No Conference name provided."))
            return
        if not self.conferences:
            reply(error(a, "No active conferences."))
            return
        conf = self.conferences.get(name)
        if conf is None:
            reply(error(a, "No Conference by that name found."))
            return
        reply(response(a, "Success", ("EventList", "start"), message="Confbridge user list will follow"))
        for ch in conf.members:
            answered = self.timers.now - (ch.answered_at if ch.answered_at is not None else ch.created_at)
            flags = [(k, "No") for k in ("Admin", "MarkedUser", "WaitMarked", "EndMarked", "EndMarkedAny",
                                         "Waiting", "Muted", "Talking")]
            reply(Message((("Event", "ConfbridgeList"), *_aid(a), ("Conference", name), *flags,
                           ("AnsweredTime", str(int(answered))), *ch.snapshot())))
        reply(Message((("Event", "ConfbridgeListComplete"), *_aid(a), ("EventList", "Complete"),
                       ("ListItems", str(len(conf.members))))))

    def _action_mixmonitor(self, a: Message, reply: Sink) -> None:
        name = a.get("Channel")
        if not name:
            reply(error(a, "No channel specified"))
            return
        ch = self.channels.get(name)
        if ch is None:
            reply(error(a, "No such channel"))
            return
        reply(response(a, "Success"))
        file = a.get("File") or f"{ch.uniqueid}.wav"
        if ch.recording is None:
            # the file is written when the channel goes (see dialer.simulator.recordings)
            ch.recording = SimRecording(file, self.timers.now)
        self._varset(ch, "MIXMONITOR_FILENAME", file)
        self._chan_event("MixMonitorStart", ch)

    def _action_mixmonitormute(self, a: Message, reply: Sink) -> None:
        # The checks and messages of app_mixmonitor.c's manager_mute_mixmonitor, in its order
        name = a.get("Channel")
        if not name:
            reply(error(a, "No channel specified"))
            return
        state = a.get("State")
        if not state:
            reply(error(a, "No state specified"))
            return
        direction = (a.get("Direction") or "").strip()
        if direction.lower() not in ("read", "write", "both"):
            reply(error(a, "Invalid direction specified. Must be read, write or both"))
            return
        ch = self.channels.get(name)
        if ch is None:
            reply(error(a, "No such channel"))
            return
        if ch.recording is None:
            reply(error(a, "Cannot set mute flag"))
            return
        muted = ast_true(state)
        # only "both" silences the whole mix; one direction still lets the other side through
        if direction.lower() == "both" or not muted:
            ch.recording.mute(self.timers.now, muted)
        self._chan_event("MixMonitorMute", ch, [("Direction", direction), ("State", "1" if muted else "0")])
        reply(response(a, "Success"))

    # ---- originate ------------------------------------------------------------------
