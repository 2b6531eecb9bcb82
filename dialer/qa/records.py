"""The call records' filters and keyset cursor (pure: no I/O).

``GET /api/v1/calls`` and its CSV read the same :class:`CallFilter`. Pages are ordered by
``(created_at, id)`` descending; the cursor is the last row's key, opaque to clients
(URL-safe base64 of a small JSON). Every problem names its field (pt-BR message).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

BRASILIA = timezone(timedelta(hours=-3))  # no daylight saving since 2019
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_RANGE_DAYS = 366
RESULTS = ("connected", "answered", "machine", "abandoned", "busy", "no_answer", "congestion", "failed", "cancelled")
OUTCOMES = (
    "ACORDO", "PROMESSA", "RECUSA", "SEM_CONDICOES", "CONTESTA", "JA_PAGO", "RETORNAR", "RECADO",
    "TELEFONE_ERRADO", "FALECIDO",
)
KNOWN_PARAMS = frozenset(
    {"from", "to", "agent", "outcome", "campaign", "result", "min_talk", "max_talk", "min_amount", "max_amount",
     "flagged", "reviewed", "cursor", "limit"}
)
_LOGIN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ID = re.compile(r"[0-9a-f]{1,32}")


class InvalidFilter(ValueError):
    """A filter the API refuses: ``field`` is the query parameter, ``message`` is pt-BR."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Cursor:
    """The key of the last row of a page: the next page starts strictly after it."""

    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = json.dumps([self.created_at.astimezone(UTC).isoformat(), self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """The cursor a page answered as ``next``; InvalidFilter("cursor") for anything else."""
    bad = InvalidFilter("cursor", "cursor inválido: use o valor de \"next\" da página anterior")
    if not token or len(token) > 200:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        at_text, call_id = json.loads(raw)
        at = datetime.fromisoformat(at_text)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if at.tzinfo is None or not isinstance(call_id, str) or _ID.fullmatch(call_id) is None:
        raise bad
    return Cursor(at.astimezone(UTC), call_id)


@dataclass(frozen=True, slots=True)
class CallFilter:
    """What a reviewer asked for; ``None`` means "any"."""

    start: datetime | None = None  # inclusive, UTC
    end: datetime | None = None  # exclusive, UTC
    agent: str | None = None
    outcome: str | None = None
    campaign_id: int | None = None
    result: str | None = None
    min_talk_s: int | None = None
    max_talk_s: int | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    flagged: bool | None = None
    reviewed: bool | None = None
    cursor: Cursor | None = None
    limit: int = DEFAULT_LIMIT
    ids: tuple[str, ...] = field(default=())  # the review queue's picks (not a query parameter)

    def after(self, cursor: Cursor | None) -> CallFilter:
        return replace(self, cursor=cursor)


def local_day_start(day: date) -> datetime:
    """00:00 in Brasília of ``day``, as UTC (the days reviewers pick are local days)."""
    return datetime.combine(day, time(0), BRASILIA).astimezone(UTC)


def _date(params: Mapping[str, str], name: str) -> date | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidFilter(name, f"{name}: use uma data AAAA-MM-DD (ex.: 2026-05-01)") from None


def _int(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not low <= int(raw) <= high:
        raise InvalidFilter(name, f"{name}: use um número inteiro de {low} a {high}")
    return int(raw)


def _amount(params: Mapping[str, str], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    text = raw.strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or value > Decimal("999999999999.99") or len(text) > 20:
        raise InvalidFilter(name, f"{name}: use um valor em reais, ex.: 1234,56")
    return value.quantize(Decimal("0.01"))


def _bool(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw in ("true", "1", "sim"):
        return True
    if raw in ("false", "0", "nao", "não"):
        return False
    raise InvalidFilter(name, f"{name}: use true ou false")


def parse_filters(params: Mapping[str, str], *, cursor_allowed: bool = True) -> CallFilter:
    """The filter of a query string; InvalidFilter naming the first bad parameter."""
    unknown = sorted(set(params) - KNOWN_PARAMS)
    if unknown:
        raise InvalidFilter(unknown[0], f"{unknown[0]}: parâmetro desconhecido")
    day_from, day_to = _date(params, "from"), _date(params, "to")
    if day_from is not None and day_to is not None:
        if day_to < day_from:
            raise InvalidFilter("to", "to: a data final não pode ser anterior à inicial")
        if (day_to - day_from).days > MAX_RANGE_DAYS:
            raise InvalidFilter("to", f"to: o período pode ter no máximo {MAX_RANGE_DAYS} dias")
    agent = params.get("agent") or None
    if agent is not None and _LOGIN.fullmatch(agent) is None:
        raise InvalidFilter("agent", "agent: informe o login do operador")
    outcome = params.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        raise InvalidFilter("outcome", f"outcome: use um de {', '.join(OUTCOMES)}")
    result = params.get("result") or None
    if result is not None and result not in RESULTS:
        raise InvalidFilter("result", f"result: use um de {', '.join(RESULTS)}")
    min_talk, max_talk = _int(params, "min_talk", 0, 86_400), _int(params, "max_talk", 0, 86_400)
    if min_talk is not None and max_talk is not None and max_talk < min_talk:
        raise InvalidFilter("max_talk", "max_talk: não pode ser menor que min_talk")
    min_amount, max_amount = _amount(params, "min_amount"), _amount(params, "max_amount")
    if min_amount is not None and max_amount is not None and max_amount < min_amount:
        raise InvalidFilter("max_amount", "max_amount: não pode ser menor que min_amount")
    token = params.get("cursor") or None
    if token is not None and not cursor_allowed:
        raise InvalidFilter("cursor", "cursor: a exportação não é paginada")
    limit = _int(params, "limit", 1, MAX_LIMIT)
    return CallFilter(
        start=None if day_from is None else local_day_start(day_from),
        end=None if day_to is None else local_day_start(day_to + timedelta(days=1)),
        agent=agent,
        outcome=outcome,
        campaign_id=_int(params, "campaign", 1, 2**31 - 1),
        result=result,
        min_talk_s=min_talk,
        max_talk_s=max_talk,
        min_amount=min_amount,
        max_amount=max_amount,
        flagged=_bool(params, "flagged"),
        reviewed=_bool(params, "reviewed"),
        cursor=None if token is None else decode_cursor(token),
        limit=DEFAULT_LIMIT if limit is None else limit,
    )


def talk_seconds(connected_at: datetime | None, ended_at: datetime | None) -> int | None:
    """Whole seconds the customer talked to the agent (None: never connected or not ended)."""
    if connected_at is None or ended_at is None:
        return None
    return max(0, int((ended_at - connected_at).total_seconds()))


def mask_name(name: str) -> str:
    """``Maria S.``: first name and last-name initial (what the pop shows before identity, SPEC §6)."""
    parts = name.split()
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


def mask_number(e164: str) -> str:
    """``(11) *****-4321``: area code and last four digits."""
    if e164.startswith("+55") and e164[3:].isdigit():  # the stored form: the fast path of a million-row export
        national = e164[3:]
        return f"({national[:2]}) {'*' * max(0, len(national) - 6)}-{national[-4:]}"
    digits = "".join(c for c in e164 if c.isdigit())
    national = digits.removeprefix("55")
    ddd, rest = national[:2], national[2:]
    return f"({ddd}) {'*' * max(0, len(rest) - 4)}-{rest[-4:]}"


__all__ = [
    "BRASILIA", "DEFAULT_LIMIT", "MAX_LIMIT", "OUTCOMES", "RESULTS", "CallFilter", "Cursor", "InvalidFilter",
    "decode_cursor", "local_day_start", "mask_name", "mask_number", "parse_filters", "talk_seconds",
]
