"""In-process CPU per relayed text and per consent check, and per request of the ceiling's bare
Flask endpoint: the service's WSGI app called directly (Flask's test client, no gunicorn, no
wrk), signed webhooks as Twilio sends them, against PostgreSQL; the ceiling's app the same
way. Best of several batches of CPU time, so a code change can be weighed when the VM's
speed drifts between `make bench` runs. Process CPU time still grows when other work shares
the cores: run it alone.

    .venv/bin/python -m bench.inprocess [--batches 7] [--size 300]

Uses its own database (commsvc_bench_inprocess, or the name in COMMSVC_INPROCESS_DB so two
checkouts can measure side by side; made and migrated here, emptied each run); never the
bench's or the tests'.
"""
from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

from bench.ceiling import create_app as create_ceiling_app
from bench.environment import PG_HOST, PG_PORT, ROOT, ensure_postgres, log, psql
from bench.payloads import Sids

DATABASE = os.environ.get("COMMSVC_INPROCESS_DB", "commsvc_bench_inprocess")
URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{DATABASE}"
BASE = "http://localhost:5000"
TOKEN = "inprocess-token"
REQUESTER, PRO = "+14155550101", "+14155550202"
BODY = "Hi, I'm on my way, should be there in about 20 minutes."


def _app():
    from commsvc.app import create_app
    from commsvc.config.settings import Config, Retention
    from commsvc.db.session import Database

    config = Config(env="development", database_url=URL, twilio_account_sid=None,
                    twilio_auth_token=TOKEN, public_base_url=BASE,
                    encryption_keys=(Fernet.generate_key().decode(),), hmac_key="x" * 40,
                    retention=Retention())
    return create_app(config, database=Database(URL), startup_warnings=False)


def _prepare() -> None:
    ensure_postgres()
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'") != "1":
        psql(f"CREATE DATABASE {DATABASE}")
    subprocess.run([str(Path(sys.executable).with_name("commsvc")), "db", "upgrade"],
                   check=True, cwd=ROOT, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "DATABASE_URL": URL, "COMMSVC_ENV": "development"})
    tables = psql("SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
                  " WHERE schemaname = 'public' AND tablename <> 'alembic_version'",
                  database=DATABASE)
    psql("SET commsvc.allow_truncate = 'on'; "
         f"TRUNCATE {tables} RESTART IDENTITY CASCADE", database=DATABASE)


def _best_ms(call, batches: int, size: int) -> float:
    for _ in range(size):  # warm caches, compiled statements, the pool
        call()
    best = float("inf")
    for _ in range(batches):
        started = time.process_time()
        for _ in range(size):
            call()
        best = min(best, (time.process_time() - started) / size * 1000)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--size", type=int, default=300)
    args = parser.parse_args(argv)
    _prepare()
    from commsvc.auth import service as keys
    from commsvc.pool import service as pool

    app = _app()
    client = app.test_client()
    now = app.extensions["clock"]
    with app.extensions["db"].sessionmaker() as db:
        for n in range(2):
            pool.add_number(db, phone_number=f"+1646555000{n}", capabilities=("sms", "voice"),
                            actor="bench", now=now(),
                            retention=app.extensions["config"].retention)
        _, raw = keys.create_key(db, name="bench", role="booking", now=now())
        db.commit()
    booking = {"Authorization": f"Bearer {raw}"}
    session = client.post("/v1/sessions", headers=booking, json={
        "booking_id": "bk_inprocess", "requester": {"phone": REQUESTER},
        "pro": {"phone": PRO}}).get_json()
    proxy = session["requester"]["proxy_number"]
    validator, sids = RequestValidator(TOKEN), Sids(secrets.token_hex(4))

    def relay():
        form = {"MessageSid": sids.next(), "AccountSid": "AC" + "0" * 32,
                "From": REQUESTER, "To": proxy, "Body": BODY, "NumMedia": "0"}
        signature = validator.compute_signature(BASE + "/webhooks/twilio/sms", form)
        answer = client.post("/webhooks/twilio/sms", data=form,
                             headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200 and b"<Message" in answer.data, answer.data

    def consent_check():
        answer = client.get("/v1/consent/check", headers=booking, query_string={
            "phone": PRO, "channel": "sms", "purpose": "relay"})
        assert answer.status_code == 200, answer.data

    ceiling_client = create_ceiling_app().test_client()

    def ceiling():  # the bench's ceiling endpoint, the same form as the relay's, unsigned
        form = {"MessageSid": sids.next(), "AccountSid": "AC" + "0" * 32,
                "From": REQUESTER, "To": proxy, "Body": BODY, "NumMedia": "0"}
        answer = ceiling_client.post("/webhooks/twilio/sms", data=form)
        assert answer.status_code == 200 and b"<Message" in answer.data, answer.data

    log(f"bench.inprocess: best of {args.batches} batches of {args.size}, CPU ms per request")
    print(f"ceiling (bare Flask): {_best_ms(ceiling, args.batches, args.size):.3f} ms")
    print(f"relayed text: {_best_ms(relay, args.batches, args.size):.3f} ms")
    print(f"consent check: {_best_ms(consent_check, args.batches, args.size):.3f} ms")


if __name__ == "__main__":
    main()
