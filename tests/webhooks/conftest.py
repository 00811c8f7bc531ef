"""Webhook test helpers: an open session, and Twilio-shaped forms posted signed."""
from __future__ import annotations

import logging

import pytest

from tests.webhooks import factories as f


@pytest.fixture
def session_open(db, clock):
    return f.open_session(db, clock())


@pytest.fixture
def send_sms(twilio_post):
    """send_sms(From, To, Body, **extra) -> the response to a signed inbound-SMS webhook."""

    def send(from_: str, to: str, body: str = "", *, sid: str | None = None, media=(),
             **extra):
        params = {"From": from_, "To": to, "Body": body, "MessageSid": sid or f.sid("SM"),
                  "AccountSid": "AC" + "0" * 32, "NumMedia": str(len(media))}
        for index, url in enumerate(media):
            params[f"MediaUrl{index}"] = url
            params[f"MediaContentType{index}"] = "image/jpeg"
        params.update(extra)
        return twilio_post("/webhooks/twilio/sms", params)

    return send


@pytest.fixture
def place_call(twilio_post):
    """place_call(From, To, **extra) -> the response to a signed inbound-call webhook."""

    def call(from_: str, to: str, *, sid: str | None = None, **extra):
        params = {"From": from_, "To": to, "CallSid": sid or f.sid("CA"),
                  "CallStatus": "ringing", "Direction": "inbound",
                  "AccountSid": "AC" + "0" * 32}
        params.update(extra)
        return twilio_post("/webhooks/twilio/voice", params)

    return call


@pytest.fixture
def relayed(session_open, send_sms, db):
    """A text from the requester, forwarded to the pro: the stored Message row."""
    assert send_sms(f.REQUESTER, f.REQUESTER_PROXY, "hello").status_code == 200
    return f.messages(db)[0]


@pytest.fixture
def webhook_logs(caplog):
    """Records of the commsvc loggers (they do not propagate to the root caplog watches)."""
    logger = logging.getLogger("commsvc")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="commsvc")
    yield caplog
    logger.removeHandler(caplog.handler)
