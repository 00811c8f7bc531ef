"""Pre-built raw HTTP requests for wrk (bench/lua/replay.lua): one file per wrk thread.

wrk's Lua has no HMAC, so every inbound-SMS webhook is written here complete and signed the
way Twilio signs it (twilio's RequestValidator over PUBLIC_BASE_URL + path and the sorted form
parameters), each with a new MessageSid, spread over the seeded sessions' (From, To) pairs so
every one is relayed. Session creations carry unique booking ids; a quarter reuse a seeded
pro's phone and a quarter a seeded requester's (half share a phone with an existing session).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import random
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from twilio.request_validator import RequestValidator

from bench import seed as seeding

SMS_PATH = "/webhooks/twilio/sms"
SESSIONS_PATH = "/v1/sessions"
CONSENT_CHECK_PATH = "/v1/consent/check"
ACCOUNT_SID = "AC" + "5e" * 16
CITY_BY_AREA = {"212": ("NY", "NEW YORK", "10001"), "312": ("IL", "CHICAGO", "60601"),
                "415": ("CA", "SAN FRANCISCO", "94105"), "617": ("MA", "BOSTON", "02108"),
                "713": ("TX", "HOUSTON", "77002"), "206": ("WA", "SEATTLE", "98101"),
                "305": ("FL", "MIAMI", "33101"), "404": ("GA", "ATLANTA", "30301"),
                "503": ("OR", "PORTLAND", "97201"), "602": ("AZ", "PHOENIX", "85001")}


def raw_request(method: str, path: str, host: str, headers: dict[str, str],
                body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def write_records(prefix: Path, per_thread: list[list[bytes]]) -> None:
    """<prefix>_<thread>.req files in replay.lua's length-prefixed format."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    for thread, records in enumerate(per_thread):
        with open(f"{prefix}_{thread}.req", "wb") as out:
            for record in records:
                out.write(b"%d\n" % len(record))
                out.write(record)


@dataclass
class Sids:
    """MessageSids unique to one run: SM + 8 hex of the run + 24 hex of the counter's hash.
    Random-looking as Twilio's are (32 hex digits): the log masking reads a SID's long digit
    runs as a possible number, so a zero-padded counter (SM...000012ba) cost the relay's log
    line more than any real SID does."""

    run: str
    counter: int = 0

    def next(self) -> str:
        self.counter += 1
        return f"SM{self.run}{hashlib.blake2b(b'%d' % self.counter, digest_size=12).hexdigest()}"


def sms_form(sender: str, to: str, body: str, sid: str) -> dict[str, str]:
    """An inbound SMS form with the fields Twilio sends."""
    to_state, to_city, to_zip = CITY_BY_AREA.get(to[2:5], ("NY", "NEW YORK", "10001"))
    from_state, from_city, from_zip = CITY_BY_AREA.get(sender[2:5], ("NY", "NEW YORK", "10001"))
    return {
        "ToCountry": "US", "ToState": to_state, "SmsMessageSid": sid, "NumMedia": "0",
        "ToCity": to_city, "FromZip": from_zip, "SmsSid": sid, "FromState": from_state,
        "SmsStatus": "received", "FromCity": from_city, "Body": body, "FromCountry": "US",
        "To": to, "ToZip": to_zip, "NumSegments": "1", "MessageSid": sid,
        "AccountSid": ACCOUNT_SID, "From": sender, "ApiVersion": "2010-04-01",
    }


@functools.lru_cache(maxsize=4096)
def _quoted_cached(value: str) -> str:
    return quote_plus(value)


def _quoted(value: str) -> str:
    """Form-encode a value (urlencode's quote_plus; SIDs are alphanumeric and pass as they are)."""
    if value.isalnum() and value.isascii():
        return value
    return _quoted_cached(value)


class RelayRequests:
    """Signed inbound-SMS webhooks over the seeded sessions."""

    def __init__(self, plan: seeding.Plan, auth_token: str, base_url: str, host: str,
                 sids: Sids, rng: random.Random):
        self.plan, self.base_url, self.host, self.sids, self.rng = plan, base_url, host, sids, rng
        self.token = auth_token.encode()
        self.validator = RequestValidator(auth_token)
        self.checked = False

    def pair(self) -> tuple[str, str]:
        """A (From, To) that names a seeded open session: either side of a random session."""
        s = seeding.session_at(self.plan, self.rng.randrange(self.plan.sessions))
        return (s.requester, s.requester_proxy) if self.rng.random() < 0.5 else (s.pro,
                                                                                  s.pro_proxy)

    def form(self) -> dict[str, str]:
        sender, to = self.pair()
        return sms_form(sender, to, self.rng.choice(seeding.TEXTS), self.sids.next())

    def signature(self, form: dict[str, str]) -> str:
        """Twilio's signature for single-valued forms (checked once against twilio's own)."""
        payload = self.base_url + SMS_PATH + "".join(k + form[k] for k in sorted(form))
        mac = hmac.new(self.token, payload.encode(), hashlib.sha1).digest()
        signature = base64.b64encode(mac).decode()
        if not self.checked:
            expected = self.validator.compute_signature(self.base_url + SMS_PATH, form)
            if signature != expected:
                raise AssertionError("bench signature differs from twilio's RequestValidator")
            self.checked = True
        return signature

    def raw(self, form: dict[str, str]) -> bytes:
        body = "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in form.items()).encode()
        headers = {
            "X-Twilio-Signature": self.signature(form),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "*/*",
            "Cache-Control": "max-age=259200",
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": form["MessageSid"][-24:],
        }
        return raw_request("POST", SMS_PATH, self.host, headers, body)

    def write(self, prefix: Path, threads: int, per_thread: int) -> None:
        write_records(prefix, [[self.raw(self.form()) for _ in range(per_thread)]
                               for _ in range(threads)])


class NewPhones:
    """Phones in no seeded session, never handed out twice in a run."""

    def __init__(self):
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return seeding.new_phone(self.n)


def session_requests(prefix: Path, *, plan: seeding.Plan, api_key: str, host: str, run: str,
                     threads: int, per_thread: int, rng: random.Random,
                     phones: NewPhones) -> None:
    label = prefix.name
    """POST /v1/sessions bodies: unique booking ids, half of them sharing a seeded phone."""
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json",
               "Accept": "application/json"}
    per: list[list[bytes]] = []
    for thread in range(threads):
        records = []
        for i in range(per_thread):
            kind = i % 4
            if kind == 0:  # a seeded pro takes another booking
                requester = phones.next()
                pro = seeding.pro_phone(rng.randrange(plan.pros))
            elif kind == 1:  # a seeded requester books again
                requester = seeding.requester_phone(rng.randrange(plan.sessions))
                pro = phones.next()
            else:
                requester, pro = phones.next(), phones.next()
            body = json.dumps({
                "booking_id": f"{seeding.BENCH_BOOKING_PREFIX}{run}_{label}_{thread}_{i}",
                "requester": {"phone": requester}, "pro": {"phone": pro},
                "mode": "sms_and_voice", "ttl_seconds": 7 * 86400,
            }).encode()
            records.append(raw_request("POST", SESSIONS_PATH, host, headers, body))
        per.append(records)
    write_records(prefix, per)


def consent_check_path(phone: str) -> str:
    return f"{CONSENT_CHECK_PATH}?phone={quote(phone, safe='')}&channel=sms&purpose=relay"


def consent_requests(prefix: Path, *, plan: seeding.Plan, api_key: str, host: str,
                     threads: int, per_thread: int, rng: random.Random) -> None:
    """GET /v1/consent/check: half for phones with a consent record, half for phones without."""
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    with_state = min(plan.consent_phones, plan.sessions)
    per = []
    for _ in range(threads):
        records = []
        for i in range(per_thread):
            if i % 2 == 0:
                phone = seeding.requester_phone(rng.randrange(with_state))
            elif i % 4 == 1:
                phone = seeding.pro_phone(rng.randrange(plan.pros))
            else:
                phone = seeding.requester_phone(rng.randrange(with_state, plan.sessions))
            records.append(raw_request("GET", consent_check_path(phone), host, headers))
        per.append(records)
    write_records(prefix, per)
