"""``cobra pbx-sim``: run the AMI simulator in the foreground until Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import click

from dialer.simulator import ScenarioError, SimulatorServer
from web.cli.common import CONTEXT_SETTINGS, run_async
from web.logs import DEFAULT_LEVEL, LEVELS, configure_logging
from web.ops.heap import freeze_startup_heap

# A file to which the simulator appends "<ActionID> <time.monotonic()>" per answered call (bench/screen_pop.py)
ORIGINATE_LOG_ENV = "COBRA_PBX_SIM_ORIGINATE_LOG"


@click.command("pbx-sim", context_settings=CONTEXT_SETTINGS)
@click.option("--port", type=click.IntRange(0, 65535), default=5038, show_default=True,
              help="TCP port to listen on (0 = any free port; the line printed says which).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--username", default="cobra", show_default=True, help="Manager account name.")
@click.option("--secret", default="cobra", show_default=True, help="Manager account secret.")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Pacing scenario JSON (outcome mix and timings); default: the last-digit convention.")
@click.option("--time-scale", type=float, default=1.0, show_default=True,
              help="Multiplies every simulated delay (0.1 = ten times faster).")
@click.option("--log-level", type=click.Choice([level.lower() for level in LEVELS], case_sensitive=False),
              default=DEFAULT_LEVEL.lower(), envvar="COBRA_LOG__LEVEL", show_default=True,
              help="Least severe log records written to stderr.")
def pbx_sim(port: int, host: str, username: str, secret: str, scenario: str | None, time_scale: float,
            log_level: str) -> None:
    """Simulated Asterisk speaking AMI over TCP, for demos and tests."""
    configure_logging(log_level)
    if time_scale <= 0:
        raise click.BadParameter("must be greater than 0", param_hint="--time-scale")
    try:
        sim = SimulatorServer(host=host, port=port, username=username, secret=secret,
                              scenario=scenario, time_scale=time_scale, originate_log=_originate_log())
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from None
    run_async(_serve(sim, scenario))


def _originate_log() -> Path | None:
    value = os.environ.get(ORIGINATE_LOG_ENV)
    return Path(value) if value else None


async def _serve(sim: SimulatorServer, scenario: str | None) -> None:
    try:
        await sim.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {sim.host}:{sim._requested_port}: {exc.strerror or exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    freeze_startup_heap()  # its collections would delay the events it writes (issue 10)
    behaviour = f"scenario {scenario}" if scenario else "last-digit customers"
    click.echo(f"pbx-sim: AMI on {sim.host}:{sim.port} (account {sim.username}, {behaviour}, "
               f"time scale {sim.time_scale:g}); Ctrl-C stops", err=False)
    try:
        await stop.wait()
    finally:
        await sim.stop()
        click.echo("pbx-sim: stopped")
