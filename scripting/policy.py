"""Negotiation policy per campaign and aging bucket, and authority levels (alçada).

All percentages are in percent units (``Decimal("30")`` = 30 %). Values are per
creditor mandate: the reference marks every figure as configurable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

HUNDRED = Decimal(100)


class PolicyError(ValueError):
    """A malformed policy; the message names the bucket and field."""


class DiscountBase(StrEnum):
    """What a discount percentage applies to."""

    TOTAL = "total"  # the whole updated debt
    CHARGES = "charges"  # only correction + fine + interest (the "encargos")


@dataclass(frozen=True)
class BucketPolicy:
    """The offer limits for one aging bucket (days overdue ``min_days``..``max_days``)."""

    name: str
    min_days: int
    max_days: int | None
    max_cash_discount_pct: Decimal
    min_down_payment_pct: Decimal
    max_installments: int
    min_installment: Decimal
    first_due_max_days: int
    monthly_rate_pct: Decimal = Decimal(0)
    installment_discount_pct: Decimal = Decimal(0)
    discount_base: DiscountBase = DiscountBase.TOTAL

    def __post_init__(self) -> None:
        where = f"bucket {self.name!r}"
        if self.min_days < 0:
            raise PolicyError(f"{where}: min_days must be >= 0")
        if self.max_days is not None and self.max_days < self.min_days:
            raise PolicyError(f"{where}: max_days must be >= min_days")
        for name in ("max_cash_discount_pct", "min_down_payment_pct", "installment_discount_pct"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not 0 <= value <= HUNDRED:
                raise PolicyError(f"{where}: {name} must be a Decimal between 0 and 100, got {value!r}")
        if self.installment_discount_pct > self.max_cash_discount_pct:
            raise PolicyError(f"{where}: installment_discount_pct may not exceed max_cash_discount_pct")
        if self.max_installments < 0:
            raise PolicyError(f"{where}: max_installments must be >= 0")
        if not isinstance(self.min_installment, Decimal) or self.min_installment < 0:
            raise PolicyError(f"{where}: min_installment must be a Decimal >= 0")
        if self.first_due_max_days < 0:
            raise PolicyError(f"{where}: first_due_max_days must be >= 0")
        if not isinstance(self.monthly_rate_pct, Decimal) or not 0 <= self.monthly_rate_pct <= HUNDRED:
            raise PolicyError(f"{where}: monthly_rate_pct must be a Decimal between 0 and 100")

    def covers(self, days_overdue: int) -> bool:
        return days_overdue >= self.min_days and (self.max_days is None or days_overdue <= self.max_days)


@dataclass(frozen=True)
class NegotiationPolicy:
    """A campaign's buckets; they may not overlap."""

    campaign: str
    buckets: tuple[BucketPolicy, ...]

    def __post_init__(self) -> None:
        ordered = sorted(self.buckets, key=lambda b: b.min_days)
        for before, after in zip(ordered, ordered[1:]):
            if before.max_days is None or before.max_days >= after.min_days:
                raise PolicyError(f"campaign {self.campaign!r}: buckets {before.name!r} and {after.name!r} overlap")

    def bucket_for(self, days_overdue: int) -> BucketPolicy:
        """The bucket covering ``days_overdue``; PolicyError if none does."""
        for bucket in self.buckets:
            if bucket.covers(days_overdue):
                return bucket
        raise PolicyError(f"campaign {self.campaign!r}: no bucket covers {days_overdue} days overdue")


_BUCKET_FIELDS = {
    "name",
    "min_days",
    "max_days",
    "max_cash_discount_pct",
    "min_down_payment_pct",
    "max_installments",
    "min_installment",
    "first_due_max_days",
    "monthly_rate_pct",
    "installment_discount_pct",
    "discount_base",
}
_REQUIRED = _BUCKET_FIELDS - {"max_days", "monthly_rate_pct", "installment_discount_pct", "discount_base"}


def policy_from_mapping(data: Mapping[str, Any]) -> NegotiationPolicy:
    """Builds a policy from parsed YAML/JSON: ``{campaign: str, buckets: [{name, min_days, ...}]}``."""
    if not isinstance(data, Mapping) or "campaign" not in data or "buckets" not in data:
        raise PolicyError("policy: needs 'campaign' and 'buckets'")
    buckets = []
    for position, raw in enumerate(data["buckets"], start=1):
        where = f"buckets[{position}]"
        if not isinstance(raw, Mapping):
            raise PolicyError(f"{where}: must be a mapping")
        unknown = set(raw) - _BUCKET_FIELDS
        if unknown:
            raise PolicyError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        missing = _REQUIRED - set(raw)
        if missing:
            raise PolicyError(f"{where}: missing field(s) {', '.join(sorted(missing))}")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            try:
                if key in {"min_days", "max_installments", "first_due_max_days"} or (
                    key == "max_days" and value is not None
                ):
                    if isinstance(value, bool) or not isinstance(value, int):
                        raise ValueError
                    values[key] = value
                elif key in {"name"}:
                    values[key] = str(value)
                elif key == "discount_base":
                    values[key] = DiscountBase(value)
                elif key == "max_days":
                    values[key] = None
                else:
                    values[key] = Decimal(str(value))
            except (ValueError, InvalidOperation):
                raise PolicyError(f"{where}: field {key}: invalid value {value!r}") from None
        buckets.append(BucketPolicy(**values))
    return NegotiationPolicy(campaign=str(data["campaign"]), buckets=tuple(buckets))


class Authority(StrEnum):
    WITHIN_AGENT = "within_agent"
    NEEDS_SUPERVISOR = "needs_supervisor"
    REFUSED = "refused"


def authorize(discount_pct: Decimal, agent_limit: Decimal, supervisor_limit: Decimal) -> Authority:
    """Who may grant ``discount_pct``: the agent, a supervisor on request, or nobody."""
    if agent_limit < 0 or supervisor_limit < agent_limit:
        raise PolicyError(
            f"authority limits: need 0 <= agent_limit <= supervisor_limit, got {agent_limit} and {supervisor_limit}"
        )
    if discount_pct < 0:
        raise PolicyError(f"discount_pct: must be >= 0, got {discount_pct}")
    if discount_pct <= agent_limit:
        return Authority.WITHIN_AGENT
    if discount_pct <= supervisor_limit:
        return Authority.NEEDS_SUPERVISOR
    return Authority.REFUSED
