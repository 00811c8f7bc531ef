"""Twilio's REST API behind one interface: the real client, or a simulated one for laptops.

Chosen by configuration in create_app (TWILIO_ACCOUNT_SID set or not) and handed out from
app.extensions["twilio"], so tests and the worker never patch module paths.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from commsvc.clock import utcnow

log = logging.getLogger("commsvc.twilio")

NOT_FINAL_YET = 20009  # Twilio refuses to delete a message, call or recording not final yet.
UNSUBSCRIBED = 21610  # The recipient replied STOP at the carrier level.
# Messages a send reconciliation reads per list, in one request (Twilio's largest page). With
# 50, a number texted more than 50 times from one sender within the lookup's minutes lost the
# text looked for off the page, and it was sent twice.
LOOKUP_PAGE = 1000


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str
    simulated: bool = False


class TwilioError(Exception):
    """A failed Twilio call: retryable (429, 5xx, network) or final (4xx), with its code."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500


def _retry_after(headers, clock: Callable[[], dt.datetime]) -> float | None:
    """The seconds a Retry-After asks for (RFC 9110: seconds, or an HTTP-date, counted from
    the answer's own Date, Twilio's clock, so that the two clocks' skew does not count), or
    None when there is none or it reads as neither."""
    value = (headers or {}).get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "nan", "inf" and a negative count read as no wait asked for
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        until = parsedate_to_datetime(value)
        date = headers.get("Date")
        # A server with a clock always sends Date (RFC 9110); without it, ours.
        answered = parsedate_to_datetime(date) if date else clock()
        return max(0.0, (_aware(until) - _aware(answered)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


def _aware(moment: dt.datetime) -> dt.datetime:
    """An HTTP-date with a -0000 zone parses naive: it is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _error_code(text: str | None) -> int | None:
    """Twilio's error code in an error answer's JSON body, if any."""
    try:
        code = json.loads(text).get("code") if text else None
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


# A 2xx answer that is not Twilio's (a proxy's page, a garbled body): Twilio may have taken the
# request, as after a timeout, so it carries no status: retried, and a send is looked up first.
UNREADABLE = "Twilio answer unreadable"


def _json_object(text: str | None) -> bool:
    try:
        return isinstance(json.loads(text or ""), dict)
    except ValueError:
        return False


class _HttpClient(TwilioHttpClient):
    """Keeps the last response's headers so a 429's Retry-After reaches the retry policy, and
    refuses a 2xx answer that is not a JSON object, as Twilio's always are (but a DELETE's
    empty 204): the client would raise JSONDecodeError on some, AttributeError on JSON of
    another shape (a list, null), and read an object without a `sid` as a message sent."""

    def request(self, method, *args, **kwargs):
        response = super().request(method, *args, **kwargs)
        self.last_headers = response.headers
        if (200 <= response.status_code < 300 and method.upper() != "DELETE"
                and not _json_object(response.text)):
            raise TwilioError(UNREADABLE)
        return response


class RealTwilio:
    simulated = False

    def __init__(self, account_sid: str, auth_token: str, timeout: float = 10.0,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.clock = clock  # the app's (create_app): a Retry-After date without a Date
        self.http = _HttpClient(timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=self.http)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TwilioRestException as exc:
            raise TwilioError(f"Twilio error {exc.code}", status=exc.status, code=exc.code,
                              retry_after=_retry_after(getattr(self.http, "last_headers", None),
                                                       self.clock)) from None
        except requests.RequestException as exc:
            raise TwilioError(f"Twilio unreachable: {type(exc).__name__}") from None
        except TwilioException as exc:  # a list page that failed: (message, response)
            response = exc.args[1] if len(exc.args) > 1 else None
            # Its code and Retry-After, as for any other call: a throttled lookup retried
            # before Twilio allows it only meets more 429s.
            code = _error_code(getattr(response, "text", None))
            raise TwilioError(f"Twilio error {code}" if code else "Twilio error fetching a page",
                              status=getattr(response, "status_code", None), code=code,
                              retry_after=_retry_after(getattr(response, "headers", None),
                                                       self.clock)) from None

    def _list(self, fn, **kwargs) -> list:
        """A list call's records. A 2xx JSON object that is no page of records (a proxy's JSON
        error, records that are not objects) makes the client raise AttributeError or
        TypeError as it reads them: unreadable, as any 2xx that is not Twilio's."""
        try:
            return self._call(fn, **kwargs)
        except (AttributeError, TypeError):
            raise TwilioError(UNREADABLE) from None

    def send_message(self, *, to: str, from_: str, body: str, status_callback: str | None = None,
                     media_urls: list[str] | None = None) -> SendResult:
        kwargs = {"to": to, "from_": from_, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        if media_urls:
            kwargs["media_url"] = media_urls
        message = self._call(self.client.messages.create, **kwargs)
        if not message.sid:  # a JSON object, but not a message Twilio took
            raise TwilioError(UNREADABLE)
        return SendResult(sid=message.sid, status=message.status or "queued")

    def find_messages(self, *, to: str, from_: str, sent_after) -> list[dict]:
        """Messages Twilio holds from one number to another since a time (send reconciliation).

        Two lists: those sent since (DateSent), and the newest between the two numbers made
        since (DateCreated, filtered here): a message still queued at Twilio, its queue backed
        up, has no DateSent yet, and the first list leaves it out."""
        sent = self._list(self.client.messages.list, to=to, from_=from_,
                          date_sent_after=sent_after, limit=LOOKUP_PAGE, page_size=LOOKUP_PAGE)
        newest = self._list(self.client.messages.list, to=to, from_=from_, limit=LOOKUP_PAGE,
                            page_size=LOOKUP_PAGE)
        found = {m.sid: m for m in sent}
        for m in newest:
            if m.date_sent is None and (m.date_created is None or m.date_created >= sent_after):
                found.setdefault(m.sid, m)
        return [{"sid": m.sid, "body": m.body, "status": m.status} for m in found.values()]

    def fetch_message(self, sid: str) -> dict:
        """A message Twilio holds: its number, body and when Twilio made it (TwilioError 404
        when it is gone)."""
        m = self._call(self.client.messages(sid).fetch)
        return {"sid": m.sid, "to": m.to, "body": m.body, "date_created": m.date_created}

    def redact_message(self, sid: str) -> None:
        """Blank a message's body at Twilio and delete its media (kept as metadata there).

        A blank body leaves an MMS's pictures at Twilio, reachable at their media URLs; they
        go one DELETE each. Done again after a failure part way, it finds only the media
        left (one deleted meanwhile by another process answers 404 and is skipped)."""
        message = self.client.messages(sid)
        updated = self._call(message.update, body="")
        if updated.num_media == "0":
            return  # an SMS: no media to look for
        for media in self._list(message.media.list):
            try:
                self._call(message.media(media.sid).delete)
            except TwilioError as exc:
                if exc.status != 404:
                    raise

    def delete_message(self, sid: str) -> None:
        self._call(self.client.messages(sid).delete)

    def delete_recording(self, sid: str) -> None:
        self._call(self.client.recordings(sid).delete)

    def delete_call(self, sid: str) -> None:
        self._call(self.client.calls(sid).delete)


@dataclass
class SimulatedTwilio:
    """No Twilio account: sends are recorded as simulated, nothing leaves the machine."""

    simulated = True
    announced = False  # the first send of a process says, once, that nothing left the machine
    sent: list[dict] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    _counter: itertools.count = field(default_factory=itertools.count)

    def send_message(self, *, to: str, from_: str, body: str, status_callback: str | None = None,
                     media_urls: list[str] | None = None) -> SendResult:
        if not self.announced:
            log.info("TWILIO_ACCOUNT_SID not set: outbound sends are simulated")
            self.announced = True
        sid = "SM" + "sim" + secrets.token_hex(14)[:29]
        self.sent.append({"sid": sid, "to": to, "from": from_, "body": body})
        return SendResult(sid=sid, status="simulated", simulated=True)

    def find_messages(self, *, to: str, from_: str, sent_after) -> list[dict]:
        return [{"sid": m["sid"], "body": m["body"], "status": "simulated"} for m in self.sent
                if m["to"] == to and m["from"] == from_]

    def fetch_message(self, sid: str) -> dict:
        raise TwilioError("nothing is held at Twilio: sends are simulated", status=404)

    def redact_message(self, sid: str) -> None:
        self.deleted.append(("redact_message", sid))

    def delete_message(self, sid: str) -> None:
        self.deleted.append(("message", sid))

    def delete_recording(self, sid: str) -> None:
        self.deleted.append(("recording", sid))

    def delete_call(self, sid: str) -> None:
        self.deleted.append(("call", sid))


def make_gateway(config, clock: Callable[[], dt.datetime] = utcnow
                 ) -> RealTwilio | SimulatedTwilio:
    if config.twilio_enabled:
        return RealTwilio(config.twilio_account_sid, config.twilio_auth_token, clock=clock)
    return SimulatedTwilio()
