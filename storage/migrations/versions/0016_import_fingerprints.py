"""Customers remember the fingerprint of the file rows they were last imported from.

Revision ID: 0016_import
Revises: 0015_qaperf
Create Date: 2026-12-05 12:00:00

``customers.import_fingerprint`` is a hash of the raw CSV records a customer was last
imported from (with the file's column layout). A re-import finds the customers whose
records are byte-for-byte the same and skips them without parsing or writing anything.
Code that changes what an import compares (debt statuses) clears it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016_import'
down_revision: str | Sequence[str] | None = '0015_qaperf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN (nullable, no default): no table rebuild on SQLite
    op.add_column('customers', sa.Column('import_fingerprint', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('import_fingerprint')
