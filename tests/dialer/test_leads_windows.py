from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.leads.ddd import UF_BY_DDD, UFS, WESTERN_AM_PREFIXES
from dialer.leads.windows import (
    COMPANY_DEFAULT,
    DEFAULT_STATE_LAWS,
    UNVERIFIED_STATE_LAWS,
    CallingRules,
    TimeRange,
    WeeklyWindow,
    WindowLayer,
    WindowReason,
    effective_window,
    holiday_on,
    is_callable_at,
    next_open_at,
)

UTC = UTC
SP_MOBILE = "+5511987654321"
RJ_MOBILE = "+5521987654321"
AC_MOBILE = "+5568999123456"


def at_local(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0, *, utc_offset: int = -3) -> datetime:
    """A UTC instant given the wall-clock time at a UTC offset (in hours)."""
    local = datetime(year, month, day, hour, minute, second)
    return (local - timedelta(hours=utc_offset)).replace(tzinfo=UTC)


# --- TimeRange / WeeklyWindow -------------------------------------------------------------


def test_time_range_is_half_open() -> None:
    day_range = TimeRange.parse("08:00-20:00")
    assert day_range.contains(time(8, 0))
    assert day_range.contains(time(19, 59, 59))
    assert not day_range.contains(time(20, 0))
    assert not day_range.contains(time(7, 59, 59))
    assert str(day_range) == "08:00–20:00"
    assert TimeRange.parse("18:00 – 24:00").contains(time(23, 59, 59))


@pytest.mark.parametrize("bad", ["8-20", "08:00", "20:00-08:00", "08:00-08:00", "08:60-09:00", "24:01-24:30", "25:00-26:00"])
def test_time_range_rejects_nonsense(bad: str) -> None:
    with pytest.raises(ValueError):
        TimeRange.parse(bad)


def test_intersection_of_ranges_and_weeks() -> None:
    assert TimeRange.parse("08:00-20:00").intersect(TimeRange.parse("09:00-19:00")) == TimeRange.parse("09:00-19:00")
    assert TimeRange.parse("08:00-12:00").intersect(TimeRange.parse("12:00-14:00")) is None
    both = COMPANY_DEFAULT & DEFAULT_STATE_LAWS["RJ"]
    assert both.on(0) == TimeRange.parse("09:00-19:00")
    assert both.on(5) is None and both.on(6) is None


def test_weekly_window_from_config_keys_in_english_or_portuguese() -> None:
    window = WeeklyWindow.parse({"dias_uteis": "09:00-18:00", "sab": "09:00-12:00"})
    assert window == WeeklyWindow.parse({"weekdays": "09:00-18:00", "sat": "09:00-12:00", "sun": None})
    assert window.on(4) == TimeRange.parse("09:00-18:00") and window.on(6) is None
    assert window.describe_pt().endswith("sáb 09:00–12:00, dom fechado")
    with pytest.raises(ValueError, match="unknown weekday 'domingo'"):
        WeeklyWindow.parse({"domingo": "08:00-10:00"})
    with pytest.raises(ValueError, match="7 days"):
        WeeklyWindow((None,) * 6)


def test_company_default_and_state_law_table() -> None:
    assert COMPANY_DEFAULT.describe_pt() == (
        "seg 08:00–20:00, ter 08:00–20:00, qua 08:00–20:00, qui 08:00–20:00, sex 08:00–20:00, "
        "sáb 08:00–14:00, dom fechado"
    )
    assert DEFAULT_STATE_LAWS["SP"] == DEFAULT_STATE_LAWS["AL"] == COMPANY_DEFAULT
    assert DEFAULT_STATE_LAWS["RJ"] == WeeklyWindow.of("09:00-19:00")
    assert DEFAULT_STATE_LAWS["AM"] == WeeklyWindow.of("08:00-18:00")
    assert DEFAULT_STATE_LAWS["ES"] == WeeklyWindow.of("08:00-19:00")
    assert UNVERIFIED_STATE_LAWS == {"AM", "ES"}


# --- the reference's test vectors -----------------------------------------------------------

# 2025-07-12 is a Saturday, 2025-07-10 a Thursday, 2025-07-13 a Sunday.


def test_sp_saturday_afternoon() -> None:
    assert is_callable_at(at_local(2025, 7, 12, 13, 59), SP_MOBILE, "SP").allowed
    late = is_callable_at(at_local(2025, 7, 12, 14, 1), SP_MOBILE, "SP")
    assert not late.allowed and late.reason is WindowReason.FORA_DO_HORARIO
    assert WindowLayer.EMPRESA in late.blocked_by


def test_rj_no_saturday_and_nothing_after_19h() -> None:
    saturday = is_callable_at(at_local(2025, 7, 12, 10), RJ_MOBILE, "RJ")
    assert not saturday.allowed and saturday.reason is WindowReason.DIA_SEM_JANELA
    assert saturday.blocked_by == (WindowLayer.LEI_UF_ENDERECO,)
    assert not is_callable_at(at_local(2025, 7, 10, 19, 1), RJ_MOBILE, "RJ").allowed
    assert not is_callable_at(at_local(2025, 7, 10, 8, 30), RJ_MOBILE, "RJ").allowed
    assert is_callable_at(at_local(2025, 7, 10, 18, 59), RJ_MOBILE, "RJ").allowed


def test_sunday_is_never_callable() -> None:
    decision = is_callable_at(at_local(2025, 7, 13, 10), "+5531991234567", "MG")
    assert not decision.allowed and decision.reason is WindowReason.DIA_SEM_JANELA


def test_address_law_and_ddd_law_both_apply() -> None:
    # SP phone, debtor lives in RJ: RJ's 09h start holds; RJ phone, SP address: same.
    for phone, address in ((SP_MOBILE, "RJ"), (RJ_MOBILE, "SP")):
        decision = is_callable_at(at_local(2025, 7, 10, 8, 30), phone, address)
        assert not decision.allowed
        assert decision.blocked_by in ((WindowLayer.LEI_UF_ENDERECO,), (WindowLayer.LEI_UF_DDD,))
    assert is_callable_at(at_local(2025, 7, 10, 8, 30), SP_MOBILE, "SP").allowed


def test_amazonas_law_ends_at_18h_local() -> None:
    manaus = "+5592991234567"
    assert not is_callable_at(at_local(2025, 7, 10, 18, 30, utc_offset=-4), manaus, "AM").allowed
    assert is_callable_at(at_local(2025, 7, 10, 17, 30, utc_offset=-4), manaus, "AM").allowed
    # Mato Grosso has the same offset and no state law
    assert is_callable_at(at_local(2025, 7, 10, 18, 30, utc_offset=-4), "+5565991234567", "MT").allowed


def test_unverified_law_can_be_overridden() -> None:
    rules = CallingRules(state_laws={**DEFAULT_STATE_LAWS, "AM": WeeklyWindow.of("08:00-19:00", saturday="08:00-14:00")})
    assert is_callable_at(at_local(2025, 7, 10, 18, 30, utc_offset=-4), "+5592991234567", "AM", rules=rules).allowed


@pytest.mark.parametrize("phone, address", [(SP_MOBILE, "SP"), (RJ_MOBILE, None), (AC_MOBILE, "AC"), ("+5581987654321", "PE")])
def test_national_holiday_blocks_everyone(phone: str, address: str | None) -> None:
    decision = is_callable_at(at_local(2025, 11, 20, 12), phone, address)  # Consciência Negra, Thursday
    assert not decision.allowed and decision.reason is WindowReason.FERIADO
    assert "Consciência Negra" in (decision.holiday or "")
    assert decision.message_pt.startswith("Feriado (")


def test_state_holiday_of_either_uf_blocks() -> None:
    # 09/07/2025 (Wednesday): Revolução Constitucionalista, SP only
    noon = at_local(2025, 7, 9, 12)
    assert is_callable_at(noon, SP_MOBILE, "SP").reason is WindowReason.FERIADO
    assert is_callable_at(noon, SP_MOBILE, None).reason is WindowReason.FERIADO  # DDD UF
    assert is_callable_at(noon, RJ_MOBILE, "SP").reason is WindowReason.FERIADO  # address UF
    assert is_callable_at(noon, RJ_MOBILE, "RJ").allowed
    # 23/04/2025: São Jorge, RJ only
    assert is_callable_at(at_local(2025, 4, 23, 12), SP_MOBILE, "RJ").reason is WindowReason.FERIADO
    assert is_callable_at(at_local(2025, 4, 23, 12), SP_MOBILE, "SP").allowed


def test_holiday_is_judged_on_the_callee_local_date() -> None:
    # 04:00 UTC on 21/11/2025 is still 20/11 (holiday) 23:00 in Acre but already 21/11 01:00
    # at UTC-3; with a 24 h window (and no state law) that difference is all that decides.
    always = CallingRules(company_default=WeeklyWindow.every_day("00:00-24:00"))
    instant = datetime(2025, 11, 21, 4, 0, tzinfo=UTC)
    assert is_callable_at(instant, AC_MOBILE, "AC", rules=always).reason is WindowReason.FERIADO
    assert is_callable_at(instant, "+5531991234567", "MG", rules=always).allowed


def test_acre_at_23h_in_sao_paulo_needs_a_campaign_window_allowing_21h() -> None:
    instant = at_local(2025, 7, 10, 23)  # Thursday 23:00 in São Paulo
    assert is_callable_at(instant, AC_MOBILE, "AC").local_times[0].hour == 21
    assert not is_callable_at(instant, AC_MOBILE, "AC").allowed  # company default ends at 20h
    late_company = WeeklyWindow.of("08:00-22:00", saturday="08:00-14:00")
    allows_21h = CallingRules(company_default=late_company, campaign=WeeklyWindow.of("08:00-21:30"))
    refuses_21h = CallingRules(company_default=late_company, campaign=WeeklyWindow.of("08:00-21:00"))
    assert is_callable_at(instant, AC_MOBILE, "AC", rules=allows_21h).allowed
    decision = is_callable_at(instant, AC_MOBILE, "AC", rules=refuses_21h)
    assert not decision.allowed and decision.blocked_by == (WindowLayer.CAMPANHA,)
    # ...and a São Paulo number at that instant is out of hours whatever the campaign says
    assert not is_callable_at(instant, SP_MOBILE, "SP", rules=allows_21h).allowed


def test_noronha_landline_is_an_hour_ahead() -> None:
    instant = at_local(2025, 7, 10, 19, 30)  # 19:30 in Recife = 20:30 in Noronha
    assert is_callable_at(instant, "+558132123456", "PE").allowed
    assert not is_callable_at(instant, "+558136191234", "PE").allowed
    assert not is_callable_at(instant, "+5581987654321", "PE").allowed  # mobile: stricter of both


def test_western_amazonas_mobile_takes_the_stricter_window() -> None:
    instant = datetime(2025, 7, 10, 12, 30, tzinfo=UTC)  # 08:30 UTC-4, 07:30 UTC-5
    assert is_callable_at(instant, "+559734121234", "AM").allowed  # Tabatinga landline
    assert not is_callable_at(instant, "+559734151234", "AM").allowed  # Benjamin Constant landline
    mobile = is_callable_at(instant, "+5597987654321", "AM")
    assert not mobile.allowed and len(mobile.local_times) == 2


def test_customer_declared_window_and_creditor_policy() -> None:
    after_18 = WeeklyWindow.every_day("18:00-24:00")
    early = is_callable_at(at_local(2025, 7, 10, 17), SP_MOBILE, "SP", customer_window=after_18)
    assert not early.allowed and early.blocked_by == (WindowLayer.CLIENTE,)
    assert "horário pedido pelo cliente" in early.message_pt
    assert is_callable_at(at_local(2025, 7, 10, 18, 30), SP_MOBILE, "SP", customer_window=after_18).allowed
    creditor = CallingRules(creditor=WeeklyWindow.of("09:00-17:00"))
    decision = is_callable_at(at_local(2025, 7, 10, 17, 30), SP_MOBILE, "SP", rules=creditor)
    assert decision.blocked_by == (WindowLayer.CREDOR,)


def test_effective_window_is_the_intersection() -> None:
    window = effective_window(SP_MOBILE, "RJ", rules=CallingRules(campaign=WeeklyWindow.of("10:00-22:00", "09:00-13:00")))
    assert window.on(0) == TimeRange.parse("10:00-19:00")
    assert window.on(5) is None


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_callable_at(datetime(2025, 7, 10, 12), SP_MOBILE, "SP")
    with pytest.raises(ValueError, match="address_uf: 'XX'"):
        is_callable_at(at_local(2025, 7, 10, 12), SP_MOBILE, "XX")
    assert is_callable_at(at_local(2025, 7, 10, 12), SP_MOBILE, "sp").allowed  # case-insensitive


def test_holiday_on_names_national_and_state_holidays() -> None:
    assert holiday_on(date(2025, 12, 25), []) == "Natal"
    assert holiday_on(date(2025, 7, 9), ["RJ"]) is None
    assert holiday_on(date(2025, 7, 9), ["RJ", "SP"]) == "Revolução Constitucionalista"


# --- next_open_at ---------------------------------------------------------------------------


def test_next_open_is_now_when_open() -> None:
    now = at_local(2025, 7, 10, 12)
    assert next_open_at(now, SP_MOBILE, "SP") == now


def test_next_open_after_friday_evening() -> None:
    friday_night = at_local(2025, 7, 11, 20, 30)
    assert next_open_at(friday_night, SP_MOBILE, "SP") == at_local(2025, 7, 12, 8)
    assert next_open_at(friday_night, RJ_MOBILE, "RJ") == at_local(2025, 7, 14, 9)
    assert next_open_at(friday_night, AC_MOBILE, "AC") == friday_night  # 18:30 in Acre: still open
    acre_night = at_local(2025, 7, 11, 20, 30, utc_offset=-5)
    assert next_open_at(acre_night, AC_MOBILE, "AC") == at_local(2025, 7, 12, 8, utc_offset=-5)


def test_next_open_skips_holidays() -> None:
    # Wednesday 19/11/2025 21:00 → Thursday 20/11 is a holiday → Friday 21/11 08:00
    assert next_open_at(at_local(2025, 11, 19, 21), SP_MOBILE, "SP") == at_local(2025, 11, 21, 8)


def test_next_open_with_two_offsets_waits_for_the_later_one() -> None:
    before = datetime(2025, 7, 10, 11, 0, tzinfo=UTC)  # 07:00 UTC-4, 06:00 UTC-5
    assert next_open_at(before, "+5597987654321", "AM") == datetime(2025, 7, 10, 13, 0, tzinfo=UTC)


def test_next_open_is_none_when_never_open() -> None:
    closed = CallingRules(campaign=WeeklyWindow((None,) * 7))
    assert next_open_at(at_local(2025, 7, 10, 12), SP_MOBILE, "SP", rules=closed) is None


# --- properties -----------------------------------------------------------------------------

ZONE_BY_HOURS = {-2: "America/Noronha", -3: "America/Sao_Paulo", -4: "America/Manaus", -5: "America/Rio_Branco"}
# Written out independently of dialer.leads.ddd: hours per DDD (81/97 handled below).
HOURS_BY_DDD = {ddd: -3 for ddd in UF_BY_DDD} | {"65": -4, "66": -4, "67": -4, "69": -4, "92": -4, "95": -4, "68": -5}
# What the laws say, as (weekday start, end, saturday start, end) hours; None = closed that day.
LAW_HOURS = {
    "SP": ((8, 20), (8, 14)),
    "RJ": ((9, 19), None),
    "AL": ((8, 20), (8, 14)),
    "AM": ((8, 18), None),
    "ES": ((8, 19), None),
}


def zones_for(ddd: str, subscriber: str) -> list[ZoneInfo]:
    if ddd == "81":
        hours = [-2] if subscriber[:4] == "3619" and len(subscriber) == 8 else [-3] if len(subscriber) == 8 else [-3, -2]
    elif ddd == "97":
        hours = [-4, -5] if len(subscriber) == 9 else [-5] if subscriber[:4] in WESTERN_AM_PREFIXES else [-4]
    else:
        hours = [HOURS_BY_DDD[ddd]]
    return [ZoneInfo(ZONE_BY_HOURS[h]) for h in hours]


def in_hours(local: datetime, weekday: tuple[int, int] | None, saturday: tuple[int, int] | None) -> bool:
    wd = local.weekday()
    hours = weekday if wd < 5 else saturday if wd == 5 else None
    return hours is not None and hours[0] <= local.hour < hours[1]


@cache
def calendar_of(uf: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("BR", subdiv=uf, years=year)


def oracle_allows(instant: datetime, ddd: str, subscriber: str, address: str | None, campaign: tuple[int, int] | None) -> bool:
    ufs = {UF_BY_DDD[ddd], address} - {None}
    for zone in zones_for(ddd, subscriber):
        local = instant.astimezone(zone)
        for uf in ufs | {"BR"}:
            if local.date() in calendar_of(None if uf == "BR" else uf, local.year):
                return False
        if not in_hours(local, (8, 20), (8, 14)):
            return False
        for uf in ufs:
            if uf in LAW_HOURS and not in_hours(local, *LAW_HOURS[uf]):
                return False
        if campaign is not None and not in_hours(local, campaign, campaign):
            return False
    return True


# Lean on the interesting cases: DDDs and addresses with state laws or odd offsets, and
# instants on whole and half hours (where windows open and close) as well as anywhere.
interesting_ddds = st.sampled_from(["11", "21", "22", "27", "82", "92", "97", "68", "81", "65", "31"])
phones = st.tuples(
    st.one_of(interesting_ddds, st.sampled_from(sorted(UF_BY_DDD))),
    st.one_of(
        st.from_regex(r"9[1-9][0-9]{7}", fullmatch=True),
        st.from_regex(r"[2-5][0-9]{7}", fullmatch=True),
        st.sampled_from(["36191234", "34151234", "34121234", "34631234"]),
    ),
)
addresses = st.one_of(st.none(), st.sampled_from(["SP", "RJ", "AL", "AM", "ES", "AC", "PE"]), st.sampled_from(sorted(UFS)))
instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
# Wall-clock times at the callee around business hours, where windows open and close.
local_times = st.builds(
    lambda day, hour, minute, second: datetime.combine(day, time(hour, minute, second)),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(6, 21),
    st.sampled_from([0, 30, 59]),
    st.sampled_from([0, 59]),
)
campaigns = st.one_of(st.none(), st.tuples(st.integers(0, 22), st.integers(1, 12)).map(lambda p: (p[0], min(24, p[0] + p[1]))))


@settings(max_examples=500, deadline=None)
@given(
    moment=st.one_of(instants, local_times),
    phone=phones,
    address=addresses,
    campaign=campaigns,
)
def test_is_callable_at_agrees_with_an_independent_oracle(
    moment: datetime, phone: tuple[str, str], address: str | None, campaign: tuple[int, int] | None
) -> None:
    ddd, subscriber = phone
    # a naive moment is a wall-clock time at the callee (its first candidate zone)
    instant = moment if moment.tzinfo else moment.replace(tzinfo=zones_for(ddd, subscriber)[0]).astimezone(UTC)
    rules = CallingRules(campaign=None if campaign is None else WeeklyWindow.every_day(TimeRange(campaign[0] * 60, campaign[1] * 60)))
    decision = is_callable_at(instant, f"+55{ddd}{subscriber}", address, rules=rules)
    assert decision.allowed == oracle_allows(instant, ddd, subscriber, address, campaign)


@settings(max_examples=400, deadline=None)
@given(day=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), phone=phones, address=st.sampled_from(sorted(UFS)), minute=st.integers(8 * 60, 14 * 60 - 1))
def test_never_callable_on_a_holiday_of_either_state(day: date, phone: tuple[str, str], address: str, minute: int) -> None:
    ddd, subscriber = phone
    zone = zones_for(ddd, subscriber)[0]
    instant = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)
    national_or_state = any(
        day in holidays.country_holidays("BR", subdiv=uf, years=day.year) for uf in (address, UF_BY_DDD[ddd])
    )
    if national_or_state:
        assert not is_callable_at(instant, f"+55{ddd}{subscriber}", address).allowed


@settings(max_examples=60, deadline=None)
@given(instant=instants, phone=phones, address=addresses)
def test_next_open_at_is_the_first_open_instant(instant: datetime, phone: tuple[str, str], address: str | None) -> None:
    number = f"+55{phone[0]}{phone[1]}"
    opens = next_open_at(instant, number, address)
    assert opens is not None  # the default rules open at least every weekday that isn't a holiday
    assert opens >= instant
    assert is_callable_at(opens, number, address).allowed
    # nothing in between is open: look every 10 minutes and just before
    probe = instant
    while probe < opens:
        assert not is_callable_at(probe, number, address).allowed
        probe += timedelta(minutes=10)
    if opens > instant:
        assert not is_callable_at(opens - timedelta(seconds=1), number, address).allowed


# One number per (UF, offset) case that matters, including both settled and unsettled 81/97.
SWEEP_PHONES = [
    ("11", "987654321"), ("21", "987654321"), ("27", "32123456"), ("82", "987654321"), ("92", "987654321"),
    ("97", "987654321"), ("97", "34151234"), ("68", "999123456"), ("81", "36191234"), ("81", "987654321"),
    ("65", "32123456"), ("31", "991234567"),
]


@pytest.mark.parametrize("address", [None, "SP", "RJ", "AL", "AM", "ES", "MG"])
def test_a_whole_week_every_half_hour_agrees_with_the_oracle(address: str | None) -> None:
    monday = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)  # a week with no holiday in any UF
    assert not any(
        d in holidays.country_holidays("BR", subdiv=uf, years=2025)
        for uf in UFS
        for d in (date(2025, 6, 1) + timedelta(days=n) for n in range(9))
    )
    for ddd, subscriber in SWEEP_PHONES:
        number = f"+55{ddd}{subscriber}"
        for slot in range(1, 7 * 48 + 10):
            for instant in (monday + slot * timedelta(minutes=30), monday + slot * timedelta(minutes=30) - timedelta(seconds=1)):
                expected = oracle_allows(instant, ddd, subscriber, address, None)
                assert is_callable_at(instant, number, address).allowed == expected, (number, address, instant)
