"""official working-day calendars: imported years (versions) and their days

Revision ID: e1c2a0270101
Revises: d58d43c1df0d
Create Date: 2026-12-02 23:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e1c2a0270101'
down_revision: str | None = 'd58d43c1df0d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('calendar_versions',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_by', sa.String(length=100), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_versions')),
    sa.UniqueConstraint('year', 'number', name='uq_calendar_versions_year_number'),
    )
    op.create_table('calendar_days',
    sa.Column('version_id', Id, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('festival', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['calendar_versions.id'],
                            name=op.f('fk_calendar_days_version_id_calendar_versions')),
    sa.PrimaryKeyConstraint('version_id', 'day', name=op.f('pk_calendar_days')),
    )


def downgrade() -> None:
    op.drop_table('calendar_days')
    op.drop_table('calendar_versions')
