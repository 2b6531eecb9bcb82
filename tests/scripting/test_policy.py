from decimal import Decimal

import pytest

from scripting.policy import Authority, BucketPolicy, NegotiationPolicy, PolicyError, authorize, policy_from_mapping


def bucket(name: str, lo: int, hi: int | None, **overrides: object) -> BucketPolicy:
    values: dict[str, object] = {
        "name": name,
        "min_days": lo,
        "max_days": hi,
        "max_cash_discount_pct": Decimal(20),
        "min_down_payment_pct": Decimal(10),
        "max_installments": 12,
        "min_installment": Decimal(50),
        "first_due_max_days": 5,
    }
    values.update(overrides)
    return BucketPolicy(**values)  # type: ignore[arg-type]


def test_bucket_for_days_overdue() -> None:
    policy = NegotiationPolicy("c1", (bucket("1-30", 1, 30), bucket("31-90", 31, 90), bucket("91+", 91, None)))
    assert policy.bucket_for(1).name == "1-30"
    assert policy.bucket_for(31).name == "31-90"
    assert policy.bucket_for(5000).name == "91+"
    with pytest.raises(PolicyError, match="no bucket covers 0 days"):
        policy.bucket_for(0)


def test_overlapping_buckets_are_refused() -> None:
    with pytest.raises(PolicyError, match="overlap"):
        NegotiationPolicy("c1", (bucket("a", 1, 30), bucket("b", 30, 60)))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_cash_discount_pct": Decimal(120)}, "max_cash_discount_pct"),
        ({"min_down_payment_pct": Decimal(-1)}, "min_down_payment_pct"),
        ({"max_installments": -1}, "max_installments"),
        ({"min_installment": Decimal(-1)}, "min_installment"),
        ({"max_days": 0}, "max_days"),
        ({"installment_discount_pct": Decimal(30)}, "installment_discount_pct"),
    ],
)
def test_bad_bucket_names_the_field(overrides: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(PolicyError, match=message):
        bucket("x", 1, 30, **overrides)


def test_policy_from_mapping() -> None:
    policy = policy_from_mapping(
        {
            "campaign": "cartao",
            "buckets": [
                {
                    "name": "31-60",
                    "min_days": 31,
                    "max_days": 60,
                    "max_cash_discount_pct": "15.5",
                    "min_down_payment_pct": 10,
                    "max_installments": 6,
                    "min_installment": "30.00",
                    "first_due_max_days": 7,
                    "monthly_rate_pct": "1.99",
                }
            ],
        }
    )
    assert policy.bucket_for(45).max_cash_discount_pct == Decimal("15.5")
    assert policy.bucket_for(45).monthly_rate_pct == Decimal("1.99")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "a"}, r"buckets\[1\]: missing field"),
        ({"name": "a", "min_days": 1, "bogus": 1}, r"buckets\[1\]: unknown field\(s\) bogus"),
        (
            {
                "name": "a",
                "min_days": "x",
                "max_cash_discount_pct": 1,
                "min_down_payment_pct": 1,
                "max_installments": 1,
                "min_installment": 1,
                "first_due_max_days": 1,
            },
            r"buckets\[1\]: field min_days: invalid value 'x'",
        ),
    ],
)
def test_policy_from_mapping_errors(raw: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(PolicyError, match=message):
        policy_from_mapping({"campaign": "c", "buckets": [raw]})


@pytest.mark.parametrize(
    ("pct", "expected"),
    [
        (Decimal(0), Authority.WITHIN_AGENT),
        (Decimal(10), Authority.WITHIN_AGENT),
        (Decimal("10.01"), Authority.NEEDS_SUPERVISOR),
        (Decimal(25), Authority.NEEDS_SUPERVISOR),
        (Decimal("25.01"), Authority.REFUSED),
    ],
)
def test_authorize(pct: Decimal, expected: Authority) -> None:
    assert authorize(pct, Decimal(10), Decimal(25)) is expected


def test_authorize_rejects_inverted_limits() -> None:
    with pytest.raises(PolicyError, match="agent_limit <= supervisor_limit"):
        authorize(Decimal(5), Decimal(30), Decimal(20))
