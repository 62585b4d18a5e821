"""sla policies

Revision ID: 44802a889837
Revises: 2603dd6d92e0
Create Date: 2026-11-25 01:16:31.356196
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '44802a889837'
down_revision: str | None = '2603dd6d92e0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('sla_policies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category', sa.Enum('repair', 'installation', 'maintenance', 'consultation', 'plan_change', 'complaint', name='category', native_enum=False, length=32), nullable=False),
    sa.Column('priority', sa.Enum('low', 'normal', 'high', 'urgent', name='priority', native_enum=False, length=32), nullable=False),
    sa.Column('first_response_min', sa.Integer(), nullable=False),
    sa.Column('resolution_min', sa.Integer(), nullable=False),
    sa.Column('around_the_clock', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sla_policies_brand_id_brands')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('brand_id', 'category', 'priority', name='uq_sla_policies_brand_category_priority')
    )



def downgrade() -> None:

    op.drop_table('sla_policies')

