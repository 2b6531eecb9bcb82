"""Campaigns may be ``stopped`` (taken off the floor) as well as ``paused``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:00:00

``campaigns.status`` grows from VARCHAR(6) to VARCHAR(7) and its CHECK constraint gains
``stopped``. SQLite cannot alter a CHECK constraint, so there the table is rebuilt (batch
mode; env.py defers foreign keys so the leads that reference campaigns survive it);
PostgreSQL alters it in place. Downgrading turns stopped campaigns into paused ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = 'campaigns'
_COLUMN = 'status'
_OLD = ('active', 'paused')
_NEW = ('active', 'paused', 'stopped')


def _enum(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=_COLUMN, native_enum=False, create_constraint=True, length=max(map(len, values)))


def _change(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table(_TABLE, recreate='always') as batch_op:
            batch_op.alter_column(_COLUMN, existing_type=_enum(old), type_=_enum(new), existing_nullable=False)
        return
    name = op.f(f'ck_{_TABLE}_{_COLUMN}')
    op.drop_constraint(name, _TABLE, type_='check')
    op.alter_column(
        _TABLE,
        _COLUMN,
        existing_type=sa.String(max(map(len, old))),
        type_=sa.String(max(map(len, new))),
        existing_nullable=False,
    )
    op.create_check_constraint(name, _TABLE, sa.column(_COLUMN).in_(new))


def upgrade() -> None:
    _change(_OLD, _NEW)


def downgrade() -> None:
    op.execute(sa.text(f"UPDATE {_TABLE} SET {_COLUMN} = 'paused' WHERE {_COLUMN} = 'stopped'"))
    _change(_NEW, _OLD)
