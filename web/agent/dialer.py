"""Running the dialer inside the web application: AMI gateway + ``DialerRuntime``, notifying the agent hub.

``attach_dialer(app, ami, settings)`` adds a cleanup context: on start-up it connects to the
PBX (Asterisk or the simulator) over AMI, starts the runtime with the hub of
:func:`web.agent.http.setup_agent` as its notifier and hands it to the desk; on clean-up
it stops both, each bounded by its own timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from dialer.ami.gateway import AmiGateway, AmiSettings
from dialer.clocks import Clock
from dialer.runtime import DialerRuntime, DialerSettings
from web.agent.http import AGENT_DESK
from web.config import Config
from web.keys import CLOCK, DB, DB_READ

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def dialer_settings_from(config: Config, **overrides: object) -> DialerSettings:
    """``DialerSettings`` from ``[dialer]`` and ``[recording]`` (recording is off until ``[recording] dir`` is set)."""
    recordings = config.recording.directory(config.dialer)
    base = DialerSettings(
        connect_window_s=config.dialer.connect_window_s,
        ring_timeout_s=config.dialer.ring_timeout_s,
        recording=recordings is not None,
        recordings_dir=Path(recordings) if recordings is not None else None,
        pbx_name=config.pbx[0].name if config.pbx else "default",
        qa_short_call_s=config.qa.short_call_s,
        identity_question=config.identity.question(),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def attach_dialer(
    app: web.Application,
    ami: AmiSettings,
    settings: DialerSettings,
    *,
    gateway_factory: Callable[[AmiSettings], AmiGateway] = AmiGateway,
    clock: Clock | None = None,
) -> None:
    """Run the dialer for as long as ``app`` runs (call before the app starts); ``clock`` is the
    dialer's "now" (default: the app's ``CLOCK``, so the dialer and the pages agree on "today")."""

    async def dialer_context(app: web.Application) -> AsyncIterator[None]:
        desk = app[AGENT_DESK]
        gateway = gateway_factory(ami)
        try:
            await gateway.start(wait=True, timeout=CONNECT_TIMEOUT_S)
        except Exception:
            await gateway.stop()
            raise
        # one clock for the whole service: the app's unless the caller moves the dialer's too
        runtime = DialerRuntime(
            sessions=app[DB],
            read_sessions=app[DB_READ],
            gateway=gateway,
            notifier=desk.hub,
            settings=settings,
            clock=clock or app[CLOCK],
            scripts=desk.scripts,
        )
        try:
            await runtime.start()
        except Exception:
            await asyncio.wait_for(runtime.stop(), STOP_TIMEOUT_S)
            await asyncio.wait_for(gateway.stop(), STOP_TIMEOUT_S)
            raise
        desk.runtime = runtime
        try:
            yield
        finally:
            desk.runtime = None
            try:
                await asyncio.wait_for(runtime.stop(), STOP_TIMEOUT_S)
            except TimeoutError:
                log.error("dialer: runtime did not stop within %g s", STOP_TIMEOUT_S)
            try:
                await asyncio.wait_for(gateway.stop(), STOP_TIMEOUT_S)
            except TimeoutError:
                log.error("dialer: AMI gateway did not stop within %g s", STOP_TIMEOUT_S)

    app.cleanup_ctx.append(dialer_context)
