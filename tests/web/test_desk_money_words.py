"""One set of money words (issue 11 item 2): for every customer the demo seeds, the debts table,
the offer calculator and the script's spoken text give the same valor original, encargos and
total atualizado, all from scripting.figures over the one quote."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dialer.agents.desktop import PopCustomer, PopDebt, ScreenPop
from dialer.floor.session import ScriptBook, open_session
from dialer.negotiation.offers import (
    NegotiationContext,
    OpenDebt,
    parse_campaign_policy,
    quote_offers,
)
from scripting.money import format_brl
from web.agent.negotiation import script_frame
from web.demo.portfolio import generate_customers
from web.demo.service import DEFAULT_CUSTOMERS

TODAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_debts_table_calculator_and_script_agree_for_every_demo_customer() -> None:
    policy, terms = parse_campaign_policy(None, "Demonstração")
    book = ScriptBook()
    customers = generate_customers(DEFAULT_CUSTOMERS, today=TODAY)
    assert len(customers) == DEFAULT_CUSTOMERS
    for n, c in enumerate(customers):
        debts = tuple(OpenDebt(i + 1, d.contract, d.creditor, d.balance, d.due_date) for i, d in enumerate(c.debts))
        ctx = NegotiationContext(
            customer_id=n + 1, customer_name=c.name, uf=c.uf, campaign_id=1, agent_id=1, debts=debts,
            policy=policy, terms=terms, agent_limit_pct=Decimal(5), supervisor_limit_pct=Decimal(20),
        )
        quote = quote_offers(ctx, TODAY)
        view = quote.view()
        calculator = view["debt"]["figures"]
        # the debts table: one row per contract, and its footer
        rows = view["contracts"]
        assert [r["contract"] for r in rows] == [d.contract for d in c.debts]
        assert sum(Decimal(r["figures"]["principal"]) for r in rows) == Decimal(calculator["principal"]) == sum(
            (d.balance for d in c.debts), Decimal(0)
        ), "valor original is the debt's balance at its due date, in every place"
        assert sum(Decimal(r["figures"]["charges"]) for r in rows) == Decimal(calculator["charges"])
        assert sum(Decimal(r["figures"]["total"]) for r in rows) == Decimal(calculator["total"])
        # the calculator's own lines say the same
        assert view["debt"]["total_text"] == calculator["total_text"]
        assert view["debt"]["lines"][0][1] == calculator["principal"]
        assert Decimal(calculator["principal"]) + Decimal(calculator["charges"]) == Decimal(calculator["total"])
        # the script, read aloud once the identity is verified
        pop = ScreenPop(
            call_id=f"c{n}", campaign_id=1, campaign_name="Demonstração", mode="predictive",
            customer=PopCustomer(n + 1, c.name, c.name.split()[0], "***.000.000-**", c.uf),
            phone_e164="+" + c.phones[0].e164.lstrip("+") if c.phones else "+5511987650011",
            phone_masked="(11) *****-0000",
            debts=tuple(PopDebt(d.contract, d.creditor, d.product, d.original_amount, d.balance, d.due_date,
                                (TODAY - d.due_date).days) for d in c.debts),
            total_balance=sum((d.balance for d in c.debts), Decimal(0)), attempts=(), promises=(),
            attempts_today=0, attempts_7d=0, created_at=AT,
        )
        session = open_session(1, "Ana Souza", pop, book.for_campaign(1), AT)
        session.confirm_identity(AT + timedelta(seconds=30))
        session.quote = quote
        text = script_frame(session).text
        assert f"O valor original é de {calculator['principal_text']}" in text, text
        assert f"é de {calculator['total_text']}." in text
        assert format_brl(Decimal(calculator["total"])) == calculator["total_text"]
