"""What the régua's page and API do, over the database: views, opt-outs, retries, exports."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.clocks import BRASILIA
from dialer.regua.rules import CHANNEL_LABEL_PT, Channel, Rule
from dialer.regua.services import Preview
from scripting.money import format_brl, format_date_br
from storage.models import Customer, OutboxMessage, OutboxStatus
from storage.repositories import audit, outbox
from storage.repositories import regua as repo

STATUS_LABEL_PT = {
    OutboxStatus.QUEUED.value: "na fila",
    OutboxStatus.SENDING.value: "enviando",
    OutboxStatus.SENT.value: "enviada",
    OutboxStatus.FAILED.value: "falhou",
}
OPT_OUT_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.CALL)


def br_datetime(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M")


def channel_label(channel: str) -> str:
    try:
        return CHANNEL_LABEL_PT[Channel(channel)]
    except ValueError:
        return channel


def message_view(m: OutboxMessage) -> dict[str, Any]:
    status = OutboxStatus(m.status).value
    return {
        "id": m.id,
        "customer_id": m.customer_id,
        "channel": m.channel,
        "channel_label": channel_label(m.channel),
        "recipient": m.recipient,
        "subject": m.subject,
        "body": m.body,
        "status": status,
        "status_label": STATUS_LABEL_PT[status],
        "attempts": m.attempts,
        "next_attempt_at": m.next_attempt_at.isoformat(),
        "next_attempt_br": br_datetime(m.next_attempt_at),
        "last_error": m.last_error,
        "sent_at": None if m.sent_at is None else m.sent_at.isoformat(),
        "sent_br": br_datetime(m.sent_at),
        "created_at": m.created_at.isoformat(),
    }


def rule_view(rule: Rule) -> dict[str, Any]:
    c = rule.conditions
    return {
        **rule.as_dict(),
        "day_label": rule.day_label,
        "channel_label": CHANNEL_LABEL_PT[rule.channel],
        "form": {  # the conditions as the page's fields show them (lists comma-separated, money in reais)
            "buckets": ", ".join(c.buckets),
            "creditors": ", ".join(c.creditors),
            "campaigns": ", ".join(c.campaigns),
            "tags_any": ", ".join(c.tags_any),
            "tags_none": ", ".join(c.tags_none),
            "min_balance": "" if c.min_balance is None else format_brl(c.min_balance).removeprefix("R$ "),
            "max_balance": "" if c.max_balance is None else format_brl(c.max_balance).removeprefix("R$ "),
        },
    }


def preview_view(preview: Preview, limit: int = 200) -> dict[str, Any]:
    counts = preview.counts()
    by_key = {r.key: r for r in preview.rules}
    steps = [
        {"key": key, "name": by_key[key].name if key in by_key else key,
         "day_label": by_key[key].day_label if key in by_key else "",
         "channel_label": CHANNEL_LABEL_PT[by_key[key].channel] if key in by_key else "", "count": n}
        for key, n in counts.items()
    ]
    return {
        "date": preview.day.isoformat(),
        "date_br": format_date_br(preview.day),
        "total": len(preview.items),
        "steps": steps,
        "items": [
            {"rule": i.rule.key, "step": f"{i.rule.day_label} {i.rule.name}", "channel": i.rule.channel.value,
             "channel_label": CHANNEL_LABEL_PT[i.rule.channel], "customer_id": i.customer_id, "name": i.name,
             "recipient": i.recipient, "amount": str(i.amount), "amount_br": format_brl(i.amount),
             "target": i.target, "due_on": format_date_br(i.fire_on)}
            for i in preview.items[:limit]
        ],
        "skipped": [{"rule": k, "reason": reason, "count": n} for (k, reason), n in sorted(preview.skipped.items())],
    }


def normalise_keyword(text: str) -> str:
    """``" Sair! "`` and ``"SAIR"`` alike: no accents, case, punctuation or extra spaces."""
    stripped = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join("".join(c if c.isalnum() else " " for c in stripped).upper().split())


async def find_customer(db: AsyncSession, ref: str) -> Customer | None:
    """A customer by external id, or by CPF (digits, with or without punctuation)."""
    digits = "".join(c for c in ref if c.isdigit())
    match = Customer.external_id == ref.strip()
    if len(digits) == 11:
        match = or_(match, Customer.cpf == digits)
    query = select(Customer).where(match)
    return (await db.execute(query.order_by(Customer.id).limit(1))).scalar_one_or_none()


async def stop_channel(
    sessions: async_sessionmaker[AsyncSession], customer_id: int, channel: Channel, *, source: str, detail: str,
    user_id: int | None, at: datetime,
) -> bool:
    """Stop ``channel`` for the customer (audited); False when it already was stopped."""
    async with sessions.begin() as db:
        added = await repo.add_opt_out(db, customer_id=customer_id, channel=channel.value, source=source, detail=detail,
                                       user_id=user_id, at=at)
        if added:
            await audit.record(db, user_id=user_id, action="regua.opt_out", entity="customer", entity_id=customer_id,
                               at=at, after={"channel": channel.value, "source": source, "detail": detail})
        return added


async def resume_channel(
    sessions: async_sessionmaker[AsyncSession], customer_id: int, channel: Channel, *, user_id: int | None, at: datetime
) -> bool:
    async with sessions.begin() as db:
        removed = await repo.remove_opt_out(db, customer_id=customer_id, channel=channel.value)
        if removed:
            await audit.record(db, user_id=user_id, action="regua.opt_in", entity="customer", entity_id=customer_id,
                               at=at, before={"channel": channel.value})
        return removed


async def retry_message(
    sessions: async_sessionmaker[AsyncSession], message_id: int, *, user_id: int | None, at: datetime
) -> OutboxMessage | None:
    """A failed message back in the queue (audited); None when it is not a failed message."""
    async with sessions.begin() as db:
        message = await outbox.requeue_failed(db, message_id, now=at)
        if message is not None:
            await audit.record(db, user_id=user_id, action="outbox.retry", entity="outbox_message", entity_id=message_id,
                               at=at, before={"status": "failed"}, after={"status": "queued"})
        return message


EXPORT_COLUMNS = ("id_externo", "nome", "cpf", "email", "uf", "telefones", "contrato", "credor", "saldo", "vencimento",
                  "enviado_em")


async def export_agency(
    sessions: async_sessionmaker[AsyncSession], agency: str, *, user_id: int | None, at: datetime, only_new: bool = False
) -> tuple[str, int]:
    """The agency's hand-offs as CSV (``;``, pt-BR numbers and dates); marks them exported (audited)."""
    async with sessions.begin() as db:
        rows = await repo.handoffs(db, agency=agency, only_new=only_new)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        for r in rows:
            writer.writerow([
                r.external_id, r.name, r.cpf, r.email or "", r.uf or "", " ".join(r.phones), r.contract or "",
                r.creditor or "", "" if r.balance is None else format_brl(r.balance).removeprefix("R$ "),
                "" if r.due_date is None else format_date_br(r.due_date), br_datetime(r.handed_at),
            ])
        await repo.mark_exported(db, [r.id for r in rows if r.exported_at is None], at=at)
        await audit.record(db, user_id=user_id, action="regua.export", entity="agency", entity_id=agency[:64], at=at,
                           after={"rows": len(rows), "only_new": only_new})
    return out.getvalue(), len(rows)


@dataclass(frozen=True, slots=True)
class InboundResult:
    opted_out: int
    keyword: bool


async def inbound_reply(
    sessions: async_sessionmaker[AsyncSession], *, channel: Channel, sender: str, text: str, keywords: list[str],
    at: datetime,
) -> InboundResult:
    """A customer's reply from the gateway: an opt-out keyword stops that channel for every customer with that contact."""
    if normalise_keyword(text) not in {normalise_keyword(k) for k in keywords}:
        return InboundResult(0, False)
    async with sessions() as db:
        if channel is Channel.EMAIL:
            ids = await repo.customers_by_contact(db, email=sender)
        else:
            ids = await repo.customers_by_contact(db, phone=sender)
    count = 0
    for customer_id in ids:
        count += await stop_channel(sessions, customer_id, channel, source="resposta", detail=text.strip()[:200],
                                    user_id=None, at=at)
    return InboundResult(count, True)


def today_local(now: datetime) -> date:
    return now.astimezone(BRASILIA).date()
