"""Claim a Twilio SID once: the first webhook that inserts its row owns it, repeats read it.

INSERT ... ON CONFLICT (twilio_sid) DO NOTHING RETURNING id is one round trip and is safe under
concurrency: on PostgreSQL a second transaction inserting the same SID waits on the unique index
until the first commits, then inserts nothing; its next statement (READ COMMITTED) sees the
committed row. On SQLite, BEGIN IMMEDIATE serialises writers anyway.
"""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_once(db: Session, model, values: dict) -> int | None:
    """Insert the row unless one with the same twilio_sid exists: its new id, or None."""
    insert = _INSERTS[db.get_bind().dialect.name]
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["twilio_sid"])
        .returning(model.id)
    )
    return db.execute(statement).scalar_one_or_none()
