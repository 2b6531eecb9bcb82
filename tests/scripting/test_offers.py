from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scripting.business_days import BusinessCalendar
from scripting.debt import ChargeTerms, CorrectionIndex, DebtBreakdown, update_debt
from scripting.offers import OfferError, OfferKind, simulate_offers, split_installments
from scripting.policy import BucketPolicy, DiscountBase

CALENDAR = BusinessCalendar()


def worked_debt() -> DebtBreakdown:
    terms = ChargeTerms(index=CorrectionIndex.IPCA)
    return update_debt(Decimal("1000.00"), date(2025, 3, 10), date(2025, 5, 9), terms, correction_factor=Decimal("1.0100"))


def policy(**overrides: object) -> BucketPolicy:
    values: dict[str, object] = {
        "name": "31-60",
        "min_days": 31,
        "max_days": 60,
        "max_cash_discount_pct": Decimal(10),
        "min_down_payment_pct": Decimal(10),
        "max_installments": 6,
        "min_installment": Decimal(50),
        "first_due_max_days": 10,
    }
    values.update(overrides)
    return BucketPolicy(**values)  # type: ignore[arg-type]


def test_cash_offer_takes_the_cap_and_keeps_the_itemised_debt() -> None:
    cash = simulate_offers(worked_debt(), policy(), date(2025, 5, 9), business_calendar=CALENDAR)[0]
    assert cash.kind is OfferKind.CASH
    assert cash.debt.discount == Decimal("105.02")  # 10 % of 1.050,20
    assert cash.total_payable == Decimal("945.18")
    assert cash.describe() == "À vista: R$ 945,18 com vencimento em 09/05/2025 (desconto de R$ 105,02)"
    assert cash.to_record()["debt"]["discount"] == "105.02"


def test_discount_on_charges_only() -> None:
    cash = simulate_offers(
        worked_debt(), policy(max_cash_discount_pct=Decimal(50), discount_base=DiscountBase.CHARGES), date(2025, 5, 9)
    )[0]
    assert cash.debt.discount == Decimal("25.10")  # half of 10,00 + 20,00 + 20,20


def test_discount_above_the_cap_is_refused() -> None:
    with pytest.raises(OfferError, match="discount_pct"):
        simulate_offers(worked_debt(), policy(), date(2025, 5, 9), discount_pct=Decimal(11))


def test_installment_plan_with_down_payment() -> None:
    offers = simulate_offers(worked_debt(), policy(), date(2025, 5, 9), business_calendar=CALENDAR, installment_counts=[5])
    plan = offers[1]
    assert plan.down_payment is not None and plan.down_payment.amount == Decimal("105.02")
    assert [i.amount for i in plan.regular_installments] == [Decimal("189.03")] * 4 + [Decimal("189.06")]
    assert plan.total_payable == Decimal("1050.20")
    # 09/08/2025 is a Saturday: moved to Monday 11/08.
    assert [i.due_on for i in plan.installments] == [
        date(2025, 5, 9),
        date(2025, 6, 9),
        date(2025, 7, 9),
        date(2025, 8, 11),
        date(2025, 9, 9),
        date(2025, 10, 9),
    ]


def test_price_table() -> None:
    offers = simulate_offers(
        worked_debt(), policy(monthly_rate_pct=Decimal("1.99")), date(2025, 5, 9), installment_counts=[1, 6]
    )
    one, six = offers[1], offers[2]
    assert one.regular_installments[0].amount == Decimal("963.99")  # 945,18 x 1,0199
    assert [i.amount for i in six.regular_installments] == [Decimal("168.68")] * 5 + [Decimal("168.69")]
    assert six.financing_interest == Decimal("66.91")
    assert "juros de 1,99% ao mês" in six.describe()


def test_plans_below_the_minimum_installment_are_left_out() -> None:
    offers = simulate_offers(worked_debt(), policy(min_installment=Decimal(300)), date(2025, 5, 9))
    counts = [len(o.regular_installments) for o in offers if o.kind is OfferKind.INSTALLMENTS]
    assert counts == [1, 2]  # 3 x 248,39 would be below R$ 300,00 (and the down payment is raised to 300,00)


def test_first_due_limit_and_down_payment_minimum() -> None:
    with pytest.raises(OfferError, match="first_due: 30/05/2025 is after the bucket's limit 19/05/2025"):
        simulate_offers(worked_debt(), policy(), date(2025, 5, 9), first_due=date(2025, 5, 30))
    with pytest.raises(OfferError, match="first_due: .* is before today"):
        simulate_offers(worked_debt(), policy(), date(2025, 5, 9), first_due=date(2025, 5, 1))
    with pytest.raises(OfferError, match="down_payment: R\\$ 50,00 is below the minimum R\\$ 105,02"):
        simulate_offers(worked_debt(), policy(), date(2025, 5, 9), down_payment=Decimal(50))


def test_split_installments_sums_exactly() -> None:
    assert split_installments(Decimal("100.00"), 3, Decimal(0)) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert split_installments(Decimal("0.15"), 10, Decimal(0)) == [Decimal("0.01")] * 9 + [Decimal("0.06")]


# --- properties ------------------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DebtBreakdown, BucketPolicy, date]:
    principal = draw(st.decimals(min_value=Decimal("10.00"), max_value=Decimal("200000.00"), places=2))
    due = draw(st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 6, 30)))
    late = draw(st.integers(min_value=0, max_value=1500))
    debt = update_debt(principal, due, due + timedelta(days=late), ChargeTerms())
    bucket = BucketPolicy(
        name="p",
        min_days=0,
        max_days=None,
        max_cash_discount_pct=draw(st.decimals(min_value=0, max_value=100, places=2)),
        min_down_payment_pct=draw(st.sampled_from([Decimal(0), Decimal(5), Decimal("12.5"), Decimal(30)])),
        max_installments=draw(st.integers(min_value=0, max_value=24)),
        min_installment=draw(st.sampled_from([Decimal(0), Decimal(30), Decimal(50), Decimal(200)])),
        first_due_max_days=draw(st.integers(min_value=0, max_value=15)),
        monthly_rate_pct=draw(st.sampled_from([Decimal(0), Decimal("0.99"), Decimal("1.99"), Decimal("4.5")])),
        discount_base=draw(st.sampled_from(list(DiscountBase))),
    )
    today = due + timedelta(days=late)
    return debt, bucket, today


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_offer_properties(scenario: tuple[DebtBreakdown, BucketPolicy, date]) -> None:
    debt, bucket, today = scenario
    offers = simulate_offers(debt, bucket, today, business_calendar=CALENDAR)
    base = debt.gross_total if bucket.discount_base is DiscountBase.TOTAL else debt.charges
    for offer in offers:
        # discount never above the cap
        assert offer.debt.discount <= base * bucket.max_cash_discount_pct / 100
        assert all(CALENDAR.is_business_day(i.due_on) for i in offer.installments)
        assert offer.installments[0].due_on >= today
        if offer.kind is OfferKind.INSTALLMENTS:
            assert all(i.amount >= bucket.min_installment and i.amount > 0 for i in offer.installments)
            if not bucket.monthly_rate_pct:
                assert offer.total_payable == offer.debt.total  # sums exactly
            else:
                assert offer.total_payable >= offer.debt.total
            if offer.down_payment is not None:
                assert offer.down_payment.amount >= offer.debt.total * bucket.min_down_payment_pct / 100
            dates = [i.due_on for i in offer.installments]
            assert dates == sorted(dates)
        else:
            assert offer.total_payable == offer.debt.total


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000.00"), places=2),
    st.integers(min_value=1, max_value=120),
    st.sampled_from([Decimal(0), Decimal("0.5"), Decimal("1.99"), Decimal("9.9")]),
)
def test_split_properties(financed: Decimal, count: int, rate: Decimal) -> None:
    amounts = split_installments(financed, count, rate)
    assert len(amounts) == count
    assert all(a >= amounts[0] for a in amounts)  # the last absorbs the rounding upwards
    if not rate:
        assert sum(amounts) == financed
