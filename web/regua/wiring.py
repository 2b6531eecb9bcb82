"""The régua's parts built from the configuration (settings, transports, sender, daily run)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.clocks import Clock
from dialer.outbox.backoff import RetryPolicy
from dialer.outbox.sender import OutboxSender
from dialer.outbox.transports import (
    GatewaySettings,
    GatewayTransport,
    SmtpSettings,
    SmtpTransport,
    Transport,
)
from dialer.regua.daily import DailyRegua, parse_hhmm
from dialer.regua.services import PixSettings, ReguaSettings
from scripting.render import Empresa
from web.config import Config, GatewayChannelConfig


def regua_settings(config: Config) -> ReguaSettings:
    r = config.regua
    pix = config.pix
    return ReguaSettings(
        company=Empresa(nome=config.company.name, telefone=config.company.phone),
        catch_up_days=r.catch_up_days,
        max_per_run=r.max_per_run,
        grace_days=r.grace_days,
        broken_boost=r.broken_boost,
        offer_standard_pct=Decimal(str(r.offer_standard_pct)),
        offer_supervisor_pct=Decimal(str(r.offer_supervisor_pct)),
        pix=PixSettings(pix.key, pix.name, pix.city) if pix.key else None,
        public_url=r.public_url,
        link_secret=r.link_secret,
    )


def _gateway(channel: str, c: GatewayChannelConfig) -> GatewayTransport | None:
    if not c.url:
        return None
    settings = GatewaySettings(url=c.url, auth_header=c.auth_header, auth_value=c.auth_value, body=dict(c.body),
                               timeout_s=c.timeout_s)
    return GatewayTransport(settings, channel)


def transports(config: Config) -> dict[str, Transport]:
    """A transport per configured channel; a channel without one stays queued (and shows so on the page)."""
    s = config.smtp
    out: dict[str, Transport] = {
        "email": SmtpTransport(SmtpSettings(host=s.host, port=s.port, security=s.security, username=s.username,
                                            password=s.password, from_address=s.from_address, timeout_s=s.timeout_s,
                                            verify_tls=s.verify_tls, ca_file=s.ca_file)),
    }
    for channel, c in (("sms", config.gateway.sms), ("whatsapp", config.gateway.whatsapp)):
        transport = _gateway(channel, c)
        if transport is not None:
            out[channel] = transport
    return out


def outbox_sender(config: Config, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> OutboxSender:
    r = config.regua
    policy = RetryPolicy(max_attempts=r.send_max_attempts, initial=timedelta(seconds=r.send_backoff_initial_s),
                         maximum=timedelta(seconds=max(r.send_backoff_max_s, r.send_backoff_initial_s)))
    # a send must end before its lease does (else another sender could take the message over mid-send):
    # the lease is at least twice the longest transport timeout
    longest = max(config.smtp.timeout_s, config.gateway.sms.timeout_s, config.gateway.whatsapp.timeout_s)
    lease = timedelta(seconds=max(r.send_lease_s, 2 * longest))
    return OutboxSender(sessions, transports(config), clock=clock, policy=policy, lease=lease)


def daily_regua(config: Config, sessions: async_sessionmaker[AsyncSession], clock: Clock, sender: OutboxSender) -> DailyRegua:
    return DailyRegua(sessions, regua_settings(config), clock=clock, run_at=parse_hhmm(config.regua.run_at),
                      after_run=lambda report: sender.wake())
