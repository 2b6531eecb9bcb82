"""When each channel may be used (SPEC §4 applied to messages).

SMS and WhatsApp reach a phone, so they follow exactly the calling rules of that phone: the
intersection of the company default, the state laws of the address UF and of the DDD's UF,
and no national or state holiday of either. E-mail has no DDD: the company default and the
address UF's law, in Brasília time, and no holiday of the address UF. A day with no window
defers the message (the planner catches it up on the next open day); a message decided
outside the hours waits in the outbox until the window opens (``not_before``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dialer.leads.ddd import uf_of
from dialer.leads.windows import (
    COMPANY_DEFAULT,
    DEFAULT_STATE_LAWS,
    WeeklyWindow,
    effective_window,
    holiday_on,
    next_open_at,
)
from dialer.regua.rules import Channel

BRASILIA_OFFSET = timedelta(hours=-3)  # no daylight saving since 2019
HORIZON_DAYS = 21


def _email_window(uf: str | None) -> WeeklyWindow:
    window = COMPANY_DEFAULT
    if uf and uf.upper() in DEFAULT_STATE_LAWS:
        window = window & DEFAULT_STATE_LAWS[uf.upper()]
    return window


def closed_reason(channel: Channel, day: date, *, uf: str | None, phone: str | None) -> str | None:
    """Why ``channel`` can't be used on ``day`` (pt-BR), or None when it can."""
    if channel not in (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP):
        return None  # dialing and hand-off only change our own lists: the hopper judges calls
    ufs = [uf]
    if channel is not Channel.EMAIL and phone:
        ufs.append(uf_of(phone))
    holiday = holiday_on(day, ufs)
    if holiday is not None:
        return f"feriado ({holiday})"
    if channel is Channel.EMAIL:
        window = _email_window(uf)
    elif phone:
        window = effective_window(phone, uf)
    else:
        return "sem telefone"
    if window.on(day.weekday()) is None:
        return "dia sem janela de contato"
    return None


def not_before(channel: Channel, now_utc: datetime, *, uf: str | None, phone: str | None) -> datetime | None:
    """The first instant at or after ``now_utc`` the message may be delivered (UTC), None if none soon."""
    if channel in (Channel.SMS, Channel.WHATSAPP) and phone:
        return next_open_at(now_utc, phone, uf, horizon=timedelta(days=HORIZON_DAYS))
    window = _email_window(uf)
    now = now_utc.astimezone(UTC)
    local = now + BRASILIA_OFFSET
    for n in range(HORIZON_DAYS + 1):
        day = local.date() + timedelta(days=n)
        span = window.on(day.weekday())
        if span is None or holiday_on(day, [uf]) is not None:
            continue
        start = datetime.combine(day, time(), tzinfo=UTC) + timedelta(minutes=span.start) - BRASILIA_OFFSET
        end = datetime.combine(day, time(), tzinfo=UTC) + timedelta(minutes=span.end) - BRASILIA_OFFSET
        if now < end:
            return max(now, start)
    return None
