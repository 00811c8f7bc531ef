"""`make run` stopped by a SIGTERM to make itself (a supervisor, an IDE's stop button, `kill`
of the pid a script started): the web process stops with it.

Found by a load run that started `make run` from a script and stopped it with a SIGTERM to the
pid it had started: make passed the signal on to the shell it ran, which died and left
gunicorn, two shells further down, running with the port and the SQLite file open. The next
`make run` failed to bind ("Connection in use") and exited, while the old server, with the old
code and settings, went on answering on the port (and served the new SQLite file once the old
one was deleted). Ctrl-C reaches every process of the terminal's group, so it never showed.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_gunicorn_errors import IN_USE, until_listening, web_env

ROOT = Path(__file__).resolve().parent.parent


def _venv_is_installed() -> bool:
    """`make run` would not reinstall the venv first (its stamp is up to date)."""
    return shutil.which("make") is not None and subprocess.run(
        ["make", "-q", "-C", str(ROOT), ".venv/.installed"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _start_make_run(tmp_path) -> tuple[subprocess.Popen, int | None]:
    """`make run` in a session of its own, as a supervisor starts it, and its gunicorn's pid
    (None when another process took the port first: make is stopped then)."""
    make = subprocess.Popen(["make", "--no-print-directory", "-C", str(ROOT), "run"],
                            env=web_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    found = until_listening(make, make.stdout, 90)
    if found is IN_USE:
        os.killpg(make.pid, signal.SIGKILL)
        make.wait(timeout=30)
        return make, None
    if found is not None:
        return make, int(found["pid"])
    os.killpg(make.pid, signal.SIGKILL)
    raise AssertionError("make run did not start the web process")


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or not _venv_is_installed(),
                    reason="needs make, an installed .venv and Linux's /proc")
def test_a_sigterm_to_make_run_stops_its_web_process(tmp_path):
    for _attempt in range(5):
        make, gunicorn = _start_make_run(tmp_path)
        if gunicorn is not None:
            break
    else:
        raise AssertionError("no free port for make run after 5 tries")
    try:
        make.send_signal(signal.SIGTERM)  # to make alone, not to its process group
        make.wait(timeout=60)
        deadline = time.monotonic() + 60  # gunicorn's graceful stop, then its master's exit
        while _running(gunicorn) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(gunicorn)
    finally:
        try:
            os.killpg(make.pid, signal.SIGKILL)  # whatever of the group is left
        except ProcessLookupError:
            pass
        make.stdout.close()
