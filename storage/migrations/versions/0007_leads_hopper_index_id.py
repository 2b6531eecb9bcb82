"""The hopper's index ends with the lead id, matching the pick's ORDER BY exactly.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 18:00:00

A pick takes the oldest due lead of a priority level, ``ORDER BY next_attempt_at, id``.
On PostgreSQL an index on (campaign, priority, next_attempt_at) leaves ties on
``next_attempt_at`` unordered, so the planner sorted each tie group after running the
pre-filters on all of its rows (0.7 ms a pick at 1M leads); with ``id`` in the index the
scan stops at the first lead that passes. (SQLite already ends every index with the rowid.)
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_hopper')
        batch_op.create_index('ix_leads_hopper', ['campaign_id', 'priority', 'next_attempt_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_hopper')
        batch_op.create_index('ix_leads_hopper', ['campaign_id', 'priority', 'next_attempt_at'], unique=False)
