"""Engines for either database, tuned so an outage fails fast instead of hanging."""
from __future__ import annotations

import time

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from commsvc.db.sqlite import make_sqlite_engine

# psycopg prepares a statement run 5 times on a connection; PostgreSQL then kept planning the
# allocation INSERT … SELECT and the open-session lookup afresh at every execution (custom
# plans: 0.27 and 0.17 ms each, a third of a session creation's database CPU). Every hot
# statement here filters by equality on indexed columns, where one generic plan is as good.
PLAN_CACHE_MODE = "force_generic_plan"


def make_engine(url: str, *, deferred_begin: bool = False, **kwargs) -> Engine:
    """An engine for either database, tuned so an outage fails fast instead of hanging.
    `deferred_begin`: SQLite's transactions take no write lock up front (reads)."""
    # A database error's text never carries the statement's values (numbers, bodies): it ends
    # up in tracebacks and logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        return make_sqlite_engine(url, deferred_begin=deferred_begin, **kwargs)
    # Defaults only: connect_args would override the URL's own libpq options, which config
    # accepts (README: "connect_timeout, ...") and the operator expects to hold.
    given = make_url(url).query
    options = dict(
        pool_size=5,
        max_overflow=5,
        pool_timeout=2,
        connect_args={name: value for name, value in
                      (("connect_timeout", 2), ("application_name", "commsvc"))
                      if name not in given},
    )
    options.update(kwargs)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _postgres_settings)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


# A connection back from the pool within this many seconds is used as is: under load that
# saves a round trip per request. One idle longer is pinged first, so a database restart while
# the service was quiet costs no failed request. (A connection that breaks mid-request raises
# a disconnect error, answered 503, and SQLAlchemy recycles the pool's older connections.)
IDLE_PING_SECONDS = 1.0


def _postgres_settings(dbapi_connection, _record) -> None:
    # A SET once per new connection rather than a startup option, which poolers such as
    # PgBouncer refuse unless configured to ignore it.
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET plan_cache_mode = {PLAN_CACHE_MODE}")
    dbapi_connection.commit()


def _note_checkin(_dbapi_connection, record) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    if time.monotonic() - record.info.get("checked_in", 0.0) < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        # psycopg opened a transaction for the ping: end it, so the unit of work starts clean
        # (an autocommit one could not switch modes inside it).
        dbapi_connection.rollback()
    except Exception as exc:  # any failure here means: discard it, connect afresh
        raise DisconnectionError() from exc
