"""The benchmark data generator: pool numbers, open sessions, participants, messages, consent.

Loads a migrated commsvc PostgreSQL database with PostgreSQL COPY (psycopg 3 `cursor.copy`):
500 proxy numbers, 100,000 open sessions (200,000 active participants), 1,000,000 stored
messages and a consent ledger for 20,000 phones, in about a minute on 2 cores.

Invariants the data keeps (so the service under test sees a valid database):
- The routing rule: among active participants a real phone meets a proxy number at most once.
  Requesters are all distinct; each pro is in `sessions_per_pro` sessions, each time behind a
  different proxy number.
- Every phone is a valid, dialable US number (checked with phonenumbers on a sample).
- Message bodies are real EncryptedText values (Fernet tokens under the configured key). For
  speed one token is made per distinct text and reused by every row with that text; the app
  decrypts them as it would any other row.
- Consent state agrees with the ledger (highest event wins); only marketing is touched, so
  every seeded pair still relays.

Idempotent: a marker table `bench_seed` records the plan, the schema it was loaded into, the
secrets of the data and how long each step took; `ensure_seeded` skips the load when the marker
matches. Rows the benchmarks add later (messages above `max_message_id`, sessions whose
booking_id starts with `BENCH_BOOKING_PREFIX`) are removed by `reset_run_data`.

Usage: python -m bench.seed --database-url postgresql://... [--force] [--sessions N] ...
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers
import psycopg
from cryptography.fernet import Fernet

from bench.bulkload import LOAD_STREAMS, bulk_load, connect

SEED_VERSION = 1
SEED_BOOKING_PREFIX = "bk_seed_"
BENCH_BOOKING_PREFIX = "bk_bench_"

# Area codes of the synthetic customers and of the pool; each kind of number gets its own
# exchange block so no two kinds ever collide.
AREAS = ("212", "312", "415", "617", "713", "206", "305", "404", "503", "602")
PROXY_EXCHANGE = 250
REQUESTER_EXCHANGE = 300
PRO_EXCHANGE = 400
NEW_PHONE_EXCHANGE = 700  # phones no seeded session uses (the session benchmark's new people)

TEXTS = (
    "Hi, I'm on my way, should be there in about 20 minutes.",
    "Running a bit late, traffic on the bridge. ETA 4:15.",
    "Can you send a photo of the leak under the sink?",
    "Yes, the side gate is open. The dog is friendly.",
    "Great, thanks! See you tomorrow at 9.",
    "Do you need me to pick up the replacement part first?",
    "The quote is $180 including parts and labour.",
    "Please park in the driveway, the street is permit only.",
    "All done. I left the old filter in the garage.",
    "Could we move it to Thursday afternoon instead?",
    "Sure, Thursday at 2pm works for me.",
    "I'm outside, the buzzer doesn't seem to work.",
    "Thanks again, everything works perfectly now!",
    "Is there a code for the building's front door?",
    "I'll need about two hours, maybe a little more.",
    "Just confirming our appointment tomorrow morning.",
)


@dataclass(frozen=True)
class Plan:
    """How much data to make."""

    pool: int = 500
    sessions: int = 100_000
    messages: int = 1_000_000
    sessions_per_pro: int = 10
    consent_phones: int = 20_000
    marketing_revoked_every: int = 10  # every Nth consent phone later revoked marketing

    @property
    def pros(self) -> int:
        return max(1, self.sessions // self.sessions_per_pro)


def phone(exchange_base: int, n: int) -> str:
    """The n-th synthetic number of a kind (E.164, valid, spread over AREAS)."""
    area = AREAS[n % len(AREAS)]
    k = n // len(AREAS)
    return f"+1{area}{exchange_base + k // 10_000}{k % 10_000:04d}"


def proxy_number(n: int) -> str:
    return phone(PROXY_EXCHANGE, n)


def requester_phone(i: int) -> str:
    return phone(REQUESTER_EXCHANGE, i)


def pro_phone(j: int) -> str:
    return phone(PRO_EXCHANGE, j)


def new_phone(n: int) -> str:
    return phone(NEW_PHONE_EXCHANGE, n)


@dataclass(frozen=True)
class SeededSession:
    id: str
    booking_id: str
    requester: str
    requester_proxy: str
    pro: str
    pro_proxy: str


def session_at(plan: Plan, i: int) -> SeededSession:
    """The i-th seeded session (pure function of the plan, so payloads need no database)."""
    pros = plan.pros
    j, k = i % pros, i // pros  # pro j, in the k-th of their sessions
    return SeededSession(
        id=f"ses_{i:024x}",
        booking_id=f"{SEED_BOOKING_PREFIX}{i}",
        requester=requester_phone(i),
        requester_proxy=proxy_number((i * 31 + 17) % plan.pool),
        pro=pro_phone(j),
        # (j*7 + k) mod pool differs for every k < pool: a pro never meets a proxy twice.
        pro_proxy=proxy_number((j * 7 + k) % plan.pool),
    )


def check_plan(plan: Plan) -> None:
    if plan.sessions_per_pro > plan.pool:
        raise ValueError("sessions_per_pro cannot exceed the pool size (routing rule)")
    samples = [proxy_number(0), proxy_number(plan.pool - 1), requester_phone(0),
               requester_phone(plan.sessions - 1), pro_phone(plan.pros - 1), new_phone(99_999)]
    for number in samples:
        if not phonenumbers.is_valid_number(phonenumbers.parse(number)):
            raise ValueError(f"generated number {number} is not valid")


def _ts(value: dt.datetime) -> str:
    return value.isoformat()


def _pool_lines(plan: Plan, now: dt.datetime) -> Iterator[str]:
    created = _ts(now - dt.timedelta(days=400))
    for n in range(plan.pool):
        number = proxy_number(n)
        yield f"{number}\t1\t{number[2:5]}\tt\tt\tf\tactive\t{created}\t\\N\n"


def _session_lines(plan: Plan, now: dt.datetime) -> Iterator[str]:
    start = now - dt.timedelta(days=60)
    step = dt.timedelta(days=59) / plan.sessions
    expires = _ts(now + dt.timedelta(days=365))
    for i in range(plan.sessions):
        s = session_at(plan, i)
        yield (f"{s.id}\t{s.booking_id}\topen\t\\N\tsms_and_voice\tf\t"
               f"{_ts(start + step * i)}\t{expires}\t\\N\n")


def _participant_lines(plan: Plan, now: dt.datetime) -> Iterator[str]:
    created = _ts(now - dt.timedelta(days=60))
    for i in range(plan.sessions):
        s = session_at(plan, i)
        yield f"{s.id}\trequester\t{s.requester}\t{s.requester_proxy}\t{s.pro}\tt\t{created}\t\\N\n"
        yield f"{s.id}\tpro\t{s.pro}\t{s.pro_proxy}\t{s.requester}\tt\t{created}\t\\N\n"


def _message_lines(plan: Plan, now: dt.datetime, tokens: list[str], part: int = 0,
                   parts: int = 1) -> Iterator[str]:
    start = now - dt.timedelta(days=59)
    step = dt.timedelta(days=58) / plan.messages
    sessions = [session_at(plan, i) for i in range(plan.sessions)]
    share = -(-plan.messages // parts)
    for m in range(part * share, min(plan.messages, (part + 1) * share)):
        s = sessions[m % plan.sessions]
        if (m // plan.sessions) % 2 == 0:
            sender, to, fwd_to, fwd_from = s.requester, s.requester_proxy, s.pro, s.pro_proxy
        else:
            sender, to, fwd_to, fwd_from = s.pro, s.pro_proxy, s.requester, s.requester_proxy
        created = _ts(start + step * m)
        yield (f"{s.id}\t{s.booking_id}\tinbound\t{sender}\t{to}\t{tokens[m % len(tokens)]}\t0\t"
               f"\\N\tSM{m:032x}\tforwarded\t{fwd_to}\t{fwd_from}\tSM{m:030x}ff\tdelivered\t"
               f"\\N\t{created}\t{created}\t\\N\n")


def _consent_rows(plan: Plan, now: dt.datetime) -> tuple[list[str], list[str]]:
    """Marketing grants for the first consent_phones requesters, some revoked later."""
    events, states = [], []
    event_id = 0
    granted_at = now - dt.timedelta(days=30)
    revoked_at = now - dt.timedelta(days=3)
    evidence = json.dumps({"source": "bench seed"})
    for i in range(min(plan.consent_phones, plan.sessions)):
        number = requester_phone(i)
        event_id += 1
        events.append(f"{event_id}\t{number}\tsms\tmarketing\tgrant\tapi\t{evidence}\t"
                      f"{_ts(granted_at)}\n")
        allowed, since = "t", granted_at
        if i % plan.marketing_revoked_every == 0:
            event_id += 1
            events.append(f"{event_id}\t{number}\tsms\tmarketing\trevoke\tsms_keyword\t"
                          f"{evidence}\t{_ts(revoked_at)}\n")
            allowed, since = "f", revoked_at
        states.append(f"{number}\tsms\tmarketing\t{allowed}\t{event_id}\t{_ts(since)}\n")
    return events, states


MARKER_DDL = """
CREATE TABLE IF NOT EXISTS bench_seed (
    id integer PRIMARY KEY CHECK (id = 1),
    seed_version integer NOT NULL,
    schema_hash text NOT NULL,
    plan jsonb NOT NULL,
    secrets jsonb NOT NULL,
    max_message_id bigint NOT NULL,
    timings jsonb NOT NULL,
    seeded_at timestamptz NOT NULL
)
"""


def read_marker(conninfo: str) -> dict | None:
    """The marker of a completed seed, or None (no marker table or no row)."""
    with psycopg.connect(conninfo) as conn:
        exists = conn.execute("SELECT to_regclass('public.bench_seed')").fetchone()[0]
        if exists is None:
            return None
        row = conn.execute(
            "SELECT seed_version, schema_hash, plan, secrets, max_message_id, timings, seeded_at"
            " FROM bench_seed WHERE id = 1").fetchone()
    if row is None:
        return None
    keys = ("seed_version", "schema_hash", "plan", "secrets", "max_message_id", "timings",
            "seeded_at")
    return dict(zip(keys, row, strict=True))


def marker_matches(marker: dict | None, plan: Plan, schema_hash: str) -> bool:
    return (marker is not None and marker["seed_version"] == SEED_VERSION
            and marker["schema_hash"] == schema_hash
            and marker["plan"] == dataclasses.asdict(plan))


def seed(conninfo: str, plan: Plan, *, secrets: dict, schema_hash: str,
         now: dt.datetime | None = None, log=print) -> dict:
    """Load the plan into an empty, migrated database and write the marker; returns timings."""
    check_plan(plan)
    now = now or dt.datetime.now(dt.UTC)
    fernet = Fernet(secrets["encryption_key"])
    tokens = [fernet.encrypt(text.encode()).decode() for text in TEXTS]
    timings: dict[str, float] = {}
    total_start = time.perf_counter()

    def step(name: str, table: str, columns: tuple[str, ...], *parts: Iterator[str]) -> None:
        started = time.perf_counter()
        rows, index_seconds = bulk_load(conninfo, table, columns, list(parts))
        timings[name] = round(time.perf_counter() - started, 2)
        timings[f"{name}_indexes"] = round(index_seconds, 2)
        log(f"seed: {rows:>9,} {table:<22} {timings[name]:6.1f} s (of which indexes and"
            f" constraints {index_seconds:.1f} s)")

    step("proxy_numbers", "proxy_numbers",
         ("phone_number", "country_code", "area_code", "sms", "voice", "mms", "status",
          "created_at", "retired_at"), _pool_lines(plan, now))
    step("sessions", "sessions",
         ("id", "booking_id", "status", "closed_reason", "mode", "record_calls",
          "created_at", "expires_at", "closed_at"), _session_lines(plan, now))
    step("participants", "session_participants",
         ("session_id", "role", "phone", "proxy_number", "counterpart_phone", "active",
          "created_at", "ended_at"), _participant_lines(plan, now))
    step("messages", "messages",
         ("session_id", "booking_id", "direction", "from_phone", "to_phone", "body",
          "media_count", "media_urls", "twilio_sid", "outcome", "forward_to",
          "forward_from", "forward_sid", "status", "error_code", "created_at",
          "updated_at", "body_removed_at"),
         *(_message_lines(plan, now, tokens, part, LOAD_STREAMS) for part in range(LOAD_STREAMS)))
    events, states = _consent_rows(plan, now)
    step("consent_events", "consent_events",
         ("id", "phone", "channel", "purpose", "action", "source", "evidence", "created_at"),
         iter(events))
    step("consent_state", "consent_state",
         ("phone", "channel", "purpose", "allowed", "event_id", "since"), iter(states))
    with connect(conninfo) as conn:
        conn.execute("SELECT setval(pg_get_serial_sequence('consent_events', 'id'),"
                     " (SELECT max(id) FROM consent_events))")
        max_message_id = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
        timings["total_load"] = round(time.perf_counter() - total_start, 2)
        conn.execute(MARKER_DDL)
        conn.execute(
            "INSERT INTO bench_seed VALUES (1, %s, %s, %s, %s, %s, %s, %s)",
            (SEED_VERSION, schema_hash, json.dumps(dataclasses.asdict(plan)),
             json.dumps(secrets), max_message_id, json.dumps(timings), now))
    vacuum_analyze(conninfo)
    return timings


def vacuum_analyze(conninfo: str) -> None:
    """Visibility map and planner statistics, as a long-running database would have them."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in ("proxy_numbers", "sessions", "session_participants", "messages",
                      "consent_events", "consent_state"):
            conn.execute(f"VACUUM (ANALYZE) {table}")


def reset_run_data(conninfo: str, marker: dict) -> dict:
    """Remove what earlier benchmark runs added, so every run starts from the seeded data."""
    with psycopg.connect(conninfo) as conn:
        messages = conn.execute("DELETE FROM messages WHERE id > %s",
                                (marker["max_message_id"],)).rowcount
        sessions = conn.execute("DELETE FROM sessions WHERE booking_id LIKE %s",
                                (BENCH_BOOKING_PREFIX + "%",)).rowcount
        # Seeded sessions stay open: a data set kept for months is moved forward, not reloaded.
        conn.execute("UPDATE sessions SET expires_at = now() + interval '365 days'"
                     " WHERE booking_id LIKE %s AND expires_at < now() + interval '30 days'",
                     (SEED_BOOKING_PREFIX + "%",))
    if messages or sessions:
        vacuum_analyze(conninfo)
    return {"messages": messages, "sessions": sessions}


def counts(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("proxy_numbers", "sessions", "session_participants", "messages",
                              "consent_events", "consent_state")}


def main(argv: list[str] | None = None) -> int:
    from bench import environment

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=environment.BENCH_DATABASE_URL)
    parser.add_argument("--force", action="store_true", help="drop the schema and load again")
    parser.add_argument("--commit", help="migrate with this commit's migrations (default: tree)")
    defaults = Plan()
    for name in ("pool", "sessions", "messages", "sessions_per_pro", "consent_phones"):
        parser.add_argument("--" + name.replace("_", "-"), type=int,
                            default=getattr(defaults, name))
    args = parser.parse_args(argv)
    plan = Plan(pool=args.pool, sessions=args.sessions, messages=args.messages,
                sessions_per_pro=args.sessions_per_pro, consent_phones=args.consent_phones)
    environment.provision()
    lock = environment.acquire_run_lock(args.database_url)  # noqa: F841 (held until exit)
    code = environment.target(args.commit)
    marker = environment.ensure_seeded(code, args.database_url, plan, force=args.force)
    print(json.dumps({"timings": marker["timings"], "counts": counts(args.database_url)},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
