"""The régua de cobrança in the web app: its page, its API, the satisfaction link and, when
``[regua] enabled``, the daily run and the outbox sender as background tasks."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from web.keys import CLOCK, CONFIG, DB
from web.regua.api import setup_regua_api
from web.regua.page import setup_regua_page
from web.regua.public import setup_rating
from web.regua.state import REGUA, ReguaRuntime
from web.regua.wiring import daily_regua, outbox_sender


async def _start(app: web.Application) -> None:
    config = app[CONFIG]
    runtime = app[REGUA]
    if not config.regua.enabled:
        return
    runtime.sender = outbox_sender(config, app[DB], app[CLOCK])
    runtime.daily = daily_regua(config, app[DB], app[CLOCK], runtime.sender)
    runtime.sender.start(poll=timedelta(seconds=config.regua.send_poll_s))
    runtime.daily.start()


async def _stop(app: web.Application) -> None:
    runtime = app[REGUA]
    if runtime.daily is not None:
        await runtime.daily.stop()
    if runtime.sender is not None:
        await runtime.sender.stop()


def setup_regua(app: web.Application) -> None:
    app[REGUA] = ReguaRuntime()
    setup_regua_page(app)
    setup_regua_api(app)
    setup_rating(app)
    app.on_startup.append(_start)
    # before the engine is disposed (create_app registers that first; cleanup runs in reverse)
    app.on_cleanup.insert(0, _stop)


__all__ = ["setup_regua"]
