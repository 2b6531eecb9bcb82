"""The régua's running parts in the app (the sender and the daily run, when ``[regua] enabled``)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from dialer.outbox.sender import OutboxSender
from dialer.regua.daily import DailyRegua


@dataclass
class ReguaRuntime:
    sender: OutboxSender | None = None
    daily: DailyRegua | None = None


REGUA: web.AppKey[ReguaRuntime] = web.AppKey("cobra.regua", ReguaRuntime)


def wake_sender(app: web.Application) -> None:
    runtime = app.get(REGUA)
    if runtime is not None and runtime.sender is not None:
        runtime.sender.wake()
