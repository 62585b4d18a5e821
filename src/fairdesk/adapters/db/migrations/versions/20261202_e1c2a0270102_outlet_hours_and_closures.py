"""outlet opening hours and closures

Revision ID: e1c2a0270102
Revises: e1c2a0270101
Create Date: 2026-12-02 23:50:01
"""
from collections.abc import Sequence

revision: str = 'e1c2a0270102'
down_revision: str | None = 'e1c2a0270101'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
