"""Recording a call: where its file goes, and muting it on sensitive script steps (pure).

The floor records every connected call of a campaign that records (``MixMonitor`` on the
customer channel, SPEC §3) into ``<dir>/YYYY/MM/DD/<attempt id>.wav`` (the connect's date in
Brasília, where the operation works), and mutes the recording (``MixMonitorMute``, both
directions) while the agent is on a script step marked ``sensitive`` (card data): each muted
stretch is stored as a gap, in seconds from the recording's start.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath

from dialer.ami.actions import MixMonitor, MixMonitorMute
from dialer.floor import effects as fx
from dialer.floor.base import FloorBase
from dialer.floor.calls import FloorCall
from dialer.floor.session import CallSession

BRASILIA_TZ = timezone(timedelta(hours=-3))  # no daylight saving since 2019
# Asterisk's MixMonitor option "b": record only while the channel is bridged (the conversation),
# as the recorded trace agent_hangs_up_customer.ami sends it
MIXMONITOR_OPTIONS = "b"


def recording_path(directory: str, attempt_id: str, connected_at: datetime) -> str:
    """``<directory>/YYYY/MM/DD/<attempt_id>.wav`` for a call connected at ``connected_at`` (aware)."""
    day = connected_at.astimezone(BRASILIA_TZ)
    return str(PurePosixPath(directory) / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / f"{attempt_id}.wav")


class RecordingMoves(FloorBase):
    """The floor's recording decisions (mixed into the floor; effects go to ``_out``)."""

    def _start_recording(self, call: FloorCall, at: float, wall: datetime) -> str | None:
        """MixMonitor on the customer channel of a call that just connected; its path, or None if not recorded."""
        directory = self.settings.recordings_dir
        if not (self.settings.recording and call.campaign.record and directory is not None and call.channel):
            return None
        path = recording_path(str(directory), call.id, wall)
        self._out.append(fx.SendRecord(MixMonitor(channel=call.channel, file=path, options=MIXMONITOR_OPTIONS), call.id))
        call.recorded_at = at
        return path

    def _offset_s(self, call: FloorCall, at: float) -> float:
        """Seconds of recording at loop time ``at`` (PBX seconds: the file's own time)."""
        assert call.recorded_at is not None
        return self.pacing.pbx_s(at - call.recorded_at)

    def _sync_recording(self, call: FloorCall, session: CallSession | None) -> None:
        """Mute or unmute the call's recording to match the agent's current script step."""
        if call.recorded_at is None or call.channel is None or session is None:
            return
        run = session.run
        step = None if run.finished else run.current_step
        sensitive = step.id if step is not None and step.sensitive else None
        now = self._mono()
        if sensitive is not None and call.muted_step is None:
            call.muted_step = sensitive
            self._out.append(fx.SendRecordMute(MixMonitorMute(channel=call.channel, muted=True), call.id))
            self._out.append(fx.StoreRecordingGap(call.id, self._offset_s(call, now), True, sensitive))
        elif sensitive is None and call.muted_step is not None:
            call.muted_step = None
            self._out.append(fx.SendRecordMute(MixMonitorMute(channel=call.channel, muted=False), call.id))
            self._out.append(fx.StoreRecordingGap(call.id, self._offset_s(call, now), False, None))

    def _end_recording(self, call: FloorCall, at: float) -> None:
        """The call ended: a gap still open ends with the recording."""
        if call.recorded_at is not None and call.muted_step is not None:
            call.muted_step = None
            self._out.append(fx.StoreRecordingGap(call.id, self._offset_s(call, at), False, None))

    def script_moved(self, user_id: int, call_id: str) -> list[fx.Effect]:
        """The agent's script run of ``call_id`` moved: the recording follows the step's ``sensitive`` flag."""
        call = self.calls.get(call_id)
        if call is not None and call.agent_id == user_id:
            self._sync_recording(call, self.session_of(user_id, call_id))
        return self._flush()
