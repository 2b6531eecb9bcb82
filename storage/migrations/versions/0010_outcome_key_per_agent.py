"""An outcome's idempotency key is unique per agent, not across all agents.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:45:00

``outcomes.client_key`` was unique on its own, so a second agent whose screen happened to
send a key the first agent had used got the first agent's stored outcome back as its ack.
The key is the agent screen's, so it is unique per ``(agent_id, client_key)``. SQLite
cannot drop a constraint in place: the table is rebuilt there (batch mode). Downgrading
fails if two agents already share a key (the old constraint cannot hold then).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outcomes') as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outcomes_client_key'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_outcomes_agent_id_client_key'), ['agent_id', 'client_key'])


def downgrade() -> None:
    with op.batch_alter_table('outcomes') as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outcomes_agent_id_client_key'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_outcomes_client_key'), ['client_key'])
