"""A lookup's pick (a copy at Twilio with the text's body, to its number: its own, or an
identical text's) is deleted or redacted at Twilio with its text only when no text that stays
may own it (commsvc/sending/picks.py): by retention, by an erasure."""
from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import pytest
import responses
from sqlalchemy import select

from commsvc.records import holds, remote, subjects
from commsvc.records.models import RemoteDeletion
from commsvc.sending import service
from commsvc.sending.models import OutboundMessage
from commsvc.sending.worker import run_once
from commsvc.twilio_gateway import RealTwilio
from tests.records.test_retention import DAY, REQUESTER, make_outbound, run

PICK = "SM" + "9" * 32
BODY = "Your pro arrives at 3pm."
MINUTE = dt.timedelta(minutes=1)
DAY_S = int(DAY.total_seconds())
PERIODS = {"metadata": (730 * DAY, "delete"), "bodies": (90 * DAY, "redact")}


def _pick(db, *, created_at, body=BODY, booking_id=None):
    """A text sent whose answer was lost; its lookup a minute later took PICK for it."""
    row = make_outbound(db, created_at=created_at, booking_id=booking_id)
    row.body, row.twilio_sid, row.sid_from_lookup = body, PICK, True
    row.updated_at = created_at + MINUTE
    db.flush()
    return row


def _identical(db, *, created_at, body=BODY, booking_id=None, proven=False, due=False):
    """A text with the same body to the same number, whose own copy is unaccounted for (none
    recorded: its lookup found nothing not taken, and its send again failed; `due`: it is
    still to be looked up), or, `proven`, one holding a SID Twilio named for it."""
    row = make_outbound(db, created_at=created_at, booking_id=booking_id,
                        status="delivered" if proven else "queued" if due else "failed")
    row.body = body
    if not proven:
        row.twilio_sid, row.last_error = None, "Twilio error 21611"
    db.flush()
    return row


def _cause(db, action: str) -> str | None:
    """Why PICK's deletion (or redaction) at Twilio is queued, if it is."""
    db.expunge_all()
    return db.scalar(select(RemoteDeletion.cause).where(RemoteDeletion.sid == PICK,
                                                       RemoteDeletion.action == action))


# Seconds from the cutoff: the pick's text was made 30 s before it, its lookup took PICK 30 s
# after it; the identical text was made at `made` (None: there is none).
OWNERS = {
    "a newer identical text": dict(made=10, spared=True),
    "an identical text a hold keeps, as old": dict(made=-20, held=True, spared=True),
    "an identical text as old, going too": dict(made=-20, spared=False),
    "a newer text with another body": dict(made=10, body="Your pro arrives at 4pm.",
                                           spared=False),
    "a newer identical text holding its own copy": dict(made=10, proven=True, spared=False),
    "an identical text made after the pick": dict(made=150, spared=False),
    # Its copies were all made before it failed, a day before the pick's text was made: the
    # copy the pick's lookup listed is none of them (templated bodies repeat).
    "an identical text a hold keeps, failed a day before": dict(made=-DAY_S, held=True,
                                                                spared=False),
    "an identical text a hold keeps, made a day before, still due": dict(
        made=-DAY_S, held=True, due=True, spared=True),
    "no other text": dict(made=None, spared=False),
}


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("owner", OWNERS)
def test_retention_leaves_at_twilio_a_pick_a_text_it_keeps_may_own(
        app, db, clock, period, owner):
    # Found by a review: two identical texts to one person; the older's lookup took the
    # newer's copy, and retention deleted (or redacted) it at Twilio with the older, though
    # the newer, which retention does not reach yet or a hold keeps, may have no other.
    case = OWNERS[owner]
    age, action = PERIODS[period]
    cutoff = clock() - age
    _pick(db, created_at=cutoff - dt.timedelta(seconds=30))
    if case["made"] is not None:
        _identical(db, created_at=cutoff + dt.timedelta(seconds=case["made"]),
                   body=case.get("body", BODY), proven=case.get("proven", False),
                   due=case.get("due", False),
                   booking_id="bk_held" if case.get("held") else None)
    if case.get("held"):
        holds.place_hold(db, scope="booking", value="bk_held", reason="dispute", actor="test",
                         now=clock())
    db.commit()

    report = run(app, clock)

    going_too = case["made"] is not None and case["made"] < 0 and not case.get("held")
    pass_ = "outbound_messages" if period == "metadata" else "outbound_bodies"
    assert report.counts[pass_] == 1 + going_too
    # Spared: kept, deleted (or redacted) once no text that stays may own it.
    assert _cause(db, action) == (remote.KEPT if case["spared"] else "retention")


@pytest.mark.parametrize("held", [True, False], ids=["held", "not held"])
def test_an_erasure_leaves_at_twilio_a_pick_a_held_text_may_own(app, db, clock, config, held):
    # Found by a review: two identical texts to one person for two bookings; the first's
    # lookup took the second's copy. A hold keeps the second's booking; erasing the person
    # deleted that copy at Twilio with the first. Without the hold both go, and so does it.
    _pick(db, created_at=clock() - 60 * MINUTE, booking_id="bk_a")
    _identical(db, created_at=clock() - 59 * MINUTE, booking_id="bk_b")
    if held:
        holds.place_hold(db, scope="booking", value="bk_b", reason="dispute", actor="test",
                         now=clock())
    db.commit()

    result = subjects.erase_subject(db, REQUESTER, config=config, now=clock(), actor="test",
                                    reason="subject request")
    db.commit()

    assert result["removed"]["outbound_messages"] == (1 if held else 2)
    assert _cause(db, "delete") == (remote.KEPT if held else "erasure")


ACCOUNT = "AC" + "0" * 32
PICK_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{PICK}.json"


@pytest.fixture
def twilio_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _at_twilio(made: dt.datetime) -> dict:
    """Twilio's description of PICK, made at `made`, with BODY, to the person."""
    return {"sid": PICK, "account_sid": ACCOUNT, "to": REQUESTER, "from": "+16465550001",
            "body": BODY, "status": "delivered", "num_segments": "1", "num_media": "0",
            "direction": "outbound-api", "date_created": format_datetime(made),
            "date_sent": format_datetime(made), "uri": f"/Messages/{PICK}.json"}


def _pick_at_twilio(twilio_api, made: dt.datetime) -> None:
    """Twilio holds PICK, made at `made`, with BODY, to the person; it deletes it when asked."""
    twilio_api.get(PICK_URL, json=_at_twilio(made))
    twilio_api.delete(PICK_URL, status=204)


def _deleted_at_twilio(twilio_api) -> bool:
    return any(call.request.method == "DELETE" and call.request.url == PICK_URL
               for call in twilio_api.calls)


def _erase(db, clock, config) -> None:
    subjects.erase_subject(db, REQUESTER, config=config, now=clock(), actor="test",
                           reason="subject request")


@pytest.mark.parametrize("then", ["is deleted by retention", "gets its own copy",
                                  "is erased once its hold is lifted"])
def test_a_pick_left_for_a_text_that_may_own_it_is_deleted_once_no_text_may(
        app, db, clock, config, twilio_api, then):
    # Found by a review: retention (or an erasure) left a lookup's pick at Twilio because an
    # identical text that stays may own it; that text later failed and was deleted, or got a
    # copy of its own, and nothing remembered the pick: it stayed at Twilio for good, past
    # every period. It is now deleted once no text that stays may own it.
    gateway = RealTwilio(ACCOUNT, "test-token")
    cutoff = clock() - PERIODS["metadata"][0]
    _pick(db, created_at=cutoff - dt.timedelta(seconds=30))
    owner = _identical(db, created_at=cutoff + dt.timedelta(seconds=10), booking_id="bk_held")
    erasure = then == "is erased once its hold is lifted"
    if erasure:  # the person is erased; a hold keeps the owner
        hold = holds.place_hold(db, scope="booking", value="bk_held", reason="dispute",
                                actor="test", now=clock())
        _erase(db, clock, config)
    db.commit()
    _pick_at_twilio(twilio_api, cutoff + dt.timedelta(seconds=30))

    run(app, clock, gateway=gateway)
    assert not _deleted_at_twilio(twilio_api)  # the owner may be that copy's text
    if erasure:
        clock.advance(days=2)
        run(app, clock, gateway=gateway)
        assert not _deleted_at_twilio(twilio_api)  # the hold still keeps the owner

    if then == "gets its own copy":
        assert service.apply_outbound_status(db, owner.id, "delivered", None, clock(),
                                             twilio_sid="SM" + "8" * 32)
        db.commit()
    elif erasure:
        holds.lift_hold(db, hold.id, actor="test", now=clock(), config=config)
        _erase(db, clock, config)
        db.commit()
    clock.advance(days=2)  # the owner past its period too, and the pick's second look due
    run(app, clock, gateway=gateway)
    assert _deleted_at_twilio(twilio_api)


def _kept_for_a_held_text(app, db, clock, twilio_api, gateway) -> dt.datetime:
    """Retention kept PICK (deleting its text) for a newer identical text, which may own it,
    a hold keeps past its period; the retention cutoff."""
    cutoff = clock() - PERIODS["metadata"][0]
    _pick(db, created_at=cutoff - dt.timedelta(seconds=30))
    _identical(db, created_at=cutoff + dt.timedelta(seconds=10), booking_id="bk_held")
    holds.place_hold(db, scope="booking", value="bk_held", reason="dispute", actor="test",
                     now=clock())
    db.commit()
    _pick_at_twilio(twilio_api, cutoff + dt.timedelta(seconds=30))
    run(app, clock, gateway=gateway)
    assert _cause(db, "delete") == remote.KEPT
    return cutoff


def test_a_kept_pick_whose_look_fails_stays_out_of_the_pending_gauges(
        app, client, db, clock, twilio_api):
    # Found by a review: a kept pick (a text that stays may own it) is looked at again each
    # day by GET Messages/{sid}.json; when that GET failed (a 503, Twilio unreachable) its
    # row took a retry's last_error, and the gauges, which leave out kept picks by theirs,
    # counted it pending since it was queued, days before: the oldest pending deletion read
    # two days and the alert on it fired, though nothing was due to be deleted. A failed
    # look leaves it kept (as last decided), looked at again after the back-off.
    gateway = RealTwilio(ACCOUNT, "test-token")
    cutoff = _kept_for_a_held_text(app, db, clock, twilio_api, gateway)
    twilio_api.replace(responses.GET, PICK_URL, status=503,
                       json={"code": 20503, "message": "unavailable", "status": 503})
    clock.advance(days=2)
    run(app, clock, gateway=gateway)  # its look is due, and fails

    scraped = client.get("/metrics").data.decode()
    assert 'commsvc_twilio_deletions_pending{resource="message"} 0.0' in scraped
    assert 'commsvc_twilio_deletion_oldest_pending_seconds{resource="message"} 0.0' in scraped
    db.expire_all()
    row = db.scalar(select(RemoteDeletion).where(RemoteDeletion.sid == PICK))
    assert (row.cause, row.done_at, row.attempts) == (remote.KEPT, None, 1)
    assert "HTTP 503 code 20503" in row.last_error
    assert row.next_attempt_at == clock() + remote.FIRST_RETRY  # looked at again soon
    assert not _deleted_at_twilio(twilio_api)

    twilio_api.replace(responses.GET, PICK_URL,
                       json=_at_twilio(cutoff + dt.timedelta(seconds=30)))
    clock.advance(minutes=10)
    run(app, clock, gateway=gateway)  # looked at: still owned, kept for another day
    db.expire_all()
    row = db.scalar(select(RemoteDeletion).where(RemoteDeletion.sid == PICK))
    assert (row.last_error, row.next_attempt_at, row.done_at) == (
        remote.KEPT_WHY, clock() + remote.KEPT_LOOK_AGAIN, None)


def test_a_kept_pick_another_cause_makes_due_is_pending_from_then_and_retried_afresh(
        app, client, db, clock, twilio_api):
    # Found by outbox5: a kept pick another cause makes due (an erasure of the person the
    # copy went to) kept the row's created_at and attempts from when it was first kept,
    # days before: the oldest pending deletion read two days the moment it became pending,
    # and the alert on it fired; its first failure backed off as if retried all along.
    gateway = RealTwilio(ACCOUNT, "test-token")
    _kept_for_a_held_text(app, db, clock, twilio_api, gateway)
    clock.advance(days=2)
    run(app, clock, gateway=gateway)  # looked at again: still owned, still kept
    assert _cause(db, "delete") == remote.KEPT

    remote.enqueue_many(db, resource=remote.MESSAGE, sids=[PICK], action="delete",
                        cause="erasure", now=clock())
    db.commit()
    scraped = client.get("/metrics").data.decode()
    assert 'commsvc_twilio_deletions_pending{resource="message"} 1.0' in scraped
    assert 'commsvc_twilio_deletion_oldest_pending_seconds{resource="message"} 0.0' in scraped
    db.expire_all()
    row = db.scalar(select(RemoteDeletion).where(RemoteDeletion.sid == PICK))
    assert (row.cause, row.attempts, row.created_at, row.next_attempt_at) == (
        "erasure", 0, clock(), clock())


def _kept_for_a_held_text_still_due(app, db, clock, twilio_api, gateway):
    """Retention kept PICK (deleting its text) for an identical text a hold keeps, still due,
    its answer lost, whose lookup will list PICK at Twilio; that text and its hold."""
    cutoff = clock() - PERIODS["metadata"][0]
    _pick(db, created_at=cutoff - dt.timedelta(seconds=30))
    owner = _identical(db, created_at=cutoff + dt.timedelta(seconds=10), due=True,
                       booking_id="bk_held")
    owner.send_started_at = owner.created_at
    hold = holds.place_hold(db, scope="booking", value="bk_held", reason="dispute",
                            actor="test", now=clock())  # retention keeps it
    db.commit()
    _pick_at_twilio(twilio_api, cutoff + dt.timedelta(seconds=30))
    run(app, clock, gateway=gateway)
    assert _cause(db, "delete") == remote.KEPT
    twilio_api.get(f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
                   json={"messages": [{"sid": PICK, "to": REQUESTER, "from": "+16465550001",
                                       "body": BODY, "status": "delivered",
                                       "date_sent": None, "date_created": None}],
                         "next_page_uri": None, "page": 0, "page_size": 1000})
    return owner, hold


def test_a_kept_pick_a_text_that_may_own_it_finds_by_its_lookup_is_its_own_not_deleted(
        app, db, clock, twilio_api):
    # The identical text retention keeps (held) is still due, its answer lost: its lookup finds the
    # kept copy (a kept pick's queued row does not hide it, as a deletion's does, or the text
    # would be sent again), takes it, and the queued row is dropped: that text decides.
    gateway = RealTwilio(ACCOUNT, "test-token")
    owner, _ = _kept_for_a_held_text_still_due(app, db, clock, twilio_api, gateway)

    assert run_once(app, gateway).reconciled == 1
    db.expire_all()
    found = db.get(OutboundMessage, owner.id)
    assert (found.twilio_sid, found.status, found.sid_from_lookup) == (PICK, "sent", True)
    clock.advance(days=2)
    run(app, clock, gateway=gateway)
    assert _cause(db, "delete") is None
    assert not _deleted_at_twilio(twilio_api)


def _redacted_at_twilio(twilio_api) -> bool:
    return any(call.request.method == "POST" and call.request.url == PICK_URL
               for call in twilio_api.calls)


@pytest.mark.parametrize("then", ["gets its own copy", "has its body blanked too"])
def test_a_pick_kept_from_a_redaction_is_redacted_once_no_text_keeping_its_body_may_own_it(
        app, db, clock, twilio_api, then):
    # Found by a review: a pick retention's body pass left at Twilio (kept: a newer identical
    # text may own it) is still held by its own text, whose body was blanked: its kept row was
    # read as "a lookup took it since" and dropped at its first look, so the copy's body stayed
    # at Twilio past the bodies' period, until its text's metadata went. A text whose body is
    # gone (the pick's own) neither holds nor may own it for a redaction.
    gateway = RealTwilio(ACCOUNT, "test-token")
    cutoff = clock() - PERIODS["bodies"][0]
    _pick(db, created_at=cutoff - dt.timedelta(seconds=30))
    owner = _identical(db, created_at=cutoff + dt.timedelta(seconds=10))
    db.commit()
    _pick_at_twilio(twilio_api, cutoff + dt.timedelta(seconds=30))
    twilio_api.post(PICK_URL, json={
        "sid": PICK, "account_sid": ACCOUNT, "to": REQUESTER, "from": "+16465550001",
        "body": "", "status": "delivered", "num_segments": "1", "num_media": "0",
        "direction": "outbound-api", "uri": f"/Messages/{PICK}.json"})

    run(app, clock, gateway=gateway)
    assert not _redacted_at_twilio(twilio_api)  # the owner, body and all, may be its text
    assert _cause(db, "redact") == remote.KEPT

    if then == "gets its own copy":
        assert service.apply_outbound_status(db, owner.id, "delivered", None, clock(),
                                             twilio_sid="SM" + "8" * 32)
        db.commit()
        twilio_api.post(PICK_URL.replace(PICK, "SM" + "8" * 32), json={
            "sid": "SM" + "8" * 32, "account_sid": ACCOUNT, "to": REQUESTER, "body": "",
            "num_media": "0", "uri": "/Messages/x.json"})
    clock.advance(days=2)  # the owner's body past its period too, the pick's second look due
    run(app, clock, gateway=gateway)
    assert _redacted_at_twilio(twilio_api)


def test_a_kept_pick_whose_new_holder_is_erased_while_it_is_looked_at_is_deleted(
        app, db, clock, config, twilio_api, monkeypatch):
    # Found by a review: a kept pick a held text's lookup took is dropped at its next look
    # ("that text decides"). If that text's person is erased between that look and its
    # outcome's write, the erasure queues the copy's deletion onto the kept row (the enqueue
    # upgrades it), and the write then deleted the row: the erased person's text stayed at
    # Twilio for good. A kept pick's outcome now holds only while the row is still one.
    gateway = RealTwilio(ACCOUNT, "test-token")
    owner, hold = _kept_for_a_held_text_still_due(app, db, clock, twilio_api, gateway)
    assert run_once(app, gateway).reconciled == 1  # the held text takes the kept copy

    from commsvc.sending import picks
    looked_at = picks.held_or_owned

    def erased_meanwhile(session, pick, **kwargs):
        found = looked_at(session, pick, **kwargs)
        session.commit()
        with app.extensions["db"].sessionmaker() as other:
            holds.lift_hold(other, hold.id, actor="test", now=clock(), config=config)
            _erase(other, clock, config)
            other.commit()
        return found

    monkeypatch.setattr(picks, "held_or_owned", erased_meanwhile)
    clock.advance(days=2)
    remote.process_due(app.extensions["db"], gateway, clock)
    db.expire_all()
    assert db.get(OutboundMessage, owner.id) is None  # erased
    assert _cause(db, "delete") == "erasure"
    monkeypatch.setattr(picks, "held_or_owned", looked_at)
    remote.process_due(app.extensions["db"], gateway, clock)
    assert _deleted_at_twilio(twilio_api)
