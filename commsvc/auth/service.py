"""Create, list, revoke and authenticate API keys."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from commsvc.auth.models import ApiKey
from commsvc.auth.roles import FULL_NUMBER_ROLES, ROLES
from commsvc.db.driver import DriverStatement
from commsvc.errors import NotFound, ValidationFailed

KEY_PREFIX = "csk_"
# Unicode categories a key name may not hold: control and format characters (a newline, an
# escape sequence, a right-to-left override) and line or paragraph separators, which would
# break or disguise the `commsvc keys list` table.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def key_actor(key_id: str) -> str:
    """The audit trail's actor for an API key: "key:" and its id (as `keys list` shows it)."""
    return f"key:{key_id}"


def key_id_of(written: str) -> str:
    """A key's id as an operator may paste it: as `keys list` prints it, or as the audit log's
    actor ("key:key_…", key_actor's form), with stray spaces around it."""
    written = written.strip()
    actor_prefix = key_actor("")
    if written.startswith(actor_prefix + "key_"):
        return written.removeprefix(actor_prefix)
    return written


def as_actor(name: str) -> str:
    """An actor as an operator may type it in a filter: a key's bare id ("key_3f…", what
    `keys list` prints) is that key's actor; anything else is taken as written."""
    return key_actor(name) if name.startswith("key_") else name


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name and role, and the stated access reason, if any."""

    key_id: str
    name: str
    role: str
    reason: str | None = None

    @property
    def actor(self) -> str:
        return key_actor(self.key_id)

    @property
    def sees_full_numbers(self) -> bool:
        """Booking sees the numbers it gave us; privacy and admin only with a stated reason."""
        return self.role in FULL_NUMBER_ROLES or self.reason is not None


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(db: Session, *, name: str, role: str, now: dt.datetime) -> tuple[ApiKey, str]:
    """A new key; the raw secret is returned once and only its hash is stored."""
    if role not in ROLES:
        raise ValidationFailed(errors={"role": [f"must be one of {', '.join(ROLES)}"]})
    if not name or not name.strip() or len(name) > 100:
        raise ValidationFailed(errors={"name": ["must be 1-100 characters"]})
    if any(unicodedata.category(c) in _UNPRINTABLE for c in name):
        raise ValidationFailed(errors={"name": [
            "must not contain control characters (a newline, a tab, an escape, ...)"]})
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(id="key_" + secrets.token_hex(8), name=name.strip(), role=role,
                 key_hash=hash_key(raw), created_at=now)
    db.add(key)
    db.flush()
    return key, raw


def list_keys(db: Session) -> list[ApiKey]:
    return list(db.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_key(db: Session, key_id: str, *, now: dt.datetime) -> tuple[ApiKey, bool]:
    """Revoke a key (idempotent); the key, and whether this call revoked it (False: it was)."""
    # One conditional UPDATE: of two revocations at once, exactly one revokes.
    revoked = db.execute(
        update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount == 1
    key = db.get(ApiKey, key_id)
    if key is None:
        raise NotFound.no("API key", key_id)
    return key, revoked


def authenticate(db: Session | Engine, raw: str) -> Principal | None:
    """The principal of a live key, or None for an unknown or revoked one (`db`: a unit of
    work, or the engine of an autocommit one, as DriverStatement.first takes them)."""
    found = authenticate_reading(db, raw, _LIVE_KEY, {})
    return found[0] if found else None


def authenticate_reading(db: Session | Engine, raw: str, statement: DriverStatement,
                         values: dict) -> tuple[Principal, tuple] | None:
    """authenticate, with a request's own read carried by the same statement (live_key_reading's,
    given `values`): the principal and what the read found, or None for an unknown or revoked
    key, which then reads nothing."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    row = statement.first(db, {**values, "key_hash": hash_key(raw)})
    return (Principal(*row[:3]), row[3:]) if row else None


def live_key_reading(*columns, given: tuple[str, ...] = ()) -> DriverStatement:
    """The live-key lookup carrying `columns` (scalar subqueries of a hot request's own read,
    whose parameters are named `given`) in its one row: one statement and one round trip for
    both. Built once, as a module's constant."""
    # Uses index: uq_api_keys_key_hash
    return DriverStatement(select(ApiKey.id, ApiKey.name, ApiKey.role, *columns).where(
        ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None)
    ), ("key_hash", *given))


# Built once, run on the driver's cursor (db.driver): every API request runs it.
_LIVE_KEY = live_key_reading()
