"""Initial schema: users, portfolio, campaigns and leads, call attempts, outcomes, callbacks, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:23:36.577310

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('mode', sa.Enum('manual', 'preview', 'progressive', 'predictive', name='mode', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('active', 'paused', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('dial_template', sa.String(length=200), nullable=False),
    sa.Column('caller_id', sa.String(length=32), nullable=False),
    sa.Column('pbx_name', sa.String(length=60), nullable=False),
    sa.Column('ring_timeout_s', sa.Double(), nullable=False),
    sa.Column('max_dial_level', sa.Double(), nullable=False),
    sa.Column('abandon_cap', sa.Double(), nullable=False),
    sa.Column('window_override', sa.JSON(), nullable=True),
    sa.Column('policy', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_campaigns_name'))
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('cpf', sa.String(length=11), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('uf', sa.String(length=2), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('deceased', sa.Boolean(), nullable=False),
    sa.Column('dispute_pending', sa.Boolean(), nullable=False),
    sa.Column('hold_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hold_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('external_id', name=op.f('uq_customers_external_id'))
    )
    op.create_index(op.f('ix_customers_cpf'), 'customers', ['cpf'])
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('agent', 'supervisor', 'qa', 'admin', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('extension', sa.String(length=20), nullable=True),
    sa.Column('endpoint', sa.String(length=120), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('discount_limit_pct', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('extension', name=op.f('uq_users_extension')),
    sa.UniqueConstraint('login', name=op.f('uq_users_login'))
    )
    op.create_table('agent_state_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.Enum('offline', 'ready', 'reserved', 'on_call', 'wrap_up', 'paused', name='from_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('to_state', sa.Enum('offline', 'ready', 'reserved', 'on_call', 'wrap_up', 'paused', name='to_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_state_changes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_state_changes'))
    )
    op.create_index('ix_agent_state_changes_user_at', 'agent_state_changes', ['user_id', 'at'])
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'])
    op.create_index('ix_audit_log_entity', 'audit_log', ['entity', 'entity_id'])
    op.create_table('customer_tags',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_tags_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', 'tag', name=op.f('pk_customer_tags'))
    )
    op.create_index(op.f('ix_customer_tags_tag'), 'customer_tags', ['tag'])
    op.create_table('debts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contract', sa.String(length=64), nullable=False),
    sa.Column('creditor', sa.String(length=120), nullable=False),
    sa.Column('product', sa.String(length=120), nullable=True),
    sa.Column('original_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('balance', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'in_agreement', 'settled', 'cancelled', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_debts_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debts')),
    sa.UniqueConstraint('customer_id', 'contract', name=op.f('uq_debts_customer_id_contract'))
    )
    op.create_index(op.f('ix_debts_due_date'), 'debts', ['due_date'])
    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('boost', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('new', 'dialable', 'in_progress', 'done', 'stopped', name='state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.String(length=20), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claim_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_leads_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_leads_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
    sa.UniqueConstraint('campaign_id', 'customer_id', name=op.f('uq_leads_campaign_id_customer_id'))
    )
    op.create_index('ix_leads_campaign_state_next', 'leads', ['campaign_id', 'state', 'next_attempt_at'])
    op.create_index(op.f('ix_leads_customer_id'), 'leads', ['customer_id'])
    op.create_index('ix_leads_pick', 'leads', ['campaign_id', 'state', 'priority', 'next_attempt_at'])
    op.create_table('phones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('e164', sa.String(length=16), nullable=False),
    sa.Column('ddd', sa.String(length=2), nullable=False),
    sa.Column('kind', sa.Enum('own', 'reference', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('ok', 'wrong', 'blocked', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_phones_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phones')),
    sa.UniqueConstraint('customer_id', 'e164', name=op.f('uq_phones_customer_id_e164'))
    )
    op.create_index(op.f('ix_phones_e164'), 'phones', ['e164'])
    op.create_table('call_attempts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('phone_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.Enum('manual', 'preview', 'progressive', 'predictive', name='mode', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('caller_id', sa.String(length=32), nullable=True),
    sa.Column('pbx_name', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('originated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wrapup_ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.Enum('busy', 'no_answer', 'congestion', 'failed', 'machine', 'abandoned', 'answered', 'connected', 'cancelled', name='result', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('originate_reason', sa.Integer(), nullable=True),
    sa.Column('hangup_cause', sa.Integer(), nullable=True),
    sa.Column('amd_status', sa.String(length=20), nullable=True),
    sa.Column('amd_cause', sa.String(length=80), nullable=True),
    sa.Column('customer_channel', sa.String(length=120), nullable=True),
    sa.Column('customer_uniqueid', sa.String(length=40), nullable=True),
    sa.Column('agent_channel', sa.String(length=120), nullable=True),
    sa.Column('recording_path', sa.String(length=500), nullable=True),
    sa.Column('abandoned', sa.Boolean(), nullable=False),
    sa.Column('short_call', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_call_attempts_agent_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_call_attempts_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_call_attempts_customer_id_customers')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_call_attempts_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['phone_id'], ['phones.id'], name=op.f('fk_call_attempts_phone_id_phones'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_attempts'))
    )
    op.create_index('ix_call_attempts_agent_created', 'call_attempts', ['agent_id', 'created_at'])
    op.create_index('ix_call_attempts_campaign_created', 'call_attempts', ['campaign_id', 'created_at'])
    op.create_index(op.f('ix_call_attempts_created_at'), 'call_attempts', ['created_at'])
    op.create_index('ix_call_attempts_customer_created', 'call_attempts', ['customer_id', 'created_at'])
    op.create_index(op.f('ix_call_attempts_customer_uniqueid'), 'call_attempts', ['customer_uniqueid'])
    op.create_index('ix_call_attempts_phone_created', 'call_attempts', ['phone_id', 'created_at'])
    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('phone_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('owner_agent_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_callbacks_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_callbacks_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_callbacks_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_agent_id'], ['users.id'], name=op.f('fk_callbacks_owner_agent_id_users')),
    sa.ForeignKeyConstraint(['phone_id'], ['phones.id'], name=op.f('fk_callbacks_phone_id_phones'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks'))
    )
    op.create_index('ix_callbacks_campaign_due', 'callbacks', ['campaign_id', 'done_at', 'due_at'])
    op.create_index('ix_callbacks_owner_due', 'callbacks', ['owner_agent_id', 'done_at', 'due_at'])
    op.create_table('outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.String(length=32), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.Enum('ACORDO', 'PROMESSA', 'RECUSA', 'SEM_CONDICOES', 'CONTESTA', 'JA_PAGO', 'RETORNAR', 'RECADO', 'TELEFONE_ERRADO', 'FALECIDO', name='code', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('promise_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('promise_date', sa.Date(), nullable=True),
    sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_outcomes_agent_id_users')),
    sa.ForeignKeyConstraint(['attempt_id'], ['call_attempts.id'], name=op.f('fk_outcomes_attempt_id_call_attempts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcomes')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_outcomes_attempt_id')),
    sa.UniqueConstraint('client_key', name=op.f('uq_outcomes_client_key'))
    )
    op.create_index('ix_outcomes_agent_created', 'outcomes', ['agent_id', 'created_at'])
    op.create_index('ix_outcomes_code_created', 'outcomes', ['code', 'created_at'])
    op.create_index(op.f('ix_outcomes_created_at'), 'outcomes', ['created_at'])


def downgrade() -> None:
    # dropping a table drops its indexes and constraints too
    op.drop_table('outcomes')
    op.drop_table('callbacks')
    op.drop_table('call_attempts')
    op.drop_table('phones')
    op.drop_table('leads')
    op.drop_table('debts')
    op.drop_table('customer_tags')
    op.drop_table('audit_log')
    op.drop_table('agent_state_changes')
    op.drop_table('users')
    op.drop_table('customers')
    op.drop_table('campaigns')
