"""Whose copy a lookup's pick may be. A SID a lookup recorded for a text (sid_from_lookup) is a
copy at Twilio with the text's body, to its number: its own, or an identical text's, sent to
the same person meanwhile. Before such a copy is deleted or redacted at Twilio (retention, an
erasure) or deleted as the text's second copy (record_sid, once Twilio names another copy for
it), the texts that stay are asked whether one of them may be its owner; then it is left,
queued as kept (remote.KEPT), and asked again until none may: then it goes too.
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from commsvc.crypto import UNAVAILABLE
from commsvc.sending.models import OutboundMessage

# Texts are made by the web processes and picks recorded by workers: their clocks may differ.
CLOCKS_DIFFER = dt.timedelta(minutes=1)
# A lookup lists the copies Twilio sent from this long before its text's send began (Twilio's
# clock and ours differ, and DateSent has whole seconds): a pick was made at Twilio no earlier.
RECONCILE_MARGIN = dt.timedelta(minutes=2)


class Pick(NamedTuple):
    """A copy at Twilio as the rule reads it: its SID, its number and body, and the times
    between which it was made at Twilio (as our clocks read them, before CLOCKS_DIFFER)."""

    twilio_sid: str
    to_phone: str
    body: object
    made_from: dt.datetime
    made_by: dt.datetime


def picked(twilio_sid: str, to_phone: str, body, *, text_made: dt.datetime,
           picked_at: dt.datetime) -> Pick:
    """A lookup's pick for a text made at `text_made`, recorded at `picked_at`: the lookup
    listed copies Twilio sent from RECONCILE_MARGIN before the text's send began (after it
    was made), so the copy was made at Twilio in between."""
    return Pick(twilio_sid, to_phone, body, text_made - RECONCILE_MARGIN, picked_at)


def at_twilio(twilio_sid: str, to_phone: str, body, made: dt.datetime) -> Pick:
    """A copy as Twilio describes it (its date_created, on Twilio's clock, which differs from
    ours by as much as a lookup allows for: RECONCILE_MARGIN); an empty body is one removed
    (redacted), which cannot be compared."""
    return Pick(twilio_sid, to_phone, body or None, made - RECONCILE_MARGIN,
                made + RECONCILE_MARGIN)


def copies_others_may_own(db: Session, rows, *, leaving: ColumnElement[bool]) -> set[str]:
    """The SIDs of these texts (rows with id, twilio_sid, sid_from_lookup) that are lookups'
    picks a text that stays may own: `leaving` (SQL) says which texts go with these (this
    retention pass's, this erasure's), and the others are asked (others_may_own)."""
    ids = [row.id for row in rows if row.sid_from_lookup and row.twilio_sid]
    if not ids:
        return set()
    o = OutboundMessage
    picks = [picked(row.twilio_sid, row.to_phone, row.body, text_made=row.created_at,
                    picked_at=row.updated_at)
             for row in db.execute(select(o.twilio_sid, o.to_phone, o.body, o.created_at,
                                          o.updated_at).where(o.id.in_(ids), o.sid_from_lookup))]
    return others_may_own(db, picks, leaving=leaving)


def others_may_own(db: Session, picks, *, leaving: ColumnElement[bool]) -> set[str]:
    """The SIDs of these copies (Pick) that a text that stays may own: the texts `leaving`
    (SQL) says go with them are not asked. An owner is a text to the same number that holds
    no SID Twilio named for it (none, or a pick of its own: its copy may be the one this
    text's lookup took), made before the copy was (by `made_by`: for a pick, when it was
    recorded), with the same body, or one that cannot be compared (removed by retention, or
    its key missing here), and still due or changed since the copy may have been made at
    Twilio (`made_from`, see _may_own). A SID Twilio named for its text is never spared."""
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


def held_or_owned(db: Session, pick: Pick, *, redact: bool = False) -> str | None:
    """Of a copy at Twilio no text here is known to own: "held" when a text holds its SID (a
    lookup took it since: that text decides), "owned" when a text that stays may own it
    (others_may_own), else None: no text may, and it may go. For a redaction (`redact`), a
    text whose body retention blanked counts for neither: its copy is to be redacted too (the
    pick's own text, which holds it still, among them)."""
    o = OutboundMessage
    blanked = o.body.is_(None) if redact else false()
    # Uses index: uq_outbound_messages_twilio_sid
    if db.scalar(select(o.id).where(o.twilio_sid == pick.twilio_sid, ~blanked)) is not None:
        return "held"
    return "owned" if others_may_own(db, [pick], leaving=blanked) else None


def _may_own(other, pick: Pick) -> bool:
    if other.created_at > pick.made_by + CLOCKS_DIFFER:
        return False  # made after the copy was: its own copies came later
    if not other.due and other.updated_at < pick.made_from - CLOCKS_DIFFER:
        # Done with before the copy was made (a text failed weeks ago with the same
        # templated body): every copy of it was made at Twilio before it last changed (each
        # attempt's outcome, or a takeover's claim, is written after its request), and it is
        # looked up no more. A text still due may yet meet a copy of a request that landed
        # late (a stalled worker's): it may own it.
        return False
    return not (_readable(other.body) and _readable(pick.body)) or other.body == pick.body


def _readable(body) -> bool:
    return body is not None and body is not UNAVAILABLE
