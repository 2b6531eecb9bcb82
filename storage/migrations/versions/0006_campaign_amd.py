"""Campaigns may run answering-machine detection.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00

``campaigns.amd_enabled``: when true the dialer originates customers into the
``cobra-amd`` context (``AMD()`` first, SPEC §5); existing campaigns keep dialing without it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amd_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('amd_enabled')
