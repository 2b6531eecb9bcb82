"""QA records at a million calls: each call's amount on the call, its partial index, three overlapping indexes gone.

Revision ID: 0015_qaperf
Revises: 0011_qa
Create Date: 2026-12-05 12:00:00

``call_attempts.amount`` is the amount negotiated on the call (its agreement's total, else its
outcome's promised amount), kept by ``storage.repositories.calls.refresh_call_amount``. The
amount-range filter of ``GET /api/v1/calls`` tested an EXISTS on agreements OR outcomes per
call walked; now it walks ``ix_call_attempts_amount_created_id`` (only the calls that have an
amount, in keyset order, the amount in the index). Existing calls are filled here.

Dropped: ``ix_call_attempts_created_at``, ``ix_call_attempts_campaign_created`` and
``ix_call_attempts_agent_created``. Each is a prefix of a keyset index of 0011_qa
(``(created_at, id)``, ``(campaign_id, created_at, id)``, ``(agent_id, created_at, id)``) that
serves every query they served (EXPLAIN on SQLite and PostgreSQL picks the longer ones once
these are gone), while every new call wrote an entry in each.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015_qaperf'
down_revision: str | Sequence[str] | None = '0011_qa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# only the calls that have an outcome or an agreement: the rest keep NULL
BACKFILL = (
    "UPDATE call_attempts SET amount = COALESCE("
    "(SELECT a.total FROM agreements a WHERE a.attempt_id = call_attempts.id), "
    "(SELECT o.promise_amount FROM outcomes o WHERE o.attempt_id = call_attempts.id)) "
    "WHERE id IN (SELECT attempt_id FROM outcomes UNION SELECT attempt_id FROM agreements WHERE attempt_id IS NOT NULL)"
)


def upgrade() -> None:
    # a plain ADD COLUMN (nullable, no default) on both databases: no table rebuild at a million rows
    op.add_column('call_attempts', sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True))
    op.execute(BACKFILL)
    op.create_index('ix_call_attempts_amount_created_id', 'call_attempts', ['created_at', 'id', 'amount'],
                    unique=False, sqlite_where=sa.text('amount IS NOT NULL'),
                    postgresql_where=sa.text('amount IS NOT NULL'))
    op.drop_index('ix_call_attempts_created_at', table_name='call_attempts')
    op.drop_index('ix_call_attempts_campaign_created', table_name='call_attempts')
    op.drop_index('ix_call_attempts_agent_created', table_name='call_attempts')


def downgrade() -> None:
    op.create_index('ix_call_attempts_agent_created', 'call_attempts', ['agent_id', 'created_at'])
    op.create_index('ix_call_attempts_campaign_created', 'call_attempts', ['campaign_id', 'created_at'])
    op.create_index('ix_call_attempts_created_at', 'call_attempts', ['created_at'])
    op.drop_index('ix_call_attempts_amount_created_id', table_name='call_attempts')
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_column('amount')
