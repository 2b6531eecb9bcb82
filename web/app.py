"""The composition root: builds the aiohttp application from a ``Config``.

What it wires today: the database (engine + session factory), authentication (sessions,
roles, CSRF, login throttling), page templates, static files, the login flow and each
role's home page. The dialer (AMI, pacing, agent websockets) is not wired here yet.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from dialer.clocks import Clock, system_clock
from scripting.render import Empresa
from storage.checkpoint import WalCheckpointer
from storage.engine import create_engine, read_session_factory, session_factory, sqlite_file
from web.agent.http import AgentDesk, setup_agent
from web.agent.hub import AgentHub
from web.agent.negotiation import PixReceiver
from web.auth.access import check_routes
from web.auth.handlers import add_auth_routes
from web.auth.landing import add_landing_routes
from web.auth.middleware import auth_middleware
from web.auth.revocation import SessionGuard
from web.auth.settings import Auth, AuthSettings
from web.campaign_console.http import setup_campaign_console
from web.campaigns import setup_campaigns
from web.config import Config
from web.database_busy import database_busy_middleware
from web.error_pages import error_pages_middleware
from web.errors import api_error_middleware
from web.keys import AUTH, CLOCK, CONFIG, DB, DB_READ, ENGINE, SESSION_GUARD, WAL_CHECKPOINTER
from web.kpis.http import setup_kpis
from web.navigation import Navigation
from web.openapi import setup_openapi
from web.ops import setup_ops
from web.pacing.http import setup_pacing
from web.qa import setup_qa
from web.recordings import setup_recordings
from web.regua import setup_regua
from web.scripts import setup_scripts
from web.security_headers import setup_security_headers
from web.supervisor import setup_supervisor_api
from web.supervisor_console.http import setup_supervisor_console
from web.users import setup_users

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# Form posts and JSON bodies; uploads (portfolios) get their own streamed handlers
MAX_BODY_BYTES = 1024 * 1024


async def _dispose_engine(app: web.Application) -> None:
    await app[ENGINE].dispose()


async def _start_wal_checkpointer(app: web.Application) -> None:
    checkpointer = app[WAL_CHECKPOINTER]
    if checkpointer is not None:
        checkpointer.start()


async def _stop_wal_checkpointer(app: web.Application) -> None:
    checkpointer = app[WAL_CHECKPOINTER]
    if checkpointer is not None:
        await checkpointer.stop()


async def _start_session_guard(app: web.Application) -> None:
    app[SESSION_GUARD].start()


async def _stop_session_guard(app: web.Application) -> None:
    await app[SESSION_GUARD].stop()


def _agent_desk(config: Config, clock: Clock) -> AgentDesk:
    """The agent desk with the company the scripts name and the Pix receiver, from the configuration."""
    company = Empresa(nome=config.company.name, telefone=config.company.phone)
    pix = config.pix
    receiver = PixReceiver(pix.key, pix.name, pix.city) if pix.key else None
    return AgentDesk(hub=AgentHub(clock=clock), company=company, pix=receiver, clock=clock)


def create_app(config: Config, *, auth: Auth | None = None, clock: Clock = system_clock) -> web.Application:
    """The web application for ``config``.

    ``clock`` is the one "now" of the whole app (``app[CLOCK]``): sessions, hubs, approvals and
    pacing read it, and the demo passes the same clock to its dialer, so they all see one
    "today". ``auth`` replaces the auth state built from the configuration; its clock is set to
    ``clock`` (one clock per app, so a session's expiry agrees with everything else).
    """
    # Outermost first: the error middleware answers what the others raise on /api/ paths, the error
    # pages what they raise on pages (pt-BR, in the layout); a database lock met anywhere (the auth
    # middleware's session lookup included) answers 503 with Retry-After
    app = web.Application(
        middlewares=[api_error_middleware, error_pages_middleware, database_busy_middleware, auth_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[CONFIG] = config
    app[CLOCK] = clock
    if auth is None:
        auth = Auth(AuthSettings.from_config(config.web))
    auth.clock = clock
    app[AUTH] = auth
    engine = create_engine(
        config.database.url, echo=config.database.echo, busy_timeout_s=config.database.busy_timeout_s
    )
    app[ENGINE] = engine
    app[DB] = session_factory(engine)
    app[DB_READ] = read_session_factory(engine)
    # reads only: on SQLite a read session takes no lock, so its sweeps (every 0.5 s) and a check per
    # disposition never queue behind the dialer's writes nor hold them up (issue 10)
    app[SESSION_GUARD] = SessionGuard(app[DB_READ], clock)
    database_file = sqlite_file(engine)
    app[WAL_CHECKPOINTER] = WalCheckpointer(database_file) if database_file is not None else None
    app.on_startup.append(_start_wal_checkpointer)
    app.on_startup.append(_start_session_guard)
    # stopped before the engine goes: its sweeps read the database
    app.on_cleanup.append(_stop_session_guard)
    app.on_cleanup.append(_stop_wal_checkpointer)
    app.on_cleanup.append(_dispose_engine)
    setup_security_headers(app)  # CSP without unsafe-inline, nosniff, no framing, same-origin referrer

    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
    )
    aiohttp_jinja2.get_env(app).globals["nav_links"] = Navigation(app).links_for
    app.router.add_static("/static/", STATIC_DIR, name="static")
    add_auth_routes(app)
    add_landing_routes(app)
    setup_users(app)
    setup_agent(app, _agent_desk(config, clock))
    setup_supervisor_console(app)
    setup_ops(app)  # after the desk and the console: its metrics read their sockets
    setup_pacing(app)
    setup_supervisor_api(app)
    setup_scripts(app)
    setup_campaigns(app)
    setup_campaign_console(app)
    setup_recordings(app)
    setup_kpis(app)
    setup_regua(app)
    setup_qa(app)
    setup_openapi(app)
    # Runs after every module has added its routes: refuses to start if one forgot its access rule
    app.on_startup.append(check_routes)
    return app
