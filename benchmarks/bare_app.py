"""The ceiling for benchmarks/intake.py: FastAPI + SQLAlchemy inserting one row per request, nothing else.

Same engine settings as fairdesk (SQLite WAL, synchronous=NORMAL, BEGIN IMMEDIATE; psycopg 3 pool), so the
comparison measures fairdesk's own work, not a durability difference. Run by intake.py under uvicorn.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from fastapi import FastAPI
from pydantic import BaseModel

from fairdesk.adapters.db.engine import make_engine

metadata = sa.MetaData()
items = sa.Table("bare_items", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("subject", sa.String(200), nullable=False))


class ItemIn(BaseModel):
    subject: str


def make_app() -> FastAPI:
    engine = make_engine(os.environ["BARE_DATABASE_URL"])
    app = FastAPI()

    @app.post("/items", status_code=201)
    def create(body: ItemIn) -> dict[str, int]:
        with engine.begin() as conn:
            new_id = conn.execute(sa.insert(items).values(subject=body.subject)).inserted_primary_key[0]
        return {"id": new_id}

    @app.get("/items/{item_id}")
    def read(item_id: int) -> dict[str, object]:
        with engine.connect() as conn:
            row = conn.execute(sa.select(items).where(items.c.id == item_id)).one()
        return {"id": row.id, "subject": row.subject}

    return app
