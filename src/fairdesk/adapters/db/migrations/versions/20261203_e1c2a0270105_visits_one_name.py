"""visits: one name for one thing — table appointments becomes visits, appointment_id becomes visit_id

The rows, ids and references stay; only names change (table, its primary key, foreign keys and indexes, and the
columns of technician_slots and reservations that point at it). SQLite renames a table and a column in place
(3.25+) and rewrites the references; its indexes cannot be renamed, so they are dropped and made again. (SQLite keeps the old constraint names
inside its table definitions: it cannot rename a constraint, and nothing looks them up by name.)

Revision ID: e1c2a0270105
Revises: e1c2a0270104
Create Date: 2026-12-03 10:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'e1c2a0270105'
down_revision: str | None = 'e1c2a0270104'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OWN_INDEXES = {'ix_{}_ticket_id': ['ticket_id'], 'ix_{}_technician_starts': ['technician_id', 'starts_at'],
                'ix_{}_brand_starts': ['brand_id', 'starts_at']}
_OWN_FKS = ('brand_id_brands', 'outlet_id_outlets', 'technician_id_users', 'ticket_id_tickets')
_POINTING = ('reservations', 'technician_slots')


def _rename(old: str, new: str, old_col: str, new_col: str) -> None:
    pg = op.get_bind().dialect.name == 'postgresql'
    op.rename_table(old, new)
    if pg:
        op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}')
        for fk in _OWN_FKS:
            op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT fk_{old}_{fk} TO fk_{new}_{fk}')
        for name in _OWN_INDEXES:
            op.execute(f'ALTER INDEX {name.format(old)} RENAME TO {name.format(new)}')
        op.execute(f'ALTER SEQUENCE IF EXISTS {old}_id_seq RENAME TO {new}_id_seq')
    else:
        for name, columns in _OWN_INDEXES.items():
            op.drop_index(name.format(old), table_name=new)
            op.create_index(name.format(new), new, columns)
    for table in _POINTING:
        op.execute(f'ALTER TABLE {table} RENAME COLUMN {old_col} TO {new_col}')
        if pg:
            op.execute(f'ALTER TABLE {table} RENAME CONSTRAINT fk_{table}_{old_col}_{old} TO fk_{table}_{new_col}_{new}')
            op.execute(f'ALTER INDEX ix_{table}_{old_col} RENAME TO ix_{table}_{new_col}')
        else:
            op.drop_index(f'ix_{table}_{old_col}', table_name=table)
            op.create_index(f'ix_{table}_{new_col}', table, [new_col])


def upgrade() -> None:
    _rename('appointments', 'visits', 'appointment_id', 'visit_id')


def downgrade() -> None:
    _rename('visits', 'appointments', 'visit_id', 'appointment_id')
