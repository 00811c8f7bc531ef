"""The declarative base and the column types shared by every model."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The characters no text of ours may hold, on either database: NUL and a lone surrogate
# (U+D800 to U+DFFF). PostgreSQL refuses NUL in text (psycopg raises DataError). SQLite stores
# it and gives Python the whole string back, but its own functions read the text as ending
# there (length('ab<NUL>cd') is 2, substr() and the like stop at it): what SQLite kept would be
# a 500 on PostgreSQL and read differently in SQL. A lone surrogate has no UTF-8: the driver
# raises UnicodeEncodeError before either database sees it. What the API takes (input_guard)
# and the cursors it reads back (paging) are checked against this one rule.
NOT_STORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")

# Integer primary keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# In __table_args__ of a table whose rows are deleted (erasure, retention) while ids name them
# elsewhere (audit details, exports): SQLite would give the newest deleted row's id again
# (migration 0011); PostgreSQL's sequences never do.
NEVER_REUSED_IDS = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
