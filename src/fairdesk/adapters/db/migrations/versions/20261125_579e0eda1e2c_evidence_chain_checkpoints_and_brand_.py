"""evidence chain checkpoints and brand keys

Revision ID: 579e0eda1e2c
Revises: f4e3a972bc82
Create Date: 2026-11-25 00:33:33.731682
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '579e0eda1e2c'
down_revision: str | None = 'f4e3a972bc82'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('brand_keys',
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('private_key', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_brand_keys_brand_id_brands')),
    sa.PrimaryKeyConstraint('brand_id', name=op.f('pk_brand_keys'))
    )
    op.create_table('evidence_checkpoints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_seq', sa.BigInteger(), nullable=False),
    sa.Column('to_seq', sa.BigInteger(), nullable=False),
    sa.Column('merkle_root', sa.String(length=64), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.String(length=40), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_evidence_checkpoints_brand_id_brands')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_checkpoints'))
    )
    with op.batch_alter_table('evidence_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_checkpoints_brand_id'), ['brand_id'], unique=False)

    op.create_table('evidence_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=60), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_evidence_entries_brand_id_brands')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_entries')),
    sa.UniqueConstraint('brand_id', 'seq', name='uq_evidence_entries_brand_seq')
    )
    with op.batch_alter_table('evidence_entries', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_entries_brand_customer', ['brand_id', 'customer_id'], unique=False)

    op.create_table('evidence_heads',
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_evidence_heads_brand_id_brands')),
    sa.PrimaryKeyConstraint('brand_id', name=op.f('pk_evidence_heads'))
    )



def downgrade() -> None:

    op.drop_table('evidence_heads')
    with op.batch_alter_table('evidence_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_entries_brand_customer')

    op.drop_table('evidence_entries')
    with op.batch_alter_table('evidence_checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_checkpoints_brand_id'))

    op.drop_table('evidence_checkpoints')
    op.drop_table('brand_keys')

