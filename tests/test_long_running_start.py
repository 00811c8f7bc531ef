"""The worker and the clock stopped by a signal while they start, before their handler is in
place (the app, its configuration and the database load for seconds on a busy machine)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from commsvc import migrate
from commsvc.db.engine import make_engine

# `commsvc COMMAND` as its console script runs it, with the signal sent to itself once
# commsvc.cli is imported: the first thing `commsvc` runs, long before the app is loaded.
SIGNALLED_AT_START = (
    "import os, signal, sys\n"
    "import commsvc.cli\n"
    "os.kill(os.getpid(), int(os.environ['SIGNAL_AT_START']))\n"
    "commsvc.cli.main(prog_name='commsvc')\n"
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=lambda signum: signum.name)
@pytest.mark.parametrize("command", ["worker", "clock"])
def test_a_stop_signal_while_the_process_starts_stops_it_cleanly(tmp_path, command, signum):
    """Found by the operator's walk: a SIGTERM (a deploy, `docker stop`, Ctrl-C) sent while
    `commsvc worker` or `commsvc clock` loads, two seconds on a busy machine, killed it: exit
    143 (129 for SIGHUP) and not a line said; a SIGINT raised KeyboardInterrupt's traceback.
    Held from commsvc's first line, it stops the process before its first pass: exit 0, the
    signal said, as a signal once it runs."""
    url = f"sqlite:///{tmp_path / 'start.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        migrate.upgrade(connection=connection)
    engine.dispose()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_"))},
        "COMMSVC_ENV": "test", "DATABASE_URL": url,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "HMAC_KEY": "k" * 32, "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "https://example.com",
        "SIGNAL_AT_START": str(int(signum)),
    }
    ended = subprocess.run([sys.executable, "-c", SIGNALLED_AT_START, command], env=env,
                           capture_output=True, text=True, timeout=120,
                           preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    assert ended.returncode == 0, ended.stderr[-2000:]
    assert f"{command}: {signum.name} received" in ended.stderr
    assert f"{command} stopped" in ended.stderr
    assert "Traceback" not in ended.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda signum: signum.name)
def test_a_stop_signal_to_the_process_group_while_a_connection_service_is_read(tmp_path, signum):
    """Found by review27: with a DATABASE_URL naming a connection service, libpq is asked in a
    child process (0d54749) while the worker starts; a Ctrl-C at the terminal (or a signal to
    the process group) then reached that child too, which died of it, and the worker stopped
    with CalledProcessError's traceback (exit 1) instead of the stop the signal asked for.
    The child's script here signals the worker's process group as it starts: a Ctrl-C at
    that moment."""
    services = tmp_path / "pg_service.conf"
    services.write_text("[commsvc]\nhost=db.internal\ndbname=commsvc\n")
    wrapper = (
        "import os, sys\n"
        "import commsvc.cli\n"
        "from commsvc.config import database_url\n"
        "database_url._DEFAULT_DATABASE = ('import os\\n'\n"
        "    f'os.killpg({os.getpgid(0)}, {int(os.environ[\"SIGNAL_AT_START\"])})\\n'\n"
        "    + database_url._DEFAULT_DATABASE)\n"
        "commsvc.cli.main(prog_name='commsvc')\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_", "PG"))},
        "COMMSVC_ENV": "test", "DATABASE_URL": "postgresql://?service=commsvc",
        "PGSERVICEFILE": str(services), "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "HMAC_KEY": "k" * 32, "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "https://example.com",
        "SIGNAL_AT_START": str(int(signum)),
    }
    ended = subprocess.run([sys.executable, "-c", wrapper, "worker"], env=env,
                           capture_output=True, text=True, timeout=120,
                           start_new_session=True)  # its own group: the signal stays there
    assert ended.returncode == 0, ended.stderr[-2000:]
    assert f"worker: {signum.name} received" in ended.stderr
    assert "Traceback" not in ended.stderr
