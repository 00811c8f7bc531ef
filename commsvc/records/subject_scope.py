"""What "the subject's data" is (records.subjects' invariants): every message and call the
number sent or made or that was forwarded to it (`touching`), and every session it took part in.
Export, erasure and replay use this one definition."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from commsvc.pool import service as pool_service
from commsvc.sessions.models import Participant


def touching(model, phone: str):
    """SQL condition: a Message or Call row where the number is a person in it: who sent or
    called, or to whom it was forwarded. Not `to_phone`: an inbound row's To is always one of
    the platform's numbers, and every conversation relayed through a proxy number "touches"
    it there (its export would be other people's messages, its erasure would delete them)."""
    # Uses index: ix_<table>_from_phone_id, ix_<table>_forward_to_id
    return or_(model.from_phone == phone, model.forward_to == phone)


def subject_sessions(phone: str):
    """SQL: the ids of the sessions the number took part in."""
    return select(Participant.session_id).where(Participant.phone == phone)


def refuse_pool_number(db: Session, phone: str) -> None:
    """422 for one of our active numbers (a retired one is a person's where `touching` finds
    it as one)."""
    pool_service.refuse_active_pool_number(
        db, phone, " (a proxy number in the pool): export or erase the numbers of the people it"
                   " relays")
