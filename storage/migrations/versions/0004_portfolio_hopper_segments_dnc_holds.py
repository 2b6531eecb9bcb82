"""Portfolio and hopper: segments, do-not-call list, customer holds, the hopper's index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:50:31.329096

Customers gain ``oldest_due_date`` and ``balance_total`` (kept by the importer, read by
segment filters) and ``call_window`` (times the customer declared); existing customers get
them computed from their open debts. ``ix_leads_hopper`` (campaign, priority,
next_attempt_at) is the index the hopper seeks once per priority level.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customer_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('deceased', 'dispute', 'lawyer', 'insolvency', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_holds_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_customer_holds_released_by_id_users')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_customer_holds_set_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_holds'))
    )
    with op.batch_alter_table('customer_holds', schema=None) as batch_op:
        batch_op.create_index('ix_customer_holds_customer_released', ['customer_id', 'released_at'], unique=False)

    op.create_table('dnc_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('phone', 'cpf', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('value', sa.String(length=16), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_dnc_entries_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dnc_entries')),
    sa.UniqueConstraint('kind', 'value', name=op.f('uq_dnc_entries_kind_value'))
    )
    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_segments_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
    sa.UniqueConstraint('campaign_id', 'position', name=op.f('uq_segments_campaign_id_position'))
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_callbacks_customer_done', ['customer_id', 'done_at'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oldest_due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('balance_total', sa.Numeric(precision=14, scale=2), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('call_window', sa.JSON(), nullable=True))
    # the model has no server default: keep it only for the rows that existed
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.alter_column('balance_total', existing_type=sa.Numeric(precision=14, scale=2), server_default=None)
    op.execute(
        "UPDATE customers SET "
        "balance_total = (SELECT COALESCE(SUM(d.balance), 0) FROM debts d WHERE d.customer_id = customers.id AND d.status = 'open'), "
        "oldest_due_date = (SELECT MIN(d.due_date) FROM debts d WHERE d.customer_id = customers.id AND d.status = 'open')"
    )

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_hopper', ['campaign_id', 'priority', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_hopper')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('call_window')
        batch_op.drop_column('balance_total')
        batch_op.drop_column('oldest_due_date')

    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index('ix_callbacks_customer_done')

    op.drop_table('segments')
    op.drop_table('dnc_entries')
    with op.batch_alter_table('customer_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_holds_customer_released')

    op.drop_table('customer_holds')
