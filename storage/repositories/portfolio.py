"""Portfolio storage: customers, phones, debts and tags written in batches, and customer holds.

:func:`store_customers` takes whole customers (every row the file has for them) and
writes only what differs from what is stored: customers by ``external_id``, debts by
(customer, ``contract``), phones by (customer, E.164), tags replaced by the file's. A
customer whose stored data already equals the file's is not touched at all (no
``updated_at`` change), so re-importing a file is a no-op. Each customer keeps the fingerprint
of the file records it came from (:func:`import_fingerprints` reads them back), so the
importer can skip unchanged customers before even parsing their rows. Inserts and updates go out as
executemany statements, a few per batch rather than a few per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValue, NotFound
from storage.models import (
    Customer,
    CustomerHold,
    CustomerTag,
    Debt,
    DebtStatus,
    HoldKind,
    Lead,
    LeadState,
    Phone,
)
from storage.repositories._values import enum_value
from storage.repositories.prepared import executemany

OPEN_ENDED_HOLD = timedelta(days=365)
"""How far a hold with no end date pushes the customer's leads (releasing it makes them due again)."""

_CUSTOMERS = cast(Table, Customer.__table__)
_PHONES = cast(Table, Phone.__table__)
_DEBTS = cast(Table, Debt.__table__)
_TAGS = cast(Table, CustomerTag.__table__)
_LEADS = cast(Table, Lead.__table__)
_SET_FINGERPRINT = text("UPDATE customers SET import_fingerprint = :import_fingerprint WHERE id = :b_id")
_CUSTOMER_FIELDS = ("name", "cpf", "birth_date", "email", "uf")
_DEBT_FIELDS = ("creditor", "product", "original_amount", "balance", "due_date")


@dataclass(frozen=True, slots=True)
class DebtRecord:
    contract: str
    creditor: str
    product: str | None
    original_amount: Decimal
    balance: Decimal
    due_date: date


@dataclass(slots=True)
class CustomerRecord:
    """One customer as the file has it: the last row's personal data, all phones, debts and tags."""

    external_id: str
    name: str
    cpf: str
    birth_date: date | None
    email: str | None
    uf: str | None
    phones: dict[str, str] = field(default_factory=dict)
    """E.164 → DDD."""
    debts: dict[str, DebtRecord] = field(default_factory=dict)
    """Contract → debt (a contract repeated in the file: the last row wins)."""
    tags: set[str] = field(default_factory=set)
    fingerprint: str | None = None
    """Hash of the file records this customer came from, when they were all accepted as they are
    (stored, a later import of the same records skips the customer); None: none is kept."""


@dataclass(slots=True)
class StoreResult:
    inserted_customers: int = 0
    updated_customers: int = 0
    leads_created: int = 0
    changed_customer_ids: list[int] = field(default_factory=list)
    """New and changed customers (their leads need re-prioritising)."""


def _aggregates(debts: Sequence[tuple[Decimal, date, str]]) -> tuple[Decimal, date | None]:
    open_debts = [(balance, due) for balance, due, status in debts if status == DebtStatus.OPEN.value]
    total = sum((balance for balance, _ in open_debts), Decimal("0.00"))
    oldest = min((due for _, due in open_debts), default=None)
    return total.quantize(Decimal("0.01")), oldest


def _new_aggregates(record: CustomerRecord) -> tuple[Decimal, date | None]:
    return _aggregates([(d.balance, d.due_date, DebtStatus.OPEN.value) for d in record.debts.values()])


async def store_customers(
    session: AsyncSession, campaign_id: int, records: Sequence[CustomerRecord], *, now: datetime
) -> StoreResult:
    """Insert or update whole customers, their phones, debts and tags, and their leads in the campaign."""
    result = StoreResult()
    if not records:
        return result
    by_ext = {r.external_id: r for r in records}
    existing_rows = await session.execute(
        select(
            _CUSTOMERS.c.id,
            _CUSTOMERS.c.external_id,
            *(_CUSTOMERS.c[f] for f in _CUSTOMER_FIELDS),
            _CUSTOMERS.c.balance_total,
            _CUSTOMERS.c.oldest_due_date,
            _CUSTOMERS.c.import_fingerprint,
        ).where(_CUSTOMERS.c.external_id.in_(list(by_ext)))
    )
    existing = {row.external_id: row for row in existing_rows}

    new_records = [r for ext, r in by_ext.items() if ext not in existing]
    ids: dict[str, int] = {ext: row.id for ext, row in existing.items()}
    if new_records:
        # A plain executemany, then one query for the new ids: INSERT ... RETURNING in parameter
        # order falls back to one statement per row on SQLite
        await executemany(
            session,
            _CUSTOMERS,
            [
                {
                    "external_id": r.external_id,
                    **{f: getattr(r, f) for f in _CUSTOMER_FIELDS},
                    "deceased": False,
                    "dispute_pending": False,
                    # every debt of a new customer is new and open: its aggregates are known now
                    # (rather than a second write of the row below)
                    **dict(zip(("balance_total", "oldest_due_date"), _new_aggregates(r), strict=True)),
                    "import_fingerprint": r.fingerprint,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in new_records
            ],
        )
        for cid, ext in await session.execute(
            select(_CUSTOMERS.c.id, _CUSTOMERS.c.external_id).where(
                _CUSTOMERS.c.external_id.in_([r.external_id for r in new_records])
            )
        ):
            ids[ext] = cid
        result.inserted_customers = len(new_records)

    old_ids = [ids[ext] for ext in existing]
    stored_phones: set[tuple[int, str]] = set()
    stored_debts: dict[tuple[int, str], Any] = {}
    debts_of: dict[int, list[Any]] = {}
    stored_tags: dict[int, set[str]] = {}
    if old_ids:
        for cid, e164 in await session.execute(
            select(_PHONES.c.customer_id, _PHONES.c.e164).where(_PHONES.c.customer_id.in_(old_ids))
        ):
            stored_phones.add((cid, e164))
        for row in await session.execute(
            select(
                _DEBTS.c.id, _DEBTS.c.customer_id, _DEBTS.c.contract, _DEBTS.c.status, *(_DEBTS.c[f] for f in _DEBT_FIELDS)
            ).where(_DEBTS.c.customer_id.in_(old_ids))
        ):
            stored_debts[(row.customer_id, row.contract)] = row
            debts_of.setdefault(row.customer_id, []).append(row)
        for cid, tag in await session.execute(
            select(_TAGS.c.customer_id, _TAGS.c.tag).where(_TAGS.c.customer_id.in_(old_ids))
        ):
            stored_tags.setdefault(cid, set()).add(tag)

    new_phones: list[dict[str, Any]] = []
    new_debts: list[dict[str, Any]] = []
    changed_debts: list[dict[str, Any]] = []
    new_tags: list[dict[str, Any]] = []
    drop_tags: list[dict[str, Any]] = []
    changed_customers: list[dict[str, Any]] = []
    new_fingerprints: list[dict[str, Any]] = []
    for ext, record in by_ext.items():
        cid = ids[ext]
        old = existing.get(ext)
        changed = False
        if old is not None and any(getattr(old, f) != getattr(record, f) for f in _CUSTOMER_FIELDS):
            changed = True
        for e164, ddd in record.phones.items():
            if (cid, e164) not in stored_phones:
                new_phones.append({"customer_id": cid, "e164": e164, "ddd": ddd, "created_at": now})
                changed = True
        debt_state: dict[str, tuple[Decimal, date, str]] = {
            row.contract: (row.balance, row.due_date, row.status) for row in debts_of.get(cid, ())
        }
        for contract, debt in record.debts.items():
            values = {f: getattr(debt, f) for f in _DEBT_FIELDS}
            stored = stored_debts.get((cid, contract))
            if stored is None:
                new_debts.append(
                    {"customer_id": cid, "contract": contract, **values, "status": DebtStatus.OPEN.value,
                     "created_at": now, "updated_at": now}
                )
                debt_state[contract] = (debt.balance, debt.due_date, DebtStatus.OPEN.value)
                changed = True
            elif any(getattr(stored, f) != v for f, v in values.items()):
                changed_debts.append({"b_id": stored.id, **values, "updated_at": now})
                debt_state[contract] = (debt.balance, debt.due_date, stored.status)
                changed = True
        had_tags = stored_tags.get(cid, set())
        for tag in record.tags - had_tags:
            new_tags.append({"customer_id": cid, "tag": tag})
            changed = True
        for tag in had_tags - record.tags:
            drop_tags.append({"b_customer_id": cid, "b_tag": tag})
            changed = True
        if old is None:
            result.changed_customer_ids.append(cid)  # inserted with its aggregates above
            continue
        total, oldest = _aggregates(list(debt_state.values()))
        if changed or (old.balance_total, old.oldest_due_date) != (total, oldest):
            changed_customers.append(
                {"b_id": cid, **{f: getattr(record, f) for f in _CUSTOMER_FIELDS},
                 "balance_total": total, "oldest_due_date": oldest, "import_fingerprint": record.fingerprint,
                 "updated_at": now}
            )
            result.changed_customer_ids.append(cid)
            result.updated_customers += 1
        elif old.import_fingerprint != record.fingerprint:
            # the same data from different records (or first seen whole): only the fingerprint is new
            new_fingerprints.append({"b_id": cid, "import_fingerprint": record.fingerprint})

    await executemany(session, _PHONES, new_phones)
    await executemany(session, _DEBTS, new_debts)
    await executemany(session, _DEBTS, changed_debts, where_id="b_id")
    if drop_tags:
        await session.execute(
            delete(_TAGS).where(_TAGS.c.customer_id == bindparam("b_customer_id"), _TAGS.c.tag == bindparam("b_tag")),
            drop_tags,
        )
    await executemany(session, _TAGS, new_tags)
    await executemany(session, _CUSTOMERS, changed_customers, where_id="b_id")
    if new_fingerprints:
        # not a change of the customer: updated_at stays (Customer's onupdate would set it)
        await session.execute(_SET_FINGERPRINT, new_fingerprints)

    with_lead = set(
        await session.scalars(
            select(_LEADS.c.customer_id).where(
                _LEADS.c.campaign_id == campaign_id, _LEADS.c.customer_id.in_(list(ids.values()))
            )
        )
    )
    missing = [cid for cid in ids.values() if cid not in with_lead]
    if missing:
        await executemany(
            session,
            _LEADS,
            [
                {
                    "campaign_id": campaign_id,
                    "customer_id": cid,
                    "priority": 0,
                    "boost": 0,
                    "state": LeadState.NEW.value,
                    "next_attempt_at": now,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for cid in missing
            ],
        )
        result.leads_created = len(missing)
        changed_ids = set(result.changed_customer_ids)
        result.changed_customer_ids.extend(cid for cid in missing if cid not in changed_ids)
    return result


async def refresh_statistics(session: AsyncSession) -> None:
    """Let PostgreSQL's planner see what a bulk import just wrote (no-op on SQLite).

    Autovacuum analyzes a table only some time after it changed a lot; until then a table an
    import is filling still looks empty, and the planner picks plans for that (a lead
    re-rank by customer ids walked every lead of the campaign per batch, or worse).
    """
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("ANALYZE customers, debts, phones, leads")


async def import_fingerprints(session: AsyncSession, campaign_id: int) -> dict[str, str]:
    """External id → stored import fingerprint, of the customers that have one and a lead in the campaign.

    One query for the whole portfolio: what lets a re-import skip unchanged customers without
    reading them one batch at a time. A customer without a lead in this campaign is left out
    (importing them creates it).
    """
    rows = await session.execute(
        select(_CUSTOMERS.c.external_id, _CUSTOMERS.c.import_fingerprint)
        .join(_LEADS, (_LEADS.c.customer_id == _CUSTOMERS.c.id) & (_LEADS.c.campaign_id == campaign_id))
        .where(_CUSTOMERS.c.import_fingerprint.is_not(None))
    )
    return {ext: fingerprint for ext, fingerprint in rows}


async def balance_of_contracts(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> Decimal:
    """Sum of the stored balances of (external id, contract) pairs."""
    total = Decimal("0.00")
    chunk = 500
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        exts = list({ext for ext, _ in part})
        wanted = set(part)
        rows = await session.execute(
            select(Customer.external_id, Debt.contract, Debt.balance)
            .join(Customer, Customer.id == Debt.customer_id)
            .where(Customer.external_id.in_(exts))
        )
        total += sum((bal for ext, contract, bal in rows if (ext, contract) in wanted), Decimal("0.00"))
    return total


async def campaigns_of_customers(session: AsyncSession, customer_ids: Sequence[int]) -> list[int]:
    """Campaigns that have a lead for any of these customers."""
    return sorted(
        set(await session.scalars(select(Lead.campaign_id).where(Lead.customer_id.in_(list(customer_ids)))))
    )


# ---------------------------------------------------------------- holds


@dataclass(frozen=True, slots=True)
class HoldView:
    id: int
    customer_id: int
    kind: HoldKind
    reason: str
    until: datetime | None
    set_by_id: int | None
    set_at: datetime
    released_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "kind": self.kind.value,
            "reason": self.reason,
            "until": self.until.isoformat() if self.until else None,
            "set_by_id": self.set_by_id,
            "set_at": self.set_at.isoformat(),
            "released_at": self.released_at.isoformat() if self.released_at else None,
        }


def _view(hold: CustomerHold) -> HoldView:
    return HoldView(
        hold.id, hold.customer_id, HoldKind(hold.kind), hold.reason, hold.until, hold.set_by_id, hold.set_at,
        hold.released_at,
    )


async def set_hold(
    session: AsyncSession,
    customer_id: int,
    *,
    kind: HoldKind | str,
    reason: str,
    until: datetime | None,
    set_by_id: int | None,
    now: datetime,
) -> HoldView:
    """Suspend collection of a customer; their live leads are held back until the hold ends."""
    if await session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer with id {customer_id}")
    if not reason.strip():
        raise InvalidValue("reason must not be empty")
    if until is not None and until <= now:
        raise InvalidValue(f"until {until.isoformat()} is not in the future")
    hold = CustomerHold(
        customer_id=customer_id,
        kind=enum_value(HoldKind, kind, "kind"),
        reason=reason.strip()[:200],
        until=until,
        set_by_id=set_by_id,
        set_at=now,
    )
    session.add(hold)
    await session.flush()
    # Held leads are not re-examined on every pick: they wait for the hold's end (or its release,
    # which makes them due again)
    wait_until = until or now + OPEN_ENDED_HOLD
    await session.execute(
        update(Lead)
        .where(
            Lead.customer_id == customer_id,
            Lead.state.in_((LeadState.NEW, LeadState.DIALABLE)),
            Lead.next_attempt_at < wait_until,
        )
        .values(next_attempt_at=wait_until, updated_at=now)
    )
    return _view(hold)


async def release_hold(
    session: AsyncSession, customer_id: int, hold_id: int, *, released_by_id: int | None, now: datetime
) -> HoldView:
    """End a hold; the customer's leads become due now if no other hold remains."""
    hold = await session.get(CustomerHold, hold_id)
    if hold is None or hold.customer_id != customer_id:
        raise NotFound(f"customer {customer_id} has no hold with id {hold_id}")
    if hold.released_at is not None:
        raise InvalidValue(f"hold {hold_id} was already released on {hold.released_at.isoformat()}")
    hold.released_at = now
    hold.released_by_id = released_by_id
    await session.flush()
    if not await active_holds(session, customer_id, now=now):
        await session.execute(
            update(Lead)
            .where(Lead.customer_id == customer_id, Lead.state.in_((LeadState.NEW, LeadState.DIALABLE)),
                   Lead.next_attempt_at > now)
            .values(next_attempt_at=now, updated_at=now)
        )
    return _view(hold)


async def active_holds(session: AsyncSession, customer_id: int, *, now: datetime) -> list[HoldView]:
    holds = await session.scalars(
        select(CustomerHold)
        .where(
            CustomerHold.customer_id == customer_id,
            CustomerHold.released_at.is_(None),
            (CustomerHold.until.is_(None)) | (CustomerHold.until > now),
        )
        .order_by(CustomerHold.id)
    )
    return [_view(h) for h in holds]
