"""Cobra's configuration: one TOML file, every value overridable from the environment.

Lookup order for the file: ``--config FILE``, then ``COBRA_CONFIG``, then ``./cobra.toml``;
with none of them the embedded defaults apply (SQLite ``./cobra.db`` and the built-in
PBX simulator). Environment overrides use ``COBRA_<SECTION>__<KEY>``; list entries take
their index: ``COBRA_PBX__0__SECRET=...``. Values from the environment are parsed as
TOML scalars when they parse (``8080``, ``true``, ``2.5``) and kept as strings otherwise.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dialer.ami import sanitize
from dialer.errors import AmiValueError
from dialer.floor.identity import (
    DEFAULT_OTHER_QUESTION,
    MAX_LABEL,
    MIN_LABEL,
    OtherField,
    OtherQuestion,
)
from scripting.pix import PixError, normalise_key
from storage.engine import SQLITE_BUSY_TIMEOUT_S
from web.auth.clients import parse_networks
from web.logs import DEFAULT_FORMAT, DEFAULT_LEVEL, parse_format, parse_level

ENV_PREFIX = "COBRA_"
DEFAULT_FILE = "cobra.toml"


class ConfigError(Exception):
    """The configuration is unusable; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///./cobra.db"
    echo: bool = False
    # SQLite: how long a write waits for another writer's lock (and a request for a pooled
    # connection) before the request answers 503 "database_busy"; reads never wait for it
    busy_timeout_s: float = Field(SQLITE_BUSY_TIMEOUT_S, gt=0, le=600)

    @field_validator("url")
    @classmethod
    def _known_driver(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v


class WebConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # Origins allowed to open websockets besides the server's own (SPEC §11)
    allowed_origins: list[str] = []
    # Mark the session cookie Secure: set when users reach Cobra over https (e.g. behind a proxy)
    secure_cookies: bool = False
    # A login lasts this long (a shift); logout or `cobra user disable` ends it sooner
    session_hours: float = Field(12.0, gt=0, le=24 * 30)
    # Reverse proxies (CIDRs) whose X-Forwarded-For is believed: the right-most address that is
    # not one of them is the client (login throttling, audit). Empty: the peer is the client.
    # From the environment: COBRA_WEB__TRUSTED_PROXIES="10.0.0.0/8,127.0.0.1/32"
    trusted_proxies: list[str] = []
    # Login throttling: failed passwords allowed before attempts must wait, and the longest wait
    # (it doubles from 1 s with each further failure); per login (from anywhere) and per client
    login_free_failures: int = Field(5, ge=1, le=1000)
    login_max_delay_s: float = Field(60.0, ge=1, le=24 * 3600)
    client_free_failures: int = Field(20, ge=1, le=100_000)
    client_max_delay_s: float = Field(900.0, ge=1, le=24 * 3600)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, v: object) -> object:
        # an environment override is one string: accept "a/32,b/24" as well as a TOML array
        if isinstance(v, str):
            return [part.strip() for part in v.split(",") if part.strip()]
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        parse_networks(v)  # raises naming the entry
        return [entry.strip() for entry in v]


class PbxConfig(_Section):
    name: str = "sim"
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=0, le=65535)
    username: str = "cobra"
    secret: str = "cobra"
    dial_template: str = "Local/{number}@cust-sim"
    caller_id: str = "551130000000"
    # Start the built-in simulator on host:port instead of connecting to a real Asterisk
    simulator: bool = True
    ping_interval_s: float = Field(5.0, gt=0)
    action_timeout_s: float = Field(10.0, gt=0)

    @field_validator("dial_template")
    @classmethod
    def _has_number(cls, v: str) -> str:
        # the rules the AMI layer applies when dialing, so a bad template fails at start, not per lead
        try:
            return sanitize.dial_template("dial_template", v)
        except AmiValueError as exc:
            raise ValueError(str(exc).removeprefix("dial_template: ")) from None


class DialerConfig(_Section):
    ring_timeout_s: float = Field(25.0, gt=0)
    connect_window_s: float = Field(2.0, gt=0)
    # Older name of [recording] dir (still read; [recording] dir wins when both are set)
    recordings_dir: str | None = None


class RecordingConfig(_Section):
    """Call recordings (SPEC §3): where MixMonitor writes them and where Cobra serves them from."""

    # <dir>/YYYY/MM/DD/<attempt id>.wav: written by Asterisk (MixMonitor), read by Cobra to serve
    # GET /api/v1/calls/{id}/recording; the same path on both hosts (a shared mount). Unset: no recording
    dir: str | None = None
    # Recordings kept on another host: the endpoint redirects (302) to this URL, {path} being the
    # file's path under dir (e.g. "https://rec.example/{path}")
    url_template: str | None = None

    @field_validator("dir")
    @classmethod
    def _plain_dir(cls, v: str | None) -> str | None:
        # MixMonitor's File is checked by the AMI layer: letters, digits and _ . / - only
        if v is not None:
            try:
                sanitize.file_path("dir", v.rstrip("/") or "/")
            except AmiValueError as exc:
                raise ValueError(str(exc).removeprefix("dir: ")) from None
        return v

    @field_validator("url_template")
    @classmethod
    def _has_path(cls, v: str | None) -> str | None:
        if v is not None:
            if v.count("{path}") != 1 or not v.startswith(("https://", "http://")):
                raise ValueError("must be an http(s) URL containing {path} once, e.g. https://rec.example/{path}")
            if "{" in v.replace("{path}", "") or "}" in v.replace("{path}", ""):
                raise ValueError("the only placeholder allowed is {path}")
        return v

    def directory(self, dialer: DialerConfig | None = None) -> str | None:
        """The recordings directory: ``dir``, else the older ``[dialer] recordings_dir``."""
        return self.dir if self.dir is not None else (dialer.recordings_dir if dialer is not None else None)


class CompanyConfig(_Section):
    """The collection company as scripts name it to debtors (not the creditor)."""

    name: str = "Cobra Assessoria de Cobrança"
    # read to debtors by the scripts and the abandon message: set your real number
    phone: str = "0800 000 0000"


class PixConfig(_Section):
    """The Pix receiver for "copia e cola" codes on the agent page; no key: no Pix offered."""

    key: str | None = None
    name: str = "COBRA ASSESSORIA"
    city: str = "SAO PAULO"

    @field_validator("key")
    @classmethod
    def _valid_key(cls, v: str | None) -> str | None:
        if v is None:
            return None
        try:
            return normalise_key(v)
        except PixError as exc:
            raise ValueError(str(exc)) from None


class LogConfig(_Section):
    """What the service logs to stderr (``cobra serve --log-level`` wins over this)."""

    level: str = DEFAULT_LEVEL
    # One line per HTTP request (aiohttp.access); off unless level is debug
    access: bool = False
    # "text" (for people), "json" (one object per line) or "kv" (key=value pairs), see web.logs
    format: str = DEFAULT_FORMAT

    @field_validator("level")
    @classmethod
    def _known_level(cls, v: str) -> str:
        return parse_level(v)

    @field_validator("format")
    @classmethod
    def _known_format(cls, v: str) -> str:
        return parse_format(v)


class ReguaConfig(_Section):
    """The régua de cobrança (SPEC §9): the daily run and the outbox sender inside ``cobra serve``."""

    # Off by default: messages reach real customers; the demo turns it on
    enabled: bool = False
    # When the daily run starts (Brasília time); a start after it runs at once (catch-up)
    run_at: str = "07:00"
    # A run also takes the steps of the last N days that were not taken (a missed run, a holiday)
    catch_up_days: int = Field(7, ge=0, le=60)
    # At most this many steps per run, oldest first; the rest wait for the next run (no flooding)
    max_per_run: int = Field(5000, ge=1, le=1_000_000)
    # A promise or installment unpaid this many days after its date is broken
    grace_days: int = Field(3, ge=0, le=60)
    broken_boost: int = Field(10, ge=0, le=1000)
    # The discounts the "offer" steps announce (agent level, supervisor level), in percent
    offer_standard_pct: float = Field(10.0, ge=0, le=100)
    offer_supervisor_pct: float = Field(30.0, ge=0, le=100)
    # How customers reach Cobra (satisfaction links): the public base URL
    public_url: str = "http://127.0.0.1:8080"
    # Signs the satisfaction links; unset: no satisfaction message is sent
    link_secret: str | None = None
    # The gateway's replies (POST /api/v1/regua/inbound) must carry this in X-Cobra-Secret; unset: refused
    inbound_secret: str | None = None
    # A reply that is one of these words stops that channel for the customer
    opt_out_keywords: list[str] = ["SAIR", "PARAR", "STOP", "CANCELAR", "DESCADASTRAR"]
    # The outbox sender: attempts per message, backoff (doubling from initial up to max), claim lease
    send_max_attempts: int = Field(6, ge=1, le=100)
    send_backoff_initial_s: float = Field(30.0, gt=0, le=86400)
    send_backoff_max_s: float = Field(3600.0, gt=0, le=7 * 86400)
    send_lease_s: float = Field(120.0, gt=0, le=86400)
    send_poll_s: float = Field(5.0, gt=0, le=3600)
    # Only for `cobra demo`'s data: the CLI runs on the demo's clock (moved into business hours at night)
    demo_clock: bool = False

    @field_validator("run_at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        parts = v.split(":")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > 23 or int(parts[1]) > 59:
            raise ValueError("must be HH:MM (Brasília time)")
        return v


class SmtpConfig(_Section):
    """Where the régua's e-mails go out (SMTP, aiosmtplib)."""

    host: str = "127.0.0.1"
    port: int = Field(25, ge=0, le=65535)
    # "none", "starttls" (upgrade after connecting, port 587) or "tls" (implicit TLS, port 465)
    security: str = "none"
    username: str | None = None
    password: str | None = None
    from_address: str = "cobranca@localhost"
    timeout_s: float = Field(30.0, gt=0, le=600)
    verify_tls: bool = True
    # A private CA file that signed the server's certificate (default: the system's CAs)
    ca_file: str | None = None

    @field_validator("security")
    @classmethod
    def _known_security(cls, v: str) -> str:
        if v not in ("none", "starttls", "tls"):
            raise ValueError('must be "none", "starttls" or "tls"')
        return v


class GatewayChannelConfig(_Section):
    """An HTTP gateway for one channel: POST ``url`` with ``body`` (string values may hold {to}, {text},
    {channel}, {id}) and ``auth_header: auth_value``; no url: the channel is not sent."""

    url: str | None = None
    auth_header: str = "Authorization"
    auth_value: str | None = None
    body: dict[str, Any] = {"to": "{to}", "text": "{text}"}
    timeout_s: float = Field(15.0, gt=0, le=600)

    @field_validator("url")
    @classmethod
    def _http(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v


class GatewayConfig(_Section):
    sms: GatewayChannelConfig = GatewayChannelConfig.model_validate({})
    whatsapp: GatewayChannelConfig = GatewayChannelConfig.model_validate({})
class QaConfig(_Section):
    """Quality monitoring (``/monitoria``): the automatic flags and the review queue."""

    # a right-party outcome (ACORDO, PROMESSA, RECUSA, ...) on a call shorter than this is flagged
    short_call_s: int = Field(30, ge=1, le=3600)
    # every agreement at or above this amount (R$) goes to the review queue
    queue_min_agreement: Decimal = Field(Decimal("1000.00"), ge=0)
    # calls drawn at random per agent per week for the queue (the same ones all week)
    sample_per_agent_week: int = Field(2, ge=0, le=100)
    # the queue looks this many days back for agreements, disputes and flagged calls
    queue_days: int = Field(7, ge=1, le=90)


class IdentityConfig(_Section):
    """The identity check's third question ("outra"), besides the birth date and the CPF's first digits."""

    # what the agent sees and asks
    other_question: str = DEFAULT_OTHER_QUESTION.label
    # the stored customer field it checks: "email", "uf" (state: sigla or name), "external_id"
    # (the creditor's customer code) or "contrato" (any of the customer's open contracts)
    other_field: str = DEFAULT_OTHER_QUESTION.field.value

    @field_validator("other_question")
    @classmethod
    def _label(cls, v: str) -> str:
        label = " ".join(v.split())
        if not MIN_LABEL <= len(label) <= MAX_LABEL:
            raise ValueError(f"must be {MIN_LABEL} to {MAX_LABEL} characters (what the agent reads)")
        return label

    @field_validator("other_field")
    @classmethod
    def _known_field(cls, v: str) -> str:
        known = [f.value for f in OtherField]
        if v not in known:
            raise ValueError(f"unknown customer field {v!r}; use one of: {', '.join(known)}")
        return v

    def question(self) -> OtherQuestion:
        return OtherQuestion(self.other_question, OtherField(self.other_field))


class Config(_Section):
    database: DatabaseConfig = DatabaseConfig()
    log: LogConfig = LogConfig()
    company: CompanyConfig = CompanyConfig()
    pix: PixConfig = PixConfig()
    web: WebConfig = WebConfig()
    pbx: list[PbxConfig] = [PbxConfig()]
    dialer: DialerConfig = DialerConfig()
    recording: RecordingConfig = RecordingConfig()
    regua: ReguaConfig = ReguaConfig.model_validate({})
    smtp: SmtpConfig = SmtpConfig.model_validate({})
    gateway: GatewayConfig = GatewayConfig.model_validate({})
    qa: QaConfig = QaConfig()
    identity: IdentityConfig = IdentityConfig()
    source: str | None = Field(default=None, exclude=True)


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], environ: dict[str, str]) -> None:
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name or name == "COBRA_CONFIG":
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        node: Any = data
        for i, part in enumerate(path[:-1]):
            nxt_is_index = path[i + 1].isdigit()
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append({})
                node = node[idx]
                continue
            node = node.setdefault(part, [] if nxt_is_index else {})
        last = path[-1]
        if isinstance(node, list):
            idx = int(last)
            while len(node) <= idx:
                node.append({})
            node[idx] = _parse_env_value(raw)
        else:
            node[last] = _parse_env_value(raw)


def _key_of(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def resolve_config_path(explicit: str | os.PathLike[str] | None, environ: dict[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get("COBRA_CONFIG"):
        return Path(env["COBRA_CONFIG"])
    default = Path(DEFAULT_FILE)
    return default if default.exists() else None


def load_config(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read the configuration, apply environment overrides, validate it."""
    env = dict(os.environ if environ is None else environ)
    file = resolve_config_path(path, env)
    data: dict[str, Any] = {}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {file} not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file}: {exc}") from None
    _apply_env(data, env)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = f" in {file}" if file else ""
        raise ConfigError(f"config key {_key_of(err['loc'])!r}{where}: {err['msg']}") from None
    config.source = str(file) if file else None
    return config
