"""The audit log: append-only, hash-chained events of every privileged act.

STUB: the records work (issue 5) replaces this with the chained implementation; every caller
already goes through record() so only this module changes.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session


def record(
    db: Session,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    reason: str | None = None,
    target: dict | None = None,
    details: dict | None = None,
) -> None:
    """Append one audit event in the caller's transaction (never a full number or a body)."""
    return None
