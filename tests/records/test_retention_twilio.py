"""Twilio's copies: redacted or deleted through the real client (mocked at Twilio's URLs),
retried until Twilio confirms, never dropped."""
from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import parse_qs

import pytest
import requests
import responses
from sqlalchemy import select

from commsvc.records import remote
from commsvc.records.models import RemoteDeletion
from commsvc.twilio_gateway import RealTwilio
from tests.records.test_retention import DAY, make_call, make_message, run

ACCOUNT = "AC" + "0" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"


def _error(code: int, status: int) -> dict:
    return {"code": code, "message": "refused", "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


@pytest.fixture
def gateway():
    return RealTwilio(ACCOUNT, "test-token")


@pytest.fixture
def twilio_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _pending(db) -> list[RemoteDeletion]:
    db.expunge_all()
    return list(db.scalars(select(RemoteDeletion).order_by(RemoteDeletion.id)))


def _process(app, gateway, clock):
    return remote.process_due(app.extensions["db"], gateway, clock)


def test_recording_not_final_yet_20009_is_retried_later_then_done(
        app, db, clock, gateway, twilio_api):
    call = make_call(db, created_at=clock() - 91 * DAY)
    db.commit()
    url = f"{API}/Recordings/{call.recording_sid}.json"
    twilio_api.add(responses.DELETE, url, status=400, json=_error(20009, 400))
    twilio_api.add(responses.DELETE, url, status=204)

    report = run(app, clock, gateway=gateway)

    assert report.remote == {"done": 0, "already_gone": 0, "retry_later": 1}
    [row] = _pending(db)
    assert (row.resource, row.action, row.attempts, row.done_at) == ("recording", "delete", 1,
                                                                      None)
    assert "20009" in row.last_error and row.next_attempt_at > clock()
    assert _process(app, gateway, clock).as_dict() == {"done": 0, "already_gone": 0,
                                                        "retry_later": 0}
    assert len(twilio_api.calls) == 1  # not due yet: Twilio is not asked again

    clock.advance(minutes=6)
    assert _process(app, gateway, clock).done == 1
    [row] = _pending(db)
    assert row.done_at == clock() and row.attempts == 2 and row.last_error is None
    assert [c.request.method for c in twilio_api.calls] == ["DELETE", "DELETE"]


def test_message_bodies_are_redacted_at_twilio_with_an_empty_body(
        app, db, clock, gateway, twilio_api):
    message = make_message(db, created_at=clock() - 91 * DAY)
    db.commit()
    for sid in (message.twilio_sid, message.forward_sid):
        twilio_api.add(responses.POST, f"{API}/Messages/{sid}.json", status=200,
                       json={"sid": sid, "body": "", "status": "delivered", "num_media": "0"})

    report = run(app, clock, gateway=gateway)

    assert report.remote["done"] == 2
    assert [c.request.method for c in twilio_api.calls] == ["POST", "POST"]  # no media to list
    assert all(parse_qs(c.request.body, keep_blank_values=True) == {"Body": [""]}
               for c in twilio_api.calls)
    assert all(row.done_at == clock() and row.action == "redact" for row in _pending(db))


def _mms_at_twilio(twilio_api, sid: str, media_sids: list[str]) -> None:
    twilio_api.add(responses.POST, f"{API}/Messages/{sid}.json", status=200,
                   json={"sid": sid, "body": "", "status": "delivered",
                         "num_media": str(len(media_sids))})
    twilio_api.add(responses.GET, f"{API}/Messages/{sid}/Media.json", status=200, json={
        "media_list": [{"sid": m, "parent_sid": sid, "content_type": "image/jpeg"}
                       for m in media_sids],
        "page": 0, "page_size": 50, "first_page_uri": None, "next_page_uri": None,
        "previous_page_uri": None,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media.json"})


def test_an_mms_redacted_at_twilio_loses_its_pictures_too(app, db, clock, gateway, twilio_api):
    """A blank body leaves an MMS's media at Twilio (their URLs still serve the pictures):
    each is deleted. One already gone (404) is no failure."""
    message = make_message(db, created_at=clock() - 91 * DAY, forward_to=None,
                           media=["https://api.twilio.com/media/1"])
    db.commit()
    media = ["ME" + "1" * 32, "ME" + "2" * 32]
    _mms_at_twilio(twilio_api, message.twilio_sid, media)
    media_url = f"{API}/Messages/{message.twilio_sid}/Media"
    twilio_api.add(responses.DELETE, f"{media_url}/{media[0]}.json", status=204)
    twilio_api.add(responses.DELETE, f"{media_url}/{media[1]}.json", status=404,
                   json=_error(20404, 404))

    report = run(app, clock, gateway=gateway)

    assert report.remote["done"] == 1
    assert [(c.request.method, c.request.url) for c in twilio_api.calls] == [
        ("POST", f"{API}/Messages/{message.twilio_sid}.json"),
        ("GET", f"{media_url}.json"),
        ("DELETE", f"{media_url}/{media[0]}.json"),
        ("DELETE", f"{media_url}/{media[1]}.json")]
    [row] = _pending(db)
    assert row.done_at == clock() and row.action == "redact"


def test_a_picture_twilio_will_not_delete_yet_keeps_the_redaction_queued(
        app, db, clock, gateway, twilio_api):
    message = make_message(db, created_at=clock() - 91 * DAY, forward_to=None,
                           media=["https://api.twilio.com/media/1"])
    db.commit()
    media_sid = "ME" + "3" * 32
    _mms_at_twilio(twilio_api, message.twilio_sid, [media_sid])
    twilio_api.add(responses.DELETE, f"{API}/Messages/{message.twilio_sid}/Media/{media_sid}.json",
                   status=503, json=_error(20500, 503))

    report = run(app, clock, gateway=gateway)

    assert report.remote["retry_later"] == 1
    [row] = _pending(db)
    assert row.done_at is None and row.attempts == 1 and "503" in row.last_error


def test_a_call_past_metadata_retention_is_deleted_at_twilio_with_both_legs_and_recording(
        app, db, clock, gateway, twilio_api):
    call = make_call(db, created_at=clock() - 731 * DAY)
    db.commit()
    paths = [f"Calls/{call.twilio_sid}", f"Calls/{call.dial_sid}",
             f"Recordings/{call.recording_sid}"]
    for path in paths:
        twilio_api.add(responses.DELETE, f"{API}/{path}.json", status=204)

    report = run(app, clock, gateway=gateway)

    assert report.remote["done"] == 3
    assert sorted((c.request.method, c.request.url) for c in twilio_api.calls) == sorted(
        ("DELETE", f"{API}/{path}.json") for path in paths)
    assert sorted((row.resource, row.sid) for row in _pending(db)) == sorted(
        [("call", call.twilio_sid), ("call", call.dial_sid), ("recording", call.recording_sid)])


def test_a_resource_twilio_no_longer_has_counts_as_done(app, db, clock, gateway, twilio_api):
    with app.extensions["db"].sessionmaker() as session:
        remote.enqueue(session, resource="message", sid="SM" + "1" * 32, action="delete",
                       cause="erasure", now=clock())
        session.commit()
    twilio_api.add(responses.DELETE, f"{API}/Messages/{'SM' + '1' * 32}.json", status=404,
                   json=_error(20404, 404))

    assert _process(app, gateway, clock).already_gone == 1
    [row] = _pending(db)
    assert row.done_at == clock() and "404" in row.last_error


@pytest.mark.parametrize("status,code,headers,least_wait", [
    (503, 20500, {}, dt.timedelta(minutes=5)),
    (429, 20429, {"Retry-After": "3600"}, dt.timedelta(hours=1)),
    (401, 20003, {}, dt.timedelta(hours=6)),  # unexpected: kept, retried much later, logged
])
def test_other_refusals_are_retried_later_and_never_dropped(
        app, db, clock, gateway, twilio_api, status, code, headers, least_wait):
    with app.extensions["db"].sessionmaker() as session:
        remote.enqueue(session, resource="recording", sid="RE" + "2" * 32, action="delete",
                       cause="retention", now=clock())
        session.commit()
    twilio_api.add(responses.DELETE, f"{API}/Recordings/{'RE' + '2' * 32}.json", status=status,
                   json=_error(code, status), headers=headers)

    assert _process(app, gateway, clock).retry_later == 1
    [row] = _pending(db)
    assert row.done_at is None and row.attempts == 1
    assert row.next_attempt_at >= clock() + least_wait
    assert str(code) in row.last_error


def test_queuing_the_same_deletion_twice_keeps_one_row(app, db, clock):
    with app.extensions["db"].sessionmaker() as session:
        for _ in range(2):
            remote.enqueue(session, resource="message", sid="SM" + "3" * 32, action="delete",
                           cause="erasure", now=clock())
        remote.enqueue(session, resource="message", sid=None, action="delete",
                       cause="erasure", now=clock())
        session.commit()
    assert len(_pending(db)) == 1


def test_backoff_grows_with_attempts_and_is_capped():
    waits = [remote._backoff(n, None) for n in (1, 2, 3, 20)]
    assert waits[:3] == [dt.timedelta(minutes=5), dt.timedelta(minutes=10),
                         dt.timedelta(minutes=20)]
    assert waits[3] == remote.MAX_RETRY


def test_metrics_show_pending_deletions_their_age_and_the_last_retention_run(
        app, client, db, clock, gateway, twilio_api):
    assert b"commsvc_retention_last_run_age_seconds -1.0" in client.get("/metrics").data
    call = make_call(db, created_at=clock() - 91 * DAY)
    db.commit()
    twilio_api.add(responses.DELETE, f"{API}/Recordings/{call.recording_sid}.json", status=400,
                   json=_error(20009, 400))
    run(app, clock, gateway=gateway)
    clock.advance(hours=2)

    scraped = client.get("/metrics").data.decode()

    assert 'commsvc_twilio_deletions_pending{resource="recording"} 1.0' in scraped
    assert 'commsvc_twilio_deletions_pending{resource="call"} 0.0' in scraped
    assert 'commsvc_twilio_deletion_oldest_pending_seconds{resource="recording"} 7200.0' \
        in scraped
    assert "commsvc_retention_last_run_age_seconds 7200.0" in scraped


def test_twilio_unreachable_is_recorded_as_such_and_retried(app, db, clock, gateway, twilio_api,
                                                           caplog):
    call = make_call(db, created_at=clock() - 91 * DAY)
    db.commit()
    twilio_api.add(responses.DELETE, f"{API}/Recordings/{call.recording_sid}.json",
                   body=requests.ConnectionError("connection refused"))

    report = run(app, clock, gateway=gateway)

    assert report.remote == {"done": 0, "already_gone": 0, "retry_later": 1}
    [row] = _pending(db)
    assert row.last_error == "Twilio unreachable: ConnectionError"
    assert row.done_at is None and row.next_attempt_at > clock()
    assert "Twilio unreachable: ConnectionError" in caplog.text


def test_a_stopping_clock_ends_its_deletions_early_and_leaves_the_rest_claimed(
        app, db, clock, gateway, twilio_api):
    """Found by an audit: with a backlog of deletions the clock went on for minutes after
    SIGTERM. What Twilio confirmed is recorded; the rest waits for its claim to lapse."""
    sids = [f"SM{n:032x}" for n in range(5)]
    with app.extensions["db"].sessionmaker() as session:
        remote.enqueue_many(session, resource="message", sids=sids, action="delete",
                            cause="erasure", now=clock())
        session.commit()
    for sid in sids:
        twilio_api.delete(f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/"
                          f"{sid}.json", status=204)
    stopping = iter([False, False, False, True])  # the first: before claiming
    report = remote.process_due(app.extensions["db"], gateway, clock,
                                should_stop=lambda: next(stopping, True))
    assert report.done == 2
    rows = _pending(db)
    assert [row.done_at is not None for row in rows] == [True, True, False, False, False]
    assert all(row.next_attempt_at == clock() + remote.CLAIM_LEASE for row in rows[2:])
    assert len(twilio_api.calls) == 2


def test_an_unexpected_error_mid_batch_keeps_the_outcomes_already_obtained(app, db, clock):
    sids = [f"SM{n:032x}" for n in range(5)]
    with app.extensions["db"].sessionmaker() as session:
        remote.enqueue_many(session, resource="message", sids=sids, action="delete",
                            cause="erasure", now=clock())
        session.commit()

    class Breaks:
        simulated, calls = False, 0

        def delete_message(self, sid):
            self.calls += 1
            if self.calls == 3:
                raise RuntimeError("a bug in the client")

    with pytest.raises(RuntimeError):
        remote.process_due(app.extensions["db"], Breaks(), clock)
    assert [row.done_at is not None for row in _pending(db)] == [True, True, False, False, False]


def _queued_deletions(app, clock, count: int) -> list[str]:
    sids = [f"SM{n:032d}" for n in range(count)]
    with app.extensions["db"].sessionmaker() as db:
        remote.enqueue_message(db, sids, action=remote.DELETE, cause="erasure", now=clock())
        db.commit()
    return sids


def test_a_slow_batch_keeps_its_claim_so_a_second_clock_process_asks_twilio_for_none_again(
        app, clock, gateway, twilio_api):
    """Found by a review: a run kept its start time for the claim's lease; a batch of slow
    answers outlasted it, and another clock process asked Twilio for the same deletions."""
    _queued_deletions(app, clock, remote.CLAIM_BATCH_SIZE)
    start, second = clock(), []

    def slow(request):
        clock.advance(seconds=9)  # Twilio slow, or a timeout
        if clock() - start > remote.CLAIM_LEASE and not second:
            second.append(_process(app, gateway, clock))  # another clock process's tick
        return 204, {}, ""

    twilio_api.add_callback(responses.DELETE, re.compile(f"{API}/Messages/SM\\d+\\.json"),
                            callback=slow)
    first = _process(app, gateway, clock)
    assert first.done == remote.CLAIM_BATCH_SIZE and second[0].done == 0
    asked = [call.request.url for call in twilio_api.calls]
    assert len(asked) == len(set(asked)) == remote.CLAIM_BATCH_SIZE


def test_a_retry_after_counts_from_twilios_answer_not_the_start_of_the_run(
        app, db, clock, gateway, twilio_api):
    """Found by a review: rows Twilio asked to wait 300 s were due again as the run ended."""
    _queued_deletions(app, clock, 40)
    start = clock()

    def rate_limited(request):
        clock.advance(seconds=10)
        return 429, {"Retry-After": "300"}, json.dumps(_error(20429, 429))

    twilio_api.add_callback(responses.DELETE, re.compile(f"{API}/Messages/SM\\d+\\.json"),
                            callback=rate_limited)
    assert _process(app, gateway, clock).retry_later == 40
    rows = sorted(_pending(db), key=lambda row: row.next_attempt_at)
    for answered, row in enumerate(rows, start=1):  # 10 s an answer, each then waits 300 s
        assert row.next_attempt_at >= start + dt.timedelta(seconds=10 * answered + 300)


@pytest.mark.parametrize("retry_after", [
    "Fri, 31 Dec 9999 23:59:59 GMT",  # an HTTP-date as far as one goes
    "99999999999",  # ~3,000 years in seconds
    "inf", "nan",
])
def test_an_absurd_retry_after_waits_at_most_the_backoff_cap_and_stops_no_batch(
        app, db, clock, gateway, twilio_api, retry_after):
    """Found by a review: an uncapped Retry-After put an erasure's deletion at Twilio off for
    centuries, or (a date past year 9999, inf, nan) raised mid-batch, every clock tick."""
    with app.extensions["db"].sessionmaker() as session:
        for sid in ("SM" + "4" * 32, "SM" + "5" * 32):
            remote.enqueue(session, resource="message", sid=sid, action="delete",
                           cause="erasure", now=clock())
        session.commit()
    twilio_api.add(responses.DELETE, re.compile(f"{API}/Messages/SM\\d+\\.json"), status=429,
                   json=_error(20429, 429),
                   headers={"Retry-After": retry_after,
                            "Date": "Tue, 24 Nov 2026 03:00:00 GMT"})

    assert _process(app, gateway, clock).retry_later == 2
    for row in _pending(db):
        assert clock() < row.next_attempt_at <= clock() + remote.MAX_RETRY


def test_a_deletion_refused_for_a_month_still_backs_off_and_stops_no_batch(
        app, db, clock, gateway, twilio_api):
    """Found by a review of cce907f (the outbox's back-off overflow): FIRST_RETRY doubled per
    attempt as a timedelta overflowed at the 40th (a deletion Twilio kept refusing for about a
    month: 2**39 times 5 minutes is past timedelta's 999,999,999 days), so each clock tick
    raised OverflowError mid-batch and the deletion, its outcome never written, was asked for
    again every time its claim lapsed."""
    with app.extensions["db"].sessionmaker() as session:
        for sid in ("SM" + "6" * 32, "SM" + "7" * 32):
            remote.enqueue(session, resource="message", sid=sid, action="delete",
                           cause="erasure", now=clock())
        session.execute(RemoteDeletion.__table__.update().values(attempts=39))
        session.commit()
    twilio_api.add(responses.DELETE, re.compile(f"{API}/Messages/SM\\d+\\.json"), status=503,
                   json=_error(20500, 503))

    assert _process(app, gateway, clock).retry_later == 2
    for row in _pending(db):
        assert row.attempts == 40
        assert row.next_attempt_at == clock() + remote.MAX_RETRY
