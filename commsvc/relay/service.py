"""The relay: what an inbound text or call to a proxy number becomes, recorded once per SID.

Hot path of a relayed text: one INSERT … SELECT (claim.forward_once) that finds the route and
the recipient's consent and claims the MessageSid, storing the record; no transaction needed.
Anything it does not store (a keyword, no session, a blocked recipient, a repeat) is decided
step by step: route lookup, consent reads, the claiming INSERT. A repeated webhook (same SID)
finds the claimed row and is answered from what was stored, so it stores and forwards nothing
more. Forwarding itself is TwiML rendered by the edge from the returned result.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from commsvc import phones
from commsvc.config.settings import Config
from commsvc.consent import relay as consent
from commsvc.crypto import UNAVAILABLE
from commsvc.db.locks import named_lock
from commsvc.db.session import is_transactional
from commsvc.fields import shows_nothing
from commsvc.pool import service as pool_service
from commsvc.records.erasure_ledger import erased_since
from commsvc.relay.claim import forward_once, insert_once
from commsvc.relay.models import TOLD_NOTICE, Call, Message
from commsvc.sessions.models import Participant
from commsvc.sessions.routing import Route, find_route, route_in_session

# Outcomes of an inbound text that belong to the relay (consent's are in consent.relay).
FORWARDED = "forwarded"
NO_SESSION = "no_session"  # stranger, or the session is closed or expired
MODE_NOT_ALLOWED = "mode_not_allowed"  # the session does not carry this channel
# The same, when the sender takes no notices from the platform (they texted STOP): decided
# when the text arrives and stored, so a repeated webhook is answered the same (nothing).
NO_SESSION_UNTOLD = "no_session_untold"
MODE_NOT_ALLOWED_UNTOLD = "mode_not_allowed_untold"
EMPTY = "empty"  # no text and no media: nothing to forward
REMOVED = "removed"  # (not stored) a repeated webhook of a text or call erased or past retention
# (not stored) a repeated webhook of a forwarded text or bridged call whose recipient no longer
# takes it: they revoked that channel, or were erased, since the first copy (_still_reaches)
WITHHELD = "withheld"
# Outcomes of an inbound call (plus NO_SESSION, MODE_NOT_ALLOWED and consent.BLOCKED).
BRIDGED = "bridged"
BRIDGED_RECORDED = "bridged_recorded"

CALL_NOT_CONNECTED = "Sorry, this call cannot be connected. Goodbye."
# A caller whose number is hidden ("Anonymous", "Restricted") or not a phone number cannot be
# routed: told so, not that their conversation has ended (it may well be open).
HIDDEN_CALLER = ("Sorry, this call cannot be connected because your number is hidden."
                 " Please call again with your caller ID shown. Goodbye.")


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    sender: str  # as stored: E.164 for a phone number, else the sanitised sender id
    sender_phone: str | None  # E.164; None for short codes, alphanumeric or anonymous senders
    to_phone: str
    body: str
    media_urls: tuple[str, ...] = ()
    opt_out_type: str | None = None

    @functools.cached_property
    def reading(self) -> consent.Detection:
        """The body's widest reading (consent.widest_reading), made once per text."""
        return consent.widest_reading(self.body)


@dataclass(frozen=True)
class Forward:
    """A text to pass on: to the other participant's real number, from their proxy number."""

    to: str
    from_: str
    body: str
    media_urls: tuple[str, ...]


@dataclass(frozen=True)
class SmsResult:
    message_id: int
    outcome: str
    session_id: str | None
    forward: Forward | None
    reply: str | None  # the text the sender is answered with, if any
    duplicate: bool


@dataclass(frozen=True)
class InboundCall:
    call_sid: str
    caller: str  # as stored, like InboundSms.sender
    caller_phone: str | None
    to_phone: str
    status: str


@dataclass(frozen=True)
class Bridge:
    """Connect the caller to the other participant, showing the proxy number they know."""

    to: str
    caller_id: str
    record: bool
    time_limit: int


@dataclass(frozen=True)
class CallResult:
    call_id: int
    outcome: str
    session_id: str | None
    say: str | None  # spoken first (the recording notice, or why nobody is connected)
    bridge: Bridge | None  # None: hang up after `say`
    duplicate: bool


def sms_writes_one_row(sms: InboundSms) -> bool:
    """True unless the text may be a consent keyword, whose events are written with its row.

    One row written by one statement needs no transaction (get_db(autocommit=True)).
    """
    return sms.sender_phone is None or not consent.may_be_keyword(sms.reading, sms.opt_out_type)


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
        if decision.consumed and _from_our_number(db, sms.sender_phone):
            # One of our own numbers is no one's: no consent to record, and no keyword reply,
            # or two of them would confirm each other without end (our STOP confirmation
            # reads as a revocation). Like any text from it: stored, answered with nothing.
            decision = consent.CONVERSATION
    if (sms.sender_phone is not None and not _is_empty(sms)
            and (not decision.consumed or _help_with_media(decision, sms))):
        # The usual text, in one statement: route, the recipient's consent and the SID claim.
        row = forward_once(db, Message, _sms_columns(sms, FORWARDED, now),
                           real_phone=sms.sender_phone, proxy_number=sms.to_phone, now=now)
        if row is not None:
            return SmsResult(
                message_id=row.id, outcome=FORWARDED, session_id=row.session_id,
                forward=Forward(row.forward_to, row.forward_from, sms.body, sms.media_urls),
                reply=(_sms_reply(FORWARDED, sms, None, decision, config)
                       if decision.consumed else None),
                duplicate=False,
            )
    # Anything else (and a text whose session changed in between): decided step by step.
    route = _route(db, sms.sender_phone, sms.to_phone, now)
    with _notice_lock(db, sms, route, decision):
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
        stored = _claimed(db, Message, sms.message_sid)
        if stored is None:
            # A repeat of a text erasure or retention removed: stored nor answered again.
            return SmsResult(message_id=None, outcome=REMOVED, session_id=None, forward=None,
                             reply=None, duplicate=True)
        message_id, outcome, session_id = stored.id, stored.outcome, stored.session_id
        forward = _stored_forward(stored, sms)
        if session_id is not None and (forward or outcome in (consent.BLOCKED_NOTIFIED,
                                                              MODE_NOT_ALLOWED)):
            # Decided as the first time, even if the session has ended since: a notice's reply
            # says whether the recipient can be called (a calls-only one, "please call", too);
            # a forward goes out if it still may.
            route = route_in_session(db, session_id, sms.sender_phone, sms.to_phone)
            if forward is not None and not _still_reaches(
                    db, forward.to, route, channel="sms", stored_at=stored.created_at,
                    config=config):
                forward, outcome = None, WITHHELD
    elif decision.consumed:
        consent.record_inbound(
            db, decision, from_phone=sms.sender_phone, to_phone=sms.to_phone,
            message_sid=sms.message_sid, body=sms.body, now=now,
        )
    return SmsResult(
        message_id=message_id, outcome=outcome, session_id=session_id, forward=forward,
        reply=_sms_reply(outcome, sms, route, decision, config),
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
        stored = _claimed(db, Call, call.call_sid)
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
                if forward_to and not _still_reaches(db, forward_to, route, channel="voice",
                                                     stored_at=stored.created_at, config=config):
                    outcome, forward_to, forward_from = WITHHELD, None, None
    say, bridge = _call_answer(outcome, forward_to, forward_from, config,
                               caller_hidden=call.caller_phone is None, route=route)
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


def _is_empty(sms: InboundSms) -> bool:
    """No media, and words that show nothing (spaces, a zero-width space, a byte-order mark):
    forwarding it would bill and wake the recipient for a blank text."""
    return not sms.media_urls and shows_nothing(sms.body)


def _help_with_media(decision: consent.InboundDecision, sms: InboundSms) -> bool:
    """A HELP (INFO, AIDE, AYUDA) with pictures: answered as HELP, and also forwarded where a
    text would be, pictures and words: "Help!" under a photo of a burst pipe is for the pro,
    and was answered with the help text and dropped. Same body and media, same decision, so a
    repeated webhook is answered the same."""
    return decision.outcome in (consent.HELP, consent.HELP_CARRIER) and bool(sms.media_urls)


def _route(db: Session, sender_phone: str | None, to_phone: str, now: dt.datetime
           ) -> Route | None:
    # A sender that is not a phone number (short code, alphanumeric id) is in no session.
    return find_route(db, sender_phone, to_phone, now) if sender_phone else None


def _sms_outcome(db: Session, sms: InboundSms, route: Route | None,
                 decision: consent.InboundDecision, now: dt.datetime
                 ) -> tuple[str, Forward | None]:
    if decision.consumed and not (_help_with_media(decision, sms) and route is not None
                                  and route.reaches_by_text):
        if decision.outcome == consent.OPT_OUT_REPEAT and _repeat_confirmed_lately(
                db, sms.sender_phone, sms.to_phone, now):
            return consent.OPT_OUT_REPEAT_UNTOLD, None
        return decision.outcome, None
    if route is None or not route.allows_sms:
        told = sms.sender_phone is None or (
            consent.may_send_notice(db, sms.sender_phone, now)
            and not _from_our_number(db, sms.sender_phone)
            and not _told_lately(db, sms.sender_phone, sms.to_phone,
                                 NO_SESSION if route is None else MODE_NOT_ALLOWED, now))
        if route is None:
            return (NO_SESSION if told else NO_SESSION_UNTOLD), None
        return (MODE_NOT_ALLOWED if told else MODE_NOT_ALLOWED_UNTOLD), None
    if _is_empty(sms):
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


# How long after telling a sender that a number's conversation has ended (or takes calls
# only) their further texts to it are stored untold: an auto-responder (a driving mode, an
# away message) answers every reply, and the two would otherwise text each other without end.
NOTICE_REPEAT_AFTER = dt.timedelta(hours=24)


def _told_lately(db: Session, sender: str, proxy_number: str, outcome: str,
                 now: dt.datetime) -> bool:
    """Whether the sender was told the same (`outcome`: no conversation, or one that takes
    calls only) from this number within NOTICE_REPEAT_AFTER: news is told at once, whether
    the session ended since they were told it takes calls only, or a later session of theirs
    on this number began (and, the text finding none open, ended) since they were told."""
    # Uses index: ix_messages_told_notice, partial on TOLD_NOTICE: it holds only the notices
    # told, at most one a day per sender, number and outcome (and one after each session of
    # theirs on it), so the lookup reads at most the rows it finds, however many texts the
    # sender sent before. Uses index: ix_participants_phone_proxy (phone, proxy_number,
    # ended_at): only the sessions open or ended since the notice
    return db.scalar(
        select(Message.created_at)
        .where(Message.from_phone == sender, Message.to_phone == proxy_number,
               Message.outcome == outcome, TOLD_NOTICE,
               Message.created_at >= now - NOTICE_REPEAT_AFTER)
        .where(~exists().where(Participant.phone == sender,
                               Participant.proxy_number == proxy_number,
                               Participant.created_at > Message.created_at,
                               # Implied (a session that began after the notice is open or
                               # ended after it), and what the index holds: without it the
                               # check read every session they ever had on the number.
                               or_(Participant.ended_at.is_(None),
                                   Participant.ended_at > Message.created_at)))
        .limit(1)
    ) is not None


def _repeat_confirmed_lately(db: Session, sender: str, proxy_number: str,
                             now: dt.datetime) -> bool:
    """Whether a repeated opt-out of the sender's was confirmed from this number within
    NOTICE_REPEAT_AFTER, of their current revocation (one after a START is news: its repeat
    is confirmed too). Decided under the opt-out's phone lock (consent.inbound_decision), so
    of two repeats at once one is confirmed."""
    since = consent.relay_state_since(db, sender)
    after = now - NOTICE_REPEAT_AFTER if since is None else max(now - NOTICE_REPEAT_AFTER, since)
    # Uses index: ix_messages_from_phone_id (the sender's texts)
    return db.scalar(
        select(Message.id)
        .where(Message.from_phone == sender, Message.to_phone == proxy_number,
               Message.outcome == consent.OPT_OUT_REPEAT, Message.created_at >= after)
        .limit(1)
    ) is not None


@contextlib.contextmanager
def _notice_lock(db: Session, sms: InboundSms, route: Route | None,
                 decision: consent.InboundDecision):
    """Hold the sender's notice lock for this proxy number (PostgreSQL) from _told_lately's
    read until the text is stored: two texts arriving together (a photo and its caption come
    as two) both read "not told" and were both told the conversation has ended. SQLite's
    BEGIN IMMEDIATE already serialises them."""
    may_tell = (sms.sender_phone is not None and not decision.consumed
                and (route is None or not route.allows_sms))
    if not may_tell or db.get_bind().dialect.name != "postgresql":
        yield
        return
    lock = named_lock(f"notice:{sms.sender_phone}:{sms.to_phone}")
    if is_transactional(db):
        db.execute(lock)
        yield
        return
    # An autocommit unit of work: a short transaction of its own around the read and the
    # insert, so the lock ends with it whatever happens (a session-level lock would outlive an
    # unlock that never ran, and behind a pooler in transaction mode lock and unlock could
    # reach two server connections).
    connection = db.connection()
    connection.exec_driver_sql("BEGIN")
    try:
        connection.execute(lock)
        yield
    except BaseException:
        # A connection the database dropped has no transaction left to end, and a ROLLBACK on
        # it would raise in place of the disconnect (a 500, not the webhook's run again).
        if not connection.invalidated:
            connection.exec_driver_sql("ROLLBACK")
        raise
    connection.exec_driver_sql("COMMIT")


def _from_our_number(db: Session, sender: str) -> bool:
    """A text from one of our own active numbers: never answered with a notice, or two of them
    would answer each other's "conversation has ended" without end. (A retired number has left
    the account and may be a person's phone now.)"""
    return bool(pool_service.pool_numbers_among(db, [sender], active_only=True))


def _sms_reply(outcome: str, sms: InboundSms, route: Route | None,
               decision: consent.InboundDecision, config: Config) -> str | None:
    """The answer to the sender, from the stored outcome: a repeated webhook is answered the
    same. A keyword's is in the language the decision found in the body (a repeat carries the
    same body); a notice of the platform's own only where the outcome says it was told."""
    if sms.sender_phone is None:
        return None  # a short code or sender id cannot be answered
    if phones.is_costly(sms.sender_phone):
        return None  # never texted, not even a reply: a reply to one is how toll fraud pays
    if outcome in (FORWARDED, WITHHELD) and _help_with_media(decision, sms):
        outcome = decision.outcome  # forwarded, and answered as the HELP it also is
    if outcome in (FORWARDED, WITHHELD, EMPTY, NO_SESSION_UNTOLD, MODE_NOT_ALLOWED_UNTOLD,
                   consent.OPT_OUT_REPEAT_UNTOLD):
        return None
    if outcome == NO_SESSION:
        return config.no_session_sms_reply
    # "Call this number (instead)": only where a call to them would be bridged.
    allows_voice = bool(route and route.reaches_by_call)
    if outcome == MODE_NOT_ALLOWED:  # a text to a voice-only session: the session is open
        if allows_voice:
            return config.voice_only_sms_reply
        # The other side takes no calls (voice revoked): "please call" would only reach
        # "cannot be connected". Told, as a blocked text is, that it was not delivered.
        outcome = consent.BLOCKED_NOTIFIED
    return consent.reply_for(outcome, config=config, allows_voice=allows_voice,
                             language=decision.language)


def _call_answer(outcome: str, forward_to: str | None, forward_from: str | None,
                 config: Config, *, caller_hidden: bool, route: Route | None
                 ) -> tuple[str | None, Bridge | None]:
    if outcome in (BRIDGED, BRIDGED_RECORDED) and forward_to and forward_from:
        record = outcome == BRIDGED_RECORDED
        bridge = Bridge(to=forward_to, caller_id=forward_from, record=record,
                        time_limit=config.call_time_limit_seconds)
        return (config.recording_notice if record else None), bridge
    if outcome in (consent.BLOCKED, WITHHELD):
        return CALL_NOT_CONNECTED, None
    if outcome == MODE_NOT_ALLOWED:  # a call to a texts-only session: the session is open
        # "Please text instead" only where a text would be relayed: not to someone who texted
        # STOP (their text would be "could not be delivered").
        if route is not None and route.reaches_by_text:
            return config.sms_only_voice_message, None
        return CALL_NOT_CONNECTED, None
    if outcome == NO_SESSION and caller_hidden:
        return HIDDEN_CALLER, None
    return config.no_session_voice_message, None


def _claimed(db: Session, model, sid: str):
    """The row another request claimed for this SID (committed: READ COMMITTED waited for it),
    or None when erasure or retention has removed it since."""
    # Uses index: uq_messages_twilio_sid / uq_calls_twilio_sid
    return db.scalars(select(model).where(model.twilio_sid == sid)).one_or_none()


def _still_reaches(db: Session, to: str, route: Route | None, *, channel: str,
                   stored_at: dt.datetime, config: Config) -> bool:
    """Whether a repeated webhook forwards its stored text (or bridges its call) to `to` again.

    Twilio repeats a webhook only when it did not get the first answer, so the message or
    <Dial> that answer carries goes out now, for the first time: never to someone who has
    revoked that channel (STOP), or been erased, since. A closed or expired session's text or
    call still goes: it came while the session was open.
    """
    takes = route and (route.other_takes_sms if channel == "sms" else route.other_takes_calls)
    return bool(takes and route.other_phone == to) and not erased_since(db, to, stored_at, config)


def _stored_forward(message: Message, repeat: InboundSms) -> Forward | None:
    """The stored text's forward, for a repeat of its webhook. A body or media list this
    process cannot read (it lacks the key they were stored under) is taken from the repeat
    itself: Twilio signed it and sends a message's own text again, and a placeholder must
    never be texted to the recipient."""
    if message.outcome != FORWARDED or not (message.forward_to and message.forward_from):
        return None
    body = repeat.body if message.body is UNAVAILABLE else message.body or ""
    media = ()
    if message.media_urls is UNAVAILABLE:
        media = repeat.media_urls
    elif message.media_urls:
        media = tuple(json.loads(message.media_urls))
    return Forward(message.forward_to, message.forward_from, body, media)
