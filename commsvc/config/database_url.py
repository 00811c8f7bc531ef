"""DATABASE_URL: normalised to psycopg 3's scheme, and refused at start when no database the
service runs on, or libpq, would take it."""
from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import sys
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from commsvc.config.settings import Config, ConfigError

# What DATABASE_URL may name once normalised (postgres:// and postgresql:// become psycopg 3's):
# the drivers installed, and the databases commsvc.db and the migrations know.
DATABASE_DRIVERS = ("postgresql+psycopg", "sqlite", "sqlite+pysqlite")

# Connecting waits this long at most, per address libpq tries (psycopg gives each host, and
# each address a name resolves to, IPv4 and IPv6, the whole timeout): two of them stay well
# inside gunicorn's 120 s request timeout.
MAX_CONNECT_TIMEOUT_S = 30


def normalise_database_url(url: str) -> str:
    """Accept the plain postgres:// URLs hosting platforms hand out and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def database_url(env: dict[str, str]) -> str:
    """DATABASE_URL as set (the default when unset or blank), normalised for psycopg 3."""
    return normalise_database_url(env.get("DATABASE_URL", "").strip() or Config.database_url)


def sqlite_opened(url: str) -> tuple[str, str | None]:
    """What SQLite opens for this SQLite URL, as the driver reads it: the path, and a `file:`
    URI's mode (else None). A URI naming SQLite's memdb VFS (`vfs=memdb`) is a database in
    memory under a file's name, whatever its mode says: its mode is "memory"."""
    parsed = make_url(url)
    (path,), options = parsed.get_dialect()().create_connect_args(parsed)
    if options.get("uri") and path.startswith("file:"):
        uri = urlsplit(path)
        query = parse_qs(uri.query)
        if (query.get("vfs") or [None])[-1] == "memdb":
            return unquote(uri.path), "memory"
        return unquote(uri.path), (query.get("mode") or [None])[-1]
    return path, None


def in_memory(url: str) -> bool:
    """Whether the URL names an SQLite database in memory (`sqlite://`, `sqlite:///:memory:`,
    a `mode=memory` or `vfs=memdb` URI): each process, and each connection of it, gets its
    own, empty."""
    if not url.startswith("sqlite"):
        return False
    path, mode = sqlite_opened(url)
    return mode == "memory" or path in ("", ":memory:")


def check_database_url(url: str, env: dict[str, str]) -> None:
    """Only the databases the service runs on, with the driver installed: a `mysql://` or
    `postgresql+psycopg2://` URL is one line naming the setting, not an import traceback; so
    is a URL SQLAlchemy cannot read (a port that is not a number, an unclosed bracket), and
    a PostgreSQL one naming no database (`env`: the environment libpq reads too)."""
    scheme, sep, _ = url.partition("://")
    if not (sep and scheme in DATABASE_DRIVERS):
        # Only the scheme is shown: the rest may hold a password.
        given = f"{scheme}://..." if sep else "a value that is not a URL"
        raise ConfigError(f"DATABASE_URL must be a postgres://, postgresql:// or sqlite:/// URL,"
                          f" not {given}")
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - reading the port is the check
    except (ValueError, ArgumentError):
        raise ConfigError("DATABASE_URL cannot be read as a URL: it needs a host name and, if"
                          " it gives a port, a number") from None
    if parsed.get_backend_name() == "postgresql":
        _check_libpq_options(parsed)
        # libpq's default is the database named after the user (`postgres` often, with the
        # default user): the service ran on it, and `db upgrade` built its schema there. No
        # host is fine (libpq's local socket: postgresql:///commsvc). A connection service
        # (pg_service.conf) names its database there, as PGDATABASE does in the environment.
        if parsed.database or parsed.query.get("dbname") or env.get("PGDATABASE", "").strip():
            return
        service = parsed.query.get("service") or env.get("PGSERVICE", "").strip()
        if not service:
            raise ConfigError("DATABASE_URL names no database: give its name after the host"
                              " (postgresql://USER@HOST/DATABASE); libpq would take its default,"
                              " the database named after the user")
        if isinstance(service, tuple) or not _service_database(service, env):
            raise ConfigError(f"DATABASE_URL's connection service {service!r} names no database:"
                              f" no pg_service.conf libpq reads has an entry for it with a"
                              f" dbname (give the URL one after the host otherwise); libpq would"
                              f" take its default, the database named after the user")


# Where libpq looks for a connection service: its name and the files that may define it.
_SERVICE_SETTINGS = ("PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR")

# Run by _service_database in a process of its own: the database libpq's defaults name there.
_DEFAULT_DATABASE = ("import sys\n"
                     "from psycopg import pq\n"
                     "for option in pq.Conninfo.get_defaults():\n"
                     "    if option.keyword == b'dbname' and option.val:\n"
                     "        sys.stdout.buffer.write(option.val)\n")


def _service_database(service: str, env: dict[str, str]) -> str | None:
    """The database (dbname) the connection service `service` names, read by libpq itself
    from the pg_service.conf it would read (PGSERVICEFILE or ~/.pg_service.conf, then
    PGSYSCONFDIR's or its own); None when no such file defines the service, or its entry
    names no database. libpq gives a service's settings without connecting only for
    PGSERVICE, so it is asked in a Python process of its own, whose environment holds `env`'s
    view of these settings, with PGSERVICE the service, and no other PG variable (PGDATABASE
    would stand in for the service's dbname). Setting them in this process's environment for
    the call, as before, raced every thread reading it (setenv is not thread-safe)."""
    if "\0" in service:  # the URL's %00: no environment holds it, no pg_service.conf names it
        return None
    child_env = {name: value for name, value in os.environ.items()
                 if not name.startswith("PG")}
    child_env.update({name: env[name] for name in _SERVICE_SETTINGS if env.get(name)})
    child_env["PGSERVICE"] = service
    try:
        # In a session of its own: a Ctrl-C at the terminal or a stop signal sent to the
        # process group while a worker or clock starts (which holds it, long_running) is for
        # this process to heed; it killed the check, and a traceback stopped the start.
        ran = subprocess.run([sys.executable, "-c", _DEFAULT_DATABASE], env=child_env,
                             capture_output=True, timeout=60, start_new_session=True)
    except subprocess.TimeoutExpired as exc:
        raise _unread(service, f"it took over {exc.timeout:g} s") from None
    except OSError as exc:
        raise _unread(service, f"it could not start: {exc.strerror}") from None
    if ran.returncode:
        raise _unread(service, f"it ended with {_ended(ran.returncode)}")
    return ran.stdout.decode() if ran.stdout else None


def _unread(service: str, why: str) -> ConfigError:
    return ConfigError(f"DATABASE_URL's connection service {service!r} could not be read: libpq"
                       f" is asked in a Python process of its own ({sys.executable}), and {why}")


def _ended(returncode: int) -> str:
    """"status 1", or the signal that ended a process ("SIGTERM")."""
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"status {returncode}"


_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _check_libpq_options(parsed) -> None:
    """Options and values libpq refuses only when it connects: a traceback, then 500s, or
    every process starting and then calling the database down ('/readyz' 503) when it is the
    URL that is wrong."""
    unknown = sorted(set(parsed.query) - _libpq_options())
    if unknown:
        raise ConfigError(f"DATABASE_URL has connection options PostgreSQL does not know:"
                          f" {', '.join(unknown)} (a pooler's own flag, such as pgbouncer=true,"
                          f" is not one: leave it out)")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ConfigError(f"DATABASE_URL's port must be from 1 to 65535, not {parsed.port}")
    sslmode = parsed.query.get("sslmode")
    if sslmode is not None and sslmode not in _SSLMODES:
        raise ConfigError(f"DATABASE_URL's sslmode must be one of {', '.join(_SSLMODES)},"
                          f" not {sslmode!r}")
    timeout = parsed.query.get("connect_timeout")
    # 0 or less is libpq's "no timeout" (psycopg waits 130 s), and an hour is as good as none:
    # past gunicorn's 120 s, a request to a database that does not answer hung (both sync
    # workers, /readyz too) instead of a 503 within the timeout.
    if timeout is not None and not (
            isinstance(timeout, str) and re.fullmatch(r"\+?0*[1-9][0-9]*", timeout.strip())
            and int(timeout) <= MAX_CONNECT_TIMEOUT_S):
        raise ConfigError(f"DATABASE_URL's connect_timeout must be a whole number of seconds"
                          f" from 1 to {MAX_CONNECT_TIMEOUT_S} (0 or less would wait with no"
                          f" limit, more past gunicorn's request timeout), not {timeout!r}")


@functools.cache
def _libpq_options() -> frozenset[str]:
    """The connection options libpq takes (sslmode, connect_timeout, options, ...)."""
    from psycopg import pq
    return frozenset(option.keyword.decode() for option in pq.Conninfo.get_defaults())
