"""What the long-running processes (the worker and the clock) share: SIGTERM, SIGINT or SIGHUP
stops them once the current pass is done, and a database that cannot serve now is waited out.

Only the standard library at import: `commsvc` holds the stop signals (hold_stop_signals)
before it imports anything else."""
from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError

# SIGHUP too: a closed terminal or SSH session, or a `kill -HUP` meant as gunicorn's graceful
# reload, otherwise ended the process at once, mid-send, with no line said (exit 129); unless
# it was ignored at start (nohup).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


# The stop signals received while held (hold_stop_signals), for the next stop_on_signals.
_held: list[int] = []


def hold_stop_signals() -> None:
    """Keep a stop signal received from now until stop_on_signals for it: the process then
    stops before its first pass (exit 0, the signal said). A worker or clock loads for
    seconds on a busy machine (the app, its configuration, the database) before its handler is
    in place, and a SIGTERM or SIGHUP then killed it (exit 143 or 129, nothing said), a SIGINT
    raised a KeyboardInterrupt's traceback."""
    _handle_stop_signals(lambda signum, _frame: _held.append(signum))


def _handle_stop_signals(handler: Callable) -> None:
    for signum in STOP_SIGNALS:
        # A SIGHUP ignored when the process started (`nohup commsvc worker &`) stays ignored:
        # whoever started it so asked it to outlive their terminal or SSH session.
        if not (signum == signal.SIGHUP and signal.getsignal(signum) == signal.SIG_IGN):
            signal.signal(signum, handler)


def stop_on_signals(log: logging.Logger, name: str) -> threading.Event:
    """An event set by SIGTERM, SIGINT or SIGHUP (or by one held since the process started):
    the process finishes its current pass, then exits."""
    stop = threading.Event()

    def _stop(signum, _frame):
        log.info("%s: %s received, finishing the current pass", name,
                 signal.Signals(signum).name)
        stop.set()

    _handle_stop_signals(_stop)
    if _held:
        _stop(_held[0], None)
        _held.clear()
    return stop


@contextlib.contextmanager
def stopping_on_signals(log: logging.Logger, name: str) -> Iterator[threading.Event]:
    """stop_on_signals for one command's run: the previous handlers come back after it."""
    handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    try:
        yield stop_on_signals(log, name)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def waited_out(error: DBAPIError, stop: threading.Event, seconds: float, *,
               log: logging.Logger, name: str) -> bool:
    """After a database error: wait `seconds` (or until stopped) and say True when the
    database cannot serve now (db.is_transient); False for a bug, which the caller re-raises."""
    from commsvc.db.failures import is_transient, operator_problem  # SQLAlchemy: not at start

    if not is_transient(error):
        return False
    log.warning("%s: %s; retrying in %ss", name, operator_problem(error), seconds)
    stop.wait(seconds)
    return True
