"""A second copy of one text at Twilio: when the outbox cannot avoid one (docs/sending.md,
"Where a duplicate can still happen"), neither copy's SID is dropped. The one the text does
not keep is deleted at Twilio, as nothing else would ever delete it there (retention and
erasure delete the SID the text holds)."""
from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
import requests
import responses
from sqlalchemy import select

from commsvc.records.models import RemoteDeletion
from commsvc.sending.worker import run_once
from tests.records.test_retention import make_outbound
from tests.sending.conftest import (
    MESSAGES_URL,
    NEW_YORK,
    message_list,
    posts,
    twilio_message,
)
from tests.sending.test_worker import DiesAround

BODY = "Your pro arrives at 3pm."
FIRST, SECOND, THIRD = "SM" + "1" * 32, "SM" + "2" * 32, "SM" + "3" * 32


def _deletions(db) -> dict[str, str]:
    db.expire_all()
    return {row.sid: row.cause for row in db.scalars(select(RemoteDeletion))}


def _status(twilio_post, message_id: str, sid: str, status: str = "delivered") -> None:
    answer = twilio_post(f"/webhooks/twilio/message-status?o={message_id}",
                         {"MessageSid": sid, "MessageStatus": status})
    assert answer.status_code == 200


def _first_copy_taken_by_a_killed_worker(app, send, clock, config, mocked, real_twilio) -> str:
    """A worker killed after Twilio took the text as FIRST; its lease lapsed; Twilio's list
    does not show FIRST yet (the lookup misses it). The text's id."""
    message_id = send(body=BODY).json["id"]
    mocked.post(MESSAGES_URL, json=twilio_message(FIRST, to=NEW_YORK, body=BODY), status=201)
    with pytest.raises(SystemExit):
        run_once(app, DiesAround(real_twilio, after_twilio=True))
    clock.advance(seconds=config.outbox_lease_seconds)
    mocked.get(MESSAGES_URL, json=message_list())
    mocked.remove(responses.POST, MESSAGES_URL)
    return message_id


def test_a_worker_that_stalled_past_its_lease_keeps_its_copy_accounted_for(
        app, send, outbox, clock, config, db, mocked, real_twilio):
    """Found by an audit: worker A's POST hangs past its lease; worker B takes the text over,
    finds nothing at Twilio yet (A's request has not landed) and sends it. A's copy was then
    dropped ("left to the new holder"): its SID known to A, and never deleted at Twilio."""
    message_id = send(body=BODY).json["id"]
    sids = iter([FIRST, SECOND])

    def twilio_takes_it(_request):
        sid = next(sids)
        if sid == FIRST:  # worker A's request, stalled past its lease: worker B runs meanwhile
            clock.advance(seconds=config.outbox_lease_seconds + 1)
            assert run_once(app, real_twilio, now=clock()).sent == 1
        return 201, {}, json.dumps(twilio_message(sid, to=NEW_YORK, body=BODY))

    mocked.add_callback(responses.POST, MESSAGES_URL, callback=twilio_takes_it)
    mocked.get(MESSAGES_URL, json=message_list())  # B looked before A's request landed

    assert run_once(app, real_twilio).lost_lease == 1

    [row] = outbox()
    assert len(posts(mocked)) == 2  # the documented duplicate: two copies at Twilio
    assert (row.status, row.twilio_sid) == ("sent", SECOND)
    assert _deletions(db) == {FIRST: "extra_copy"}
    assert message_id == row.id


def test_an_earlier_attempts_copy_reported_after_a_resend_is_deleted_at_twilio(
        app, send, outbox, clock, config, db, mocked, real_twilio, twilio_post):
    """Worker killed after Twilio took the text; the lookup missed it (Twilio's list behind);
    the text was sent again. The first copy's status callback then named a SID the text did
    not keep: dropped, and it moved the text's status (its copy's, not the text's)."""
    message_id = _first_copy_taken_by_a_killed_worker(app, send, clock, config, mocked,
                                                      real_twilio)
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(SECOND, to=NEW_YORK, body=BODY))
    run_once(app, real_twilio)

    _status(twilio_post, message_id, FIRST, "undelivered")
    _status(twilio_post, message_id, FIRST, "undelivered")  # Twilio repeats it

    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("sent", SECOND)
    assert _deletions(db) == {FIRST: "extra_copy"}
    _status(twilio_post, message_id, SECOND, "delivered")
    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("delivered", SECOND)


def test_a_resend_whose_first_copy_is_reported_mid_send_keeps_both_accounted_for(
        app, send, outbox, clock, config, db, mocked, real_twilio, twilio_post):
    """The first copy's callback arrives while the resend is at Twilio: the text takes the
    first SID, and the resend's SID was dropped when its answer came."""
    message_id = _first_copy_taken_by_a_killed_worker(app, send, clock, config, mocked,
                                                      real_twilio)

    def resend(_request):
        _status(twilio_post, message_id, FIRST, "sent")
        return 201, {}, json.dumps(twilio_message(SECOND, to=NEW_YORK, body=BODY))

    mocked.add_callback(responses.POST, MESSAGES_URL, callback=resend)
    run_once(app, real_twilio)

    [row] = outbox()
    assert (row.status, row.twilio_sid) == ("sent", FIRST)
    assert _deletions(db) == {SECOND: "extra_copy"}


@pytest.mark.parametrize("callback_first", [False, True])
def test_a_worker_killed_between_twilios_answer_and_its_commit_sends_once(
        app, send, outbox, clock, config, mocked, real_twilio, twilio_post, monkeypatch,
        callback_first):
    """Killed after Twilio answered 201, before the SID was committed; Twilio's status
    callback arrives before the lease lapses, or not at all: either way one POST in all."""
    from commsvc.sending import worker as worker_module

    message_id = send(body=BODY).json["id"]
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(FIRST, to=NEW_YORK, body=BODY))
    mocked.get(MESSAGES_URL, json=message_list(twilio_message(FIRST, to=NEW_YORK, body=BODY)))

    def killed(*_args, **_kwargs):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(worker_module.Worker, "_finish", killed)
        with pytest.raises(SystemExit):
            run_once(app, real_twilio)
    if callback_first:
        _status(twilio_post, message_id, FIRST, "sent")
    clock.advance(seconds=config.outbox_lease_seconds)
    run_once(app, real_twilio)
    _status(twilio_post, message_id, FIRST, "delivered")

    [row] = outbox()
    assert (row.status, row.twilio_sid, len(posts(mocked))) == ("delivered", FIRST, 1)


def test_the_log_says_a_second_copy_once_however_many_callbacks_its_copy_sends(
        app, send, outbox, clock, config, db, mocked, real_twilio, twilio_post):
    """Found by the chaos test: docs/sending.md counts second copies by the log line "a second
    copy at Twilio", and each status callback of the copy (sent, then delivered: Twilio sends
    several) logged it again, so one copy read as two or three."""
    message_id = _first_copy_taken_by_a_killed_worker(app, send, clock, config, mocked,
                                                      real_twilio)
    mocked.post(MESSAGES_URL, status=201, json=twilio_message(SECOND, to=NEW_YORK, body=BODY))
    run_once(app, real_twilio)
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("commsvc")
    logger.addHandler(handler)
    try:
        for status in ("queued", "sent", "delivered"):
            _status(twilio_post, message_id, FIRST, status)
    finally:
        logger.removeHandler(handler)

    assert sum("a second copy at Twilio" in line for line in lines) == 1
    assert _deletions(db) == {FIRST: "extra_copy"}


@pytest.mark.parametrize("failed_before", [False, True],
                         ids=["no other text", "an identical text failed two weeks before"])
def test_a_lookups_pick_no_other_text_may_own_is_deleted_once_the_text_is_named_another_copy(
        app, send, outbox, clock, db, mocked, real_twilio, twilio_post, failed_before):
    """Found by a review: the text's answer was lost (Twilio took it as FIRST, whose callbacks
    never arrive) and its lookup took FIRST; Twilio then named SECOND for it (a stalled
    worker's copy). FIRST, a pick, was left for the identical text it might belong to, though
    there was none: the text's own second copy, never deleted. An identical text sent later,
    whose send never reached Twilio, had its lookup take FIRST, and was never sent. Now the
    pick no other text may own is deleted as the text's second copy; the later text is sent.
    Found by the next review: a text with the same (templated) body that failed two weeks
    before, holding no SID, was counted a possible owner, and the later text still went unsent:
    a text done with before the pick's text was made owns none of the copies its lookup lists."""
    if failed_before:
        earlier = make_outbound(db, created_at=clock() - dt.timedelta(days=14),
                                to_phone=NEW_YORK, status="failed")
        earlier.body, earlier.twilio_sid = BODY, None
        db.commit()
    first = send(body=BODY).json["id"]
    mocked.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    run_once(app, real_twilio)
    mocked.get(MESSAGES_URL, json=message_list(twilio_message(FIRST, to=NEW_YORK, body=BODY)))
    clock.set({row.id: row for row in outbox()}[first].next_attempt_at)
    assert run_once(app, real_twilio).reconciled == 1

    _status(twilio_post, first, SECOND)

    assert _deletions(db) == {FIRST: "extra_copy"}
    later = send(body=BODY).json["id"]
    run_once(app, real_twilio)  # its answer lost too: Twilio never took it
    mocked.replace(responses.GET, MESSAGES_URL, json=message_list(
        twilio_message(SECOND, to=NEW_YORK, body=BODY),
        twilio_message(FIRST, to=NEW_YORK, body=BODY)))
    mocked.replace(responses.POST, MESSAGES_URL, status=201,
                   json=twilio_message(THIRD, to=NEW_YORK, body=BODY))
    clock.set({row.id: row for row in outbox()}[later].next_attempt_at)
    assert run_once(app, real_twilio).sent == 1
    rows = {row.id: (row.status, row.twilio_sid, row.sid_from_lookup) for row in outbox()
            if row.id in (first, later)}
    assert rows == {first: ("delivered", SECOND, False), later: ("sent", THIRD, False)}
    assert len(posts(mocked)) == 3  # the first's lost one, the later's lost one, the later's

