"""Delivery status callbacks (`?o=<outbound id>`): only forward, unknown ids ignored."""
from __future__ import annotations

from sqlalchemy import select

from commsvc.consent import decisions as consent_decisions
from commsvc.consent import service as consent
from commsvc.consent.models import ConsentEvent
from commsvc.relay.statuses import MessageStatus
from commsvc.sending.models import OutboundMessage
from commsvc.sending.service import apply_outbound_status, on_status_callback
from commsvc.sending.worker import run_once
from tests.sending.conftest import NEW_YORK


def _status(db, message_id):
    db.expire_all()
    return db.get(OutboundMessage, message_id).status


def test_statuses_only_move_forward(app, send, db, clock):
    message_id = send().json["id"]
    run_once(app)
    apply_outbound_status(db, message_id, "sent", None, clock())
    assert _status(db, message_id) == "simulated"  # simulated ranks with sent
    assert apply_outbound_status(db, message_id, "delivered", None, clock()) is True
    db.commit()
    assert _status(db, message_id) == "delivered"
    for late in ("queued", "sending", "sent", "undelivered", "failed"):
        assert apply_outbound_status(db, message_id, late, "30003", clock()) is True  # known
        db.commit()
        assert _status(db, message_id) == "delivered"


def test_undelivered_records_the_error_code(app, send, db, clock):
    message_id = send().json["id"]
    run_once(app)
    assert apply_outbound_status(db, message_id, "undelivered", "30003", clock())
    db.commit()
    row = db.get(OutboundMessage, message_id)
    assert (row.status, row.error_code) == ("undelivered", 30003)


def test_unknown_ids_and_statuses_are_ignored(send, db, clock):
    message_id = send().json["id"]
    assert apply_outbound_status(db, "msg_unknown", "delivered", None, clock()) is False
    assert apply_outbound_status(db, "x" * 500, "delivered", None, clock()) is False
    assert apply_outbound_status(db, message_id, "teleported", None, clock()) is True
    assert _status(db, message_id) == "queued"


def test_the_webhook_handler_passes_status_error_and_sid(app, send, db, clock):
    message_id = send().json["id"]
    change = MessageStatus(message_sid="SM" + "e" * 32, status="undelivered", error_code=30006)
    assert on_status_callback(db, message_id, change, clock()) is True
    db.commit()
    db.expire_all()
    row = db.get(OutboundMessage, message_id)
    assert (row.status, row.error_code, row.twilio_sid) == (
        "undelivered", 30006, change.message_sid)
    assert on_status_callback(db, "msg_unknown", change, clock()) is False


def test_a_callback_that_beats_the_worker_is_kept_and_the_sid_still_recorded(
        app, send, db, clock):
    message_id = send().json["id"]

    class CallbackFirst:
        simulated = False

        def send_message(self, **kwargs):
            with app.extensions["db"].sessionmaker() as other:
                apply_outbound_status(other, message_id, "delivered", None, clock())
                other.commit()
            from commsvc.twilio_gateway import SendResult

            return SendResult(sid="SM" + "c" * 32, status="queued")

    run_once(app, CallbackFirst())
    db.expire_all()
    row = db.get(OutboundMessage, message_id)
    assert (row.status, row.twilio_sid) == ("delivered", "SM" + "c" * 32)
    assert run_once(app).claimed == 0


def test_a_failure_callback_that_beats_the_worker_keeps_twilios_error_code(
        app, send, db, clock):
    """Found by an audit: Twilio's `undelivered` with its ErrorCode, applied while the worker
    still waited for the answer to its send, kept its status but lost its error code (the
    worker's record of the send cleared it), so the API said undelivered and not why."""
    message_id = send().json["id"]

    class FailureCallbackFirst:
        simulated = False

        def send_message(self, **kwargs):
            with app.extensions["db"].sessionmaker() as other:
                apply_outbound_status(other, message_id, "undelivered", "30003", clock(),
                                      twilio_sid="SM" + "f" * 32)
                other.commit()
            from commsvc.twilio_gateway import SendResult

            return SendResult(sid="SM" + "f" * 32, status="queued")

    run_once(app, FailureCallbackFirst())
    db.expire_all()
    row = db.get(OutboundMessage, message_id)
    assert (row.status, row.error_code, row.twilio_sid) == ("undelivered", 30003, "SM" + "f" * 32)


def test_a_callback_for_a_row_waiting_to_retry_takes_it_out_of_the_queue(send, db, clock, app):
    message_id = send().json["id"]
    assert apply_outbound_status(db, message_id, "sent", None, clock(), twilio_sid="SM" + "d" * 32)
    db.commit()
    assert _status(db, message_id) == "sent"
    assert run_once(app).claimed == 0


def test_a_21610_callback_records_a_carrier_opt_out(app, send, db, clock):
    message_id = send().json["id"]
    run_once(app)
    assert apply_outbound_status(db, message_id, "failed", "21610", clock())
    db.commit()
    sources = set(db.scalars(select(ConsentEvent.source).where(ConsentEvent.phone == NEW_YORK)))
    assert sources == {"twilio_21610"}


def test_a_21610_callback_older_than_the_recipients_start_keeps_their_grant(app, send, db,
                                                                           clock):
    """Twilio's refusal of a text sent before the recipient texted START arrives after it."""
    message_id = send().json["id"]
    run_once(app)
    clock.advance(minutes=1)
    consent.record_event(db, phone=NEW_YORK, channel="sms", purpose="all", action="grant",
                         source="sms_keyword", evidence={"keyword": "START"}, now=clock())
    db.commit()
    clock.advance(minutes=1)
    assert apply_outbound_status(db, message_id, "failed", "21610", clock())
    db.commit()

    sources = set(db.scalars(select(ConsentEvent.source).where(ConsentEvent.phone == NEW_YORK)))
    assert sources == {"sms_keyword"}
    assert consent_decisions.check(db, phone=NEW_YORK, channel="sms", purpose="transactional",
                         now=clock()).allowed


def test_the_signed_message_status_webhook_moves_a_platform_text_to_delivered(
        app, send, db, twilio_post):
    message_id = send().json["id"]
    run_once(app)
    sid = db.get(OutboundMessage, message_id).twilio_sid  # the callback names the text's copy
    response = twilio_post(f"/webhooks/twilio/message-status?o={message_id}",
                           {"MessageSid": sid, "MessageStatus": "delivered"})
    assert response.status_code == 200
    assert _status(db, message_id) == "delivered"
