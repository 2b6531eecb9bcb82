"""The outbox sender against real servers: aiosmtpd on loopback for e-mail, a local aiohttp
gateway for SMS/WhatsApp that fails first; retries with backoff; a restart mid-send."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.smtp import SMTP, AuthResult
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.outbox.backoff import RetryPolicy
from dialer.outbox.sender import DrainReport, OutboxSender
from dialer.outbox.transports import (
    GatewaySettings,
    GatewayTransport,
    SmtpSettings,
    SmtpTransport,
)
from dialer.regua.services import ReguaSettings, run_day
from storage.models import OutboxMessage, OutboxStatus
from storage.repositories.outbox import ClaimedMessage
from tests.regua.portfolio import at_brt, seed
from web.demo.smtp_sink import SmtpSink

SETTINGS = ReguaSettings(grace_days=3)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


class Gateway:
    """An SMS/WhatsApp gateway that answers 503 to the first ``failures`` requests."""

    def __init__(self, failures: int, status: int = 503) -> None:
        self.failures = failures
        self.status = status
        self.requests: list[tuple[dict[str, str], Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.json()))
        if len(self.requests) <= self.failures:
            return web.Response(status=self.status, text="indisponível")
        return web.json_response({"ok": True})


async def _messages(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as db:
        return list((await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_the_due_customers_mails_reach_a_real_smtp_server(sessions: async_sessionmaker[AsyncSession]) -> None:
    p = await seed(sessions)
    for day in (date(2026, 3, 5), date(2026, 3, 16), date(2026, 3, 25)):
        await run_day(sessions, day, SETTINGS, now=at_brt(day, 7))
    clock = Clock(at_brt(date(2026, 3, 25), 9))  # inside the window for both
    async with SmtpSink(port=0) as sink:
        smtp = SmtpTransport(SmtpSettings(host="127.0.0.1", port=sink.port, from_address="cobranca@cobra.test"))
        sender = OutboxSender(sessions, {"email": smtp}, clock=clock)
        report = await sender.drain_once()
        assert (report.sent, report.failed) == (3, 0)
        again = await sender.drain_once()
        assert again.claimed == 0
    assert [(m.rcpt_to, m.subject) for m in sink.mails] == [
        (("ana@example.com",), "Lembrete: seu pagamento de R$ 500,00 vence em 10/03/2026"),
        (("carla@example.com",), "Lembrete: seu pagamento de R$ 80,00 vence em 20/03/2026"),
        (("ana@example.com",), "Ana, uma condição especial para quitar R$ 500,00"),
    ]
    assert sink.mails[0].mail_from == "cobranca@cobra.test"
    assert "Olá, Ana." in sink.mails[0].body and "contrato CT-ANA" in sink.mails[0].body
    assert all(m.message_id.startswith("<cobra-outbox-") for m in sink.mails)
    assert [m.status for m in await _messages(sessions) if m.channel == "email"] == [OutboxStatus.SENT] * 3
    del p


async def test_a_message_waits_for_the_channel_window(sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(sessions)
    day = date(2026, 3, 5)
    await run_day(sessions, day, SETTINGS, now=at_brt(day, 2))  # a run at 02:00 (Brasília)
    clock = Clock(at_brt(day, 7))
    async with SmtpSink(port=0) as sink:
        sender = OutboxSender(sessions, {"email": SmtpTransport(SmtpSettings(port=sink.port))}, clock=clock)
        assert (await sender.drain_once()).claimed == 0  # 07:00: before the 08:00 window
        clock.advance(hours=1)
        assert (await sender.drain_once()).sent == 1
    assert len(sink.mails) == 1


async def test_the_gateway_failing_first_is_retried_with_exponential_backoff(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessions)
    day = date(2026, 3, 11)
    await run_day(sessions, day, SETTINGS, now=at_brt(day, 9))  # Ana's and Bruno's D+1 SMS
    gateway = Gateway(failures=4)
    app = web.Application()
    app.router.add_post("/sms", gateway.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        settings = GatewaySettings(url=str(server.make_url("/sms")), auth_header="X-Api-Key", auth_value="segredo",
                                   body={"destino": "{to}", "mensagem": "{text}", "tipo": "{channel}", "ref": "{id}"})
        clock = Clock(at_brt(day, 10))
        policy = RetryPolicy(max_attempts=5, initial=timedelta(seconds=30), maximum=timedelta(minutes=10))
        sender = OutboxSender(sessions, {"sms": GatewayTransport(settings, "sms")}, clock=clock, policy=policy)
        first = await sender.drain_once()
        assert (first.claimed, first.retried, first.sent) == (2, 2, 0)
        waits = [m.next_attempt_at - clock.now for m in await _messages(sessions)]
        assert waits == [timedelta(seconds=30)] * 2
        assert (await sender.drain_once()).claimed == 0  # not before the backoff
        clock.advance(seconds=30)
        second = await sender.drain_once()
        assert (second.retried, second.sent) == (2, 0)
        assert [m.next_attempt_at - clock.now for m in await _messages(sessions)] == [timedelta(seconds=60)] * 2
        clock.advance(seconds=60)
        third = await sender.drain_once()
        assert (third.sent, third.retried) == (2, 0)
    messages = await _messages(sessions)
    assert [(m.status, m.attempts) for m in messages] == [(OutboxStatus.SENT, 3)] * 2
    assert len(gateway.requests) == 6
    headers, body = gateway.requests[-1]
    assert headers["X-Api-Key"] == "segredo"
    assert headers["Idempotency-Key"] == f"cobra-outbox-{messages[1].id}"
    assert body["destino"] in ("+5511987654321", "+5521987654321") and body["tipo"] == "sms"
    assert "não identificamos o pagamento" in body["mensagem"]


async def test_retries_end_in_a_final_failure_with_the_reason(sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(sessions)
    day = date(2026, 3, 11)
    await run_day(sessions, day, SETTINGS, now=at_brt(day, 9))
    gateway = Gateway(failures=100)
    app = web.Application()
    app.router.add_post("/sms", gateway.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        clock = Clock(at_brt(day, 10))
        sender = OutboxSender(sessions, {"sms": GatewayTransport(GatewaySettings(url=str(server.make_url("/sms"))), "sms")},
                              clock=clock, policy=RetryPolicy(max_attempts=2, initial=timedelta(seconds=5)))
        await sender.drain_once()
        clock.advance(seconds=5)
        report = await sender.drain_once()
        assert report.failed == 2
    for m in await _messages(sessions):
        assert m.status is OutboxStatus.FAILED and m.attempts == 2
        assert m.last_error is not None and "HTTP 503" in m.last_error and "após 2 tentativas" in m.last_error
    # a refusal (4xx) is final at once
    gateway400 = Gateway(failures=100, status=400)
    app = web.Application()
    app.router.add_post("/sms", gateway400.handle)
    async with sessions.begin() as db:
        for m in (await db.execute(select(OutboxMessage))).scalars():
            m.status, m.attempts, m.next_attempt_at = OutboxStatus.QUEUED, 0, clock.now
    async with TestServer(app, host="127.0.0.1") as server:
        sender = OutboxSender(sessions, {"sms": GatewayTransport(GatewaySettings(url=str(server.make_url("/sms"))), "sms")},
                              clock=clock)
        assert (await sender.drain_once()).failed == 2
    assert len(gateway400.requests) == 2


class _Stuck:
    """A transport that never finishes (the process dies while the message is on the wire)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def send(self, message: ClaimedMessage) -> None:
        self.started.set()
        await asyncio.Event().wait()


async def test_a_restart_mid_send_neither_loses_nor_duplicates(sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(sessions)
    day = date(2026, 3, 5)
    await run_day(sessions, day, SETTINGS, now=at_brt(day, 9))  # Ana's reminder
    clock = Clock(at_brt(day, 10))
    stuck = _Stuck()
    dying = OutboxSender(sessions, {"email": stuck}, clock=clock, lease=timedelta(minutes=2), owner="old")
    task = asyncio.create_task(dying.drain_once())
    await stuck.started.wait()
    task.cancel()  # the process is killed mid-send
    await asyncio.gather(task, return_exceptions=True)
    [message] = await _messages(sessions)
    assert (message.status, message.lease_owner) == (OutboxStatus.SENDING, "old")  # not lost: still claimed
    async with SmtpSink(port=0) as sink:
        restarted = OutboxSender(sessions, {"email": SmtpTransport(SmtpSettings(port=sink.port))}, clock=clock, owner="new")
        assert (await restarted.drain_once()).claimed == 0  # the old lease still holds: no double send
        clock.advance(minutes=2, seconds=1)
        assert (await restarted.drain_once()).sent == 1
        assert (await restarted.drain_once()).claimed == 0
        # the old sender, had it survived, can no longer record anything for that message
        report = DrainReport()
        claimed = ClaimedMessage(message.id, "email", message.recipient, message.subject, message.body, 1, None)
        await OutboxSender(sessions, {"email": stuck_free()}, clock=clock, owner="old").deliver(claimed, report)
        assert (report.sent, report.lost_lease) == (0, 1)
    assert [m.rcpt_to for m in sink.mails] == [("ana@example.com",)]
    [message] = await _messages(sessions)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


class stuck_free:
    async def send(self, message: ClaimedMessage) -> None:
        return None


async def test_the_gateway_body_is_filled_value_by_value() -> None:
    transport = GatewayTransport(GatewaySettings(url="http://x", body={"a": "{text}", "n": ["{to}", 1]}), "whatsapp")
    message = ClaimedMessage(7, "whatsapp", "+5511987654321", "", 'diz "oi" {to}', 1, None)
    assert transport.payload(message) == {"a": 'diz "oi" {to}', "n": ["+5511987654321", 1]}
    assert json.loads(json.dumps(transport.payload(message)))["a"] == 'diz "oi" {to}'


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


async def test_email_over_starttls_with_authentication(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    await seed(sessions)
    day = date(2026, 3, 5)
    await run_day(sessions, day, SETTINGS, now=at_brt(day, 9))
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"senha-certa", handled=False)  # aiosmtpd answers 535

    inbox = _Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbox, tls_context=server_tls, require_starttls=True, auth_required=True,
                     authenticator=authenticator), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        clock = Clock(at_brt(day, 10))
        wrong = SmtpSettings(host="localhost", port=port, security="starttls", username="cobra", password="errada",
                             ca_file=str(cert))
        report = await OutboxSender(sessions, {"email": SmtpTransport(wrong)}, clock=clock).drain_once()
        assert report.failed == 1 and inbox.mails == []  # 535: refused for good, with the reason
        [message] = [m for m in await _messages(sessions) if m.channel == "email"]
        assert message.last_error is not None and "SMTP 535" in message.last_error
        async with sessions.begin() as db:
            failed = await db.get(OutboxMessage, message.id)
            assert failed is not None
            failed.status, failed.attempts = OutboxStatus.QUEUED, 0
        right = SmtpSettings(host="localhost", port=port, security="starttls", username="cobra", password="senha-certa",
                             from_address="cobranca@cobra.test", ca_file=str(cert))
        assert (await OutboxSender(sessions, {"email": SmtpTransport(right)}, clock=clock).drain_once()).sent == 1
    finally:
        server.close()
        await server.wait_closed()
    # the client may try the wrong password with more than one mechanism before giving up
    assert set(logins[:-1]) == {("cobra", "errada")} and logins[-1] == ("cobra", "senha-certa")
    assert [(f, r) for f, r, _ in inbox.mails] == [("cobranca@cobra.test", ["ana@example.com"])]


class _SlowGateway:
    """Each send takes 70 s of the test's clock (under the 2-minute lease); during the second one
    another sender (another process) drains the outbox."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.other: OutboxSender | None = None
        self.sent: list[int] = []

    async def send(self, message: ClaimedMessage) -> None:
        self.clock.advance(seconds=self.seconds)
        if self.other is not None and len(self.sent) == 1:
            await self.other.drain_once()
        self.sent.append(message.id)


async def test_a_slow_batch_does_not_send_twice_what_another_sender_took_over(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessions)
    day = date(2026, 3, 16)
    await run_day(sessions, day, SETTINGS, now=at_brt(day, 9))  # 3 messages: SMS, e-mail, WhatsApp
    clock = Clock(at_brt(day, 11))
    fast = _SlowGateway(clock, 0)
    slow = _SlowGateway(clock, 70)
    slow.other = OutboxSender(sessions, {"email": fast, "sms": fast, "whatsapp": fast}, clock=clock, owner="other")
    first = OutboxSender(sessions, {"email": slow, "sms": slow, "whatsapp": slow}, clock=clock, owner="first")
    report = await first.drain_once()
    # at 140 s the third message's lease (120 s, never renewed: it was waiting its turn) had expired: the other
    # sender took it over and sent it; the first one, renewing before sending, found it gone and skipped it
    assert (len(slow.sent), len(fast.sent), report.sent, report.lost_lease) == (2, 1, 2, 1)
    assert sorted(slow.sent + fast.sent) == sorted(m.id for m in await _messages(sessions))  # each exactly once
    assert all(m.status is OutboxStatus.SENT for m in await _messages(sessions))
