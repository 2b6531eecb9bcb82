"""The call session as the agent desk renders it: script run, identity gate, rendered steps, Pix."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dialer.agents.desktop import PopCustomer, PopDebt, ScreenPop
from dialer.floor.session import CallSession, ScriptBook, open_session
from dialer.negotiation.offers import (
    NegotiationContext,
    OpenDebt,
    parse_campaign_policy,
    quote_offers,
)
from scripting.pix import decode_pix_payload
from web.agent.negotiation import PixReceiver, script_frame

T0 = datetime(2025, 5, 9, 13, 0, tzinfo=UTC)
BOOK = ScriptBook()


def _session(call_id: str = "c1") -> CallSession:
    return open_session(1, "Ana Souza", _pop(call_id), BOOK.for_campaign(3), T0)


def _pop(call_id: str = "c1") -> ScreenPop:
    customer = PopCustomer(7, "Maria da Silva Souza", "Maria", "***.456.789-**", "SP")
    debt = PopDebt("123456789", "Banco Exemplo", "cartão", Decimal("1000.00"), Decimal("1000.00"), date(2025, 3, 10), 60)
    return ScreenPop(
        call_id=call_id, campaign_id=3, campaign_name="Cartões", mode="predictive", customer=customer,
        phone_e164="+5511987650011", phone_masked="(11) *****-0011", debts=(debt,), total_balance=Decimal("1000.00"),
        attempts=(), promises=(), attempts_today=0, attempts_7d=0, created_at=T0,
    )


def _quote():  # type: ignore[no-untyped-def]
    policy, terms = parse_campaign_policy(None, "Cartões")
    ctx = NegotiationContext(
        customer_id=7, customer_name="Maria da Silva Souza", uf="SP", campaign_id=3, agent_id=1,
        debts=(OpenDebt(1, "123456789", "Banco Exemplo", Decimal("1000.00"), date(2025, 3, 10)),),
        policy=policy, terms=terms, agent_limit_pct=Decimal(5), supervisor_limit_pct=Decimal(10),
    )
    return quote_offers(ctx, date(2025, 5, 9))


def test_the_run_starts_at_the_greeting_and_shows_no_debt() -> None:
    frame = script_frame(_session())
    assert frame.step_id == "abertura" and frame.identity_confirmed is False
    assert "Ana" in frame.text and "R$" not in frame.text


def test_identity_takes_the_gate_and_the_debt_is_rendered_from_the_quote() -> None:
    neg = _session()
    assert neg.confirm_identity(T0 + timedelta(seconds=20)) == T0 + timedelta(seconds=20)
    assert neg.confirm_identity(T0 + timedelta(seconds=40)) == T0 + timedelta(seconds=20), "the first one counts"
    assert neg.run.path == ["abertura", "identidade", "apresentar_divida"]
    assert neg.identity_confirmed_at == T0 + timedelta(seconds=20)
    neg.quote = _quote()
    text = script_frame(neg).text
    assert "Banco Exemplo" in text and "10/03/2025" in text and neg.quote.view()["debt"]["total_text"] in text


def test_identity_confirmed_mid_script_is_recorded_once() -> None:
    neg = _session()
    neg.run.choose("terceiro", T0 + timedelta(seconds=3))  # no gate within reach from here
    neg.confirm_identity(T0 + timedelta(seconds=9))
    assert neg.run.current_step.id == "terceiro" and neg.run.identity_confirmed_at == T0 + timedelta(seconds=9)


def test_approval_covering_a_discount() -> None:
    neg = _session()
    neg.approvals.update({4: Decimal(15), 9: Decimal(20)})
    assert neg.approval_for(Decimal(12)) == 9 and neg.approval_for(Decimal(20)) == 9
    assert neg.approval_for(Decimal(25)) is None


def test_pix_code_is_a_valid_br_code_with_its_qr() -> None:
    pix = PixReceiver("+5511999998888", "Cobra Assessoria", "São Paulo").code(Decimal("1234.56"), "ab-12_cd")
    decoded = decode_pix_payload(pix.payload)
    assert (decoded.amount, decoded.txid, decoded.city) == (Decimal("1234.56"), "ab12cd", "Sao Paulo")
    assert pix.amount == "R$ 1.234,56" and pix.svg.startswith("<svg") and "<path" in pix.svg


def test_the_greeting_follows_the_customers_clock_by_ddd() -> None:
    from dataclasses import replace

    at = datetime(2025, 5, 9, 15, 30, tzinfo=UTC)  # 12:30 in Brasília, 11:30 in Manaus
    sp = replace(_pop(), created_at=at)
    manaus = replace(_pop(), created_at=at, phone_e164="+5592987650011")
    assert script_frame(open_session(1, "Ana Souza", sp, BOOK.for_campaign(3), at)).text.startswith("Boa tarde!")
    assert script_frame(open_session(1, "Ana Souza", manaus, BOOK.for_campaign(3), at)).text.startswith("Bom dia!")
