"""Instructions per request in one gunicorn worker (callgrind), for the relay and the ceiling:
the Procfile's web line with one worker, under valgrind with instrumentation off; 50 signed
texts to warm it, then instrumentation on for exactly --texts more, sent one after the other
from this process (not under valgrind), and the worker's count divided by them. Unlike CPU
time, the count does not move with other work on the cores or the VM's speed, and unlike
bench.inprocess it sees what gunicorn does (HTTP parsing, the access line, the JSON logs).

    .venv/bin/python -m bench.worker_instructions [relay|ceiling ...] [--texts 200]

Uses its own database (commsvc_bench_worker, or COMMSVC_WORKER_DB; made, migrated and seeded
with a small plan here; never the bench's or the tests') and port (COMMSVC_WORKER_PORT, 18090).
Each run takes about half a minute a kind.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench import environment, payloads, server
from bench import seed as seeding
from bench.environment import PG_HOST, PG_PORT, ROOT, log, psql
from bench.run import post_raw

DATABASE = os.environ.get("COMMSVC_WORKER_DB", "commsvc_bench_worker")
URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{DATABASE}"
PORT = int(os.environ.get("COMMSVC_WORKER_PORT", "18090"))
PLAN = seeding.Plan(pool=50, sessions=2000, messages=20_000, consent_phones=500)
WARM = 50


def _seeded() -> dict:
    environment.ensure_postgres()
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'") != "1":
        psql(f"CREATE DATABASE {DATABASE}")
    return environment.ensure_seeded(environment.target(None), URL, PLAN)


def _total(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    return 0


def per_request(kind: str, marker: dict, texts: int) -> float:
    """The worker's instructions per relayed text (kind relay) or per ceiling request."""
    env = environment.app_environment(URL, marker["secrets"], port=PORT)
    env["WEB_CONCURRENCY"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    relay = payloads.RelayRequests(PLAN, marker["secrets"]["twilio_auth_token"],
                                   env["PUBLIC_BASE_URL"], f"127.0.0.1:{PORT}",
                                   payloads.Sids(secrets.token_hex(4)), random.Random())
    requests = [relay.raw(relay.form()) for _ in range(WARM + texts)]
    out = Path(tempfile.mkdtemp(prefix="worker-instructions-"))
    command = server.web_command(ROOT / "Procfile", None if kind == "relay"
                                 else server.CEILING_APP_SPEC)
    command = ("valgrind --tool=callgrind --trace-children=yes --instr-atstart=no"
               f" --callgrind-out-file={out}/callgrind.%p {command}")
    web = server.WebProcess(command, env=env, cwd=ROOT, log_path=out / "web.log", port=PORT)
    web.start(timeout=600)
    try:
        for n, request in enumerate(requests):
            if n == WARM:
                worker = web.workers()[0]
                subprocess.run(["callgrind_control", "-i", "on", str(worker)], check=True,
                               capture_output=True)
            status, body = post_raw(PORT, request)
            if status != 200 or b"<Message" not in body:
                raise RuntimeError(f"{kind}: answered {status}: {body[:200]!r}")
        subprocess.run(["callgrind_control", "-d", str(worker)], check=True,
                       capture_output=True)
        time.sleep(1)
        return sum(_total(path) for path in out.glob(f"callgrind.{worker}.*")) / texts
    finally:
        web.stop()
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*", help="relay, ceiling (default: both)")
    parser.add_argument("--texts", type=int, default=200)
    args = parser.parse_args(argv)
    if set(args.kinds) - {"relay", "ceiling"}:
        parser.error("the kinds are relay and ceiling")
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    marker = _seeded()
    log(f"bench.worker_instructions: {args.texts} requests after {WARM}, one gunicorn worker")
    for kind in args.kinds or ["relay", "ceiling"]:
        print(f"{kind}: {per_request(kind, marker, args.texts) / 1e6:.3f} M instructions"
              " per request")


if __name__ == "__main__":
    main()
