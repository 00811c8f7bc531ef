"""A lookup's pick (a copy at Twilio with the text's body, to its number: its own, or an
identical text's) is deleted or redacted at Twilio with its text only when no text that stays
may own it (commsvc/sending/picks.py): by retention, by an erasure."""
from __future__ import annotations

import datetime as dt

import pytest

from commsvc.records import holds, subjects
from tests.records.test_retention import DAY, REQUESTER, deletions, make_outbound, run

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
    assert (("message", PICK, action) in deletions(db)) is not case["spared"]


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
    assert (("message", PICK, "delete") in deletions(db)) is not held
