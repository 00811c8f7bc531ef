"""Fixtures of the send gate: a configured sender, Florida's 8-20 window, Twilio helpers."""
from __future__ import annotations

import datetime as dt

import pytest
import responses

from commsvc.clock import FrozenClock
from commsvc.consent import service as consent
from commsvc.sending.models import OutboundMessage
from commsvc.sending.service import DUE_STATUSES, new_id
from commsvc.sending.worker import run_once
from commsvc.twilio_gateway import RealTwilio

SENDER = "+16465550000"
ACCOUNT_SID = "AC" + "0" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
FLORIDA = "+13055550123"
CALIFORNIA = "+14155550123"
NEW_YORK = "+12125550123"


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def config(config):
    return config.with_overrides(
        sender_number=SENDER,
        quiet_hours_overrides={"US-FL": (8, 20)},
        outbox_max_attempts=6,
        outbox_backoff_base_seconds=5.0,
        outbox_backoff_max_seconds=600.0,
        outbox_lease_seconds=120,
    )


@pytest.fixture
def clock() -> FrozenClock:
    # 2026-06-01 16:00Z: noon in New York and Miami, 9:00 in San Francisco.
    return FrozenClock(utc(2026, 6, 1, 16, 0))


@pytest.fixture
def booking(api_key):
    return api_key("booking")


@pytest.fixture
def send(client, booking):
    """send(to=..., body=..., purpose=...) -> the response of POST /v1/messages."""

    def post(headers=None, **payload):
        payload.setdefault("to", NEW_YORK)
        payload.setdefault("body", "Your pro arrives at 3pm.")
        payload.setdefault("purpose", "transactional")
        return client.post("/v1/messages", json=payload, headers=headers or booking)

    return post


@pytest.fixture
def grant(db, clock):
    def record(phone: str, action: str = "grant", purpose: str = "marketing") -> None:
        consent.record_event(db, phone=phone, channel="sms", purpose=purpose, action=action,
                             source="api", evidence={"form": "test"}, now=clock())
        db.commit()

    return record


@pytest.fixture
def outbox(db):
    """outbox() -> every outbound row, freshly read."""

    def rows() -> list[OutboundMessage]:
        db.expire_all()
        return list(db.query(OutboundMessage).order_by(OutboundMessage.created_at))

    return rows


@pytest.fixture
def twilio_took_another_text(db, clock, config):
    """twilio_took_another_text() -> the outbox shows a text Twilio took just now, as a worker
    records it: a 5xx or network error a text meets after that is no outage, but the text's
    own, and spends one of its attempts (docs/sending.md). Its row is in outbox() too."""

    def took() -> None:
        now = clock()
        db.add(OutboundMessage(
            id=new_id(), to_phone=CALIFORNIA, from_phone=SENDER, body="Another text.",
            purpose="transactional", status="sent", attempts=1, created_at=now,
            updated_at=now, sent_at=now,
            next_attempt_at=now + dt.timedelta(seconds=config.outbox_lease_seconds)))
        db.commit()

    return took


@pytest.fixture
def real_twilio():
    return RealTwilio(ACCOUNT_SID, "test-token", timeout=2.0)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def twilio_message(sid: str, *, to: str, from_: str = SENDER, body: str = "",
                   status: str = "queued") -> dict:
    return {"sid": sid, "account_sid": ACCOUNT_SID, "to": to, "from": from_, "body": body,
            "status": status, "num_segments": "1", "direction": "outbound-api",
            "date_created": "Mon, 01 Jun 2026 16:00:00 +0000", "date_sent": None,
            "error_code": None, "error_message": None, "price": None, "uri": "/x.json"}


def twilio_error(status: int, code: int, message: str = "error") -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def message_list(*messages: dict) -> dict:
    return {"messages": list(messages), "next_page_uri": None, "page": 0, "page_size": 50,
            "first_page_uri": "/x", "previous_page_uri": None, "uri": "/x"}


def posts(mocked) -> list:
    return [c for c in mocked.calls if c.request.method == "POST"]


def form(call) -> dict[str, str]:
    from urllib.parse import parse_qs

    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def run_until_settled(app, real_twilio, outbox, clock, *, hours: float, each_pass=None):
    """Run the worker each time a text is due, for at most `hours` of clock time."""
    end = clock() + dt.timedelta(hours=hours)
    while clock() <= end:
        if each_pass is not None:
            each_pass()
        run_once(app, real_twilio)
        due = [row.next_attempt_at for row in outbox() if row.status in DUE_STATUSES]
        if not due:
            break
        clock.set(max(clock(), min(due)))
    return outbox()
