"""Claim a Twilio SID once: the first webhook that inserts its row owns it, repeats read it.

INSERT ... ON CONFLICT (twilio_sid) DO NOTHING RETURNING id is one round trip and is safe under
concurrency: on PostgreSQL a second transaction inserting the same SID waits on the unique index
until the first commits, then inserts nothing; its next statement (READ COMMITTED) sees the
committed row. On SQLite, BEGIN IMMEDIATE serialises writers anyway.
"""
from __future__ import annotations

import functools

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@functools.cache
def _claim_statement(dialect: str, model):
    """Built once per table: values come as parameters, so nothing is compiled per request."""
    return (
        _INSERTS[dialect](model.__table__)
        .on_conflict_do_nothing(index_elements=["twilio_sid"])
        .returning(model.__table__.c.id)
    )


def insert_once(db: Session, model, values: dict) -> int | None:
    """Insert the row unless one with the same twilio_sid exists: its new id, or None."""
    connection = db.connection()  # Core: the ORM's bulk-insert path cost a third of the time
    statement = _claim_statement(connection.dialect.name, model)
    return connection.execute(statement, values).scalar_one_or_none()
