"""Drop the two lead indexes that overlap ``ix_leads_hopper``.

Revision ID: 0011_perf
Revises: 0011_rec
Create Date: 2026-12-05 08:00:00

``ix_leads_pick`` (campaign, state, priority, next_attempt_at) and
``ix_leads_campaign_state_next`` (campaign, state, next_attempt_at) served an older claim
query. The hopper walks ``ix_leads_hopper`` (campaign, priority, next_attempt_at, id) and
no query needs the other two any more, yet every claim, put-back and completion rewrote an
entry in each of them (``state`` and ``next_attempt_at`` change on every one): three index
writes per lead change instead of one, and the WAL pages to match. Counts by campaign
still have the ``(campaign_id, customer_id)`` unique index to walk.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0011_perf'
down_revision: str | Sequence[str] | None = '0011_rec'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_leads_pick', table_name='leads')
    op.drop_index('ix_leads_campaign_state_next', table_name='leads')


def downgrade() -> None:
    op.create_index('ix_leads_campaign_state_next', 'leads', ['campaign_id', 'state', 'next_attempt_at'])
    op.create_index('ix_leads_pick', 'leads', ['campaign_id', 'state', 'priority', 'next_attempt_at'])
