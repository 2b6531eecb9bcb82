"""``/demo/emails`` (staff): the mails the demo's SMTP sink received and the SMS/WhatsApp its gateway
received, newest first (only with ``--smtp-sink``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from aiohttp import web

from dialer.clocks import BRASILIA
from storage.models import Role
from web.auth.access import requires
from web.auth.responses import render_page
from web.demo.gateway_sink import read_messages
from web.demo.smtp_sink import read_mailbox

MAILBOX: web.AppKey[Path] = web.AppKey("cobra.demo_mailbox", Path)


@requires(*Role)
async def emails_page(request: web.Request) -> web.Response:
    mails = read_mailbox(request.app[MAILBOX])
    messages = [
        {"channel": "SMS" if m.get("channel") == "sms" else "WhatsApp", "to": m.get("to", ""), "text": m.get("text", ""),
         "at": datetime.fromisoformat(str(m["at"])).astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M:%S") if m.get("at") else ""}
        for m in read_messages(request.app[MAILBOX])
    ]
    views = [
        {"number": m.number, "at": m.received_at.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M:%S"),
         "to": ", ".join(m.rcpt_to), "from": m.mail_from, "subject": m.subject, "body": m.body}
        for m in mails
    ]
    return render_page(request, "demo_emails.html", {"mails": views, "messages": messages})


def setup_demo_emails(app: web.Application, directory: Path) -> None:
    app[MAILBOX] = directory
    app.router.add_get("/demo/emails", emails_page, name="demo_emails")
