"""service outlets and their coverage

Revision ID: 77292f5f31af
Revises: b7c8dd91ed52
Create Date: 2026-11-25 00:13:15.708265
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '77292f5f31af'
down_revision: str | None = 'b7c8dd91ed52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('outlets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('adcode', sa.String(length=12), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('hotline', sa.String(length=32), nullable=False),
    sa.Column('opening_hours', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_outlets_brand_id_brands')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlets')),
    sa.UniqueConstraint('brand_id', 'code', name='uq_outlets_brand_code')
    )
    op.create_table('outlet_coverage',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('outlet_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('adcode', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_outlet_coverage_brand_id_brands')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_outlet_coverage_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlet_coverage')),
    sa.UniqueConstraint('outlet_id', 'adcode', name='uq_outlet_coverage_outlet_adcode')
    )
    with op.batch_alter_table('outlet_coverage', schema=None) as batch_op:
        batch_op.create_index('ix_outlet_coverage_brand_adcode', ['brand_id', 'adcode'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('outlet_coverage', schema=None) as batch_op:
        batch_op.drop_index('ix_outlet_coverage_brand_adcode')

    op.drop_table('outlet_coverage')
    op.drop_table('outlets')

