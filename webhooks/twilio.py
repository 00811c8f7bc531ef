"""The Twilio edge: signature -> form -> one relay call -> commit -> TwiML, one log line each.

Every route is behind the signature guard (403 before any database work). One transaction per
webhook: a malformed form (400) or a failure before the commit stores nothing; a database
outage is a 503 (errors.py); a copy Twilio sends again (a retry its connection overrides ask
for, or a timeout it retried) is safe, the SID claim sees to it. For the same reason a
webhook that meets a pooled connection the database dropped (pg_terminate_backend, a
PgBouncer restart, a failover) runs once more on a fresh one: Twilio does not retry a 503, so
the text, call or status would be lost though the database serves.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from flask import Blueprint, Response, request

from commsvc.db.failures import again_on_a_dropped_connection
from commsvc.db.session import close_db, get_db
from commsvc.extensions import config as _config
from commsvc.extensions import now as _now
from commsvc.phones import mask
from commsvc.relay import callbacks, recordings, service, statuses
from commsvc.sending import service as sending
from webhooks import forms, twiml
from webhooks.signature import require_twilio_signature

log = logging.getLogger("commsvc.webhooks")

bp = Blueprint("twilio_webhooks", __name__, url_prefix=twiml.PREFIX)
bp.before_request(require_twilio_signature)


def _again_on_a_dropped_connection(view: Callable[[], Response]) -> Callable[[], Response]:
    """Run the webhook once more when its connection turned out dead (the database closed it;
    SQLAlchemy then discards the pool's older connections, so the second run gets a new one).
    Safe: whatever the first run committed before the drop is found by the SID claim, and the
    answer is rebuilt from it as for any repeat. A database that is really down fails the
    second run too: 503, as before."""

    @functools.wraps(view)
    def run() -> Response:
        return again_on_a_dropped_connection(view, what=f"twilio webhook path={request.path}",
                                             before_again=close_db)

    return run

# message-status serves every message whose statusCallback we set; the query parameter names
# the kind of record: m=<messages.id> (relayed texts), r=<messages.id> (the reply a text was
# answered with), o=<outbound id> (the send gate). Each
# kind has a parser for its id (None: not ours) and a handler
# handler(db, record_id, change: statuses.MessageStatus, now) -> bool (False: no such record).
def _relayed_message(db, record_id: int, change: statuses.MessageStatus, now) -> bool:
    return callbacks.message_status(db, message_id=record_id,
                                    inbound_sid=forms.record_sid(request.args), change=change,
                                    now=now)


def _reply_to_message(db, record_id: int, change: statuses.MessageStatus, now) -> bool:
    return callbacks.reply_status(db, message_id=record_id,
                                  inbound_sid=forms.record_sid(request.args), change=change,
                                  now=now)


MESSAGE_STATUS_TARGETS: dict[str, tuple[Callable, Callable]] = {
    "m": (forms.record_id, _relayed_message),
    "r": (forms.record_id, _reply_to_message),
    "o": (forms.outbound_id, sending.on_status_callback),
}


def _inbound(parse, receive, writes_one_row):
    """Parse the form, let the relay decide and record, commit.

    One transaction, unless the relay writes a single row with a single statement: then no
    transaction at all (the claiming INSERT commits on its own), which on PostgreSQL saves the
    BEGIN and COMMIT round trips of every ordinary relayed text and call.
    """
    config = _config()
    inbound = parse(request.form, config.default_region)
    db = get_db(autocommit=writes_one_row(inbound))
    result = receive(db, inbound, config=config, now=_now())
    db.commit()
    return config, inbound, result


@bp.post("/sms")
@_again_on_a_dropped_connection
def sms() -> Response:
    config, inbound, result = _inbound(forms.inbound_sms, service.receive_sms,
                                       service.sms_writes_one_row)
    log.info(
        "twilio sms outcome=%s from=%s to=%s sid=%s message_id=%s session=%s media=%d"
        " duplicate=%s",
        result.outcome, mask(inbound.sender), mask(inbound.to_phone), inbound.message_sid,
        result.message_id, result.session_id, len(inbound.media_urls), result.duplicate,
    )
    return twiml.sms_answer(result, config, inbound.message_sid)


@bp.post("/voice")
@_again_on_a_dropped_connection
def voice() -> Response:
    config, inbound, result = _inbound(forms.inbound_call, service.receive_call,
                                       service.call_writes_one_row)
    log.info(
        "twilio voice outcome=%s from=%s to=%s sid=%s call_id=%s session=%s duplicate=%s",
        result.outcome, mask(inbound.caller), mask(inbound.to_phone), inbound.call_sid,
        result.call_id, result.session_id, result.duplicate,
    )
    return twiml.call_answer(result, config, inbound.call_sid)


@bp.post("/recording-notice")
def recording_notice() -> Response:
    """The <Number url> of a recorded bridge: the notice, spoken to the called party. Nothing is
    read from the database or stored; the form is the dialled leg's (its own CallSid)."""
    log.info("twilio recording-notice sid=%s call_id=%s parent=%s",
             forms.record_sid(request.form, "CallSid"), forms.record_id(request.args, "c"),
             forms.record_sid(request.args))
    return twiml.recording_notice(_config())


@bp.post("/message-status")
@_again_on_a_dropped_connection
def message_status() -> Response:
    change = forms.message_status(request.form)
    kind = next((key for key in MESSAGE_STATUS_TARGETS if key in request.args), None)
    parse, handle = MESSAGE_STATUS_TARGETS[kind] if kind else (None, None)
    record_id = parse(request.args, kind) if kind else None
    found = False
    if record_id is not None:
        db = get_db()  # a SID another text is being given meanwhile: record_sid sees to it
        found = handle(db, record_id, change, _now())
        db.commit()
    _log_callback(
        found, "twilio message-status status=%s sid=%s error=%s record=%s found=%s",
        change.status, change.message_sid, change.error_code,
        f"{kind}={record_id}" if kind else "-", found,
    )
    return twiml.empty_messaging()


def _log_callback(found: bool, message: str, *args) -> None:
    # A callback for a record we do not have is answered 200 anyway; the warning is the trace.
    log.log(logging.INFO if found else logging.WARNING, message, *args)


def _call_callback(name: str, apply, progress, details: str, answer: Response | None = None,
                   **extra) -> Response:
    """Apply a call or recording callback to the call named by ?c= (else by CallSid); answer
    `answer`, else an empty <Response/>."""
    call_id = forms.record_id(request.args, "c")
    db = get_db()
    found = apply(db, call_id=call_id, call_sid=forms.record_sid(request.args),
                  progress=progress, now=_now(), **extra)
    db.commit()
    _log_callback(found, "twilio %s %s sid=%s call_id=%s found=%s",
                  name, details, progress.call_sid, call_id, found)
    return answer if answer is not None else twiml.empty_voice()


@bp.post("/call-status")
@_again_on_a_dropped_connection
def call_status() -> Response:
    progress = forms.call_progress(request.form)
    duration = progress.dial_duration if progress.dial_duration is not None else progress.duration
    recording = forms.dial_recording(request.form)
    details = (f"status={progress.status} dial_status={progress.dial_status} duration={duration}"
               f" recording={recording.recording_sid if recording else None}")
    # From the form alone, so a repeated Dial action gets the same TwiML.
    answer = (twiml.say_and_hang_up(_config().unavailable_voice_message)
              if statuses.callee_unavailable(progress) else None)
    return _call_callback("call-status", callbacks.call_status, progress, details,
                          answer=answer, recording=recording)


@bp.post("/recording-status")
@_again_on_a_dropped_connection
def recording_status() -> Response:
    progress = forms.recording_progress(request.form)
    details = (f"status={progress.status} duration={progress.duration}"
               f" recording={progress.recording_sid}")
    return _call_callback("recording-status", recordings.recording_status, progress, details)
