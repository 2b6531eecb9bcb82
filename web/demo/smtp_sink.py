"""The demo's SMTP sink: a real SMTP server (aiosmtpd) on loopback that keeps every mail it gets.

``cobra demo --smtp-sink`` starts it and points the demo's ``[smtp]`` at it, so the régua's
e-mails (``cobra regua run``) can be read on ``/demo/emails`` without a mail server. Each mail
is also written to ``<dir>/NNNNNN.eml`` so the page shows what arrived before a restart and
what another process sent.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Self

from aiosmtpd.smtp import SMTP, Envelope, Session

DEFAULT_PORT = 2525


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    number: int
    received_at: datetime
    mail_from: str
    rcpt_to: tuple[str, ...]
    subject: str
    body: str
    message_id: str

    @classmethod
    def parse(cls, number: int, raw: bytes, received_at: datetime, mail_from: str, rcpt_to: tuple[str, ...]) -> ReceivedMail:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        return cls(number, received_at, mail_from, rcpt_to, str(message.get("Subject", "")), str(body).strip(),
                   str(message.get("Message-ID", "")))


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.sink.store(raw, str(envelope.mail_from or ""), tuple(str(r) for r in envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpSink:
    """Keeps mails in memory (``mails``) and, given a directory, as ``.eml`` files in it."""

    def __init__(self, directory: Path | None = None, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self.mails: list[ReceivedMail] = []
        self._server: asyncio.AbstractServer | None = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def store(self, raw: bytes, mail_from: str, rcpt_to: tuple[str, ...]) -> ReceivedMail:
        number = len(self.mails) + 1
        if self.directory is not None:
            number = max([number, *(int(p.stem) + 1 for p in self.directory.glob("*.eml") if p.stem.isdigit())])
            (self.directory / f"{number:06d}.eml").write_bytes(raw)
        mail = ReceivedMail.parse(number, raw, datetime.now(UTC), mail_from, rcpt_to)
        self.mails.append(mail)
        return mail

    async def start(self) -> None:
        # aiosmtpd logs every SMTP command at INFO: the demo's console is for people
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        handler = _Handler(self)
        self._server = await loop.create_server(
            lambda: SMTP(handler, hostname="cobra-demo-sink", enable_SMTPUTF8=True), self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def read_mailbox(directory: Path, limit: int = 200) -> list[ReceivedMail]:
    """The mails stored in ``directory``, newest first."""
    if not directory.is_dir():
        return []
    files = sorted((p for p in directory.glob("*.eml") if p.stem.isdigit()), key=lambda p: int(p.stem), reverse=True)
    out = []
    for path in files[:limit]:
        at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        rcpt = tuple(str(message.get("To", "")).split(","))
        out.append(ReceivedMail.parse(int(path.stem), raw, at, str(message.get("From", "")), rcpt))
    return out
