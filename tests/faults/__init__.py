"""Faults of the database under a running app (PostgreSQL only)."""
from __future__ import annotations

import contextlib

from commsvc.app import create_app
from commsvc.db.session import Database
from tests.conftest import truncate_all


@contextlib.contextmanager
def app_on(engine, url, config, clock, twilio):
    """The app on a Database of its own at `url` (the test database reached another way: a
    proxy, other connection options); disposed, and the tables emptied, afterwards."""
    database = Database(url.render_as_string(hide_password=False))
    try:
        yield create_app(config, clock=clock, twilio=twilio, database=database)
    finally:
        database.dispose()
        truncate_all(engine)
