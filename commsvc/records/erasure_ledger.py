"""The erasure ledger's one question for the code that sends: was this number erased since?

The outbound worker asks it before every attempt, the relay before it answers a repeated
webhook with a text or call stored before the erasure (a legal hold may keep such a record,
but it must not reach the person). The ledger itself is written by records.subjects.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from commsvc.config import Config
from commsvc.crypto import phone_hmac
from commsvc.records.models import Erasure


def erased_since(db: Session, phone: str, since: dt.datetime, config: Config) -> bool:
    """Whether the number was erased at or after `since` (when a text or call was accepted)."""
    # Uses index: ix_erasures_subject_hmac
    return db.scalar(select(exists().where(
        Erasure.subject_hmac == phone_hmac(config.hmac_key, phone),
        Erasure.created_at >= since))) or False
