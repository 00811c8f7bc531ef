"""The relay: what an inbound text or call to a proxy number becomes, recorded once per SID.

Hot path of a relayed text: one INSERT … SELECT (claim.forward_once) that finds the route and
the recipient's consent and claims the MessageSid, storing the record; no transaction needed.
Anything it does not store (a keyword, no session, a blocked recipient, a repeat) is decided
step by step: route lookup, consent reads, the claiming INSERT. A repeated webhook (same SID)
finds the claimed row and is answered from what was stored, so it stores and forwards nothing
more. Forwarding itself is TwiML rendered by the edge from the returned result.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from commsvc.config.settings import Config
from commsvc.consent import relay as consent
from commsvc.relay.answers import call_answer, sms_reply
from commsvc.relay.claim import forward_once, insert_once
from commsvc.relay.inbound import (
    BRIDGED,
    BRIDGED_RECORDED,
    EMPTY,
    FORWARDED,
    MODE_NOT_ALLOWED,
    MODE_NOT_ALLOWED_UNTOLD,
    NO_SESSION,
    NO_SESSION_UNTOLD,
    REMOVED,
    WITHHELD,
    CallResult,
    Forward,
    InboundCall,
    InboundSms,
    SmsResult,
    is_empty,
    keyword_with_media,
)
from commsvc.relay.models import Call, Message
from commsvc.relay.notices import (
    from_our_number,
    notice_lock,
    repeat_confirmed_lately,
    told_lately,
)
from commsvc.relay.repeats import claimed, still_reaches, stored_forward
from commsvc.sessions.routing import Route, find_route, route_in_session


def sms_writes_one_row(sms: InboundSms) -> bool:
    """True unless the text may be a consent keyword, whose events are written with its row.

    One row written by one statement needs no transaction (get_db(autocommit=True)).
    """
    return sms.sender_phone is None or not consent.may_be_keyword(sms.reading, sms.opt_out_type)


def _record_keyword(db: Session, decision: consent.InboundDecision, sms: InboundSms,
                    now: dt.datetime) -> None:
    """The consent events of a keyword text stored for the first time (none for HELP)."""
    consent.record_inbound(db, decision, from_phone=sms.sender_phone, to_phone=sms.to_phone,
                           message_sid=sms.message_sid, body=sms.body, now=now)


def call_writes_one_row(_call: InboundCall) -> bool:
    """An inbound call writes only its own row (receive_call)."""
    return True


def receive_sms(db: Session, sms: InboundSms, *, config: Config, now: dt.datetime) -> SmsResult:
    """Decide what an inbound text becomes, record it once, and say what to answer Twilio."""
    decision = consent.CONVERSATION
    if sms.sender_phone is not None:
        decision = consent.inbound_decision(
            db, from_phone=sms.sender_phone, body=sms.body, opt_out_type=sms.opt_out_type,
            now=now, reading=sms.reading,
        )
        if decision.consumed and from_our_number(db, sms.sender_phone):
            # One of our own numbers is no one's: no consent to record, and no keyword reply,
            # or two of them would confirm each other without end (our STOP confirmation
            # reads as a revocation). Like any text from it: stored, answered with nothing.
            decision = consent.CONVERSATION
    if (sms.sender_phone is not None and not is_empty(sms)
            and (not decision.consumed or keyword_with_media(decision, sms))):
        # The usual text, in one statement: route, the recipient's consent and the SID claim.
        row = forward_once(db, Message, _sms_columns(sms, FORWARDED, now),
                           real_phone=sms.sender_phone, proxy_number=sms.to_phone, now=now)
        if row is not None:
            if decision.consumed:  # an opt-in with pictures: recorded as well as forwarded
                _record_keyword(db, decision, sms, now)
            return SmsResult(
                message_id=row.id, outcome=FORWARDED, session_id=row.session_id,
                forward=Forward(row.forward_to, row.forward_from, sms.body, sms.media_urls),
                reply=(sms_reply(FORWARDED, sms, None, decision, config)
                       if decision.consumed else None),
                duplicate=False,
            )
    # Anything else (and a text whose session changed in between): decided step by step.
    route = _route(db, sms.sender_phone, sms.to_phone, now)
    with notice_lock(db, sms, route, decision):
        outcome, forward = _sms_outcome(db, sms, route, decision, now)
        message_id, outcome = _insert_sms(db, {
            **_sms_columns(sms, outcome, now),
            **_route_columns(route),
            "forward_to": forward.to if forward else None,
            "forward_from": forward.from_ if forward else None,
        }, route)
    session_id = route.session_id if route else None
    duplicate = message_id is None
    if duplicate:
        stored = claimed(db, Message, sms.message_sid)
        if stored is None:
            # A repeat of a text erasure or retention removed: stored nor answered again.
            return SmsResult(message_id=None, outcome=REMOVED, session_id=None, forward=None,
                             reply=None, duplicate=True)
        message_id, outcome, session_id = stored.id, stored.outcome, stored.session_id
        forward = stored_forward(stored, sms)
        if session_id is not None and (forward or outcome in (consent.BLOCKED_NOTIFIED,
                                                              MODE_NOT_ALLOWED)):
            # Decided as the first time, even if the session has ended since: a notice's reply
            # says whether the recipient can be called (a calls-only one, "please call", too);
            # a forward goes out if it still may.
            route = route_in_session(db, session_id, sms.sender_phone, sms.to_phone)
            if forward is not None and not still_reaches(
                    db, forward.to, route, channel="sms", stored_at=stored.created_at,
                    config=config):
                forward, outcome = None, WITHHELD
    elif decision.consumed:
        _record_keyword(db, decision, sms, now)
    return SmsResult(
        message_id=message_id, outcome=outcome, session_id=session_id, forward=forward,
        reply=sms_reply(outcome, sms, route, decision, config),
        duplicate=duplicate,
    )


def receive_call(db: Session, call: InboundCall, *, config: Config, now: dt.datetime
                 ) -> CallResult:
    """Decide whether an inbound call is bridged, record it once, and say what to answer."""
    route = _route(db, call.caller_phone, call.to_phone, now)
    if route is None:
        outcome = NO_SESSION
    elif not route.allows_voice:
        outcome = MODE_NOT_ALLOWED
    elif not route.other_takes_calls:
        outcome = consent.BLOCKED
    else:
        outcome = BRIDGED_RECORDED if route.record_calls else BRIDGED
    bridged = outcome in (BRIDGED, BRIDGED_RECORDED)
    forward_to = route.other_phone if bridged else None
    forward_from = route.other_proxy if bridged else None
    session_id = route.session_id if route else None
    call_id = insert_once(db, Call, {
        **_record(route, call.caller, call.to_phone, call.call_sid, outcome, now),
        "forward_to": forward_to,
        "forward_from": forward_from,
        # A call answered with a message and <Hangup/> ends there, and that TwiML carries no
        # callback to say so (only the number's optional "call status changes" does, with its
        # duration): it is stored as Twilio will end it, not left "ringing" for good.
        "status": call.status if bridged else "completed",
    })
    duplicate = call_id is None
    if duplicate:
        stored = claimed(db, Call, call.call_sid)
        if stored is None:  # erasure or retention removed it, before the claim or since
            call_id, outcome, session_id, forward_to, forward_from = None, REMOVED, None, None, None
        else:
            call_id, outcome, session_id = stored.id, stored.outcome, stored.session_id
            forward_to, forward_from = stored.forward_to, stored.forward_from
            if session_id and (forward_to or outcome == MODE_NOT_ALLOWED):
                # Decided as the first time, even if the session has ended since: "please
                # text instead" says whether the other side takes texts; a call is bridged if
                # it still may be.
                route = route_in_session(db, session_id, call.caller_phone, call.to_phone)
                if forward_to and not still_reaches(db, forward_to, route, channel="voice",
                                                    stored_at=stored.created_at, config=config):
                    outcome, forward_to, forward_from = WITHHELD, None, None
    say, bridge = call_answer(outcome, forward_to, forward_from, config,
                              unroutable_caller=None if call.caller_phone else call.caller,
                              route=route)
    return CallResult(call_id=call_id, outcome=outcome, session_id=session_id, say=say,
                      bridge=bridge, duplicate=duplicate)


def _route_columns(route: Route | None) -> dict:
    return {"session_id": route.session_id if route else None,
            "booking_id": route.booking_id if route else None}


def _inbound_columns(sender: str, to_phone: str, sid: str, outcome: str,
                     now: dt.datetime) -> dict:
    """The columns every inbound message and call row has, besides its route's."""
    return {
        "direction": "inbound",
        "from_phone": sender,
        "to_phone": to_phone,
        "twilio_sid": sid,
        "outcome": outcome,
        "created_at": now,
        "updated_at": now,
    }


def _record(route: Route | None, sender: str, to_phone: str, sid: str, outcome: str,
            now: dt.datetime) -> dict:
    return {**_route_columns(route), **_inbound_columns(sender, to_phone, sid, outcome, now)}


def _sms_columns(sms: InboundSms, outcome: str, now: dt.datetime) -> dict:
    """A text's own columns: all but its route's and where it was forwarded."""
    return {
        **_inbound_columns(sms.sender, sms.to_phone, sms.message_sid, outcome, now),
        "body": sms.body,
        "media_count": len(sms.media_urls),
        "media_urls": json.dumps(list(sms.media_urls)) if sms.media_urls else None,
        "status": "received",
    }


def _route(db: Session, sender_phone: str | None, to_phone: str, now: dt.datetime
           ) -> Route | None:
    # A sender that is not a phone number (short code, alphanumeric id) is in no session.
    return find_route(db, sender_phone, to_phone, now) if sender_phone else None


def _sms_outcome(db: Session, sms: InboundSms, route: Route | None,
                 decision: consent.InboundDecision, now: dt.datetime
                 ) -> tuple[str, Forward | None]:
    if decision.consumed and not (keyword_with_media(decision, sms) and route is not None
                                  and route.reaches_by_text):
        if decision.outcome == consent.OPT_OUT_REPEAT and repeat_confirmed_lately(
                db, sms.sender_phone, sms.to_phone, now):
            return consent.OPT_OUT_REPEAT_UNTOLD, None
        return decision.outcome, None
    if route is None or not route.allows_sms:
        told = sms.sender_phone is None or (
            consent.may_send_notice(db, sms.sender_phone, now)
            and not from_our_number(db, sms.sender_phone)
            and not told_lately(db, sms.sender_phone, sms.to_phone,
                                NO_SESSION if route is None else MODE_NOT_ALLOWED, now))
        if route is None:
            return (NO_SESSION if told else NO_SESSION_UNTOLD), None
        return (MODE_NOT_ALLOWED if told else MODE_NOT_ALLOWED_UNTOLD), None
    if is_empty(sms):
        return EMPTY, None
    if not route.other_takes_sms:
        if not consent.may_send_notice(db, sms.sender_phone, now):
            return consent.BLOCKED, None  # told nothing, so still to be told after a START
        return consent.BLOCKED_NOTIFIED, None  # unless another text was told: _insert_sms
    return FORWARDED, Forward(route.other_phone, route.other_proxy, sms.body, sms.media_urls)


def _insert_sms(db: Session, columns: dict, route: Route | None) -> tuple[int | None, str]:
    """Store the text once (None: its SID was stored before) and the outcome it was stored with.

    A text that would tell its sender "could not be delivered" claims the recipient's current
    revocation for that sender in the session (messages.notice_of, unique): if another text of
    theirs holds it, told before or arriving at the same instant, this one is stored blocked
    and untold. The database decides, so two texts at once are never both told.
    """
    if columns["outcome"] != consent.BLOCKED_NOTIFIED:
        return insert_once(db, Message, columns), columns["outcome"]
    notice_of = consent.revocation_told_of(db, route.other_phone)
    message_id = insert_once(db, Message, {**columns, "notice_of": notice_of}, any_unique=True)
    if message_id is not None:
        return message_id, consent.BLOCKED_NOTIFIED
    # The claim was taken, or the SID was: stored untold, unless it is a repeated webhook.
    return insert_once(db, Message, {**columns, "outcome": consent.BLOCKED}), consent.BLOCKED
