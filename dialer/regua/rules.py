"""A cadence rule: on day ``due date + offset`` do one action through one channel, if its conditions hold."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dialer.leads.aging import BUCKET_LABELS


class Anchor(StrEnum):
    """What a rule's day offset counts from."""

    DEBT = "debt"  # a contract's due date (before the agreement: reminders, notices, dialing, hand-off)
    INSTALLMENT = "installment"  # an agreement installment's due date (post-collection reminders)
    AGREEMENT = "agreement"  # the day the agreement was made (satisfaction survey)


class Action(StrEnum):
    MESSAGE = "message"  # a message through the outbox
    DIAL = "dial"  # the account goes (back) into the dialing list with a boost
    HANDOFF = "handoff"  # the account goes to an outside agency and leaves the dialer


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    CALL = "call"  # DIAL actions
    AGENCY = "agency"  # HANDOFF actions


MESSAGE_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP)
CHANNEL_LABEL_PT = {
    Channel.EMAIL: "e-mail",
    Channel.SMS: "SMS",
    Channel.WHATSAPP: "WhatsApp",
    Channel.CALL: "ligação",
    Channel.AGENCY: "assessoria externa",
}


class Offer(StrEnum):
    """Which discount a message or a call offers (the supervisor's limit is the campaign policy's)."""

    NONE = "none"
    STANDARD = "standard"  # the agent-level discount
    SUPERVISOR = "supervisor"  # the supervisor-level discount


_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
MAX_OFFSET_DAYS = 3650
MAX_BOOST = 1000


class RuleError(ValueError):
    """A rule that can't be used; ``field`` names what is wrong, ``message_pt`` says it to supervisors."""

    def __init__(self, field_name: str, message_pt: str) -> None:
        super().__init__(f"{field_name}: {message_pt}")
        self.field = field_name
        self.message_pt = message_pt


@dataclass(frozen=True, slots=True)
class Conditions:
    """What must hold for the rule to act on an account (every one that is set).

    Always implied: the target is unpaid (debt open with a balance, installment open), the
    customer is not deceased, disputing, outsourced or prescribed, the channel is not
    stopped for the customer and the customer has an address for it.
    """

    buckets: tuple[str, ...] = ()  # aging buckets ("1-30", ...); empty: any
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None
    tags_any: tuple[str, ...] = ()  # the customer has one of these tags; empty: any
    tags_none: tuple[str, ...] = ()  # the customer has none of these tags
    creditors: tuple[str, ...] = ()  # DEBT anchor: only contracts of these creditors; empty: any
    campaigns: tuple[str, ...] = ()  # only customers in one of these campaigns (by name); empty: any
    not_in_agreement: bool = True  # DEBT anchor: skip contracts covered by an active agreement

    def as_dict(self) -> dict[str, Any]:
        return {
            "buckets": list(self.buckets),
            "min_balance": None if self.min_balance is None else str(self.min_balance),
            "max_balance": None if self.max_balance is None else str(self.max_balance),
            "tags_any": list(self.tags_any),
            "tags_none": list(self.tags_none),
            "creditors": list(self.creditors),
            "campaigns": list(self.campaigns),
            "not_in_agreement": self.not_in_agreement,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Conditions:
        data = data or {}
        buckets = tuple(str(b) for b in data.get("buckets") or ())
        unknown = [b for b in buckets if b not in BUCKET_LABELS]
        if unknown:
            raise RuleError("conditions.buckets", f"faixa de atraso desconhecida: {', '.join(unknown)}")

        def money(name: str) -> Decimal | None:
            value = data.get(name)
            if value is None or value == "":
                return None
            try:
                amount = Decimal(str(value))
            except ArithmeticError:
                raise RuleError(f"conditions.{name}", f"valor inválido: {value!r}") from None
            if not amount.is_finite() or amount < 0:
                raise RuleError(f"conditions.{name}", f"valor inválido: {value!r}")
            return amount

        low, high = money("min_balance"), money("max_balance")
        if low is not None and high is not None and low > high:
            raise RuleError("conditions.max_balance", "o saldo máximo é menor que o mínimo")
        return cls(
            buckets=buckets,
            min_balance=low,
            max_balance=high,
            tags_any=tuple(str(t) for t in data.get("tags_any") or ()),
            tags_none=tuple(str(t) for t in data.get("tags_none") or ()),
            creditors=tuple(str(c) for c in data.get("creditors") or ()),
            campaigns=tuple(str(c) for c in data.get("campaigns") or ()),
            not_in_agreement=bool(data.get("not_in_agreement", True)),
        )


@dataclass(frozen=True, slots=True)
class Rule:
    """One step of the régua. ``key`` is stable (it is part of every decision's idempotency key)."""

    key: str
    name: str
    anchor: Anchor
    offset_days: int
    action: Action
    channel: Channel
    subject: str = ""  # e-mail subject template
    body: str = ""  # message template (sandboxed jinja2, pt-BR)
    boost: int = 0  # DIAL: how much higher the account's leads rank
    offer: Offer = Offer.NONE
    agency: str = ""  # HANDOFF: the agency's name (one export file per agency)
    conditions: Conditions = field(default_factory=Conditions)
    enabled: bool = True

    def __post_init__(self) -> None:
        if not _KEY.fullmatch(self.key):
            raise RuleError("key", "use de 1 a 40 letras minúsculas, dígitos, - ou _")
        if not self.name.strip():
            raise RuleError("name", "informe o nome do passo")
        if not -MAX_OFFSET_DAYS <= self.offset_days <= MAX_OFFSET_DAYS:
            raise RuleError("offset_days", f"o dia deve estar entre D-{MAX_OFFSET_DAYS} e D+{MAX_OFFSET_DAYS}")
        if self.action is Action.MESSAGE and self.channel not in MESSAGE_CHANNELS:
            raise RuleError("channel", "mensagens saem por e-mail, SMS ou WhatsApp")
        if self.action is Action.MESSAGE and not self.body.strip():
            raise RuleError("body", "informe o texto da mensagem")
        if self.action is Action.DIAL and self.channel is not Channel.CALL:
            raise RuleError("channel", "o passo de discagem usa o canal ligação")
        if self.action is Action.HANDOFF:
            if self.channel is not Channel.AGENCY:
                raise RuleError("channel", "o passo de terceirização usa o canal assessoria externa")
            if not self.agency.strip():
                raise RuleError("agency", "informe a assessoria que recebe as contas")
        if not 0 <= self.boost <= MAX_BOOST:
            raise RuleError("boost", f"o reforço de prioridade vai de 0 a {MAX_BOOST}")
        if self.anchor is not Anchor.DEBT and self.action is not Action.MESSAGE:
            raise RuleError("action", "passos de parcela e de acordo só enviam mensagens")

    @property
    def day_label(self) -> str:
        """``D-5``, ``D+0``, ``D+30``: how supervisors name the step."""
        return f"D{self.offset_days:+d}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "anchor": self.anchor.value,
            "offset_days": self.offset_days,
            "action": self.action.value,
            "channel": self.channel.value,
            "subject": self.subject,
            "body": self.body,
            "boost": self.boost,
            "offer": self.offer.value,
            "agency": self.agency,
            "conditions": self.conditions.as_dict(),
            "enabled": self.enabled,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        """A rule from its stored or posted mapping; RuleError names the field."""

        def enum_of(kind: type[StrEnum], name: str, default: str | None = None) -> Any:
            value = data.get(name, default)
            try:
                return kind(str(value))
            except ValueError:
                raise RuleError(name, f"valor desconhecido: {value!r}") from None

        try:
            offset = int(data.get("offset_days", 0))
            boost = int(data.get("boost", 0) or 0)
        except (TypeError, ValueError):
            raise RuleError("offset_days", "informe um número de dias") from None
        return cls(
            key=str(data.get("key", "")),
            name=str(data.get("name", "")),
            anchor=enum_of(Anchor, "anchor", Anchor.DEBT.value),
            offset_days=offset,
            action=enum_of(Action, "action"),
            channel=enum_of(Channel, "channel"),
            subject=str(data.get("subject") or ""),
            body=str(data.get("body") or ""),
            boost=boost,
            offer=enum_of(Offer, "offer", Offer.NONE.value),
            agency=str(data.get("agency") or ""),
            conditions=Conditions.from_dict(data.get("conditions")),
            enabled=bool(data.get("enabled", True)),
        )
