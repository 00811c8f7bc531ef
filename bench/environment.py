"""Everything `make bench` installs or prepares itself: wrk, PostgreSQL, the bench database.

The bench database (`commsvc_bench`, owned by the role `commsvc_bench`) is the benchmark's
own; the test databases (commsvc_test*) are never touched. Its schema is made by
`commsvc db upgrade` and dropped and remade when the migrations change (nothing is released,
so revisions are edited in place and alembic alone would not notice).
"""
from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

from bench import seed as seeding

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
BENCH_DB = "commsvc_bench"
BENCH_ROLE = "commsvc_bench"
PG_HOST = "127.0.0.1"
PG_PORT = 5432
BENCH_DATABASE_URL = f"postgresql://{BENCH_ROLE}@{PG_HOST}:{PG_PORT}/{BENCH_DB}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_wrk() -> str:
    """wrk from Debian's packages (apt-get update first only if the plain install fails)."""
    found = shutil.which("wrk")
    if found:
        return found
    log("bench: installing wrk from Debian")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(install, check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def psql(sql: str, *, database: str = "postgres", check: bool = True) -> str:
    """Run SQL as the postgres superuser over TCP (trust on 127.0.0.1)."""
    result = subprocess.run(
        ["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "-d", database,
         "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
        capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _postgres_answers() -> bool:
    return subprocess.run(["pg_isready", "-h", PG_HOST, "-p", str(PG_PORT), "-q"]).returncode == 0


def ensure_postgres() -> None:
    """Start the local cluster if it is down."""
    if _postgres_answers():
        return
    for version in sorted(os.listdir("/etc/postgresql")):
        log(f"bench: starting PostgreSQL {version}")
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                       check=False)
    for _ in range(60):
        if _postgres_answers():
            return
        time.sleep(0.5)
    raise RuntimeError("PostgreSQL did not start")


def ensure_database() -> None:
    """The bench role and database (idempotent)."""
    psql(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{BENCH_ROLE}')"
         f" THEN CREATE ROLE {BENCH_ROLE} LOGIN; END IF; END $$")
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{BENCH_DB}'") != "1":
        log(f"bench: creating database {BENCH_DB}")
        psql(f"CREATE DATABASE {BENCH_DB} OWNER {BENCH_ROLE}")
    # PostgreSQL 15+: the role may CHECKPOINT (checkpoint() below); older servers just skip it.
    psql(f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'pg_checkpoint')"
         f" THEN GRANT pg_checkpoint TO {BENCH_ROLE}; END IF; END $$")


def checkpoint(database_url: str = BENCH_DATABASE_URL) -> float | None:
    """CHECKPOINT now; seconds it took, or None if this server does not let the role do it.

    Before each measurement, so the dirty pages of the seeding and of the previous phase are
    written out first and the 5-minute timed checkpoint does not fall inside the next phase:
    a checkpoint's writes during a measurement were a source of run-to-run spread.
    """
    started = time.monotonic()
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        return None
    return round(time.monotonic() - started, 2)


@dataclass(frozen=True)
class Target:
    """The code under test: the work tree, or a snapshot of one commit (--commit)."""

    root: Path
    commit: str
    dirty: bool

    def env(self, base: dict) -> dict:
        """Imports of commsvc and webhooks resolve to this tree, whatever the venv points at."""
        env = dict(base)
        env["PYTHONPATH"] = str(self.root)
        return env


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def target(commit: str | None = None) -> Target:
    """The work tree (default), or `commit` extracted under bench/.work/tree-<sha>."""
    if commit is None:
        return Target(ROOT, _git("rev-parse", "HEAD"), bool(_git("status", "--porcelain",
                                                                   "--untracked-files=no")))
    sha = _git("rev-parse", "--verify", commit + "^{commit}")
    tree = WORK / f"tree-{sha[:12]}"
    for old in WORK.glob("tree-*"):  # one snapshot is kept: the one under test
        if old != tree:
            shutil.rmtree(old, ignore_errors=True)
    if not (tree / "Procfile").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", "--format=tar", sha],
                                   stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise RuntimeError(f"git archive {sha} failed")
    return Target(tree, sha, False)


def schema_hash(root: Path) -> str:
    """A fingerprint of the migrations: a changed revision means the schema must be remade."""
    digest = hashlib.sha256()
    for path in sorted((root / "migrations").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def new_secrets() -> dict:
    """Secrets of one seeded data set (synthetic data only; stored with it in bench_seed)."""
    return {
        "encryption_key": Fernet.generate_key().decode(),
        "hmac_key": secrets.token_urlsafe(32),
        "twilio_auth_token": secrets.token_hex(16),
    }


def app_environment(database_url: str, secrets_: dict, *, port: int | None = None) -> dict:
    """The environment the service runs with in the benchmark (production settings)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("TWILIO_ACCOUNT_SID", "FLASK_APP", "FLASK_DEBUG")}
    env.update(
        DATABASE_URL=database_url,
        COMMSVC_ENV="production",
        ENCRYPTION_KEYS=secrets_["encryption_key"],
        HMAC_KEY=secrets_["hmac_key"],
        TWILIO_AUTH_TOKEN=secrets_["twilio_auth_token"],
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port or 5000}",
    )
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    if port:
        env["PORT"] = str(port)
    return env


def commsvc(code: Target, args: list[str], env: dict) -> str:
    """Run the `commsvc` CLI of this venv on the code under test; returns its stdout."""
    exe = Path(sys.executable).parent / "commsvc"
    result = subprocess.run([str(exe), *args], env=code.env(env), capture_output=True,
                            text=True, cwd=code.root)
    if result.returncode != 0:
        raise RuntimeError(f"commsvc {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def drop_schema(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def ensure_seeded(code: Target, database_url: str, plan: seeding.Plan | None = None, *,
                  force: bool = False) -> dict:
    """Migrate and seed unless the marker says this plan is loaded into this schema already."""
    plan = plan or seeding.Plan()
    fingerprint = schema_hash(code.root)
    marker = None if force else seeding.read_marker(database_url)
    if seeding.marker_matches(marker, plan, fingerprint):
        env = app_environment(database_url, marker["secrets"])
        commsvc(code, ["db", "upgrade"], env)
        removed = seeding.reset_run_data(database_url, marker)
        log(f"bench: seeded data present (seeded {marker['seeded_at']:%Y-%m-%d %H:%M}),"
            f" removed rows of earlier runs: {removed}")
        return marker
    log("bench: (re)creating the schema and seeding" + (" (forced)" if force else ""))
    drop_schema(database_url)
    secrets_ = new_secrets()
    commsvc(code, ["db", "upgrade"], app_environment(database_url, secrets_))
    seeding.seed(database_url, plan, secrets=secrets_, schema_hash=fingerprint, log=log)
    return seeding.read_marker(database_url)


RUN_LOCK_KEY = 0x62656E6368  # "bench": one benchmark or seed at a time on the bench database


def provision() -> None:
    """wrk, PostgreSQL, the bench role and database."""
    WORK.mkdir(parents=True, exist_ok=True)
    ensure_wrk()
    ensure_postgres()
    ensure_database()


def acquire_run_lock(database_url: str = BENCH_DATABASE_URL) -> psycopg.Connection:
    """Hold the bench database's advisory lock for as long as the returned connection lives:
    two runs at once would share the port, reset each other's rows and skew both."""
    conn = psycopg.connect(database_url, autocommit=True)
    if not conn.execute("SELECT pg_try_advisory_lock(%s)", (RUN_LOCK_KEY,)).fetchone()[0]:
        log("bench: another benchmark run is using the bench database; waiting for it to end")
        conn.execute("SELECT pg_advisory_lock(%s)", (RUN_LOCK_KEY,))
    return conn
