"""The do-not-call list: add (idempotent, updates), remove, list, match."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValue
from storage.models import DncKind
from storage.repositories.dnc import DncItem, add_entries, entries_matching, list_entries, remove_entry
from tests.storage.factories import unique_digits


async def test_add_update_list_remove(session: AsyncSession) -> None:
    phone, cpf = "+55119" + unique_digits(8), unique_digits(11)
    first = await add_entries(session, [DncItem(DncKind.PHONE, phone, None, "procon-sp"),
                                        DncItem(DncKind.CPF, cpf, date(2026, 5, 1), "cliente")])
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    again = await add_entries(session, [DncItem(DncKind.PHONE, phone, None, "procon-sp"),
                                        DncItem(DncKind.CPF, cpf, date(2026, 6, 1), "cliente")])
    assert (again.added, again.updated, again.unchanged) == (0, 1, 1)
    found = await entries_matching(session, phones=[phone], cpf=cpf)
    assert {(DncKind(e.kind), e.value, e.until) for e in found} == {
        (DncKind.PHONE, phone, None), (DncKind.CPF, cpf, date(2026, 6, 1))}
    in_force = await list_entries(session, in_force_on=date(2026, 7, 1))
    assert phone in {e.value for e in in_force} and cpf not in {e.value for e in in_force}
    assert await remove_entry(session, DncKind.CPF, cpf) is True
    assert await remove_entry(session, DncKind.CPF, cpf) is False
    await session.rollback()


@pytest.mark.parametrize(("kind", "value"), [(DncKind.CPF, "529.982.247-25"), (DncKind.PHONE, "11987654321")])
async def test_values_must_be_normalised(session: AsyncSession, kind: DncKind, value: str) -> None:
    with pytest.raises(InvalidValue, match="value"):
        await add_entries(session, [DncItem(kind, value)])
