"""``cobra bots``: bot agents against any running Cobra (demo, benchmarks, trying a real PBX) (SPEC §12).

The bots are the demo's (:mod:`web.demo.bots`): they log in through the login form, open
the agent websocket, go ready, take and dispose calls, and log out when stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable

import click

from web.cli.common import CONTEXT_SETTINGS, run_async
from web.demo.bots import Bot, BotCrew, BotTiming

PASSWORD_ENV = "COBRA_BOTS_PASSWORD"
PREFIX = "cobra bots:"


def _say(line: str) -> None:
    # flushed at once: the summary is usually read through a pipe or a log collector
    click.echo(f"{PREFIX} {line}")
    sys.stdout.flush()


async def run_bots(
    url: str,
    logins: list[str],
    password: str,
    *,
    every: float = 5.0,
    duration: float | None = None,
    speed: float = 1.0,
    stop: asyncio.Event | None = None,
    say: Callable[[str], None] = _say,
) -> int:
    """Run one bot per login until ``stop`` is set or ``duration`` passes; the exit status.

    1 when no bot could log in (each failure is reported with its login and reason), else 0.
    """
    stop = stop or asyncio.Event()
    base = url.rstrip("/")
    timing = BotTiming().faster(speed)
    crew = BotCrew([Bot(base, login, password, seed=n, timing=timing) for n, login in enumerate(logins, 1)])
    crew.start()
    try:
        starting = asyncio.ensure_future(crew.started())
        waiting = asyncio.ensure_future(stop.wait())
        await asyncio.wait({starting, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        starting.cancel()
        for bot in crew.bots:
            if bot.login_error is not None:
                say(f"{bot.login} could not log in: {bot.login_error}")
        working = [bot.login for bot in crew.bots if bot.working]
        if not working and not stop.is_set():
            say(f"no bot could log in at {base}; stopping")
            return 1
        if working:
            say(f"{len(working)} of {len(logins)} bot(s) working at {base}: {', '.join(working)}"
                " (Ctrl-C logs them out and stops)")
        loop = asyncio.get_running_loop()
        deadline = None if duration is None else loop.time() + duration
        while not stop.is_set() and crew.running:
            wait_s = every if deadline is None else max(0.0, min(every, deadline - loop.time()))
            try:
                await asyncio.wait_for(stop.wait(), wait_s)
            except TimeoutError:
                pass
            if deadline is not None and loop.time() >= deadline:
                break
            if not stop.is_set():
                say(crew.summary().line())
    finally:
        if any(bot.working for bot in crew.bots):
            say("stopping: finishing calls in hand and logging the bots out…")
        await crew.stop()
    summary = crew.summary()
    say(f"stopped: {summary.line()}; {summary.logged_out}/{summary.working} logged out")
    for bot in crew.bots:
        for error in bot.errors[-3:]:
            say(f"{bot.login}: {error}")
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.UsageError("--password-stdin: no password on standard input (one line expected)")
        return line
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    raise click.UsageError(f"no password: pass --password-stdin (one line on standard input) or set {PASSWORD_ENV}")


@click.command("bots", context_settings=CONTEXT_SETTINGS)
@click.option("--url", required=True, help="Base URL of the running Cobra, e.g. http://127.0.0.1:8080.")
@click.option("--login", "logins", multiple=True, required=True,
              help="An agent login for one bot; repeat for more bots (--login agente1 --login agente2).")
@click.option("--password-stdin", is_flag=True,
              help=f"Read the password (shared by all logins) as one line from standard input; "
                   f"otherwise it comes from ${PASSWORD_ENV}.")
@click.option("--every", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds between summary lines.")
@click.option("--duration", type=click.FloatRange(min=0.0), default=None,
              help="Stop by itself (logging the bots out) after this many seconds; default: until Ctrl-C.")
@click.option("--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Divide the bots' think, talk and wrap-up times by this (e.g. 20 for load tests).")
def bots(logins: tuple[str, ...], url: str, password_stdin: bool, every: float, duration: float | None,
         speed: float) -> None:
    """Bot agents that log in at URL, go ready, take calls and dispose them with a realistic mix.

    Every few seconds one line sums up calls taken, outcomes by code, errors and bots
    ready. Ctrl-C (or SIGTERM) lets each bot finish its call, log out and close; a final
    summary follows. Exits 1 if no bot could log in (each login says why), 2 on usage errors.

    \b
    Example:
      echo cobra-demo | cobra bots --url http://127.0.0.1:8080 --login agente1 --login agente2 --password-stdin
    """
    password = _password(password_stdin)
    status = run_async(_main(url, list(logins), password, every, duration, speed))
    if status:
        raise SystemExit(status)


async def _main(url: str, logins: list[str], password: str, every: float, duration: float | None, speed: float) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await run_bots(url, logins, password, every=every, duration=duration, speed=speed, stop=stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
