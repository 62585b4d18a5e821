"""conversations: the agent inbox (first human reply)

Revision ID: e1c2a0270103
Revises: e1c2a0270102
Create Date: 2026-12-02 23:50:02
"""
from collections.abc import Sequence

revision: str = 'e1c2a0270103'
down_revision: str | None = 'e1c2a0270102'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
