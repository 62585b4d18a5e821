"""outlet opening hours and closures; SLA policies that follow an outlet's closures

Revision ID: e1c2a0270102
Revises: e1c2a0270101
Create Date: 2026-12-02 23:50:01
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e1c2a0270102'
down_revision: str | None = 'e1c2a0270101'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('outlets') as batch:
        batch.add_column(sa.Column('open_shifts', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('open_weekdays', sa.String(length=20), server_default='1-7', nullable=False))
        batch.add_column(sa.Column('closed_on_holidays', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('sla_policies') as batch:
        batch.add_column(sa.Column('outlet_calendar', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('outlet_closures',
    sa.Column('outlet_id', Id, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('brand_id', Id, nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_outlet_closures_brand_id_brands')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_outlet_closures_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('outlet_id', 'day', name=op.f('pk_outlet_closures')),
    )


def downgrade() -> None:
    op.drop_table('outlet_closures')
    with op.batch_alter_table('sla_policies') as batch:
        batch.drop_column('outlet_calendar')
    with op.batch_alter_table('outlets') as batch:
        batch.drop_column('closed_on_holidays')
        batch.drop_column('open_weekdays')
        batch.drop_column('open_shifts')
