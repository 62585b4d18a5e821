"""official channels

Revision ID: f4e3a972bc82
Revises: 2538882601dc
Create Date: 2026-11-25 00:28:48.242578
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'f4e3a972bc82'
down_revision: str | None = '2538882601dc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('official_channels',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('phone', 'website', 'account', name='channelkind', native_enum=False, length=32), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_official_channels_brand_id_brands')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_official_channels')),
    sa.UniqueConstraint('kind', 'value', name='uq_official_channels_kind_value')
    )
    with op.batch_alter_table('official_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_official_channels_brand_id'), ['brand_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('official_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_official_channels_brand_id'))

    op.drop_table('official_channels')

