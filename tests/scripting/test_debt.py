from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scripting.debt import ChargeTerms, CorrectionIndex, DebtBreakdown, DebtError, FineBase, update_debt
from scripting.indices import Series, table_from_rows

WORKED_TERMS = ChargeTerms(index=CorrectionIndex.IPCA, fine_pct=Decimal(2), interest_pct_month=Decimal(1))


def worked_example() -> DebtBreakdown:
    return update_debt(
        Decimal("1000.00"), date(2025, 3, 10), date(2025, 5, 9), WORKED_TERMS, correction_factor=Decimal("1.0100")
    )


def test_spec_worked_example() -> None:
    debt = worked_example()
    assert debt.days_overdue == 60
    assert debt.corrected_principal == Decimal("1010.00")
    assert debt.fine == Decimal("20.00")
    assert debt.interest == Decimal("20.20")
    assert debt.total == Decimal("1050.20")


def test_itemised_text_is_pt_br_and_adds_up() -> None:
    debt = worked_example()
    assert debt.as_text().splitlines() == [
        "Valor original (vencimento 10/03/2025)               R$ 1.000,00",
        "Correção monetária (IPCA, fator informado 1,010000)  R$ 10,00",
        "Multa de 2,00% sobre o valor original                R$ 20,00",
        "Juros de mora (60 dias a 1,00% ao mês)               R$ 20,20",
        "Total em 09/05/2025                                  R$ 1.050,20",
    ]
    assert sum(value for _, value in debt.lines()) == debt.total
    assert debt.as_sentence() == (
        "O valor original é de R$ 1.000,00, com correção monetária de R$ 10,00, multa de R$ 20,00 e juros de "
        "R$ 20,20, o total atualizado em 09/05/2025 é de R$ 1.050,20."
    )


def test_discount_is_itemised() -> None:
    debt = worked_example().with_discount(Decimal("50.20"), "à vista")
    assert debt.total == Decimal("1000.00")
    assert debt.lines()[-1] == ("Desconto (à vista)", Decimal("-50.20"))
    with pytest.raises(DebtError, match="discount"):
        worked_example().with_discount(Decimal("2000"))


def test_record_round_trip_keeps_the_parameters() -> None:
    debt = worked_example().with_discount(Decimal("10.00"), "teste")
    record = debt.to_record()
    assert record["terms"]["index"] == "IPCA"
    assert record["correction_factor"] == "1.0100"
    assert DebtBreakdown.from_record(record) == debt
    record["total"] = "1.00"
    with pytest.raises(DebtError, match="total"):
        DebtBreakdown.from_record(record)


def test_consumer_fine_is_capped_at_two_percent() -> None:
    terms = ChargeTerms(fine_pct=Decimal(10))
    debt = update_debt(Decimal("1000.00"), date(2025, 3, 10), date(2025, 3, 11), terms)
    assert debt.fine == Decimal("20.00")
    business = ChargeTerms(fine_pct=Decimal(10), consumer=False)
    assert update_debt(Decimal("1000.00"), date(2025, 3, 10), date(2025, 3, 11), business).fine == Decimal("100.00")


def test_fine_base_corrected() -> None:
    terms = ChargeTerms(index=CorrectionIndex.IPCA, fine_base=FineBase.CORRECTED)
    debt = update_debt(Decimal("1000.00"), date(2025, 3, 10), date(2025, 5, 9), terms, correction_factor=Decimal("1.0100"))
    assert debt.fine == Decimal("20.20")
    assert "sobre o valor corrigido" in debt.as_text()


def test_factor_from_the_index_table() -> None:
    table = table_from_rows([(Series.IPCA, "2025-03", "0.56"), (Series.IPCA, "2025-04", "0.43")])
    debt = update_debt(Decimal("1000.00"), date(2025, 3, 10), date(2025, 5, 9), WORKED_TERMS, indices=table)
    assert debt.correction_factor == Decimal("1.0056") * Decimal("1.0043")
    assert debt.correction == Decimal("9.92")  # 1000 x 0.00992408 half-up
    assert debt.factor_source == "tabela IPCA 2025-03..2025-05"


def test_negative_index_never_reduces_the_principal() -> None:
    table = table_from_rows([(Series.IGPM, "2025-03", "-1.0")])
    terms = ChargeTerms(index=CorrectionIndex.IGPM)
    debt = update_debt(Decimal("1000.00"), date(2025, 3, 10), date(2025, 4, 9), terms, indices=table)
    assert debt.correction == Decimal("0.00")


def test_legal_default_splits_at_30_08_2024() -> None:
    # Hypothetical taxa legal figures (the reference gives none): 0,6 / 0,5 / 0,4 % a.m.
    table = table_from_rows(
        [(Series.TAXA_LEGAL, "2024-08", "0.6"), (Series.TAXA_LEGAL, "2024-09", "0.5"), (Series.TAXA_LEGAL, "2024-10", "0.4")]
    )
    terms = ChargeTerms(interest_pct_month=None)
    debt = update_debt(Decimal("1000.00"), date(2024, 8, 1), date(2024, 10, 10), terms, indices=table)
    assert [(p.first, p.days, p.pct_month, p.source) for p in debt.interest_periods] == [
        (date(2024, 8, 2), 28, Decimal(1), "legal_antigo"),
        (date(2024, 8, 30), 2, Decimal("0.6"), "taxa_legal"),
        (date(2024, 9, 1), 30, Decimal("0.5"), "taxa_legal"),
        (date(2024, 10, 1), 10, Decimal("0.4"), "taxa_legal"),
    ]
    # 1000 x (1 % x 28 + 0,6 % x 2 + 0,5 % x 30 + 0,4 % x 10) / 30 = 16,0666... -> 16,07
    assert debt.interest == Decimal("16.07")
    assert debt.total == Decimal("1036.07")
    assert "1,00% ao mês até 29/08/2024 e taxa legal" in debt.as_text()


def test_legal_default_before_the_change_needs_no_table() -> None:
    debt = update_debt(Decimal("100.00"), date(2024, 1, 1), date(2024, 1, 6), ChargeTerms(interest_pct_month=None))
    assert debt.interest == Decimal("0.17")  # 100 x 1 % x 5/30, half-up


def test_legal_default_after_the_change_without_table_is_a_clear_error() -> None:
    with pytest.raises(DebtError, match="taxa legal"):
        update_debt(Decimal("100.00"), date(2025, 1, 1), date(2025, 2, 1), ChargeTerms(interest_pct_month=None))
    table = table_from_rows([(Series.TAXA_LEGAL, "2025-01", "0.5")])
    with pytest.raises(ValueError, match="TAXA_LEGAL for 2025-02"):
        update_debt(Decimal("100.00"), date(2025, 1, 1), date(2025, 2, 1), ChargeTerms(interest_pct_month=None), indices=table)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal": Decimal("-1")}, "principal"),
        ({"principal": Decimal("1.001")}, "whole cents"),
        ({"correction_factor": Decimal("0")}, "correction_factor"),
        ({"terms": ChargeTerms(), "correction_factor": Decimal("1.01")}, "index=none"),
        ({"correction_factor": None}, "no index table or factor"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    args = {
        "principal": Decimal("1000.00"),
        "due_on": date(2025, 3, 10),
        "on": date(2025, 5, 9),
        "terms": WORKED_TERMS,
        "correction_factor": Decimal("1.01"),
    }
    args.update(kwargs)
    with pytest.raises(DebtError, match=message):
        update_debt(**args)


def test_terms_reject_negative_rates() -> None:
    with pytest.raises(DebtError, match="fine_pct"):
        ChargeTerms(fine_pct=Decimal(-1))
    with pytest.raises(DebtError, match="interest_pct_month"):
        ChargeTerms(interest_pct_month=Decimal(-1))


# --- properties ------------------------------------------------------------------------------

money = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("1000000.00"), places=2)
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("20"), places=4)
factors = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("3"), places=6)
days = st.integers(min_value=0, max_value=3000)
due_dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31))


def _terms(fine: Decimal, rate: Decimal, corrected: bool, consumer: bool, indexed: bool) -> ChargeTerms:
    return ChargeTerms(
        index=CorrectionIndex.IPCA if indexed else CorrectionIndex.NONE,
        fine_pct=fine,
        fine_base=FineBase.CORRECTED if corrected else FineBase.ORIGINAL,
        interest_pct_month=rate,
        consumer=consumer,
    )


@given(money, due_dates, days, rates, rates, factors, st.booleans(), st.booleans(), st.booleans())
def test_never_negative_and_adds_up(
    principal: Decimal, due: date, late: int, fine: Decimal, rate: Decimal, factor: Decimal, corrected: bool, consumer: bool, indexed: bool
) -> None:
    terms = _terms(fine, rate, corrected, consumer, indexed)
    debt = update_debt(principal, due, due + timedelta(days=late), terms, correction_factor=factor if indexed else None)
    assert min(debt.correction, debt.fine, debt.interest) >= 0
    assert debt.total >= principal
    assert debt.total == principal + debt.correction + debt.fine + debt.interest
    if consumer:
        assert debt.fine_pct <= 2
        base = debt.corrected_principal if corrected else principal
        assert debt.fine <= base * Decimal("0.02") + Decimal("0.005")


@given(money, due_dates, days, days, rates, rates, factors, st.booleans(), st.booleans())
def test_monotone_in_time(
    principal: Decimal, due: date, late: int, more: int, fine: Decimal, rate: Decimal, factor: Decimal, corrected: bool, indexed: bool
) -> None:
    terms = _terms(fine, rate, corrected, True, indexed)
    factor_arg = factor if indexed else None
    earlier = update_debt(principal, due, due + timedelta(days=late), terms, correction_factor=factor_arg)
    later = update_debt(principal, due, due + timedelta(days=late + more), terms, correction_factor=factor_arg)
    assert later.total >= earlier.total


@given(money, due_dates, st.integers(min_value=0, max_value=400), rates, rates, factors)
def test_equal_to_principal_on_or_before_the_due_date(
    principal: Decimal, due: date, early: int, fine: Decimal, rate: Decimal, factor: Decimal
) -> None:
    terms = _terms(fine, rate, False, True, True)
    debt = update_debt(principal, due, due - timedelta(days=early), terms, correction_factor=factor)
    assert debt.total == principal
    assert debt.charges == 0


@given(money, st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 6, 30)), st.integers(0, 400), st.integers(0, 200))
def test_legal_default_monotone_across_the_change(principal: Decimal, due: date, late: int, more: int) -> None:
    rows = []
    # the latest payment day drawn is 2025-06-30 + 600 days (February 2027): the table covers it
    for year in (2024, 2025, 2026, 2027):
        for month in range(1, 13):
            rows.append((Series.TAXA_LEGAL, f"{year}-{month:02d}", "0.45"))
    table = table_from_rows(rows)
    terms = ChargeTerms(interest_pct_month=None)
    earlier = update_debt(principal, due, due + timedelta(days=late), terms, indices=table)
    later = update_debt(principal, due, due + timedelta(days=late + more), terms, indices=table)
    assert 0 <= earlier.total - principal <= later.total - principal
    assert sum(p.days for p in later.interest_periods) == later.days_overdue
