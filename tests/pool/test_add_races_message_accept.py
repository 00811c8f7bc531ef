"""A number added to the pool while a platform text to it is being accepted, or the other way
round (PostgreSQL, real commits): whichever commits first wins, the other is refused, as with
a session (test_add_races_session_create). Without a hold both checks read before the other's
commit and both pass: the outbox queued a text to one of our own numbers, which as a pool
number is no one's, so that person's text could no longer be exported or erased."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from commsvc.pool.models import ProxyNumber
from commsvc.sending.models import OutboundMessage
from commsvc.sending.service import acceptance
from tests.pool.test_add_races_session_create import (  # noqa: F401 (a fixture)
    POOL,
    _add,
    _while_uncommitted,
    sessionmaker,
)

pytestmark = pytest.mark.pg_only

PHONE = "+14155559873"  # a person's phone the platform texts, which someone adds to the pool


def _accept(db, config, clock):
    acceptance.accept(db, to=PHONE, body="Your pro arrives at 3pm.", purpose="transactional",
                      booking_id=None, requested_by=None, config=config, now=clock())


def _add_it(db, config, clock):
    _add(db, PHONE, clock)


@pytest.mark.parametrize(("first", "then", "refused", "texts"), [
    (_accept, _add_it, {"result": "Conflict", "status": 409}, 1),  # a person's, texted
    (_add_it, _accept, {"result": "ValidationFailed", "status": 422}, 0),  # `to`: ours
])
def test_a_number_added_and_a_text_to_it_accepted_at_once_one_is_refused(
        sessionmaker, config, clock, first, then, refused, texts):  # noqa: F811
    holder = sessionmaker()
    first(holder, config, clock)  # not committed yet

    def second():
        with sessionmaker() as db:
            then(db, config, clock)
            db.commit()

    assert _while_uncommitted(holder, second) == refused
    with sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(OutboundMessage)) == texts
        assert set(db.scalars(select(OutboundMessage.from_phone))) <= set(POOL)
        pooled = db.scalar(select(func.count()).select_from(ProxyNumber)
                           .where(ProxyNumber.phone_number == PHONE))
        assert pooled == 1 - texts  # never both: a pool number with a text to it


def test_a_pool_add_waits_at_most_a_second_for_a_text_to_it_being_accepted_then_503(
        sessionmaker, config, clock):  # noqa: F811
    from commsvc.errors import ServiceUnavailable

    accepting = sessionmaker()
    try:
        _accept(accepting, config, clock)  # in flight, not committed
        with sessionmaker() as db, pytest.raises(ServiceUnavailable,
                                                 match="Texts to this number are being"):
            _add(db, PHONE, clock)
    finally:
        accepting.rollback()
        accepting.close()
    with sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(ProxyNumber)) == len(POOL)


def test_a_text_being_accepted_holds_back_no_add_of_another_number(
        sessionmaker, config, clock):  # noqa: F811
    """The hold is per number: a text in flight to one person's phone does not keep an
    admin from adding another number (which waited its 1 s and got the 503 when the hold
    was one lock for every number), nor does an add hold texts to other numbers back."""
    accepting = sessionmaker()
    try:
        _accept(accepting, config, clock)  # in flight, not committed
        with sessionmaker() as db:
            _add(db, "+14155550199", clock)
            db.commit()
    finally:
        accepting.rollback()
        accepting.close()
    with sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(ProxyNumber)) == len(POOL) + 1
