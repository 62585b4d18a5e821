"""SQLAlchemy tables, mappers, repositories and the unit of work; Alembic migrations in migrations/."""
