"""Campaigns choose whether they record; recordings keep their muted stretches.

Revision ID: 0011_rec
Revises: 0010
Create Date: 2026-12-05 08:00:00

``campaigns.record``: MixMonitor on every connected call of the campaign (default on, so
existing campaigns keep recording as SPEC §3 asks). ``recording_gaps``: the stretches of a
call's recording muted while the agent was on a sensitive script step (card data), in
seconds from the recording's start; ``end_s`` NULL while the mute lasts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_rec'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table('recording_gaps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.String(length=32), nullable=False),
    sa.Column('start_s', sa.Double(), nullable=False),
    sa.Column('end_s', sa.Double(), nullable=True),
    sa.Column('step_id', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['call_attempts.id'], name=op.f('fk_recording_gaps_attempt_id_call_attempts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_gaps'))
    )
    with op.batch_alter_table('recording_gaps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_gaps_attempt_id'), ['attempt_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recording_gaps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_gaps_attempt_id'))
    op.drop_table('recording_gaps')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('record')
