from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.leads.eligibility import (
    DEFAULT_POLICY,
    AttemptFacts,
    CallResult,
    CustomerFacts,
    DebtFacts,
    DncEntry,
    LeadFacts,
    PhoneFacts,
    PhoneKind,
    PhoneStatus,
    aging_bucket,
    check_eligibility,
)
from dialer.leads.eligibility import (
    IneligibleReason as R,
)
from dialer.leads.windows import CallingRules, WeeklyWindow, is_callable_at

UTC = UTC
SP = "+5511987654321"
SP_2 = "+551132123456"
RJ = "+5521987654321"
CPF = "52998224725"
# Thursday 10/07/2025 14:00 in São Paulo (17:00 UTC): inside every default window, not a holiday.
NOW = datetime(2025, 7, 10, 17, 0, tzinfo=UTC)


def lead(phone: str = SP, **changes: object) -> LeadFacts:
    base = LeadFacts(
        phone=PhoneFacts(phone),
        customer=CustomerFacts(cpf=CPF, address_uf="SP"),
        debts=(DebtFacts(date(2025, 3, 10)),),
    )
    return replace(base, **changes)


def attempt(ago: timedelta, result: CallResult = CallResult.NO_ANSWER, phone: str = SP, **kw: object) -> AttemptFacts:
    return AttemptFacts(at=NOW - ago, phone_e164=phone, result=result, **kw)  # type: ignore[arg-type]


def codes(facts: LeadFacts, now: datetime = NOW, **kw: object) -> set[R]:
    return set(check_eligibility(facts, DEFAULT_POLICY, now, **kw).codes)  # type: ignore[arg-type]


def test_a_clean_lead_is_dialable() -> None:
    result = check_eligibility(lead(), DEFAULT_POLICY, NOW)
    assert result.dialable and result.reasons == () and result.window is not None and result.window.allowed
    assert result.not_before is None


def test_every_failing_reason_is_reported_not_just_the_first() -> None:
    facts = lead(
        phone=RJ,
        customer=CustomerFacts(cpf=CPF, address_uf="RJ", deceased=True, dispute_pending=True, has_lawyer=True, insolvency=True),
        dnc=(DncEntry(cpf="529.982.247-25"),),
    )
    facts = replace(facts, phone=PhoneFacts(RJ, PhoneKind.REFERENCE, PhoneStatus.WRONG))
    saturday = datetime(2025, 7, 12, 13, 0, tzinfo=UTC)
    result = check_eligibility(facts, DEFAULT_POLICY, saturday)
    assert not result.dialable
    assert result.codes == {
        R.TELEFONE_ERRADO,
        R.REFERENCIA_RJ,
        R.FALECIDO,
        R.CONTESTACAO_EM_ANALISE,
        R.ADVOGADO,
        R.INSOLVENCIA,
        R.NAO_LIGUE,
        R.FORA_DA_JANELA,
    }
    assert result.not_before is None  # deceased etc. never lapse by themselves
    assert all(reason.message_pt for reason in result.reasons)


# --- phone -------------------------------------------------------------------------------


def test_phone_status_and_customer_blocked_phones() -> None:
    assert codes(replace(lead(), phone=PhoneFacts(SP, status=PhoneStatus.BLOCKED))) == {R.TELEFONE_BLOQUEADO}
    assert codes(replace(lead(), phone=PhoneFacts(SP, status=PhoneStatus.WRONG))) == {R.TELEFONE_ERRADO}
    blocked = replace(lead(), customer=CustomerFacts(cpf=CPF, address_uf="SP", blocked_phones=frozenset({SP})))
    assert codes(blocked) == {R.TELEFONE_BLOQUEADO}
    assert codes(replace(blocked, phone=PhoneFacts(SP_2))) == set()


def test_an_unplaceable_number_is_reported_not_raised() -> None:
    result = check_eligibility(replace(lead(), phone=PhoneFacts("+5520987654321")), DEFAULT_POLICY, NOW)
    assert result.codes == {R.TELEFONE_INVALIDO} and result.window is None


@pytest.mark.parametrize(
    ("phone", "address", "blocked"),
    [
        (RJ, "RJ", True),  # RJ line, RJ debtor
        (RJ, "SP", True),  # RJ line
        (SP, "RJ", True),  # RJ debtor
        (SP, "SP", False),
        ("+5522991234567", "MG", True),  # DDD 22 is RJ too
    ],
)
def test_rj_never_calls_reference_phones(phone: str, address: str, blocked: bool) -> None:
    facts = LeadFacts(PhoneFacts(phone, PhoneKind.REFERENCE), CustomerFacts(CPF, address), (DebtFacts(date(2025, 3, 10)),))
    assert (R.REFERENCIA_RJ in codes(facts)) is blocked
    own = replace(facts, phone=PhoneFacts(phone, PhoneKind.OWN))
    assert R.REFERENCIA_RJ not in codes(own)


def test_policy_may_forbid_reference_phones_everywhere() -> None:
    facts = replace(lead(), phone=PhoneFacts(SP, PhoneKind.REFERENCE))
    no_refs = DEFAULT_POLICY.with_overrides(call_reference_phones=False)
    assert check_eligibility(facts, no_refs, NOW).codes == {R.REFERENCIA_NAO_PERMITIDA}
    assert check_eligibility(facts, DEFAULT_POLICY, NOW).dialable


# --- do-not-call ---------------------------------------------------------------------------


def test_dnc_by_phone_or_cpf_permanent_or_until_a_date() -> None:
    assert codes(lead(dnc=(DncEntry(phone_e164=SP),))) == {R.NAO_LIGUE}
    assert codes(lead(dnc=(DncEntry(cpf="529.982.247-25", source="cliente"),))) == {R.NAO_LIGUE}
    assert codes(lead(dnc=(DncEntry(phone_e164=SP, until=date(2025, 7, 10)),))) == {R.NAO_LIGUE}  # inclusive
    assert codes(lead(dnc=(DncEntry(phone_e164=SP, until=date(2025, 7, 9)),))) == set()
    assert codes(lead(dnc=(DncEntry(phone_e164=SP_2), DncEntry(cpf="12345678909")))) == set()
    message = check_eligibility(lead(dnc=(DncEntry(phone_e164=SP, until=date(2025, 8, 1), source="procon-sp"),)), DEFAULT_POLICY, NOW).reasons[0].message_pt
    assert message == "Telefone na lista de não ligar (procon-sp) até 01/08/2025."
    with pytest.raises(ValueError, match="phone or a CPF"):
        DncEntry()


# --- debts --------------------------------------------------------------------------------


def test_prescription_blocks_only_when_every_debt_is_prescribed() -> None:
    old = DebtFacts(date(2020, 7, 9))  # prescribed from 10/07/2025
    assert codes(lead(debts=(old,))) == {R.DIVIDAS_PRESCRITAS}
    assert codes(lead(debts=(old, DebtFacts(date(2024, 1, 1))))) == set()
    assert codes(lead(debts=(DebtFacts(date(2020, 7, 10)),))) == set()  # last day of the term
    assert codes(lead(debts=())) == {R.SEM_DIVIDA}
    message = check_eligibility(lead(debts=(old,)), DEFAULT_POLICY, NOW).reasons[0].message_pt
    assert "desde 10/07/2025" in message and "pagamento espontâneo" in message


def test_aging_bucket_is_exported_here_too() -> None:
    assert aging_bucket(date(2025, 3, 10), date(2025, 7, 10)) == "91-180"


# --- attempt caps -------------------------------------------------------------------------


def test_three_attempts_on_a_phone_today_stop_that_phone() -> None:
    history = tuple(attempt(timedelta(hours=h), CallResult.CONGESTION) for h in (1, 2, 3))
    assert codes(lead(attempts=history)) == {R.LIMITE_TELEFONE_DIA}
    result = check_eligibility(lead(attempts=history), DEFAULT_POLICY, NOW)
    # lapses at local midnight; next morning 08:00 the window opens (Friday 11/07)
    assert result.reasons[0].until == datetime(2025, 7, 11, 3, 0, tzinfo=UTC)
    assert result.not_before == datetime(2025, 7, 11, 11, 0, tzinfo=UTC)
    assert codes(replace(lead(attempts=history), phone=PhoneFacts(SP_2))) == set()  # another phone is fine


def test_yesterdays_attempts_do_not_count_for_today() -> None:
    # 16:00 the day before, in local time, is a different local day
    history = tuple(attempt(timedelta(hours=h), CallResult.CONGESTION) for h in (22, 23, 24))
    assert codes(lead(attempts=history)) == set()


def test_four_attempts_per_customer_per_day_across_phones_and_campaigns() -> None:
    history = (
        attempt(timedelta(hours=1), CallResult.CONGESTION, SP_2),
        attempt(timedelta(hours=2), CallResult.CONGESTION, SP_2),
        attempt(timedelta(hours=3), CallResult.CONGESTION, "+5511912345678"),
        attempt(timedelta(hours=4), CallResult.CONGESTION, "+5511912345678"),
    )
    assert codes(lead(attempts=history)) == {R.LIMITE_CLIENTE_DIA}


def test_seven_attempts_in_a_rolling_week() -> None:
    history = tuple(attempt(timedelta(days=d, hours=1), CallResult.CONGESTION) for d in range(1, 8))
    assert len([a for a in history if a.at > NOW - timedelta(days=7)]) == 6
    assert codes(lead(attempts=history)) == set()  # the 8-day-old... is 7 days and 1 h old: out
    history += (attempt(timedelta(hours=5), CallResult.CONGESTION),)
    result = check_eligibility(lead(attempts=history), DEFAULT_POLICY, NOW)
    assert result.codes == {R.LIMITE_CLIENTE_7_DIAS}
    oldest_in_window = NOW - timedelta(days=6, hours=1)
    assert result.reasons[0].until == oldest_in_window + timedelta(days=7)


def test_caps_are_overridable_per_campaign() -> None:
    history = tuple(attempt(timedelta(hours=h), CallResult.CONGESTION) for h in (1, 2, 3))
    generous = DEFAULT_POLICY.with_overrides(max_attempts_phone_day=5)
    assert check_eligibility(lead(attempts=history), generous, NOW).dialable


def test_future_attempts_are_ignored() -> None:
    assert codes(lead(attempts=(attempt(-timedelta(hours=1), CallResult.BUSY),))) == set()


# --- retry gaps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "gap"),
    [
        (CallResult.BUSY, timedelta(minutes=15)),
        (CallResult.NO_ANSWER, timedelta(hours=2)),
        (CallResult.MACHINE, timedelta(hours=24)),
        (CallResult.ABANDONED, timedelta(hours=72)),
        (CallResult.REFUSAL, timedelta(hours=24)),
    ],
)
def test_retry_gaps_by_last_result(result: CallResult, gap: timedelta) -> None:
    just_inside = lead(attempts=(attempt(gap - timedelta(seconds=1), result),))
    at_gap = lead(attempts=(attempt(gap, result),))
    assert codes(just_inside) == {R.INTERVALO_RETENTATIVA}
    assert codes(at_gap) == set()
    reason = check_eligibility(just_inside, DEFAULT_POLICY, NOW).reasons[0]
    assert reason.until == NOW + timedelta(seconds=1)


def test_phone_gaps_look_at_that_phone_only_but_refusal_binds_the_customer() -> None:
    assert codes(lead(attempts=(attempt(timedelta(minutes=5), CallResult.BUSY, SP_2),))) == set()
    assert codes(lead(attempts=(attempt(timedelta(hours=3), CallResult.REFUSAL, SP_2),))) == {R.INTERVALO_RETENTATIVA}


def test_only_the_last_result_on_the_phone_counts() -> None:
    history = (attempt(timedelta(hours=30), CallResult.MACHINE), attempt(timedelta(hours=1), CallResult.BUSY))
    assert codes(lead(attempts=history)) == set()  # busy 1 h ago: 15 min gap over
    history = (attempt(timedelta(hours=3), CallResult.BUSY), attempt(timedelta(hours=1), CallResult.MACHINE))
    assert codes(lead(attempts=history)) == {R.INTERVALO_RETENTATIVA}


def test_abandoned_gap_is_waived_for_a_preview_call() -> None:
    facts = lead(attempts=(attempt(timedelta(hours=1), CallResult.ABANDONED),))
    assert codes(facts) == {R.INTERVALO_RETENTATIVA}
    assert codes(facts, preview=True) == set()
    machine = lead(attempts=(attempt(timedelta(hours=1), CallResult.MACHINE),))
    assert codes(machine, preview=True) == {R.INTERVALO_RETENTATIVA}


def test_gaps_are_overridable_and_merge_with_the_defaults() -> None:
    policy = DEFAULT_POLICY.with_overrides(retry_gaps={CallResult.BUSY: timedelta(hours=1)})
    assert policy.retry_gaps[CallResult.NO_ANSWER] == timedelta(hours=2)
    facts = lead(attempts=(attempt(timedelta(minutes=30), CallResult.BUSY),))
    assert check_eligibility(facts, policy, NOW).codes == {R.INTERVALO_RETENTATIVA}
    assert DEFAULT_POLICY.retry_gaps[CallResult.BUSY] == timedelta(minutes=15)  # default untouched


def test_promise_blocks_until_the_day_after_the_promise_date() -> None:
    promised = attempt(timedelta(days=1), CallResult.PROMISE, promise_date=date(2025, 7, 15))
    result = check_eligibility(lead(attempts=(promised,)), DEFAULT_POLICY, NOW)
    assert result.codes == {R.PROMESSA_EM_ANDAMENTO}
    assert result.reasons[0].until == datetime(2025, 7, 16, 3, 0, tzinfo=UTC)  # 16/07 00:00 in SP
    assert "15/07/2025" in result.reasons[0].message_pt
    assert codes(lead(attempts=(promised,)), datetime(2025, 7, 16, 12, 0, tzinfo=UTC)) == set()
    with pytest.raises(ValueError, match="promise_date"):
        attempt(timedelta(days=1), CallResult.PROMISE)


def test_cool_off_after_a_right_party_conversation() -> None:
    talked = lead(attempts=(attempt(timedelta(days=2), CallResult.HARDSHIP, SP_2),))
    assert codes(talked) == {R.DESCANSO_POS_CONTATO}
    assert codes(lead(attempts=(attempt(timedelta(days=3), CallResult.AGREEMENT),))) == set()
    shorter = DEFAULT_POLICY.with_overrides(right_party_cooloff=timedelta(days=1))
    assert check_eligibility(talked, shorter, NOW).dialable


def test_a_callback_the_customer_asked_for_replaces_the_cool_off() -> None:
    callback_at = NOW + timedelta(hours=2)
    asked = attempt(timedelta(hours=1), CallResult.CALLBACK, callback_at=callback_at)
    result = check_eligibility(lead(attempts=(asked,)), DEFAULT_POLICY, NOW)
    assert result.codes == {R.RETORNO_AGENDADO} and result.not_before == callback_at
    assert codes(lead(attempts=(asked,)), callback_at) == set()  # due: no 3-day cool-off


def test_wrong_number_and_deceased_dispositions_block_even_before_the_facts_are_updated() -> None:
    assert codes(lead(attempts=(attempt(timedelta(days=5), CallResult.WRONG_NUMBER),))) == {R.TELEFONE_ERRADO}
    assert codes(lead(attempts=(attempt(timedelta(days=5), CallResult.DECEASED, SP_2),))) == {R.FALECIDO}


# --- window -------------------------------------------------------------------------------


def test_window_reasons_come_from_the_calling_rules() -> None:
    night = datetime(2025, 7, 10, 23, 30, tzinfo=UTC)  # 20:30 in SP
    result = check_eligibility(lead(), DEFAULT_POLICY, night)
    assert result.codes == {R.FORA_DA_JANELA}
    assert result.not_before == datetime(2025, 7, 11, 11, 0, tzinfo=UTC)
    holiday = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)
    assert codes(lead(), holiday) == {R.FERIADO}


def test_customer_declared_window_is_honoured() -> None:
    customer = CustomerFacts(CPF, "SP", declared_window=WeeklyWindow.every_day("18:00-24:00"))
    result = check_eligibility(lead(customer=customer), DEFAULT_POLICY, NOW)
    assert result.codes == {R.FORA_DA_JANELA}
    assert result.not_before == datetime(2025, 7, 10, 21, 0, tzinfo=UTC)  # 18:00 in SP


def test_campaign_window_override_via_policy() -> None:
    policy = DEFAULT_POLICY.with_overrides(calling=CallingRules(campaign=WeeklyWindow.of("09:00-12:00")))
    assert check_eligibility(lead(), policy, NOW).codes == {R.FORA_DA_JANELA}


def test_not_before_waits_for_every_timed_reason_and_the_window() -> None:
    history = (attempt(timedelta(hours=1), CallResult.MACHINE),)  # gap ends Friday 13:00 local
    result = check_eligibility(lead(attempts=history), DEFAULT_POLICY, NOW)
    assert result.not_before == NOW + timedelta(hours=23)  # the window is open then
    friday_evening = datetime(2025, 7, 11, 22, 0, tzinfo=UTC)  # Friday 19:00 local
    machine = AttemptFacts(friday_evening - timedelta(hours=1), SP, CallResult.MACHINE)  # gap ends Sat 18:00
    result = check_eligibility(lead(attempts=(machine,)), DEFAULT_POLICY, friday_evening)
    assert result.not_before == datetime(2025, 7, 14, 11, 0, tzinfo=UTC)  # Saturday closes at 14h → Monday 08:00


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_eligibility(lead(), DEFAULT_POLICY, datetime(2025, 7, 10, 14))
    with pytest.raises(ValueError, match="timezone-aware"):
        AttemptFacts(datetime(2025, 7, 10, 14), SP, CallResult.BUSY)


# --- properties ---------------------------------------------------------------------------

results = st.sampled_from(list(CallResult))
histories = st.lists(
    st.builds(
        lambda ago, result, phone, promise: AttemptFacts(
            NOW - timedelta(minutes=ago), phone, result, promise_date=promise if result is CallResult.PROMISE else None
        ),
        st.integers(0, 60 * 24 * 10),
        results,
        st.sampled_from([SP, SP_2]),
        st.dates(min_value=date(2025, 7, 1), max_value=date(2025, 7, 20)),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(history=histories, offset_minutes=st.integers(-3 * 24 * 60, 3 * 24 * 60))
def test_dialable_implies_every_rule_holds(history: list[AttemptFacts], offset_minutes: int) -> None:
    now = NOW + timedelta(minutes=offset_minutes)
    past = [a for a in history if a.at <= now]  # a history only holds what already happened
    facts = lead(attempts=tuple(past))
    result = check_eligibility(facts, DEFAULT_POLICY, now)
    assert result.dialable == (not result.reasons)
    if result.dialable:
        assert is_callable_at(now, SP, "SP").allowed
        assert sum(1 for a in past if a.at > now - timedelta(days=7)) < 7
        local_today = (now - timedelta(hours=3)).date()
        assert sum(1 for a in past if (a.at - timedelta(hours=3)).date() == local_today) < 4
        assert not any(a.result in (CallResult.DECEASED,) for a in past)
        on_phone = [a for a in sorted(past, key=lambda a: a.at) if a.phone_e164 == SP]
        if on_phone and on_phone[-1].result is CallResult.BUSY:
            assert now - on_phone[-1].at >= timedelta(minutes=15)
    if result.not_before is not None:
        later = check_eligibility(facts, DEFAULT_POLICY, result.not_before)
        assert later.dialable, later.reasons
