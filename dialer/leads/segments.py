"""Campaign segments and boosts: which leads are dialled first (SPEC §4 "Priority").

A campaign has an ordered list of segments. A lead belongs to the FIRST segment (by
position) whose filter matches its customer; its score is that segment's ``weight`` plus
the lead's own ``boost`` (a supervisor's push for one account). Higher scores are dialled
first, equal scores in segment order, then the oldest ``next_attempt_at``. Leads in no
segment score their boost alone and come after every segment of the same score.

The score is stored on the lead as one integer, ``priority`` (lower first, see
:func:`priority_of`), so the database can keep it in an index and a pick stays one seek
per priority level. Pure: the storage layer turns :class:`SegmentFilter` into SQL, and
:func:`matches` here is the reference the tests hold that SQL to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from dialer.leads.aging import BUCKET_LABELS, BUCKETS, CURRENT, OVER_360, aging_bucket
from dialer.leads.ddd import UFS

MAX_SEGMENTS = 50
MIN_WEIGHT, MAX_WEIGHT = 0, 1000
MIN_BOOST, MAX_BOOST = -1000, 1000
NO_SEGMENT_POSITION = 99
"""The position a lead in no segment ranks at (after every real segment of its score)."""
_SCORE_CEILING = MAX_WEIGHT + MAX_BOOST


class SegmentError(ValueError):
    """A segment definition is wrong; ``field`` names what (e.g. ``segments[2].filters.buckets``)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True, slots=True)
class SegmentFilter:
    """What a customer must have to be in a segment; every given criterion must hold (AND).

    ``buckets`` are aging labels (``1-30`` ... ``360+``, ``a vencer``) of the oldest open due
    date; ``balance_min``/``balance_max`` bound the total open balance (inclusive);
    ``tags_any`` matches a customer with at least one of the tags; ``ufs`` the address UF;
    ``promise_broken`` / ``callback_due`` match when equal to the customer's situation.
    """

    buckets: tuple[str, ...] = ()
    balance_min: Decimal | None = None
    balance_max: Decimal | None = None
    tags_any: tuple[str, ...] = ()
    ufs: tuple[str, ...] = ()
    score_min: int | None = None
    score_max: int | None = None
    promise_broken: bool | None = None
    callback_due: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form: only the criteria that are set, money as strings."""
        out: dict[str, Any] = {}
        if self.buckets:
            out["buckets"] = list(self.buckets)
        for name in ("balance_min", "balance_max"):
            value = getattr(self, name)
            if value is not None:
                out[name] = f"{value:.2f}"
        if self.tags_any:
            out["tags_any"] = list(self.tags_any)
        if self.ufs:
            out["ufs"] = list(self.ufs)
        for name in ("score_min", "score_max", "promise_broken", "callback_due"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """One segment as a supervisor defines it; its position is its place in the list."""

    name: str
    weight: int
    filter: SegmentFilter = field(default_factory=SegmentFilter)


@dataclass(frozen=True, slots=True)
class SegmentFacts:
    """What segment filters look at for one customer."""

    oldest_due_date: date | None
    balance_total: Decimal
    tags: frozenset[str] = frozenset()
    uf: str | None = None
    score: int | None = None
    promise_broken: bool = False
    callback_due: bool = False


def _money(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise SegmentError(where, f"expected an amount like \"1000.00\", got {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise SegmentError(where, f"expected an amount like \"1000.00\", got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise SegmentError(where, f"must be a non-negative amount, got {value!r}")
    return amount.quantize(Decimal("0.01"))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SegmentError(where, f"expected a list of non-empty texts, got {value!r}")
    return tuple(dict.fromkeys(" ".join(v.split()) for v in value))


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SegmentError(where, f"expected a whole number, got {value!r}")
    return value


def parse_filter(data: Mapping[str, Any], where: str = "filters") -> SegmentFilter:
    """A stored or submitted filter mapping → :class:`SegmentFilter`; SegmentError names the bad key."""
    if not isinstance(data, Mapping):
        raise SegmentError(where, f"expected an object, got {data!r}")
    known = set(SegmentFilter.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise SegmentError(f"{where}.{unknown[0]}", f"unknown filter; known: {', '.join(sorted(known))}")
    kw: dict[str, Any] = {}
    if data.get("buckets") is not None:
        buckets = _strings(data["buckets"], f"{where}.buckets")
        bad = [b for b in buckets if b not in BUCKET_LABELS]
        if bad:
            raise SegmentError(f"{where}.buckets", f"unknown bucket {bad[0]!r}; use {', '.join(BUCKET_LABELS)}")
        kw["buckets"] = buckets
    for name in ("balance_min", "balance_max"):
        if data.get(name) is not None:
            kw[name] = _money(data[name], f"{where}.{name}")
    if kw.get("balance_min") is not None and kw.get("balance_max") is not None and kw["balance_min"] > kw["balance_max"]:
        raise SegmentError(f"{where}.balance_max", "must not be below balance_min")
    if data.get("tags_any") is not None:
        kw["tags_any"] = _strings(data["tags_any"], f"{where}.tags_any")
    if data.get("ufs") is not None:
        ufs = tuple(u.upper() for u in _strings(data["ufs"], f"{where}.ufs"))
        bad = [u for u in ufs if u not in UFS]
        if bad:
            raise SegmentError(f"{where}.ufs", f"{bad[0]!r} is not a Brazilian UF")
        kw["ufs"] = ufs
    for name in ("score_min", "score_max"):
        if data.get(name) is not None:
            kw[name] = _int(data[name], f"{where}.{name}")
    for name in ("promise_broken", "callback_due"):
        if data.get(name) is not None:
            if not isinstance(data[name], bool):
                raise SegmentError(f"{where}.{name}", f"expected true or false, got {data[name]!r}")
            kw[name] = data[name]
    return SegmentFilter(**kw)


def check_segments(specs: Sequence[SegmentSpec]) -> None:
    """Refuse a list with too many segments, repeated names or weights out of range."""
    if len(specs) > MAX_SEGMENTS:
        raise SegmentError("segments", f"at most {MAX_SEGMENTS} segments, got {len(specs)}")
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        name = " ".join(spec.name.split())
        if not name or len(name) > 80:
            raise SegmentError(f"segments[{i}].name", "must have 1 to 80 characters")
        if name.lower() in seen:
            raise SegmentError(f"segments[{i}].name", f"{name!r} appears twice")
        seen.add(name.lower())
        if isinstance(spec.weight, bool) or not MIN_WEIGHT <= spec.weight <= MAX_WEIGHT:
            raise SegmentError(f"segments[{i}].weight", f"must be between {MIN_WEIGHT} and {MAX_WEIGHT}")


def check_boost(boost: int, where: str = "boost") -> int:
    if isinstance(boost, bool) or not isinstance(boost, int) or not MIN_BOOST <= boost <= MAX_BOOST:
        raise SegmentError(where, f"must be a whole number between {MIN_BOOST} and {MAX_BOOST}, got {boost!r}")
    return boost


def priority_of(weight: int, position: int, boost: int) -> int:
    """The stored rank of a lead (lower is dialled first): score = weight + boost, then position."""
    score = weight + max(MIN_BOOST, min(MAX_BOOST, boost))
    return (_SCORE_CEILING - score) * 100 + position


def position_of(priority: int) -> int:
    """The segment position a stored priority was computed with (NO_SEGMENT_POSITION for none)."""
    return priority % 100


def bucket_due_range(bucket: str, today: date) -> tuple[date | None, date | None]:
    """The inclusive range of oldest due dates that falls in ``bucket`` today (None = unbounded)."""
    if bucket == CURRENT:
        return today, None
    if bucket == OVER_360:
        return None, today - timedelta(days=BUCKETS[-1][0] + 1)
    lower_days = 1
    for upper, label in BUCKETS:
        if label == bucket:
            return today - timedelta(days=upper), today - timedelta(days=lower_days)
        lower_days = upper + 1
    raise SegmentError("buckets", f"unknown bucket {bucket!r}")


def matches(flt: SegmentFilter, facts: SegmentFacts, today: date) -> bool:
    """True if the customer described by ``facts`` is in a segment with this filter today."""
    if flt.buckets:
        if facts.oldest_due_date is None or aging_bucket(facts.oldest_due_date, today) not in flt.buckets:
            return False
    if flt.balance_min is not None and facts.balance_total < flt.balance_min:
        return False
    if flt.balance_max is not None and facts.balance_total > flt.balance_max:
        return False
    if flt.tags_any and not facts.tags.intersection(flt.tags_any):
        return False
    if flt.ufs and (facts.uf or "").upper() not in flt.ufs:
        return False
    if flt.score_min is not None and (facts.score is None or facts.score < flt.score_min):
        return False
    if flt.score_max is not None and (facts.score is None or facts.score > flt.score_max):
        return False
    if flt.promise_broken is not None and facts.promise_broken is not flt.promise_broken:
        return False
    if flt.callback_due is not None and facts.callback_due is not flt.callback_due:
        return False
    return True


def classify(specs: Sequence[SegmentSpec], facts: SegmentFacts, today: date) -> int | None:
    """The position of the first segment the customer is in, or None."""
    for position, spec in enumerate(specs):
        if matches(spec.filter, facts, today):
            return position
    return None


def lead_priority(specs: Sequence[SegmentSpec], facts: SegmentFacts, boost: int, today: date) -> int:
    """The stored priority of a lead: its first matching segment's weight and position, plus its boost."""
    position = classify(specs, facts, today)
    if position is None:
        return priority_of(0, NO_SEGMENT_POSITION, boost)
    return priority_of(specs[position].weight, position, boost)
