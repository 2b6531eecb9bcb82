"""The synthetic portfolio: valid CPFs, accented names, many DDDs, every aging bucket, repeatable."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from dialer.leads.ddd import uf_of
from dialer.portfolio.cpf import is_valid_cpf
from dialer.portfolio.phones import normalize_phone
from web.demo.portfolio import AGING_BUCKETS, aging_bucket_of, generate_customers

TODAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def customers():  # type: ignore[no-untyped-def]
    return generate_customers(1200, today=TODAY)


def test_at_least_a_thousand_customers_with_valid_unique_cpfs(customers) -> None:  # type: ignore[no-untyped-def]
    assert len(customers) == 1200
    assert all(is_valid_cpf(c.cpf) for c in customers)
    assert len({c.cpf for c in customers}) == len(customers)
    assert len({c.external_id for c in customers}) == len(customers)


def test_names_are_brazilian_with_accents(customers) -> None:  # type: ignore[no-untyped-def]
    accented = [c.name for c in customers if any(ch in c.name for ch in "áâãàéêíóôõúçÁÂÉÍÓÚ")]
    assert len(accented) > len(customers) // 2
    assert all(len(c.name.split()) >= 3 for c in customers)


def test_phones_are_valid_e164_across_many_ddds_with_last_digits_spread(customers) -> None:  # type: ignore[no-untyped-def]
    phones = [p for c in customers for p in c.phones]
    for p in phones:
        assert normalize_phone(p.e164).e164 == p.e164
        assert p.e164[3:5] == p.ddd
    ddds = {c.phones[0].ddd for c in customers}
    assert len(ddds) >= 30
    assert {uf_of(c.phones[0].e164) for c in customers} >= {"SP", "RJ", "AM", "AC", "RS", "BA", "PE", "DF"}
    last = Counter(c.phones[0].e164[-1] for c in customers)
    assert set(last) == set("0123456789")
    assert min(last.values()) >= len(customers) // 20  # every digit at least 5 %


def test_debts_fall_in_every_aging_bucket_and_none_is_prescribed(customers) -> None:  # type: ignore[no-untyped-def]
    oldest = [max((TODAY - d.due_date).days for d in c.debts) for c in customers]
    buckets = Counter(aging_bucket_of(days) for days in oldest)
    assert set(buckets) == set(range(len(AGING_BUCKETS)))
    assert max(oldest) < 5 * 365
    for c in customers:
        assert [aging_bucket_of(max((TODAY - d.due_date).days for d in c.debts))] == [c.bucket]
        assert all(d.balance >= d.original_amount > 0 for d in c.debts)
        assert all(d.balance == d.balance.quantize(d.balance.__class__("0.01")) for d in c.debts)


def test_same_seed_same_portfolio() -> None:
    assert generate_customers(50, today=TODAY) == generate_customers(50, today=TODAY)
    assert generate_customers(50, today=TODAY, seed=1) != generate_customers(50, today=TODAY, seed=2)


def test_bad_count_is_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        generate_customers(0, today=TODAY)
