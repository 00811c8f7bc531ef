"""Helpers for session tests: a pool of numbers, a booking key and a create call."""
from __future__ import annotations

import pytest

from commsvc.config.settings import Retention
from commsvc.pool import service as pool_service

REQUESTER = "+14155550101"
PRO = "+14155550202"
SF_NUMBERS = ("+14155559001", "+14155559002", "+14155559003")


def all_pages(client, url: str, headers: dict, key: str = "id") -> list:
    """Follow next_cursor from the first page to the last; the `key` of every row, in order."""
    seen, cursor = [], None
    while True:
        page = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        body = page.get_json()
        assert page.status_code == 200, body
        seen += [row[key] for row in body["data"]]
        if not (cursor := body["next_cursor"]):
            return seen


@pytest.fixture
def add_numbers(db, clock):
    """add_numbers(*phones, capabilities=...) puts numbers in the pool (committed to the test)."""

    def add(*phones: str, capabilities=("sms", "voice")) -> None:
        for phone in phones:
            pool_service.add_number(db, phone_number=phone, capabilities=capabilities,
                                    actor="test", now=clock(), retention=Retention())
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
