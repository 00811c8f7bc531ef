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
    """send_sms(From, To, Body, **extra) -> the response to a signed inbound-SMS webhook, with
    every field Twilio sends (factories.sms_form)."""

    def send(from_: str, to: str, body: str = "", *, sid: str | None = None, media=(),
             **extra):
        return twilio_post("/webhooks/twilio/sms",
                           f.sms_form(from_, to, body, sid=sid, media=media, **extra))

    return send


@pytest.fixture
def place_call(twilio_post):
    """place_call(From, To, **extra) -> the response to a signed inbound-call webhook, with every
    field Twilio sends (factories.call_form)."""

    def call(from_: str, to: str, *, sid: str | None = None, **extra):
        return twilio_post("/webhooks/twilio/voice", f.call_form(from_, to, sid=sid, **extra))

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
