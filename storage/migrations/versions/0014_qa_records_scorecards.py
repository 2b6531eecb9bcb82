"""QA: scorecards, call reviews, automatic call flags, the call records' keyset indexes and timeline columns.

Revision ID: 0011_qa
Revises: 0011_regua
Create Date: 2026-12-05 08:00:00

``GET /api/v1/calls`` pages by ``(created_at, id)`` descending, alone or within a campaign or
an agent: one index each. ``call_attempts.ringing_at`` and ``hangup_side`` complete the
call's timeline (when the phone rang; who ended a connected call).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_qa'
down_revision: str | Sequence[str] | None = '0011_regua'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scorecards',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_scorecards_updated_by_users')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_scorecards'))
    )
    op.create_table('call_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.String(length=32), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('scorecard_key', sa.String(length=40), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('zeroed', sa.Boolean(), nullable=False),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_call_reviews_agent_id_users')),
    sa.ForeignKeyConstraint(['attempt_id'], ['call_attempts.id'], name=op.f('fk_call_reviews_attempt_id_call_attempts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_call_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_reviews'))
    )
    op.create_index('ix_call_reviews_agent_created', 'call_reviews', ['agent_id', 'created_at'], unique=False)
    op.create_index('ix_call_reviews_attempt', 'call_reviews', ['attempt_id'], unique=False)
    op.create_table('call_flags',
    sa.Column('attempt_id', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['call_attempts.id'], name=op.f('fk_call_flags_attempt_id_call_attempts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('attempt_id', 'code', name=op.f('pk_call_flags'))
    )
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ringing_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hangup_side', sa.String(length=10), nullable=True))
    op.create_index('ix_call_attempts_created_id', 'call_attempts', ['created_at', 'id'], unique=False)
    op.create_index('ix_call_attempts_campaign_created_id', 'call_attempts', ['campaign_id', 'created_at', 'id'],
                    unique=False)
    op.create_index('ix_call_attempts_agent_created_id', 'call_attempts', ['agent_id', 'created_at', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_call_attempts_agent_created_id', table_name='call_attempts')
    op.drop_index('ix_call_attempts_campaign_created_id', table_name='call_attempts')
    op.drop_index('ix_call_attempts_created_id', table_name='call_attempts')
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_column('hangup_side')
        batch_op.drop_column('ringing_at')
    op.drop_table('call_flags')
    op.drop_index('ix_call_reviews_attempt', table_name='call_reviews')
    op.drop_index('ix_call_reviews_agent_created', table_name='call_reviews')
    op.drop_table('call_reviews')
    op.drop_table('scorecards')
