"""plan change steps and previews

Revision ID: 2603dd6d92e0
Revises: 52f0709ac0b4
Create Date: 2026-11-25 01:11:31.758837
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '2603dd6d92e0'
down_revision: str | None = '52f0709ac0b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table('plan_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('steps', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previews', sa.Integer(), server_default='0', nullable=False))




def downgrade() -> None:

    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('previews')

    with op.batch_alter_table('plan_changes', schema=None) as batch_op:
        batch_op.drop_column('steps')


