"""The régua's pure planner: steps, idempotency keys, catch-up, conditions, channel days."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dialer.regua.channels import closed_reason, not_before
from dialer.regua.defaults import DEFAULT_REGUA
from dialer.regua.facts import AccountFacts, DebtFacts, InstallmentFacts, PromiseFacts
from dialer.regua.planner import Skip, broken_commitments, plan_day
from dialer.regua.rules import Action, Channel, Conditions, Rule, RuleError
from dialer.regua.services import PixSettings, ReguaSettings, message_context
from dialer.regua.templates import MessageContext, TemplateRenderError, render_message
from scripting.pix import decode_pix_payload
from scripting.render import Empresa

DUE = date(2026, 3, 10)  # a Tuesday


def account(**changes: object) -> AccountFacts:
    base = AccountFacts(
        customer_id=1, name="Ana Souza", cpf="52998224725", email="ana@example.com", uf="SP",
        mobile="+5511987654321",
        debts=(DebtFacts(11, "CT-1", "Banco", Decimal("500.00"), DUE, open=True, in_agreement=False),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def keys_on(day: date, acct: AccountFacts | None = None, **kw: object) -> list[str]:
    return [a.rule.key for a in plan_day(DEFAULT_REGUA, [acct or account()], day, **kw)]  # type: ignore[arg-type]


def test_each_default_step_fires_on_its_day() -> None:
    assert keys_on(date(2026, 3, 5), catch_up_days=0) == ["lembrete-d-5"]  # Thursday
    assert keys_on(date(2026, 3, 11), catch_up_days=0) == ["aviso-d1"]
    assert keys_on(date(2026, 3, 15), catch_up_days=0) == ["discagem-d5"]  # a Sunday: dialing is not a message
    assert keys_on(date(2026, 3, 25), catch_up_days=0) == ["segundo-aviso-d15"]
    assert keys_on(date(2026, 4, 9), catch_up_days=0) == ["ligacao-d30"]
    assert keys_on(date(2026, 6, 8), catch_up_days=0) == ["assessoria-d90"]


def test_keys_are_per_rule_target_and_due_date_and_decided_ones_are_left_out() -> None:
    actions = plan_day(DEFAULT_REGUA, [account()], date(2026, 3, 11))
    assert [a.key for a in actions] == ["aviso-d1:debt:11:2026-03-10"]
    assert plan_day(DEFAULT_REGUA, [account()], date(2026, 3, 11), decided={actions[0].key}) == []


def test_catch_up_takes_missed_steps_within_the_window_only() -> None:
    # nothing ran from D-5 to D+6: the D+1 notice and D+5 are caught up, the reminder is past its point
    assert keys_on(date(2026, 3, 16)) == ["aviso-d1", "discagem-d5"]
    assert keys_on(date(2026, 3, 16), catch_up_days=0) == []
    assert keys_on(date(2026, 3, 10), catch_up_days=20) == ["lembrete-d-5"]
    assert keys_on(date(2026, 3, 25), catch_up_days=20) == ["aviso-d1", "discagem-d5", "segundo-aviso-d15"]


def test_a_message_on_a_sunday_or_holiday_waits_for_the_next_open_day() -> None:
    sunday_due = account(debts=(DebtFacts(11, "CT-1", "B", Decimal(9), date(2026, 4, 4), True, False),))
    # D+1 = Sunday 05/04/2026: no SMS; Monday catches it up
    assert keys_on(date(2026, 4, 5), sunday_due) == []
    assert keys_on(date(2026, 4, 6), sunday_due) == ["aviso-d1"]
    assert closed_reason(Channel.SMS, date(2026, 4, 21), uf="SP", phone="+5511987654321") is not None  # Tiradentes
    assert closed_reason(Channel.EMAIL, date(2026, 4, 22), uf="SP", phone=None) is None
    # RJ: no Saturday messages to an RJ phone
    assert closed_reason(Channel.SMS, date(2026, 3, 14), uf="RJ", phone="+5521987654321") == "dia sem janela de contato"


def test_not_before_is_the_window_opening() -> None:
    night = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)  # 23:00 of the 10th in Brasília
    assert not_before(Channel.SMS, night, uf="SP", phone="+5511987654321") == datetime(2026, 3, 11, 11, 0, tzinfo=UTC)
    assert not_before(Channel.EMAIL, night, uf="SP", phone=None) == datetime(2026, 3, 11, 11, 0, tzinfo=UTC)
    noon = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    assert not_before(Channel.EMAIL, noon, uf="SP", phone=None) == noon


def test_conditions_and_stops() -> None:
    skips: list[Skip] = []
    day = date(2026, 3, 11)
    assert keys_on(day, account(opted_out=frozenset({Channel.SMS})), catch_up_days=0) == []
    assert keys_on(day, account(mobile=None), catch_up_days=0) == []
    assert keys_on(day, account(stopped=True)) == []
    paid = account(debts=(DebtFacts(11, "CT-1", "B", Decimal(0), DUE, open=False, in_agreement=False),))
    assert keys_on(day, paid) == []
    in_agreement = account(debts=(DebtFacts(11, "CT-1", "B", Decimal(5), DUE, open=False, in_agreement=True),))
    assert keys_on(day, in_agreement) == []
    plan_day(DEFAULT_REGUA, [account(opted_out=frozenset({Channel.SMS}))], day, on_skip=skips.append)
    assert [(s.rule.key, s.reason) for s in skips] == [("aviso-d1", "canal bloqueado pelo cliente")]
    big_only = replace(DEFAULT_REGUA[1], conditions=replace(DEFAULT_REGUA[1].conditions, min_balance=Decimal(1000)))
    assert plan_day([big_only], [account()], day) == []


def test_installment_reminders_and_broken_commitments() -> None:
    inst = InstallmentFacts(7, 3, 2, date(2026, 5, 22), Decimal(100), Decimal(0), open=True)
    acct = account(debts=(), installments=(inst,), promises=(PromiseFacts(9, date(2026, 5, 21), Decimal(50), True),))
    assert keys_on(date(2026, 5, 19), acct) == ["parcela-d-3"]
    assert broken_commitments(acct, date(2026, 5, 23), grace_days=2) == []
    broken = broken_commitments(acct, date(2026, 5, 25), grace_days=2)
    assert [(b.kind, b.id) for b in broken] == [("installment", 7), ("promise", 9)]


def test_rules_validate_and_round_trip() -> None:
    for rule in DEFAULT_REGUA:
        assert Rule.from_dict(rule.as_dict()) == rule
    with pytest.raises(RuleError) as err:
        Rule.from_dict({**DEFAULT_REGUA[0].as_dict(), "channel": "call"})
    assert err.value.field == "channel"
    with pytest.raises(RuleError):
        Rule.from_dict({**DEFAULT_REGUA[2].as_dict(), "action": Action.HANDOFF.value, "channel": "agency"})


def test_templates_render_plain_text_and_refuse_bad_ones() -> None:
    ctx = MessageContext(nome="João D'Ávila & <b>Filhos</b>", empresa=Empresa("Cobra", "0800"), valor="R$ 1.234,56",
                         vencimento="10/03/2026", dias_atraso=1)
    subject, body = render_message("Oi {{ cliente.primeiro_nome }}", "{{ cliente.nome }} deve {{ valor }}", ctx)
    assert subject == "Oi João"
    assert body == "João D'Ávila & <b>Filhos</b> deve R$ 1.234,56"
    with pytest.raises(TemplateRenderError):
        render_message("", "{{ nada_disso }}", ctx)
    with pytest.raises(TemplateRenderError):
        render_message("", "{% for %}", ctx)


def test_pop_flags_say_why_the_account_is_back_and_what_is_stopped() -> None:
    from dialer.regua.pop import pop_flags

    assert pop_flags(["PROMESSA_QUEBRADA", "no_answer", "REGUA_D+5", "REGUA_D+30_SUP"], ["sms", "call"]) == [
        "promessa quebrada", "régua D+30: oferta com alçada de supervisor", "régua D+5",
        "não ligar (pedido do cliente)", "não enviar SMS (pedido do cliente)",
    ]
    assert pop_flags([], []) == []


def test_a_step_can_be_limited_to_creditors_buckets_and_tags() -> None:
    day = date(2026, 3, 11)
    notice = DEFAULT_REGUA[1]

    def only(**conditions: object) -> Rule:
        return Rule.from_dict({**notice.as_dict(), "conditions": {**notice.conditions.as_dict(), **conditions}})

    assert plan_day([only(creditors=["banco"])], [account()], day)  # "Banco", case-insensitive
    assert plan_day([only(creditors=["Financeira"])], [account()], day) == []
    assert plan_day([only(buckets=["1-30"])], [account()], day)
    assert plan_day([only(buckets=["31-60"])], [account()], day) == []
    assert plan_day([only(tags_any=["vip"])], [account(tags=frozenset({"VIP"}))], day)
    assert plan_day([only(tags_none=["vip"])], [account(tags=frozenset({"vip"}))], day) == []
    assert plan_day([only(campaigns=["Varejo"])], [account(campaigns=frozenset({"varejo"}))], day)
    assert plan_day([only(campaigns=["Varejo"])], [account(campaigns=frozenset({"Cartões"}))], day) == []
    with pytest.raises(RuleError):
        only(buckets=["2-3"])


def _message_on(day: date, rule_key: str, acct: AccountFacts) -> tuple[str, str, Decimal | None]:
    """(valor_pix, body, what the Pix charges) of ``rule_key``'s message to ``acct`` on ``day``."""
    settings = ReguaSettings(pix=PixSettings("52998224725", "Cobra Demo", "SAO PAULO"))
    action = next(a for a in plan_day(DEFAULT_REGUA, [acct], day) if a.rule.key == rule_key)
    ctx = message_context(action, settings)
    _, body = render_message(action.rule.subject, action.rule.body, ctx)
    return ctx.valor_pix, body, decode_pix_payload(ctx.pix).amount if ctx.pix else None


def test_the_pix_of_an_offer_charges_the_offered_amount_not_the_balance() -> None:
    # D+15 offers the standard 10 %: R$ 500,00 → R$ 450,00, and the Pix must ask for that
    valor_pix, body, charged = _message_on(date(2026, 3, 25), "segundo-aviso-d15", account())
    assert charged == Decimal("450.00")
    assert valor_pix == "R$ 450,00"
    assert "Pagando à vista: R$ 450,00." in body and "Pix copia e cola (R$ 450,00)" in body
    # no offer (D-5 reminder): the Pix is for the amount due
    _, reminder, charged = _message_on(date(2026, 3, 5), "lembrete-d-5", account())
    assert charged == Decimal("500.00") and "Pix copia e cola (R$ 500,00)" in reminder


def test_a_debt_covered_by_an_agreement_gets_no_pix_for_its_whole_balance() -> None:
    in_agreement = account(debts=(DebtFacts(11, "CT-1", "Banco", Decimal("500.00"), DUE, open=False, in_agreement=True),))
    rules = [replace(r, conditions=Conditions(not_in_agreement=False)) for r in DEFAULT_REGUA]

    action = next(a for a in plan_day(rules, [in_agreement], date(2026, 3, 25)) if a.rule.key == "segundo-aviso-d15")
    ctx = message_context(action, ReguaSettings(pix=PixSettings("52998224725", "Cobra Demo", "SAO PAULO")))
    assert ctx.pix == "" and ctx.valor_pix == ""
