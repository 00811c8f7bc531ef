"""Status callbacks: delivery of relayed texts, call progress and recordings update the records."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from commsvc.consent.decisions import check
from commsvc.consent.models import ConsentEvent
from commsvc.records.models import RemoteDeletion
from commsvc.relay.statuses import DIAL_STATUS
from tests.webhooks import factories as f
from tests.webhooks.factories import PRO, REQUESTER, REQUESTER_PROXY, STRANGER, twiml


@pytest.fixture
def bridged(db, clock, place_call):
    f.open_session(db, clock(), record_calls=True)
    twiml(place_call(REQUESTER, REQUESTER_PROXY))
    return f.calls(db)[0]


def _message_status(twilio_post, message_id, status, sid="SM" + "f" * 32, **extra):
    return twilio_post(f"/webhooks/twilio/message-status?m={message_id}",
                       f.message_status_form(sid, status, **extra))


def test_delivery_status_updates_the_relayed_message(relayed, twilio_post, db):
    response = _message_status(twilio_post, relayed.id, "delivered")

    assert twiml(response) is not None
    stored = f.messages(db)[0]
    assert (stored.status, stored.forward_sid) == ("delivered", "SM" + "f" * 32)


def test_statuses_only_move_forward(relayed, twilio_post, db):
    for status in ("queued", "delivered", "sent", "queued"):
        _message_status(twilio_post, relayed.id, status)

    assert f.messages(db)[0].status == "delivered"


def test_failure_stores_the_error_code_and_the_log_shows_it(relayed, twilio_post, db, client,
                                                            api_key):
    _message_status(twilio_post, relayed.id, "sent")
    _message_status(twilio_post, relayed.id, "undelivered", ErrorCode="30003")
    _message_status(twilio_post, relayed.id, "undelivered", ErrorCode="30003")

    stored = f.messages(db)[0]
    assert (stored.status, stored.error_code) == ("undelivered", 30003)
    [row] = client.get("/v1/logs/messages", headers=api_key("ops")).json["data"]
    assert (row["status"], row["error_code"]) == ("undelivered", 30003)


def test_status_for_an_unknown_record_is_accepted_and_logged(
        relayed, twilio_post, db, webhook_logs):
    response = _message_status(twilio_post, relayed.id + 1000, "delivered")

    assert response.status_code == 200
    assert f.messages(db)[0].status == "received"
    assert any("found=False" in r.getMessage() and r.levelname == "WARNING"
               for r in webhook_logs.records)


@pytest.mark.parametrize("status", ["receiving", "expired"])
def test_a_status_commsvc_does_not_know_is_logged_as_such_not_as_a_text_not_found(
        relayed, twilio_post, db, webhook_logs, status):
    """Twilio's "receiving" (an inbound MMS still arriving) or a status it adds one day: the
    text is found, its SID kept, its status left as it was, and a warning says the status
    is unknown, where the callback's line said only found=True, at INFO."""
    response = _message_status(twilio_post, relayed.id, status)

    assert list(twiml(response)) == []
    stored = f.messages(db)[0]
    assert (stored.status, stored.forward_sid) == ("received", "SM" + "f" * 32)
    [warning] = [r.getMessage() for r in webhook_logs.records if r.levelname == "WARNING"]
    assert f"status={status} " in warning and "unknown" in warning
    assert any("found=True" in r.getMessage() for r in webhook_logs.records)


def test_status_without_a_record_parameter_is_accepted_and_changes_nothing(
        relayed, twilio_post, db):
    response = twilio_post("/webhooks/twilio/message-status",
                           {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"})

    assert response.status_code == 200
    assert f.messages(db)[0].status == "received"


def test_dial_action_stores_the_bridged_duration_and_answers_an_empty_response(
        bridged, twilio_post, db):
    response = twilio_post(f"/webhooks/twilio/call-status?c={bridged.id}", {
        "CallSid": bridged.twilio_sid, "CallStatus": "in-progress",
        "DialCallStatus": "completed", "DialCallDuration": "42", "DialCallSid": f.sid("CA"),
    })

    assert list(twiml(response)) == []
    stored = f.calls(db)[0]
    assert (stored.status, stored.duration_seconds) == ("completed", 42)


def test_the_dialled_leg_is_deleted_at_twilio_with_the_call_when_its_callee_is_erased(
        bridged, twilio_post, client, api_key, db):
    """Found by a review: only the inbound leg was deleted at Twilio, and the callee's number
    is in the leg <Dial> placed (DialCallSid), which was never stored."""
    dialled, inbound = f.sid("CA"), bridged.twilio_sid
    twilio_post(f"/webhooks/twilio/call-status?c={bridged.id}&s={inbound}", {
        "CallSid": inbound, "CallStatus": "in-progress",
        "DialCallStatus": "completed", "DialCallDuration": "42", "DialCallSid": dialled})
    assert f.calls(db)[0].dial_sid == dialled

    _erase(client, api_key, PRO)  # the callee

    assert f.calls(db) == []
    assert {("call", inbound, "erasure"), ("call", dialled, "erasure")} <= _queued_deletions(db)


def test_a_dial_action_for_an_erased_call_queues_its_dialled_leg_for_deletion(
        bridged, twilio_post, client, api_key, db):
    call_id, inbound, dialled = bridged.id, bridged.twilio_sid, f.sid("CA")
    _erase(client, api_key, REQUESTER)

    response = twilio_post(
        f"/webhooks/twilio/call-status?c={call_id}&s={inbound}", {
            "CallSid": inbound, "CallStatus": "in-progress",
            "DialCallStatus": "completed", "DialCallDuration": "42", "DialCallSid": dialled})

    assert list(twiml(response)) == []
    assert ("call", dialled, "orphan_callback") in _queued_deletions(db)


def test_unanswered_dial_keeps_no_answer_when_the_call_then_completes(
        bridged, twilio_post, db):
    twilio_post(f"/webhooks/twilio/call-status?c={bridged.id}", {
        "CallSid": bridged.twilio_sid, "CallStatus": "in-progress",
        "DialCallStatus": "no-answer", "DialCallDuration": "0"})
    twilio_post("/webhooks/twilio/call-status", {
        "CallSid": bridged.twilio_sid, "CallStatus": "completed", "CallDuration": "31"})

    stored = f.calls(db)[0]
    assert (stored.status, stored.duration_seconds) == ("no-answer", 0)


def test_numbers_own_status_callback_finds_the_call_by_its_sid(
        session_open, place_call, twilio_post, db):
    twiml(place_call(STRANGER, REQUESTER_PROXY))
    call = f.calls(db)[0]

    twilio_post("/webhooks/twilio/call-status", {
        "CallSid": call.twilio_sid, "CallStatus": "completed", "CallDuration": "7"})

    stored = f.calls(db)[0]
    assert (stored.status, stored.duration_seconds) == ("completed", 7)


def test_recording_callback_stores_sid_and_duration_never_the_url(bridged, twilio_post, db):
    response = twilio_post(f"/webhooks/twilio/recording-status?c={bridged.id}", {
        "CallSid": bridged.twilio_sid, "RecordingSid": "RE" + "a" * 32,
        "RecordingStatus": "completed", "RecordingDuration": "40",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        "RecordingChannels": "2", "RecordingSource": "DialVerb",
    })

    assert response.status_code == 200
    stored = f.calls(db)[0]
    assert (stored.recording_sid, stored.recording_duration, stored.recording_status) == (
        "RE" + "a" * 32, 40, "completed")
    row = {c.name: getattr(stored, c.key) for c in stored.__table__.columns}
    assert not any("api.twilio.com" in str(value) for value in row.values())


def test_unknown_call_callback_is_accepted(session_open, twilio_post):
    response = twilio_post("/webhooks/twilio/call-status?c=999999",
                           {"CallSid": f.sid("CA"), "CallStatus": "completed"})

    assert response.status_code == 200


def _erase(client, api_key, phone: str):
    response = client.post(f"/v1/subjects/{phone}/erase",
                           headers=api_key("privacy") | {"X-Access-Reason": "subject request"})
    assert response.status_code == 200, response.json


def _queued_deletions(db) -> set[tuple[str, str, str]]:
    return {(row.resource, row.sid, row.cause) for row in db.scalars(select(RemoteDeletion))}


def test_a_late_status_for_an_erased_message_never_lands_on_the_next_one(
        relayed, send_sms, twilio_post, client, api_key, db, clock):
    """SQLite gives a deleted highest id again: the callback URL's ?s= tells the two apart."""
    callback = f"/webhooks/twilio/message-status?m={relayed.id}&s={relayed.twilio_sid}"
    _erase(client, api_key, REQUESTER)
    f.open_session(db, clock(), booking_id="bk_2", requester=STRANGER,
                   requester_proxy="+16465550003", pro_proxy="+16465550004")
    assert send_sms(STRANGER, "+16465550003", "new conversation").status_code == 200
    [newer] = f.messages(db)

    forwarded_copy = "SM" + "e" * 32
    response = twilio_post(callback, {"MessageSid": forwarded_copy, "MessageStatus": "failed",
                                      "ErrorCode": "30008"})

    assert response.status_code == 200
    [after] = f.messages(db)
    assert (after.id, after.status, after.error_code, after.forward_sid) == (
        newer.id, "received", None, None)
    # What Twilio still holds of the erased text goes, as the erasure would have done.
    assert ("message", forwarded_copy, "orphan_callback") in _queued_deletions(db)


def test_a_status_naming_another_forwarded_copy_changes_nothing(relayed, twilio_post, db):
    url = f"/webhooks/twilio/message-status?m={relayed.id}&s={relayed.twilio_sid}"
    twilio_post(url, {"MessageSid": "SM" + "a" * 32, "MessageStatus": "sent"})
    twilio_post(url, {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered"})

    stored = f.messages(db)[0]
    assert (stored.status, stored.forward_sid) == ("sent", "SM" + "a" * 32)


def test_a_recording_made_after_its_call_was_erased_is_queued_for_deletion_at_twilio(
        bridged, twilio_post, client, api_key, db):
    _erase(client, api_key, REQUESTER)
    recording = "RE" + "f" * 32

    response = twilio_post(
        f"/webhooks/twilio/recording-status?c={bridged.id}&s={bridged.twilio_sid}", {
            "CallSid": bridged.twilio_sid, "RecordingSid": recording,
            "RecordingStatus": "completed", "RecordingDuration": "44"})

    assert response.status_code == 200
    assert f.calls(db) == []
    assert ("recording", recording, "orphan_callback") in _queued_deletions(db)


def test_a_recording_callback_for_a_call_still_held_queues_no_deletion(bridged, twilio_post,
                                                                       db):
    twilio_post(f"/webhooks/twilio/recording-status?c={bridged.id}&s={bridged.twilio_sid}", {
        "CallSid": bridged.twilio_sid, "RecordingSid": "RE" + "a" * 32,
        "RecordingStatus": "completed", "RecordingDuration": "40"})

    assert f.calls(db)[0].recording_sid == "RE" + "a" * 32
    assert _queued_deletions(db) == set()


def test_an_absent_recording_is_not_shown_as_one(bridged, twilio_post, db):
    """Twilio posts `absent` when the call produced no audio: there is nothing to keep,
    list or delete later."""
    twilio_post(f"/webhooks/twilio/recording-status?c={bridged.id}&s={bridged.twilio_sid}", {
        "CallSid": bridged.twilio_sid, "RecordingSid": "RE" + "5" * 32,
        "RecordingStatus": "absent", "RecordingDuration": "0"})

    stored = f.calls(db)[0]
    assert (stored.recording_sid, stored.recording_status, stored.recording_duration) == (
        None, "absent", None)


def test_a_carrier_opt_out_on_a_relayed_text_revokes_the_recipients_texts_once(
        relayed, twilio_post, db, clock):
    """21610: the pro replied STOP at the carrier; Twilio will refuse every text to them."""
    url = f"/webhooks/twilio/message-status?m={relayed.id}&s={relayed.twilio_sid}"
    form = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "failed", "ErrorCode": "21610",
            "ErrorMessage": "Attempt to send to unsubscribed recipient"}
    for _ in range(2):
        assert twilio_post(url, form).status_code == 200

    assert not check(db, phone=PRO, channel="sms", purpose="relay", now=clock()).allowed
    [event] = db.scalars(select(ConsentEvent).where(ConsentEvent.phone == PRO)).all()
    assert (event.source, event.channel, event.purpose, event.action) == (
        "twilio_21610", "sms", "all", "revoke")
    assert event.evidence["twilio_sid"] == "SM" + "c" * 32
    assert check(db, phone=REQUESTER, channel="sms", purpose="relay", now=clock()).allowed


def _start_then_the_refusal_of(relayed, send_sms, twilio_post, clock) -> None:
    """The pro texts START, then Twilio's callback says the relayed text failed with 21610."""
    clock.advance(minutes=1)
    assert send_sms(PRO, f.PRO_PROXY, "START").status_code == 200
    clock.advance(minutes=1)
    form = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "undelivered", "ErrorCode": "21610"}
    assert twilio_post(f"/webhooks/twilio/message-status?m={relayed.id}&s={relayed.twilio_sid}",
                       form).status_code == 200


def _texts_of_the_pro_allowed(db, clock) -> set[str]:
    return {purpose for purpose in ("relay", "transactional", "marketing")
            if check(db, phone=PRO, channel="sms", purpose=purpose, now=clock()).allowed}


def test_a_carrier_opt_out_reported_after_the_recipients_start_keeps_their_grant(
        relayed, send_sms, twilio_post, db, clock):
    """The forwarded text failed with 21610, the pro texted START, and only then did Twilio's
    callback arrive: the refusal is older than the grant, which stands."""
    _start_then_the_refusal_of(relayed, send_sms, twilio_post, clock)

    assert _texts_of_the_pro_allowed(db, clock) == {"relay", "transactional"}
    assert f.messages(db)[0].error_code == 21610


def test_a_carrier_opt_out_reported_after_a_start_that_repeated_an_earlier_one_keeps_it(
        session_open, send_sms, twilio_post, db, clock):
    """Found by an audit: the pro had texted START once before; a text to them failed with
    21610 (they had opted out at the carrier through a number whose STOP never reached us),
    they texted START again, and only then did the callback arrive. Their state had been
    granted since the first START (a repeat keeps `since`), older than the refused text, so
    the refusal revoked over the START that answered it."""
    assert send_sms(PRO, f.PRO_PROXY, "START").status_code == 200
    clock.advance(minutes=1)
    assert send_sms(REQUESTER, REQUESTER_PROXY, "hello").status_code == 200
    _start_then_the_refusal_of(f.messages(db)[-1], send_sms, twilio_post, clock)

    assert _texts_of_the_pro_allowed(db, clock) == {"relay", "transactional"}


def test_a_carrier_opt_out_of_a_text_sent_after_a_grant_revokes(
        session_open, send_sms, twilio_post, db, clock):
    assert send_sms(PRO, f.PRO_PROXY, "START").status_code == 200
    clock.advance(minutes=1)
    assert send_sms(REQUESTER, REQUESTER_PROXY, "hello").status_code == 200
    relayed = f.messages(db)[-1]
    form = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "failed", "ErrorCode": "21610"}
    assert twilio_post(f"/webhooks/twilio/message-status?m={relayed.id}&s={relayed.twilio_sid}",
                       form).status_code == 200

    assert not check(db, phone=PRO, channel="sms", purpose="relay", now=clock()).allowed


def test_partially_delivered_is_a_status_twilio_sends_and_is_stored(relayed, twilio_post, db):
    """Twilio reports an MMS some of whose parts arrived as partially_delivered: a 400 there
    would be an error in Twilio's debugger for every such message."""
    response = _message_status(twilio_post, relayed.id, "partially_delivered")

    assert response.status_code == 200
    assert f.messages(db)[0].status == "partially_delivered"


def test_a_failed_text_stays_failed_when_a_read_receipt_follows(relayed, twilio_post, db):
    _message_status(twilio_post, relayed.id, "failed", ErrorCode="30008")
    _message_status(twilio_post, relayed.id, "read")

    assert f.messages(db)[0].status == "failed"


def test_a_delivered_text_still_becomes_read(relayed, twilio_post, db):
    _message_status(twilio_post, relayed.id, "delivered")
    _message_status(twilio_post, relayed.id, "read")

    assert f.messages(db)[0].status == "read"


def test_unanswered_dial_wins_over_the_inbound_leg_completed_first(bridged, twilio_post, db):
    """The caller hung up while it rang: the number's own callback (inbound leg completed,
    47 s) may arrive before the Dial action (no-answer); the record says nobody answered."""
    twilio_post("/webhooks/twilio/call-status", {
        "CallSid": bridged.twilio_sid, "CallStatus": "completed", "CallDuration": "47"})
    twilio_post(f"/webhooks/twilio/call-status?c={bridged.id}&s={bridged.twilio_sid}", {
        "CallSid": bridged.twilio_sid, "CallStatus": "completed",
        "DialCallStatus": "no-answer", "DialCallDuration": "0"})

    stored = f.calls(db)[0]
    assert (stored.status, stored.duration_seconds) == ("no-answer", 0)


def _recording(twilio_post, call, recording_sid, status, duration=None):
    form = {"CallSid": call.twilio_sid, "RecordingSid": recording_sid, "RecordingStatus": status}
    if duration is not None:
        form["RecordingDuration"] = str(duration)
    return twilio_post(
        f"/webhooks/twilio/recording-status?c={call.id}&s={call.twilio_sid}", form)


def test_a_second_recording_of_a_call_never_mixes_with_the_first(bridged, twilio_post, db):
    first, second = "RE" + "a" * 32, "RE" + "b" * 32
    _recording(twilio_post, bridged, first, "completed", 30)
    response = _recording(twilio_post, bridged, second, "completed", 15)

    assert response.status_code == 200
    stored = f.calls(db)[0]
    assert (stored.recording_sid, stored.recording_duration, stored.recording_status) == (
        first, 30, "completed")
    # Retention and erasure delete the stored one; the other is deleted at Twilio now.
    assert _queued_deletions(db) == {("recording", second, "extra_recording")}


@pytest.mark.parametrize("record_calls", [False, None], ids=["not-recorded", "no-session"])
def test_a_recording_of_a_call_commsvc_did_not_record_is_deleted_at_twilio_not_kept(
        db, clock, place_call, twilio_post, record_calls):
    """Found by an audit: a recording of a call bridged without recording (an account-wide
    setting at Twilio) or of a stranger's call was stored as the call's, kept to retention."""
    if record_calls is not None:
        f.open_session(db, clock(), record_calls=record_calls)
    twiml(place_call(REQUESTER if record_calls is not None else STRANGER, REQUESTER_PROXY))
    call = f.calls(db)[0]

    response = _recording(twilio_post, call, "RE" + "c" * 32, "completed", 12)

    assert response.status_code == 200
    stored = f.calls(db)[0]
    assert (stored.recording_sid, stored.recording_duration) == (None, None)
    assert _queued_deletions(db) == {("recording", "RE" + "c" * 32, "unrequested")}


def test_an_absent_report_after_completed_leaves_no_recording_behind(bridged, twilio_post, db):
    recording = "RE" + "a" * 32
    _recording(twilio_post, bridged, recording, "completed", 30)
    _recording(twilio_post, bridged, recording, "absent", 0)

    stored = f.calls(db)[0]
    assert (stored.recording_sid, stored.recording_duration, stored.recording_status) == (
        None, None, "absent")
    # Its SID forgotten here, the recording reported complete is deleted at Twilio now:
    # erasure and retention could no longer find it.
    assert _queued_deletions(db) == {("recording", recording, "orphan_callback")}


def test_the_call_log_shows_a_failed_recording_as_failed(bridged, twilio_post, client,
                                                         api_key):
    _recording(twilio_post, bridged, "RE" + "a" * 32, "failed")

    response = client.get("/v1/logs/calls",
                          headers=api_key("privacy") | {"X-Access-Reason": "ticket 7"})

    assert response.json["data"][0]["recording"] == {
        "sid": "RE" + "a" * 32, "duration": None, "status": "failed"}


def test_a_recording_callback_after_retention_removed_it_puts_nothing_back(
        bridged, twilio_post, db, clock):
    """A Twilio retry of 'completed' after the recording was removed would bring data past its
    retention back; it is deleted at Twilio (again) instead."""
    recording = "RE" + "a" * 32
    _recording(twilio_post, bridged, recording, "completed", 38)
    stored = f.calls(db)[0]
    stored.recording_sid, stored.recording_duration = None, None
    stored.recording_removed_at = clock()  # as the retention pass leaves it
    db.commit()

    response = _recording(twilio_post, bridged, recording, "completed", 38)

    assert response.status_code == 200
    db.expunge_all()
    again = f.calls(db)[0]
    assert (again.recording_sid, again.recording_duration) == (None, None)
    assert ("recording", recording, "orphan_callback") in _queued_deletions(db)


def test_a_failed_recording_keeps_no_duration_from_a_later_callback(bridged, twilio_post, db):
    recording = "RE" + "a" * 32
    _recording(twilio_post, bridged, recording, "failed")
    _recording(twilio_post, bridged, recording, "completed", 30)

    stored = f.calls(db)[0]
    assert (stored.recording_status, stored.recording_duration) == ("failed", None)


@pytest.mark.parametrize("status", ["weird", ""])
def test_a_callback_with_an_unknown_or_no_status_never_gives_a_recording_a_duration(
        bridged, twilio_post, db, status):
    """Found by an audit: only a known status moved the duration's guard."""
    recording = "RE" + "a" * 32
    _recording(twilio_post, bridged, recording, "failed")
    _recording(twilio_post, bridged, recording, status, 3)

    stored = f.calls(db)[0]
    assert (stored.recording_status, stored.recording_duration) == ("failed", None)


def _dial_action(twilio_post, call, recording_sid, **extra):
    """The recording Dial's action, as Twilio posts it when the bridged call ends."""
    return twilio_post(f"/webhooks/twilio/call-status?c={call.id}&s={call.twilio_sid}", {
        "CallSid": call.twilio_sid, "CallStatus": "in-progress", "DialCallStatus": "completed",
        "DialCallDuration": "41", "RecordingSid": recording_sid, "RecordingDuration": "40",
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{recording_sid}",
        **extra})


def test_the_dial_action_stores_the_recording_it_names_if_its_callback_is_lost(
        bridged, twilio_post, db):
    """Only the recording-status callback stored a recording: with it lost, the recording stayed
    at Twilio with nothing here to delete it at the end of its retention."""
    recording = "RE" + "a" * 32
    response = _dial_action(twilio_post, bridged, recording)

    assert response.status_code == 200
    stored = f.calls(db)[0]
    assert (stored.status, stored.duration_seconds) == ("completed", 41)
    assert (stored.recording_sid, stored.recording_status, stored.recording_duration) == (
        recording, None, None)  # the status and duration come with the recording's callback

    _recording(twilio_post, bridged, recording, "completed", 40)
    stored = f.calls(db)[0]
    assert (stored.recording_sid, stored.recording_status, stored.recording_duration) == (
        recording, "completed", 40)
    assert _queued_deletions(db) == set()


def test_the_dial_action_after_the_recording_callback_changes_nothing_of_it(
        bridged, twilio_post, db):
    recording = "RE" + "a" * 32
    _recording(twilio_post, bridged, recording, "failed")
    _dial_action(twilio_post, bridged, recording)

    stored = f.calls(db)[0]
    assert (stored.recording_sid, stored.recording_status, stored.recording_duration) == (
        recording, "failed", None)
    assert _queued_deletions(db) == set()


def test_the_dial_action_never_brings_back_a_recording_reported_absent(
        bridged, twilio_post, db):
    recording = "RE" + "a" * 32
    _recording(twilio_post, bridged, recording, "absent", 0)
    _dial_action(twilio_post, bridged, recording)

    stored = f.calls(db)[0]
    assert (stored.recording_sid, stored.recording_status) == (None, "absent")


def test_a_dial_action_naming_a_recording_after_it_was_removed_queues_it_for_deletion(
        bridged, twilio_post, db, clock):
    recording = "RE" + "a" * 32
    stored = f.calls(db)[0]
    stored.recording_removed_at = clock()  # as retention or an erasure leaves it
    db.commit()

    _dial_action(twilio_post, bridged, recording)

    assert f.calls(db)[0].recording_sid is None
    assert ("recording", recording, "orphan_callback") in _queued_deletions(db)


def test_a_dial_action_without_a_recording_stores_none(bridged, twilio_post, db):
    twilio_post(f"/webhooks/twilio/call-status?c={bridged.id}&s={bridged.twilio_sid}", {
        "CallSid": bridged.twilio_sid, "CallStatus": "completed",
        "DialCallStatus": "no-answer", "DialCallDuration": "0"})

    stored = f.calls(db)[0]
    assert (stored.recording_sid, stored.status) == (None, "no-answer")
    assert _queued_deletions(db) == set()


@pytest.mark.parametrize("dial_first", [True, False])
@pytest.mark.parametrize("dial", [
    {"DialCallStatus": "busy"},
    # Found by a voice audit: the callee answered and hung up during the recording notice
    # (the <Number url>); Twilio says completed, the notice's 6 s as DialCallDuration, and
    # DialBridged false. The two never talked; the record said they did, for 6 s.
    {"DialCallStatus": "completed", "DialCallDuration": "6", "DialBridged": "false"},
], ids=["busy", "answered-never-bridged"])
def test_a_bridge_that_never_connected_lasts_0_seconds_never_the_callers_ringing_time(
        bridged, twilio_post, db, dial_first, dial):
    """Found by a black-box audit: the number's own callback (CallDuration 12, the time the
    caller waited) gave a call that never connected a duration of 12 s."""
    dial = (f"/webhooks/twilio/call-status?c={bridged.id}&s={bridged.twilio_sid}",
            {"CallSid": bridged.twilio_sid, "CallStatus": "in-progress", **dial})
    number = ("/webhooks/twilio/call-status",
              {"CallSid": bridged.twilio_sid, "CallStatus": "completed", "CallDuration": "12",
               "CallbackSource": "call-progress-events"})
    for path, form in (dial, number) if dial_first else (number, dial):
        assert twilio_post(path, form).status_code == 200

    stored = f.calls(db)[0]
    assert (stored.status, stored.duration_seconds) == (
        DIAL_STATUS[dial[1]["DialCallStatus"]], 0)


def test_a_bridged_dial_keeps_its_conversations_length(bridged, twilio_post, db):
    twilio_post(f"/webhooks/twilio/call-status?c={bridged.id}&s={bridged.twilio_sid}", {
        "CallSid": bridged.twilio_sid, "CallStatus": "in-progress",
        "DialCallStatus": "completed", "DialCallDuration": "42", "DialBridged": "true"})

    assert f.calls(db)[0].duration_seconds == 42


def test_a_dial_action_naming_a_recording_reported_absent_queues_nothing(
        bridged, twilio_post, db):
    recording = "RE" + "a" * 32
    _recording(twilio_post, bridged, recording, "absent", 0)
    _dial_action(twilio_post, bridged, recording)

    assert _queued_deletions(db) == set()


def test_a_dial_action_for_a_call_no_longer_stored_queues_its_recording_for_deletion(
        bridged, twilio_post, db):
    """Erased (or past retention) before the call's callbacks came: nothing here would ever
    delete the recording at Twilio."""
    recording = "RE" + "a" * 32
    call_id, call_sid = bridged.id, bridged.twilio_sid
    db.delete(bridged)
    db.commit()

    response = twilio_post(f"/webhooks/twilio/call-status?c={call_id}&s={call_sid}", {
        "CallSid": call_sid, "CallStatus": "completed", "DialCallStatus": "completed",
        "DialCallDuration": "41", "RecordingSid": recording})

    assert response.status_code == 200
    assert ("recording", recording, "orphan_callback") in _queued_deletions(db)


@pytest.mark.parametrize("dial_after", [False, True])
def test_a_caller_who_hangs_up_during_the_recording_notice_talked_0_seconds(
        bridged, twilio_post, db, dial_after):
    """Found by a voice review: the caller hung up during the notice, before the <Dial> ran
    (no Dial action); the number's own callback (completed, the caller's 9 s) was stored as a
    9 s call. The two never talked. A Dial action arriving after it still sets its length."""
    twilio_post("/webhooks/twilio/call-status", {
        "CallSid": bridged.twilio_sid, "CallStatus": "completed", "CallDuration": "9"})
    if dial_after:
        twilio_post(f"/webhooks/twilio/call-status?c={bridged.id}&s={bridged.twilio_sid}", {
            "CallSid": bridged.twilio_sid, "CallStatus": "completed",
            "DialCallStatus": "completed", "DialCallDuration": "42", "DialBridged": "true",
            "DialCallSid": "CA" + "d" * 32})

    stored = f.calls(db)[0]
    assert (stored.status, stored.duration_seconds) == ("completed", 42 if dial_after else 0)


def test_a_bridged_call_keeps_its_length_when_the_numbers_callback_comes_last(
        bridged, twilio_post, db):
    twilio_post(f"/webhooks/twilio/call-status?c={bridged.id}&s={bridged.twilio_sid}", {
        "CallSid": bridged.twilio_sid, "CallStatus": "in-progress",
        "DialCallStatus": "completed", "DialCallDuration": "42", "DialBridged": "true",
        "DialCallSid": "CA" + "d" * 32})
    twilio_post("/webhooks/twilio/call-status", {
        "CallSid": bridged.twilio_sid, "CallStatus": "completed", "CallDuration": "50"})

    assert f.calls(db)[0].duration_seconds == 42


@pytest.mark.parametrize("dial_status", ["busy", "no-answer", "failed"])
def test_a_caller_whose_callee_is_unavailable_is_told_so_before_the_hang_up(
        bridged, twilio_post, config, dial_status):
    """Found by a voice review: after busy or no-answer the Dial action answered an empty
    <Response/>, and the caller was hung up on in silence. A repeat gets the same TwiML."""
    form = {"CallSid": bridged.twilio_sid, "CallStatus": "in-progress",
            "DialCallStatus": dial_status, "DialCallSid": "CA" + "d" * 32}
    path = f"/webhooks/twilio/call-status?c={bridged.id}&s={bridged.twilio_sid}"

    first, again = twilio_post(path, form), twilio_post(path, form)

    assert [(e.tag, e.text) for e in twiml(first)] == [
        ("Say", config.unavailable_voice_message), ("Hangup", None)]
    assert again.data == first.data
    assert "not available" in config.unavailable_voice_message


def test_a_caller_whose_callee_hung_up_during_the_recording_notice_is_told_so_too(
        bridged, twilio_post, config):
    """Found by a review of 51fd4bf and 2dc5792: the callee answered and hung up during the
    recording notice (DialCallStatus completed, DialBridged false), so the two never talked,
    as after no-answer; the caller, still on the line, was hung up on in silence."""
    form = {"CallSid": bridged.twilio_sid, "CallStatus": "in-progress",
            "DialCallStatus": "completed", "DialCallDuration": "6", "DialBridged": "false",
            "DialCallSid": "CA" + "d" * 32}
    path = f"/webhooks/twilio/call-status?c={bridged.id}&s={bridged.twilio_sid}"

    first, again = twilio_post(path, form), twilio_post(path, form)

    assert [(e.tag, e.text) for e in twiml(first)] == [
        ("Say", config.unavailable_voice_message), ("Hangup", None)]
    assert again.data == first.data


@pytest.mark.parametrize("dial", [{"DialCallStatus": "canceled"},
                                  {"DialCallStatus": "completed", "DialCallDuration": "42"}])
def test_a_dial_that_ended_otherwise_still_ends_with_an_empty_response(
        bridged, twilio_post, dial):
    response = twilio_post(f"/webhooks/twilio/call-status?c={bridged.id}&s={bridged.twilio_sid}",
                           {"CallSid": bridged.twilio_sid, "CallStatus": "completed", **dial})

    assert list(twiml(response)) == []
