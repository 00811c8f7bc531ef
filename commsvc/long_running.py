"""What the long-running processes (the worker and the clock) share: SIGTERM or SIGINT stops
them once the current pass is done, and a database that cannot serve now is waited out."""
from __future__ import annotations

import logging
import signal
import threading

from sqlalchemy.exc import DBAPIError

from commsvc.db import is_transient, operator_problem


def stop_on_signals(log: logging.Logger, name: str) -> threading.Event:
    """An event set by SIGTERM or SIGINT: the process finishes its current pass, then exits."""
    stop = threading.Event()

    def _stop(signum, _frame):
        log.info("%s: %s received, finishing the current pass", name,
                 signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop


def waited_out(error: DBAPIError, stop: threading.Event, seconds: float, *,
               log: logging.Logger, name: str) -> bool:
    """After a database error: wait `seconds` (or until stopped) and say True when the
    database cannot serve now (db.is_transient); False for a bug, which the caller re-raises."""
    if not is_transient(error):
        return False
    log.warning("%s: %s; retrying in %ss", name, operator_problem(error), seconds)
    stop.wait(seconds)
    return True
