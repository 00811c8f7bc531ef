"""One pass over the due rows (run_once): a Worker claims them and takes each up, and an error
no rule expects on one text is recorded on it while the others go on.
"""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from commsvc.config.settings import Config
from commsvc.db.failures import is_transient, row_conflict
from commsvc.sending.worker.claims import Counts
from commsvc.sending.worker.sender import Worker, log

BATCH_SIZE = 20


def run_once(target, gateway=None, now: dt.datetime | None = None, *,
             config: Config | None = None, limit: int = BATCH_SIZE,
             rng: random.Random | None = None) -> Counts:
    """One pass over the due rows: `target` is the app (its db, gateway, clock, config) or a
    Session (then pass gateway, now and config)."""
    if isinstance(target, Session):
        if gateway is None or now is None:
            raise TypeError("run_once(db, ...) needs a gateway and now")
        return _run(target, gateway, config or Config(), now, limit, rng)
    extensions = target.extensions
    # A time given stands for the whole pass (claims and decisions alike); else the app's clock.
    clock = extensions["clock"] if now is None else None
    with extensions["db"].sessionmaker() as db:
        return _run(db, gateway or extensions["twilio"], config or extensions["config"],
                    now or extensions["clock"](), limit, rng, clock=clock)


def _run(db, gateway, config, now, limit, rng, *, clock=None) -> Counts:
    worker = Worker(db, gateway, config, now, rng or random.Random(), clock=clock)
    for claim in worker.claim(limit):
        try:
            worker.process(claim)
        except Exception as exc:
            db.rollback()
            if isinstance(exc, DBAPIError) and is_transient(exc) and not row_conflict(exc):
                # The database cannot serve now (down, or SQLite's write lock held): the rest
                # would fail alike. The serving loop waits and retries; the others claimed
                # keep their leases too.
                raise
            log.exception("%s: unexpected error while sending", claim.id)  # the others go on
            if isinstance(exc, DBAPIError) and row_conflict(exc):
                continue  # a deadlock: the row keeps its lease, due when it lapses
            try:
                worker.unexpected(claim)
            except Exception:  # the database refuses it too: the lease lapses, as above
                db.rollback()
                log.exception("%s: could not record the unexpected error", claim.id)
    return worker.counts
