"""Helpers for session tests: a pool of numbers, a booking key and a create call."""
from __future__ import annotations

import pytest

from commsvc.pool import service as pool_service

REQUESTER = "+14155550101"
PRO = "+14155550202"
SF_NUMBERS = ("+14155559001", "+14155559002", "+14155559003")


@pytest.fixture
def add_numbers(db, clock):
    """add_numbers(*phones, capabilities=...) puts numbers in the pool (committed to the test)."""

    def add(*phones: str, capabilities=("sms", "voice")) -> None:
        for phone in phones:
            pool_service.add_number(db, phone_number=phone, capabilities=capabilities,
                                    actor="test", now=clock())
        db.commit()

    return add


@pytest.fixture
def booking(api_key) -> dict[str, str]:
    return api_key("booking")


@pytest.fixture
def create(client, booking):
    """create(booking_id, requester, pro, **fields) -> the POST /v1/sessions response."""

    def post(booking_id: str = "bk_1001", requester: str = REQUESTER, pro: str = PRO,
             headers: dict | None = None, **fields):
        body = {"booking_id": booking_id, "requester": {"phone": requester},
                "pro": {"phone": pro}, **fields}
        return client.post("/v1/sessions", json=body, headers=headers or booking)

    return post
