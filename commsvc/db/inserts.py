"""INSERT for either database: its ON CONFLICT construct, and an insert that replays a
concurrent retry's row."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

T = TypeVar("T")

# The INSERT construct with ON CONFLICT of each database, by dialect name.
INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_for(db: Session):
    """This session's database's INSERT construct, the one with ON CONFLICT."""
    return INSERTS[db.get_bind().dialect.name]


def insert_or_replay(db: Session, insert: Callable[[], T], replay: Callable[[], T | None]) -> T:
    """What insert() makes, inside a savepoint; when a unique index refuses it (a concurrent
    retry under the same Idempotency-Key got there first), what replay() finds instead. The
    error stands when replay() finds nothing."""
    try:
        with db.begin_nested():
            return insert()
    except IntegrityError:
        found = replay()
        if found is None:
            raise
        return found
