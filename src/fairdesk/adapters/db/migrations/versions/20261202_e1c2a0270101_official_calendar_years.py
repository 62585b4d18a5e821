"""official working-day calendars: imported years (versions) and their days

Revision ID: e1c2a0270101
Revises: d58d43c1df0d
Create Date: 2026-12-02 23:50:00
"""
from collections.abc import Sequence

revision: str = 'e1c2a0270101'
down_revision: str | None = 'd58d43c1df0d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
