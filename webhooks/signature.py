"""Twilio's request signature, checked before anything else a webhook does.

Twilio signs the URL it called (scheme, host, path and query exactly as configured) and the
form parameters with the account's auth token. Behind proxies the request's own Host and scheme
are not what Twilio called, so the URL is rebuilt from PUBLIC_BASE_URL, the request path and the
raw query string as received. twilio's RequestValidator does the rest (it accepts the URL with
and without the default port, and compares in constant time).
"""
from __future__ import annotations

import base64
import hmac
import logging
from operator import itemgetter
from urllib.parse import parse_qs, urlparse

from flask import Response, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from commsvc.errors import problem
from commsvc.extensions import config as _config

log = logging.getLogger("commsvc.webhooks")

SIGNATURE_HEADER = "X-Twilio-Signature"
# Added by Twilio to a webhook a Webhook Rule signs with a SharedKey (twilio 9.13 names it too)
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"


def signed_url(public_base_url: str) -> str | None:
    """The URL Twilio signed; None when the query string is not plain ASCII (never Twilio's)."""
    try:
        query = request.query_string.decode("ascii")
    except UnicodeDecodeError:
        return None
    return public_base_url + request.path + (f"?{query}" if query else "")


def form_signature(auth_token: str, url: str, form: MultiDict) -> str:
    """RequestValidator.compute_signature(url, form) of twilio's, the same text for every URL
    and form (HMAC-SHA1 of the URL and each name followed by each of its distinct values,
    names and values sorted): one pass over the form's lists, where twilio's asks each name's
    values through a getall() that Werkzeug's MultiDict lacks (an AttributeError raised and
    caught for every field), and a one-shot HMAC."""
    payload = url + "".join(name + value for name, values in sorted(form.lists(), key=_NAME)
                            for value in sorted(set(values)))
    return base64.b64encode(hmac.digest(auth_token.encode(), payload.encode(), "sha1")).decode()


_NAME = itemgetter(0)


def is_valid(auth_token: str, public_base_url: str) -> bool:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    url = signed_url(public_base_url)
    if not (auth_token and signature and url):
        return False
    # A URL without "?" has no query, so no bodySHA256 (every webhook URL but a JSON one's).
    if "?" in url and "bodySHA256" in parse_qs(urlparse(url).query):
        # Twilio signs a JSON-bodied webhook over the URL alone, the body's SHA-256 in its
        # query: validate() compares that hash only when given the raw body (a string); given
        # the form (empty for JSON) it skipped it, and the signed URL verified any body.
        # Asked as validate() reads the query (a blank bodySHA256 is none): when it sees no
        # hash, it takes a string for a form and raises.
        return RequestValidator(auth_token).validate(url, request.get_data(as_text=True),
                                                     signature)
    # The URL exactly as configured is what Twilio signs in practice: one HMAC, compared in
    # constant time, and no RequestValidator made. validate() computes two (URL without and
    # with the default port), so it decides every other case.
    if hmac.compare_digest(form_signature(auth_token, url, request.form).encode(),
                           signature.encode()):
        return True
    return RequestValidator(auth_token).validate(url, request.form, signature)


def require_twilio_signature() -> Response | None:
    """Blueprint guard: 403 (problem+json, like every error), before any database work, unless
    Twilio signed it."""
    config = _config()
    if is_valid(config.twilio_auth_token, config.public_base_url):
        return None
    if SIGNATURE_SETTINGS_HEADER in request.headers:
        # A Webhook Rule of Twilio's Webhooks configuration API signs these URLs with a
        # SharedKey (HMAC-SHA256) instead of the auth token: nothing here holds that key, so
        # no such request can be verified. Named, so that the fix (that Setting signs no more,
        # or no Rule matches these URLs) is not searched for in the token or PUBLIC_BASE_URL.
        log.warning("twilio webhook refused: signed with a Webhooks shared key (%s), not the"
                    " auth token path=%s", SIGNATURE_SETTINGS_HEADER, request.path)
        return problem(403, "invalid-signature", "Missing or invalid Twilio signature",
                       f"Signed with a shared key ({SIGNATURE_SETTINGS_HEADER}): commsvc"
                       " verifies only signatures made with the account's auth token. Take"
                       " the signature off the Webhook Setting that a Webhook Rule applies to"
                       " these URLs.")
    # No numbers, no body: the path says which webhook, the request id ties it to the response.
    log.warning("twilio webhook refused: missing or invalid signature path=%s", request.path)
    return problem(403, "invalid-signature", "Missing or invalid Twilio signature",
                   f"The request must carry a valid {SIGNATURE_HEADER}, computed with the"
                   " account's auth token over PUBLIC_BASE_URL, the path and the query.")
