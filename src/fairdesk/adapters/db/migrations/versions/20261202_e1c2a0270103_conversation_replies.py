"""conversations: the first human reply (the wait for a person ends there)

Revision ID: e1c2a0270103
Revises: e1c2a0270102
Create Date: 2026-12-02 23:50:02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e1c2a0270103'
down_revision: str | None = 'e1c2a0270102'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('conversations') as batch:
        batch.add_column(sa.Column('first_reply_at', sa.DateTime(timezone=True), nullable=True))
    id_type = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    with op.batch_alter_table('conversation_messages') as batch:
        batch.add_column(sa.Column('agent_id', id_type, nullable=True))
    # Conversations answered before this column existed: their first agent message is the first reply.
    op.execute("UPDATE conversations SET first_reply_at = (SELECT min(m.at) FROM conversation_messages m "
               "WHERE m.conversation_id = conversations.id AND m.sender = 'agent')")


def downgrade() -> None:
    with op.batch_alter_table('conversation_messages') as batch:
        batch.drop_column('agent_id')
    with op.batch_alter_table('conversations') as batch:
        batch.drop_column('first_reply_at')
