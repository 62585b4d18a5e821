"""conversation links, agent skills, wait alerts

Revision ID: 52f0709ac0b4
Revises: 1e309619efeb
Create Date: 2026-11-25 01:08:02.961150
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '52f0709ac0b4'
down_revision: str | None = '1e309619efeb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skills', sa.String(length=128), server_default='general', nullable=False))

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('subscription_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_conversations_subscription_id_subscriptions'), 'subscriptions', ['subscription_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_conversations_ticket_id_tickets'), 'tickets', ['ticket_id'], ['id'])




def downgrade() -> None:

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_conversations_ticket_id_tickets'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_conversations_subscription_id_subscriptions'), type_='foreignkey')
        batch_op.drop_column('alerted_at')
        batch_op.drop_column('subscription_id')
        batch_op.drop_column('ticket_id')

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('skills')


