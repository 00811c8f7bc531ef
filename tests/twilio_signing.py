"""Sign webhook requests the way Twilio does (twilio's RequestValidator computes it)."""
from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.webhooks.factories import TWILIO_HEADERS, idempotency_token


class TwilioPoster:
    def __init__(self, client, auth_token: str, base_url: str):
        self.client = client
        self.validator = RequestValidator(auth_token)
        self.base_url = base_url

    def signature(self, path: str, params: dict) -> str:
        return self.validator.compute_signature(self.base_url + path, params)

    def __call__(self, path: str, params: dict, *, signature: str | None = None, **kwargs):
        # Twilio's own headers too (its proxy's User-Agent, a new idempotency token per event):
        # the service must take them as they come.
        headers = {**TWILIO_HEADERS, "I-Twilio-Idempotency-Token": idempotency_token(),
                   "X-Twilio-Signature": signature or self.signature(path, params)}
        headers.update(kwargs.pop("headers", {}))
        return self.client.post(path, data=params, headers=headers, **kwargs)
