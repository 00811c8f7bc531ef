"""The routing rule's read side: which open session an inbound (From, To) names, if any."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from commsvc.consent import decisions as consent
from commsvc.db.base import UTCDateTime
from commsvc.sessions.models import Participant, Session

SMS_MODES = ("sms", "sms_and_voice")
VOICE_MODES = ("voice", "sms_and_voice")


@dataclass(frozen=True)
class Route:
    """Where a message or call from a real number to a proxy number goes."""

    session_id: str
    booking_id: str
    mode: str
    record_calls: bool
    sender_role: str
    other_phone: str  # the other participant's real number
    other_proxy: str  # the proxy number the other participant sees us as
    other_takes_sms: bool  # consent: relayed texts may reach the other participant
    other_takes_calls: bool  # consent: relayed calls may reach the other participant

    @property
    def allows_sms(self) -> bool:
        return self.mode in SMS_MODES

    @property
    def allows_voice(self) -> bool:
        return self.mode in VOICE_MODES

    @property
    def reaches_by_text(self) -> bool:
        """A text to this proxy number would be relayed now: the session carries texts and the
        other participant takes them. Only then may a reply suggest texting instead."""
        return self.allows_sms and self.other_takes_sms

    @property
    def reaches_by_call(self) -> bool:
        """A call to this proxy number would be bridged now (mode and consent). Only then may a
        reply suggest calling instead."""
        return self.allows_voice and self.other_takes_calls


_me = aliased(Participant)
_other = aliased(Participant)


def _route_select():
    """The columns of Route for a participant (_me) and the other one of the same session."""
    return (
        select(
            Session.id.label("session_id"), Session.booking_id, Session.mode,
            Session.record_calls, _me.role.label("sender_role"),
            _other.phone.label("other_phone"), _other.proxy_number.label("other_proxy"),
            # Consent rides along in the same round trip (the relay's hot path).
            consent.allowed_sql(_other.phone, channel="sms", purpose="relay")
            .label("other_takes_sms"),
            consent.allowed_sql(_other.phone, channel="voice", purpose="relay")
            .label("other_takes_calls"),
        )
        .join(_me, _me.session_id == Session.id)
        .join(_other, _other.session_id == Session.id)
        .where(_me.phone == bindparam("real_phone"))
        .where(_me.proxy_number == bindparam("proxy_number"))
        .where(_other.id != _me.id)
    )


@functools.cache
def route_query():
    """Built once: the relay runs it on every inbound text and call (columns as in Route).

    Bind parameters: real_phone, proxy_number, now.
    """
    # Uses index: uq_participants_active_route (phone, proxy_number) WHERE active
    return (
        _route_select()
        .where(_me.active)
        .where(Session.status == "open")
        .where(Session.expires_at > bindparam("now", type_=UTCDateTime()))
    )


def find_route(db: DbSession, real_phone: str, proxy_number: str, now: dt.datetime) -> Route | None:
    """The open, unexpired session pairing real_phone with proxy_number (at most one exists)."""
    row = db.connection().execute(
        route_query(), {"real_phone": real_phone, "proxy_number": proxy_number, "now": now}
    ).first()
    return Route(*row) if row else None


def route_in_session(db: DbSession, session_id: str, real_phone: str, proxy_number: str
                     ) -> Route | None:
    """The route real_phone had to proxy_number in this session, open or not (the answer to a
    repeated webhook is decided as the first time, even once the session has ended)."""
    # Uses index: pk_sessions, then the session's two participants
    row = db.connection().execute(
        _route_select().where(Session.id == session_id),
        {"real_phone": real_phone, "proxy_number": proxy_number},
    ).first()
    return Route(*row) if row else None
