"""Whose copy a lookup's pick may be. A SID a lookup recorded for a text (sid_from_lookup) is a
copy at Twilio with the text's body, to its number: its own, or an identical text's, sent to
the same person meanwhile. Before such a copy is deleted or redacted at Twilio (retention, an
erasure) or deleted as the text's second copy (record_sid, once Twilio names another copy for
it), the texts that stay are asked whether one of them may be its owner; then it is left.
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from commsvc.crypto import UNAVAILABLE
from commsvc.sending.models import OutboundMessage

# Texts are made by the web processes and picks recorded by workers: their clocks may differ.
CLOCKS_DIFFER = dt.timedelta(minutes=1)
# A lookup lists the copies Twilio sent from this long before its text's send began (Twilio's
# clock and ours differ, and DateSent has whole seconds): a pick was made at Twilio no earlier.
RECONCILE_MARGIN = dt.timedelta(minutes=2)


class Pick(NamedTuple):
    """A lookup's pick as the rule reads it: the copy's SID, its text's number and body, when
    the text was made, and when the pick was recorded for it."""

    twilio_sid: str
    to_phone: str
    body: object
    created_at: dt.datetime
    updated_at: dt.datetime


def copies_others_may_own(db: Session, rows, *, leaving: ColumnElement[bool]) -> set[str]:
    """The SIDs of these texts (rows with id, twilio_sid, sid_from_lookup) that are lookups'
    picks a text that stays may own: `leaving` (SQL) says which texts go with these (this
    retention pass's, this erasure's), and the others are asked (others_may_own)."""
    ids = [row.id for row in rows if row.sid_from_lookup and row.twilio_sid]
    if not ids:
        return set()
    o = OutboundMessage
    picks = db.execute(select(o.twilio_sid, o.to_phone, o.body, o.created_at, o.updated_at)
                       .where(o.id.in_(ids), o.sid_from_lookup)).all()
    return others_may_own(db, picks, leaving=leaving)


def others_may_own(db: Session, picks, *, leaving: ColumnElement[bool]) -> set[str]:
    """The SIDs of these picks (Pick, or rows with its fields) that a text that stays may own:
    the texts `leaving` (SQL) says go with them are not asked. An owner is a text to the same
    number that holds no SID Twilio named for it (none, or a pick of its own: its copy may be
    the one this text's lookup took), made before the pick was recorded (the picking text's
    updated_at), with the same body, or one that cannot be compared (removed by retention, or
    its key missing here), and still due or changed since the pick may have been made at
    Twilio (see _may_own). A SID Twilio named for its text is never spared."""
    if not picks:
        return set()
    # Here, not at the top: the service package imports this module (record_sid).
    from commsvc.sending.service.statuses import DUE_STATUSES

    o = OutboundMessage
    # Uses index: ix_outbound_messages_to_phone
    others = db.execute(select(o.to_phone, o.body, o.status.in_(DUE_STATUSES).label("due"),
                               o.created_at, o.updated_at).where(
        o.to_phone.in_({pick.to_phone for pick in picks}),
        or_(o.twilio_sid.is_(None), o.sid_from_lookup), ~leaving)).all()
    return {pick.twilio_sid for pick in picks
            if any(other.to_phone == pick.to_phone and _may_own(other, pick)
                   for other in others)}


def _may_own(other, pick) -> bool:
    if other.created_at > pick.updated_at + CLOCKS_DIFFER:
        return False  # made after the copy was listed: its own copies came later
    if not other.due and other.updated_at < \
            pick.created_at - RECONCILE_MARGIN - CLOCKS_DIFFER:
        # Done with before the pick's text was made (a text failed weeks ago with the same
        # templated body): every copy of it was made at Twilio before it last changed (each
        # attempt's outcome, or a takeover's claim, is written after its request), so before
        # any the pick's lookup listed, and it is looked up no more. A text still due may yet
        # meet a copy of a request that landed late (a stalled worker's): it may own it.
        return False
    return not (_readable(other.body) and _readable(pick.body)) or other.body == pick.body


def _readable(body) -> bool:
    return body is not None and body is not UNAVAILABLE
