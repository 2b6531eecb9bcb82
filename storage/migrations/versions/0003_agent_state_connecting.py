"""Agent state changes may record ``connecting``; callbacks keep the agent's notes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:10:00

``connecting`` is the time between "Disponível" and the agent's ConfbridgeJoin. The two
state columns of ``agent_state_changes`` grow from VARCHAR(8) to VARCHAR(10) and their CHECK constraints
gain ``connecting``. SQLite cannot alter a CHECK constraint, so there the table is
rebuilt (batch mode); PostgreSQL alters it in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = 'agent_state_changes'
_COLUMNS = ('from_state', 'to_state')
_OLD = ('offline', 'ready', 'reserved', 'on_call', 'wrap_up', 'paused')
_NEW = ('offline', 'connecting', 'ready', 'reserved', 'on_call', 'wrap_up', 'paused')


def _enum(column: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=column, native_enum=False, create_constraint=True, length=max(map(len, values)))


def _change(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table(_TABLE, recreate='always') as batch_op:
            for column in _COLUMNS:
                batch_op.alter_column(
                    column, existing_type=_enum(column, old), type_=_enum(column, new), existing_nullable=False
                )
        return
    for column in _COLUMNS:
        name = op.f(f'ck_{_TABLE}_{column}')
        op.drop_constraint(name, _TABLE, type_='check')
        op.alter_column(
            _TABLE,
            column,
            existing_type=sa.String(max(map(len, old))),
            type_=sa.String(max(map(len, new))),
            existing_nullable=False,
        )
        op.create_check_constraint(name, _TABLE, sa.column(column).in_(new))


def upgrade() -> None:
    _change(_OLD, _NEW)
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_column('notes')
    op.execute(sa.text(f"DELETE FROM {_TABLE} WHERE from_state = 'connecting' OR to_state = 'connecting'"))
    _change(_NEW, _OLD)
