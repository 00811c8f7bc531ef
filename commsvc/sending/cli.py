"""`commsvc worker`: the long-running outbox sender (the Procfile's worker process)."""
from __future__ import annotations

import logging
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

from commsvc.app import warn_at_start
from commsvc.db.failures import DATABASE_RETRY_SECONDS
from commsvc.long_running import stop_on_signals, waited_out
from commsvc.sending.worker import BATCH_SIZE, run_once

log = logging.getLogger("commsvc.sending.worker")


def serve(app, stop: threading.Event, *, interval: float, batch: int) -> None:
    """Pass after pass until `stop` is set; a pass in progress is always finished."""
    log.info("worker started (batch %d, poll every %.1fs)", batch, interval)
    while not stop.is_set():
        try:
            counts = run_once(app, limit=batch)
        except DBAPIError as exc:
            if not waited_out(exc, stop, max(interval, DATABASE_RETRY_SECONDS), log=log,
                              name="worker"):
                raise  # a bug: its traceback is what someone needs, not a retry loop
            continue
        busy = " ".join(f"{k}={v}" for k, v in counts.as_dict().items() if v)
        if busy:
            log.info("worker pass: %s", busy)  # as --once prints it: claimed=1 simulated=1
        # A full batch means more may be due: go again at once.
        if counts.claimed < batch:
            stop.wait(interval)
    log.info("worker stopped")


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one pass over the due messages and exit.")
@click.option("--interval", type=click.FloatRange(0, 3600, min_open=True), default=1.0,
              show_default=True, help="Seconds to wait when nothing was due.")
@click.option("--batch", type=click.IntRange(1, 1000), default=BATCH_SIZE, show_default=True,
              help="Messages claimed per pass.")
@with_appcontext
def worker_command(once: bool, interval: float, batch: int):
    """Send queued and due scheduled texts. SIGTERM, SIGINT (Ctrl-C) or SIGHUP ends it once the
    current pass is done (exit 0)."""
    app = current_app._get_current_object()
    if once:
        counts = run_once(app, limit=batch)
        click.echo(" ".join(f"{k}={v}" for k, v in counts.as_dict().items()))
        return
    warn_at_start(app.extensions["config"])
    serve(app, stop_on_signals(log, "worker"), interval=interval, batch=batch)


commands = [worker_command]
