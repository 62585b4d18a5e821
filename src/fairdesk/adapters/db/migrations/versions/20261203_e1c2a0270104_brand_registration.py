"""brands: the registered name and full address a complaint's case file names

Revision ID: e1c2a0270104
Revises: e1c2a0270103
Create Date: 2026-12-03 07:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e1c2a0270104'
down_revision: str | None = 'e1c2a0270103'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('brands') as batch:
        batch.add_column(sa.Column('legal_name', sa.String(length=200), server_default='', nullable=False))
        batch.add_column(sa.Column('registered_address', sa.String(length=300), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('brands') as batch:
        batch.drop_column('registered_address')
        batch.drop_column('legal_name')
