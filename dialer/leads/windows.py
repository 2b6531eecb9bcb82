"""Calling windows: when a debtor may be called, in the called person's local time (SPEC §4).

The window for a call is the intersection of the company default, the state law
of the debtor's address UF, the state law of the phone's DDD UF, the creditor's
policy, the campaign's override and what the customer declared ("só depois das
18h"); nobody is called on a national holiday or a state holiday of either UF.
Windows are half-open: ``08:00–20:00`` allows 19:59:59 and refuses 20:00:00.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

import holidays

from dialer.leads.ddd import UFS, offsets_for, uf_of

WEEKDAY_NAMES_PT = ("seg", "ter", "qua", "qui", "sex", "sáb", "dom")
_DAY_KEYS = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate(("seg", "ter", "qua", "qui", "sex", "sab", "dom"))},
    "sáb": 5,
}
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def _minutes(text: str) -> int:
    match = _HHMM.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"time must be HH:MM, got {text!r}")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"no such time of day: {text!r}")
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open range of the day, in minutes since midnight (``end`` may be 1440 = 24:00)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= 1440:
            raise ValueError(f"a time range needs 00:00 <= start < end <= 24:00, got {self}")

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """``"08:00-20:00"`` (or with an en dash) → a range."""
        parts = re.split(r"\s*[-–]\s*", text.strip())
        if len(parts) != 2:
            raise ValueError(f"a time range is written HH:MM-HH:MM, got {text!r}")
        return cls(_minutes(parts[0]), _minutes(parts[1]))

    def contains(self, moment: time) -> bool:
        """True if the time of day falls inside the range."""
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
        return self.start * 60 <= seconds < self.end * 60

    def intersect(self, other: TimeRange) -> TimeRange | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return TimeRange(start, end) if start < end else None

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}–{_hhmm(self.end)}"


DayRange = TimeRange | str | None


def _as_range(value: DayRange) -> TimeRange | None:
    return TimeRange.parse(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """One time range (or closed) per weekday, Monday first."""

    days: tuple[TimeRange | None, ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError(f"a weekly window has 7 days, got {len(self.days)}")

    @classmethod
    def of(cls, weekdays: DayRange, saturday: DayRange = None, sunday: DayRange = None) -> WeeklyWindow:
        """Same range Monday–Friday, then Saturday and Sunday (None = closed)."""
        weekday_range = _as_range(weekdays)
        return cls((weekday_range,) * 5 + (_as_range(saturday), _as_range(sunday)))

    @classmethod
    def every_day(cls, day_range: DayRange) -> WeeklyWindow:
        """Same range all seven days, e.g. a customer's "só depois das 18h" = ``"18:00-24:00"``."""
        return cls((_as_range(day_range),) * 7)

    @classmethod
    def parse(cls, spec: Mapping[str, str | None]) -> WeeklyWindow:
        """From config: keys ``mon``..``sun`` or ``seg``..``dom`` (plus ``weekdays``/``dias_uteis``).

        Values are ``"HH:MM-HH:MM"`` or empty/None for closed; a day not named is closed.
        """
        days: list[TimeRange | None] = [None] * 7
        for key, value in spec.items():
            name = key.strip().lower()
            day_range = TimeRange.parse(value) if value else None
            if name in ("weekdays", "dias_uteis"):
                days[0:5] = [day_range] * 5
            elif name in _DAY_KEYS:
                days[_DAY_KEYS[name]] = day_range
            else:
                raise ValueError(f"unknown weekday {key!r} in calling window (use mon..sun or seg..dom)")
        return cls(tuple(days))

    def on(self, weekday: int) -> TimeRange | None:
        """The range for a weekday (0 = Monday), None when closed."""
        return self.days[weekday]

    def allows(self, local: datetime) -> bool:
        """True if a local (wall-clock) moment is inside the window."""
        day_range = self.days[local.weekday()]
        return day_range is not None and day_range.contains(local.time())

    def intersect(self, other: WeeklyWindow) -> WeeklyWindow:
        return WeeklyWindow(
            tuple(a.intersect(b) if a and b else None for a, b in zip(self.days, other.days, strict=True))
        )

    __and__ = intersect

    def describe_pt(self) -> str:
        """Human summary for supervisors, e.g. ``seg 08:00–20:00, ..., dom fechado``."""
        return ", ".join(
            f"{WEEKDAY_NAMES_PT[i]} {day_range if day_range else 'fechado'}" for i, day_range in enumerate(self.days)
        )


COMPANY_DEFAULT = WeeklyWindow.of("08:00-20:00", saturday="08:00-14:00")
"""Cobra's default: Mon–Fri 08:00–20:00, Sat 08:00–14:00, never Sunday."""

DEFAULT_STATE_LAWS: Mapping[str, WeeklyWindow] = MappingProxyType(
    {
        "SP": WeeklyWindow.of("08:00-20:00", saturday="08:00-14:00"),  # Lei 15.426/2014
        "RJ": WeeklyWindow.of("09:00-19:00"),  # Lei 6.854/2014 art. 3 §4 (Lei 7.868/2018): business days
        "AL": WeeklyWindow.of("08:00-20:00", saturday="08:00-14:00"),  # Lei 7.782/2016
        # UNVERIFIED: sources conflict (Lei 4.644/2018 reported Sat 08–14; another says until 19h,
        # no Saturday); the strictest reading until legal confirms.
        "AM": WeeklyWindow.of("08:00-18:00"),
        "ES": WeeklyWindow.of("08:00-19:00"),  # UNVERIFIED: Lei 10.626/2017 text not found
    }
)
"""State collection-call laws we know of; other UFs have none (the company default applies)."""

UNVERIFIED_STATE_LAWS = frozenset({"AM", "ES"})
"""Entries of DEFAULT_STATE_LAWS legal has not confirmed; override via CallingRules.state_laws."""


class WindowLayer(StrEnum):
    """Which rule a window comes from (machine code; ``label_pt`` for people)."""

    EMPRESA = "empresa"
    LEI_UF_ENDERECO = "lei_uf_endereco"
    LEI_UF_DDD = "lei_uf_ddd"
    CREDOR = "credor"
    CAMPANHA = "campanha"
    CLIENTE = "cliente"


_LAYER_LABELS_PT = {
    WindowLayer.EMPRESA: "horário padrão da empresa",
    WindowLayer.LEI_UF_ENDERECO: "lei estadual (UF do endereço)",
    WindowLayer.LEI_UF_DDD: "lei estadual (UF do DDD)",
    WindowLayer.CREDOR: "política do credor",
    WindowLayer.CAMPANHA: "janela da campanha",
    WindowLayer.CLIENTE: "horário pedido pelo cliente",
}


class WindowReason(StrEnum):
    """Why a call is or isn't allowed now (machine codes, pt-BR words)."""

    DENTRO_DA_JANELA = "dentro_da_janela"
    FERIADO = "feriado"
    DIA_SEM_JANELA = "dia_sem_janela"
    FORA_DO_HORARIO = "fora_do_horario"


@dataclass(frozen=True)
class CallingRules:
    """Everything but the customer that shapes a window; every part can be overridden per campaign."""

    company_default: WeeklyWindow = COMPANY_DEFAULT
    state_laws: Mapping[str, WeeklyWindow] = field(default_factory=lambda: DEFAULT_STATE_LAWS)
    creditor: WeeklyWindow | None = None
    campaign: WeeklyWindow | None = None


DEFAULT_RULES = CallingRules()


@dataclass(frozen=True, slots=True)
class WindowDecision:
    """Whether a number may be called at an instant, and why (not)."""

    allowed: bool
    reason: WindowReason
    local_times: tuple[datetime, ...]
    """Wall-clock time at the callee for each offset the number may be in."""
    blocked_by: tuple[WindowLayer, ...] = ()
    holiday: str | None = None

    @property
    def message_pt(self) -> str:
        """What a supervisor or agent reads."""
        local = ", ".join(t.strftime("%d/%m/%Y %H:%M") for t in self.local_times)
        if self.reason is WindowReason.DENTRO_DA_JANELA:
            return f"Dentro do horário permitido (hora local {local})."
        if self.reason is WindowReason.FERIADO:
            return f"Feriado ({self.holiday}): sem ligações de cobrança (hora local {local})."
        rules = ", ".join(_LAYER_LABELS_PT[layer] for layer in self.blocked_by)
        if self.reason is WindowReason.DIA_SEM_JANELA:
            return f"Dia sem ligações permitidas por: {rules} (hora local {local})."
        return f"Fora do horário permitido por: {rules} (hora local {local})."


def _check_uf(uf: str | None, what: str) -> str | None:
    if uf is None or uf == "":
        return None
    normal = uf.strip().upper()
    if normal not in UFS:
        raise ValueError(f"{what}: {uf!r} is not a Brazilian UF")
    return normal


def window_layers(
    phone_e164: str,
    address_uf: str | None,
    *,
    rules: CallingRules = DEFAULT_RULES,
    customer_window: WeeklyWindow | None = None,
) -> tuple[tuple[WindowLayer, WeeklyWindow], ...]:
    """Every window that applies to a call to this number, each tagged with where it comes from."""
    address = _check_uf(address_uf, "address_uf")
    layers: list[tuple[WindowLayer, WeeklyWindow]] = [(WindowLayer.EMPRESA, rules.company_default)]
    if address is not None and address in rules.state_laws:
        layers.append((WindowLayer.LEI_UF_ENDERECO, rules.state_laws[address]))
    phone_uf = uf_of(phone_e164)
    if phone_uf in rules.state_laws and phone_uf != address:
        layers.append((WindowLayer.LEI_UF_DDD, rules.state_laws[phone_uf]))
    for layer, window in (
        (WindowLayer.CREDOR, rules.creditor),
        (WindowLayer.CAMPANHA, rules.campaign),
        (WindowLayer.CLIENTE, customer_window),
    ):
        if window is not None:
            layers.append((layer, window))
    return tuple(layers)


def effective_window(
    phone_e164: str,
    address_uf: str | None,
    *,
    rules: CallingRules = DEFAULT_RULES,
    customer_window: WeeklyWindow | None = None,
) -> WeeklyWindow:
    """The intersection of every applicable window (before holidays)."""
    result = WeeklyWindow.every_day(TimeRange(0, 1440))
    for _, window in window_layers(phone_e164, address_uf, rules=rules, customer_window=customer_window):
        result = result & window
    return result


@lru_cache(maxsize=256)
def _holidays_of(uf: str | None, year: int) -> holidays.HolidayBase:
    # National holidays are part of every subdivision's calendar; None = national only.
    return holidays.country_holidays("BR", subdiv=uf, years=year, language="pt_BR", categories=("public",))


def holiday_on(day: date, ufs: Iterable[str | None]) -> str | None:
    """The name of a national holiday, or of a state holiday of any of ``ufs``, on ``day``."""
    names = {_holidays_of(uf, day.year).get(day) for uf in {*ufs, None}}
    names.discard(None)
    return " / ".join(sorted(str(name) for name in names)) if names else None


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an instant must be timezone-aware (UTC), got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def is_callable_at(
    now_utc: datetime,
    phone_e164: str,
    address_uf: str | None,
    *,
    rules: CallingRules = DEFAULT_RULES,
    customer_window: WeeklyWindow | None = None,
) -> WindowDecision:
    """May this number be called at this instant? Judged at the callee's local time.

    When the number may be in two offsets (DDD 81/97 mobiles) the call must be
    allowed under both. Holidays: national plus both the address UF's and the DDD
    UF's state holidays.
    """
    now = _as_utc(now_utc).replace(tzinfo=None)
    layers = window_layers(phone_e164, address_uf, rules=rules, customer_window=customer_window)
    address = _check_uf(address_uf, "address_uf")
    holiday_ufs = (address, uf_of(phone_e164))
    local_times = tuple(now + offset for offset in offsets_for(phone_e164))

    for local in local_times:
        name = holiday_on(local.date(), holiday_ufs)
        if name is not None:
            return WindowDecision(False, WindowReason.FERIADO, local_times, holiday=name)

    day_closed: list[WindowLayer] = []
    out_of_hours: list[WindowLayer] = []
    for layer, window in layers:
        for local in local_times:
            if not window.allows(local):
                (out_of_hours if window.on(local.weekday()) else day_closed).append(layer)
                break
    if day_closed:
        return WindowDecision(False, WindowReason.DIA_SEM_JANELA, local_times, tuple(day_closed + out_of_hours))
    if out_of_hours:
        return WindowDecision(False, WindowReason.FORA_DO_HORARIO, local_times, tuple(out_of_hours))
    return WindowDecision(True, WindowReason.DENTRO_DA_JANELA, local_times)


def next_open_at(
    now_utc: datetime,
    phone_e164: str,
    address_uf: str | None,
    *,
    rules: CallingRules = DEFAULT_RULES,
    customer_window: WeeklyWindow | None = None,
    horizon: timedelta = timedelta(days=21),
) -> datetime | None:
    """The first instant at or after ``now_utc`` when the number may be called (UTC), or None.

    None means no opening within ``horizon`` (e.g. every day closed by some rule).
    The allowed set is a union of [start, end) ranges per local day and offset, so its
    first point at or after now is either now or the start of one of those ranges.
    """
    now = _as_utc(now_utc)

    def allowed(moment: datetime) -> bool:
        return is_callable_at(moment, phone_e164, address_uf, rules=rules, customer_window=customer_window).allowed

    if allowed(now):
        return now
    window = effective_window(phone_e164, address_uf, rules=rules, customer_window=customer_window)
    limit = now + horizon
    candidates: set[datetime] = set()
    for offset in offsets_for(phone_e164):
        local_day = (now + offset).date()
        for n in range(horizon.days + 2):
            day = local_day + timedelta(days=n)
            day_range = window.on(day.weekday())
            if day_range is None:
                continue
            local_start = datetime.combine(day, time(), tzinfo=UTC) + timedelta(minutes=day_range.start)
            start = local_start - offset
            if now < start <= limit:
                candidates.add(start)
    return next((start for start in sorted(candidates) if allowed(start)), None)
