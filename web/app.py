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
from storage.engine import create_engine, session_factory
from web.agent.http import AgentDesk, setup_agent
from web.agent.hub import AgentHub
from web.agent.negotiation import PixReceiver
from web.auth.access import check_routes
from web.auth.handlers import add_auth_routes
from web.auth.landing import add_landing_routes
from web.auth.middleware import auth_middleware
from web.auth.settings import Auth, AuthSettings
from web.campaigns import setup_campaigns
from web.config import Config
from web.errors import api_error_middleware
from web.keys import AUTH, CLOCK, CONFIG, DB, ENGINE
from web.openapi import setup_openapi
from web.pacing.http import setup_pacing
from web.scripts import setup_scripts
from web.supervisor import setup_supervisor_api
from web.supervisor_console.http import setup_supervisor_console

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# Form posts and JSON bodies; uploads (portfolios) get their own streamed handlers
MAX_BODY_BYTES = 1024 * 1024


async def _dispose_engine(app: web.Application) -> None:
    await app[ENGINE].dispose()


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    # Pages are ours alone: no framing (clickjacking), no content-type guessing, no referrer leaks
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")


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
    # Outermost first: the error middleware also answers what the auth middleware raises
    app = web.Application(middlewares=[api_error_middleware, auth_middleware], client_max_size=MAX_BODY_BYTES)
    app[CONFIG] = config
    app[CLOCK] = clock
    if auth is None:
        auth = Auth(AuthSettings.from_config(config.web))
    auth.clock = clock
    app[AUTH] = auth
    engine = create_engine(config.database.url, echo=config.database.echo)
    app[ENGINE] = engine
    app[DB] = session_factory(engine)
    app.on_cleanup.append(_dispose_engine)
    app.on_response_prepare.append(_security_headers)

    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_static("/static/", STATIC_DIR, name="static")
    add_auth_routes(app)
    add_landing_routes(app)
    setup_agent(app, _agent_desk(config, clock))
    setup_supervisor_console(app)
    setup_pacing(app)
    setup_supervisor_api(app)
    setup_scripts(app)
    setup_campaigns(app)
    setup_openapi(app)
    # Runs after every module has added its routes: refuses to start if one forgot its access rule
    app.on_startup.append(check_routes)
    return app
