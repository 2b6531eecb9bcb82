"""The do-not-call list: phones (E.164) and CPFs (11 digits), permanent or until a date (SPEC §4, §5).

Values arrive already normalised (the CLI and API parse them); adding an entry that
exists updates its date and source, so importing the same Procon list twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValue
from storage.models import DncEntry, DncKind
from storage.repositories._values import enum_value


@dataclass(frozen=True, slots=True)
class DncItem:
    kind: DncKind
    value: str
    until: date | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class DncSaved:
    added: int
    updated: int
    unchanged: int


def _check(item: DncItem) -> DncItem:
    kind = enum_value(DncKind, item.kind, "kind")
    if kind is DncKind.CPF and not (len(item.value) == 11 and item.value.isdigit()):
        raise InvalidValue(f"value {item.value!r}: a CPF is stored as its 11 digits")
    if kind is DncKind.PHONE and not (item.value.startswith("+55") and item.value[1:].isdigit()):
        raise InvalidValue(f"value {item.value!r}: a phone is stored in E.164 (+55...)")
    return DncItem(kind, item.value, item.until, item.source[:60])


async def add_entries(
    session: AsyncSession, items: Iterable[DncItem], *, created_by_id: int | None = None, chunk: int = 1000
) -> DncSaved:
    """Add or update entries (by kind and value); later duplicates in ``items`` win."""
    added = updated = unchanged = 0
    batch: dict[tuple[DncKind, str], DncItem] = {}

    async def flush() -> None:
        nonlocal added, updated, unchanged
        if not batch:
            return
        existing: dict[tuple[str, str], tuple[int, date | None, str]] = {}
        for kind in (DncKind.PHONE, DncKind.CPF):
            values = [v for k, v in batch if k is kind]
            if not values:
                continue
            rows = await session.execute(
                select(DncEntry.id, DncEntry.value, DncEntry.until, DncEntry.source).where(
                    DncEntry.kind == kind, DncEntry.value.in_(values)
                )
            )
            for entry_id, value, until, source in rows:
                existing[(kind.value, value)] = (entry_id, until, source)
        for (kind, value), item in batch.items():
            found = existing.get((kind.value, value))
            if found is None:
                session.add(
                    DncEntry(kind=kind, value=value, until=item.until, source=item.source, created_by_id=created_by_id)
                )
                added += 1
            elif (found[1], found[2]) != (item.until, item.source):
                await session.execute(
                    update(DncEntry).where(DncEntry.id == found[0]).values(until=item.until, source=item.source)
                )
                updated += 1
            else:
                unchanged += 1
        await session.flush()
        batch.clear()

    for item in items:
        checked = _check(item)
        batch[(checked.kind, checked.value)] = checked
        if len(batch) >= chunk:
            await flush()
    await flush()
    return DncSaved(added, updated, unchanged)


async def remove_entry(session: AsyncSession, kind: DncKind | str, value: str) -> bool:
    """Delete one entry; False if there was none."""
    result = await session.execute(
        delete(DncEntry).where(DncEntry.kind == enum_value(DncKind, kind, "kind"), DncEntry.value == value)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def list_entries(
    session: AsyncSession, *, kind: DncKind | str | None = None, in_force_on: date | None = None, limit: int | None = None
) -> Sequence[DncEntry]:
    """Entries by kind and value; with ``in_force_on``, only those not expired that day."""
    query = select(DncEntry).order_by(DncEntry.kind, DncEntry.value)
    if kind is not None:
        query = query.where(DncEntry.kind == enum_value(DncKind, kind, "kind"))
    if in_force_on is not None:
        query = query.where((DncEntry.until.is_(None)) | (DncEntry.until >= in_force_on))
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


async def entries_matching(session: AsyncSession, *, phones: Sequence[str], cpf: str | None) -> list[DncEntry]:
    """Entries for any of these phones or this CPF (expired ones included: callers judge the date)."""
    found = list(
        await session.scalars(select(DncEntry).where(DncEntry.kind == DncKind.PHONE, DncEntry.value.in_(list(phones))))
    )
    if cpf:
        found += list(await session.scalars(select(DncEntry).where(DncEntry.kind == DncKind.CPF, DncEntry.value == cpf)))
    return found


async def is_listed_since(session: AsyncSession, kind: DncKind, value: str) -> datetime | None:
    """When the entry was added, None if not listed."""
    return await session.scalar(select(DncEntry.created_at).where(DncEntry.kind == kind, DncEntry.value == value))
