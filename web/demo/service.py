"""The embedded demo: SQLite (by the migrations) + seeded portfolio + PBX simulator + web + dialer.

:func:`running_demo` is an async context manager that brings the whole thing up in this
process and takes it down again; ``cobra demo`` and its ``--check`` are built on it. The
dialer reaches the simulator through the real ``AmiGateway`` over TCP, as it would reach
Asterisk.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from argon2 import PasswordHasher

from dialer.ami import sanitize
from dialer.ami.gateway import AmiSettings
from dialer.clocks import BRASILIA, Clock, demo_clock, system_clock
from dialer.errors import AmiValueError
from dialer.simulator.server import SimulatorServer
from storage import migrate
from storage.engine import create_engine, session_factory
from web.agent.dialer import attach_dialer, dialer_settings_from
from web.app import create_app
from web.auth.settings import Auth, AuthSettings
from web.config import (
    CompanyConfig,
    Config,
    DatabaseConfig,
    DialerConfig,
    GatewayConfig,
    PbxConfig,
    PixConfig,
    RecordingConfig,
    ReguaConfig,
    SmtpConfig,
    WebConfig,
)
from web.demo.answers import DemoAnswers
from web.demo.bots import OVERRIDE_SHARE, Bot, BotCrew, BotTiming
from web.demo.emails_page import setup_demo_emails
from web.demo.gateway_sink import GatewaySink
from web.demo.seed import DEMO_PASSWORD, SeedReport, bot_user, seed_demo
from web.demo.smtp_sink import SmtpSink
from web.keys import DB_READ

SCENARIO = Path(__file__).with_name("scenario.json")
DEFAULT_CUSTOMERS = 1200


@dataclass(frozen=True, slots=True)
class DemoOptions:
    directory: Path
    host: str = "127.0.0.1"
    port: int = 8080
    bots: int = 0
    customers: int = DEFAULT_CUSTOMERS
    time_scale: float = 1.0  # the simulator's clock (0.1 = ten times faster)
    tick_s: float = 0.5  # the dialer's tick (DialerSettings default)
    bot_timing: BotTiming | None = None
    hasher: PasswordHasher | None = None  # default: the production argon2 parameters
    regua: bool = False  # the régua's daily run and outbox sender inside the demo (`cobra demo` turns it on)
    smtp_sink_port: int | None = None  # start the SMTP sink on this port (0: any) and send the e-mails there
    bot_override_share: float = OVERRIDE_SHARE  # calls a bot releases without verifying the identity


@dataclass(frozen=True, slots=True)
class RunningDemo:
    url: str
    config: Config
    seed: SeedReport
    sim: SimulatorServer
    app: web.Application
    crew: BotCrew
    clock: Clock
    clock_moved: bool  # the demo runs on a clock moved into business hours (see dialer.clocks)
    smtp_sink: SmtpSink | None = None
    gateway_sink: GatewaySink | None = None


CLI_CONFIG = "cobra.toml"


def recordings_dir(directory: Path) -> str | None:
    """``<dir>/gravacoes``: the simulator writes there and the service serves from there.

    Absolute, so either may be started from anywhere; relative (from the working directory)
    when the absolute path has characters MixMonitor's file name may not carry (spaces,
    accents); None (no recording) when neither will do.
    """
    for candidate in ((directory / "gravacoes").resolve(), directory / "gravacoes"):
        try:
            return sanitize.file_path("dir", str(candidate))
        except AmiValueError:
            continue
    return None


DEMO_PIX = ("123e4567-e12b-12d1-a456-426655440000", "COBRA DEMONSTRACAO", "SAO PAULO")


def demo_link_secret(directory: Path) -> str:
    """The demo's satisfaction-link secret, made once and kept in ``<dir>/regua-secret``."""
    path = directory / "regua-secret"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def write_cli_config(
    directory: Path, url: str, *, smtp_port: int | None = None, web_url: str | None = None,
    gateway_urls: dict[str, str] | None = None,
) -> Path:
    """``<dir>/cobra.toml``: the demo's database for the CLI (``COBRA_CONFIG=<dir>/cobra.toml cobra campaign list``).

    What the commands read (the database, the company, the Pix receiver, the régua and, with
    the SMTP sink, where e-mail goes); the simulator's port changes on every run, so the PBX is
    left to the demo itself.
    """
    path = directory / CLI_CONFIG
    smtp = (
        f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nfrom_address = "cobranca@cobra-demo.example"\n'
        if smtp_port is not None else ""
    )
    gateways = "".join(f'\n[gateway.{channel}]\nurl = "{target}"\n' for channel, target in (gateway_urls or {}).items())
    recordings = recordings_dir(directory)
    path.write_text(
        "# Written by `cobra demo` on every start: the demo's database, for the other commands:\n"
        f"#   COBRA_CONFIG={path} cobra campaign list\n"
        "[database]\n"
        f'url = "{url}"\n'
        "\n[company]\n"
        'name = "Cobra Demonstração"\n'
        'phone = "0800 000 0000"\n'
        "\n[pix]\n"
        f'key = "{DEMO_PIX[0]}"\nname = "{DEMO_PIX[1]}"\ncity = "{DEMO_PIX[2]}"\n'
        "\n[regua]\n"
        "# the demo's clock: at night it is 10:00 of the next business day, as in the demo itself\n"
        "demo_clock = true\n"
        f'link_secret = "{demo_link_secret(directory)}"\n'
        + (f'public_url = "{web_url}"\n' if web_url else "")
        + smtp
        + gateways
        + ("" if recordings is None else f'\n[recording]\ndir = "{recordings}"\n'),
        encoding="utf-8",
    )
    return path


async def prepare_database(options: DemoOptions, clock: Clock = system_clock) -> tuple[str, SeedReport]:
    """Create (or reuse) ``<dir>/cobra.db``: migrations, then the idempotent seed."""
    options.directory.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{(options.directory / 'cobra.db').resolve()}"
    write_cli_config(options.directory, url)
    # migrate.upgrade runs its own event loop: keep it off ours
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    now = clock()  # leads due by the dialer's clock, the one that will pick them
    try:
        async with session_factory(engine)() as db:
            report = await seed_demo(
                db,
                options.hasher or PasswordHasher(),
                customers=options.customers,
                today=now.astimezone(BRASILIA).date(),
                bots=options.bots,
                now=now,
            )
    finally:
        await engine.dispose()
    return url, report


@asynccontextmanager
async def running_demo(options: DemoOptions) -> AsyncIterator[RunningDemo]:
    """Everything up (see the module doc); torn down in reverse order on exit."""
    # the hopper calls nobody outside business hours: at night the demo runs on a moved clock
    clock, moved = demo_clock()
    url, report = await prepare_database(options, clock)
    sim = SimulatorServer(host="127.0.0.1", port=0, scenario=SCENARIO, time_scale=options.time_scale)
    sink: SmtpSink | None = None
    gateway: GatewaySink | None = None
    await sim.start()
    try:
        if options.smtp_sink_port is not None:
            sink = SmtpSink(options.directory / "emails", port=options.smtp_sink_port)
            await sink.start()
            # SMS and WhatsApp go to a local gateway next to it (the SMTP port + 1, or any with 0)
            gateway = GatewaySink(options.directory / "emails", port=options.smtp_sink_port and options.smtp_sink_port + 1)
            await gateway.start()
        gateway_urls = {} if gateway is None else {"sms": gateway.url("sms"), "whatsapp": gateway.url("whatsapp")}
        smtp = (
            SmtpConfig.model_validate({"host": "127.0.0.1", "port": sink.port, "from_address": "cobranca@cobra-demo.example"})
            if sink is not None else SmtpConfig.model_validate({})
        )
        public_url = f"http://{options.host}:{options.port}"
        config = Config(
            database=DatabaseConfig(url=url),
            web=WebConfig(host=options.host, port=options.port),
            pbx=[PbxConfig(name="sim", host="127.0.0.1", port=sim.port, simulator=True)],
            # in the dialer's PBX seconds, which are loop seconds while the demo keeps clock_scale 1 (below):
            # 2 s of the simulator's time (its own dialplan drops the call at 3 s; it ignores COBRA_CONNECT_WINDOW)
            dialer=DialerConfig(connect_window_s=2.0 * options.time_scale),
            recording=RecordingConfig(dir=recordings_dir(options.directory)),
            company=CompanyConfig(name="Cobra Demonstração", phone="0800 000 0000"),
            # the random key of the Central Bank's BR Code manual example: codes are well-formed, pay nobody
            pix=PixConfig(key=DEMO_PIX[0], name=DEMO_PIX[1], city=DEMO_PIX[2]),
            regua=ReguaConfig.model_validate(
                {"enabled": options.regua, "link_secret": demo_link_secret(options.directory), "public_url": public_url}
            ),
            smtp=smtp,
            gateway=GatewayConfig.model_validate({c: {"url": u} for c, u in gateway_urls.items()}),
        )
        # the demo's hasher both seeds and checks passwords (tests pass a cheap one)
        auth = Auth(AuthSettings.from_config(config.web), hasher=options.hasher) if options.hasher else None
        app = create_app(config, auth=auth, clock=clock)
        if sink is not None:
            setup_demo_emails(app, options.directory / "emails")
        ami = AmiSettings.from_pbx(config.pbx[0], reconnect_initial_s=0.2, reconnect_max_s=5.0)
        attach_dialer(
            app,
            ami,
            dialer_settings_from(
                config,
                tick_s=options.tick_s,
                ring_timeout_s=25.0,
                # the simulator runs time_scale loop seconds per call second (--speed): the QA flags
                # judge the call's own seconds, not the loop's. (Not clock_scale yet: with it the demo's
                # progressive dialing stalls at speed, see the wt-demo report; pacing keeps loop seconds.)
                qa_time_scale=options.time_scale,
            ),
            clock=clock,
        )
        runner = web.AppRunner(app, shutdown_timeout=5.0)
        crew = BotCrew([])
        try:
            # inside the try: a start-up that fails half-way still gets its clean-up (engine, gateway)
            await runner.setup()
            site = web.TCPSite(runner, options.host, options.port)
            await site.start()
            host, port = runner.addresses[0][:2]
            base = f"http://{host}:{port}"
            write_cli_config(options.directory, url, smtp_port=None if sink is None else sink.port, web_url=base,
                             gateway_urls=gateway_urls)
            answers = DemoAnswers(app[DB_READ])
            crew = BotCrew(
                [
                    # the simulated person on the line answers the identity check (the bots verify it)
                    Bot(base, bot_user(n).login, DEMO_PASSWORD, seed=n, timing=options.bot_timing or BotTiming(),
                        answers=answers, override_share=options.bot_override_share)
                    for n in range(1, options.bots + 1)
                ]
            )
            crew.start()
            yield RunningDemo(base, config, report, sim, app, crew, clock, moved, sink, gateway)
        finally:
            await crew.stop()
            await runner.cleanup()
    finally:
        if gateway is not None:
            await gateway.stop()
        if sink is not None:
            await sink.stop()
        await sim.stop()
