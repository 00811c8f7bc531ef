"""SQLite in WAL mode: reads never wait for a writer. Found by an operator's audit: every unit
of work began IMMEDIATE, so a migration, an erasure or a shell holding the write lock turned
every read, and /readyz, into a 503 after busy_timeout."""
from __future__ import annotations

import dataclasses
import sqlite3

from commsvc import migrate
from commsvc.app import create_app
from commsvc.auth import service as keys


def test_reads_and_readyz_answer_while_another_connection_holds_the_write_lock(
        config, clock, twilio, tmp_path):
    path = tmp_path / "busy.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    app = create_app(dataclasses.replace(config, database_url=url), clock=clock, twilio=twilio)
    client = app.test_client()
    with app.extensions["db"].sessionmaker() as db:
        _, raw = keys.create_key(db, name="ops", role="ops", now=clock())
        db.commit()
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        ready = client.get("/readyz")
        numbers = client.get("/v1/numbers", headers={"Authorization": f"Bearer {raw}"})
        writer.execute("ROLLBACK")
    finally:
        writer.close()
        app.extensions["db"].dispose()
    assert (ready.status_code, ready.get_json()["database"]) == (200, "up")
    assert numbers.status_code == 200 and numbers.get_json()["data"] == []
