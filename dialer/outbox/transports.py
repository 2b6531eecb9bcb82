"""How a message leaves Cobra: SMTP for e-mail, an HTTP gateway for SMS and WhatsApp.

Each delivery carries the outbox id as an idempotency mark (the e-mail's ``Message-ID``, the
gateway's ``Idempotency-Key`` header), so a receiver can drop the one duplicate a crash
between its acceptance and our bookkeeping could cause.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import aiohttp
import aiosmtplib

from storage.repositories.outbox import ClaimedMessage


class TemporaryFailure(Exception):
    """Worth trying again later (connection refused, timeout, 4xx SMTP, 5xx/429 HTTP)."""


class PermanentFailure(Exception):
    """Trying again will not help (address refused, 4xx HTTP other than 408/429)."""


class Transport(Protocol):
    async def send(self, message: ClaimedMessage) -> None: ...


def message_id(message: ClaimedMessage, domain: str) -> str:
    return f"<cobra-outbox-{message.id}@{domain}>"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"  # "none" | "starttls" | "tls"
    username: str | None = None
    password: str | None = None
    from_address: str = "cobranca@localhost"
    timeout_s: float = 30.0
    verify_tls: bool = True
    ca_file: str | None = None  # a private CA that signed the server's certificate


class SmtpTransport:
    """E-mail, one SMTP session per message (few messages, and a broken session costs one)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._tls: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext | None:
        # built once: loading the system's CA bundle costs tens of milliseconds
        s = self.settings
        if s.security == "none":
            return None
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=s.ca_file) if s.verify_tls else ssl._create_unverified_context()
        return self._tls

    def build(self, message: ClaimedMessage) -> EmailMessage:
        s = self.settings
        mail = EmailMessage()
        mail["From"] = s.from_address
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message, s.from_address.rpartition("@")[2] or "cobra")
        mail.set_content(message.body, charset="utf-8")
        return mail

    async def send(self, message: ClaimedMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                self.build(message),
                hostname=s.host,
                port=s.port,
                username=s.username or None,
                password=s.password or None,
                use_tls=s.security == "tls",
                start_tls=s.security == "starttls",
                tls_context=self._tls_context(),
                timeout=s.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            permanent = all(getattr(r, "code", 500) >= 500 for r in exc.recipients)
            raise (PermanentFailure if permanent else TemporaryFailure)(f"SMTP recusou o destinatário: {exc}") from None
        except aiosmtplib.SMTPResponseException as exc:
            kind = PermanentFailure if exc.code >= 500 else TemporaryFailure
            raise kind(f"SMTP {exc.code}: {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"SMTP indisponível: {exc}") from None


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """An HTTP gateway for SMS or WhatsApp: POST ``url`` with a JSON body built from ``body``.

    ``body`` is a JSON object whose string values may hold ``{to}``, ``{text}``, ``{channel}``
    and ``{id}``; they are replaced value by value (never by pasting into JSON text), so a
    message can't change the body's structure.
    """

    url: str
    auth_header: str = "Authorization"
    auth_value: str | None = None
    body: Mapping[str, Any] = field(default_factory=lambda: {"to": "{to}", "text": "{text}"})
    timeout_s: float = 15.0


def _fill(value: Any, fields: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        out = value
        for name, text in fields.items():
            out = out.replace("{" + name + "}", text)
        return out
    if isinstance(value, Mapping):
        return {k: _fill(v, fields) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, fields) for v in value]
    return value


class GatewayTransport:
    def __init__(self, settings: GatewaySettings, channel: str, session: aiohttp.ClientSession | None = None) -> None:
        self.settings = settings
        self.channel = channel
        self._session = session

    def payload(self, message: ClaimedMessage) -> Any:
        fields = {"to": message.recipient, "text": message.body, "channel": self.channel, "id": str(message.id)}
        return _fill(dict(self.settings.body), fields)

    async def send(self, message: ClaimedMessage) -> None:
        s = self.settings
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"cobra-outbox-{message.id}"}
        if s.auth_value:
            headers[s.auth_header] = s.auth_value
        session = self._session or aiohttp.ClientSession()
        try:
            async with session.post(
                s.url, data=json.dumps(self.payload(message), ensure_ascii=False).encode(), headers=headers,
                timeout=aiohttp.ClientTimeout(total=s.timeout_s),
            ) as response:
                if response.status < 300:
                    return
                text = (await response.text())[:300]
                if response.status in (408, 429) or response.status >= 500:
                    raise TemporaryFailure(f"gateway HTTP {response.status}: {text}")
                raise PermanentFailure(f"gateway HTTP {response.status}: {text}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TemporaryFailure(f"gateway indisponível: {exc!r}") from None
        finally:
            if self._session is None:
                await session.close()
