"""Property-based abuse of the edges: phone parsing, and webhook forms (missing, repeated,
oversized and non-UTF-8 fields) — never a 500, never a half-stored record."""
from __future__ import annotations

from urllib.parse import quote_from_bytes

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from commsvc.phones import InvalidPhone, normalise
from commsvc.relay.models import Call, Message
from tests.webhooks.factories import PRO, REQUESTER, REQUESTER_PROXY, open_session

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.one_of(st.text(max_size=40), st.from_regex(r"\+?[0-9 ()+.-]{0,20}", fullmatch=True)))
def test_phone_parsing_never_raises_anything_but_invalid_phone(raw):
    try:
        e164 = normalise(raw)
    except InvalidPhone:
        return
    assert e164.startswith("+") and e164[1:].isdigit()
    assert normalise(e164) == e164
    assert phonenumbers.is_valid_number(phonenumbers.parse(e164))


FIELD_NAMES = ["From", "To", "Body", "MessageSid", "NumMedia", "MediaUrl0", "MediaUrl1",
               "MediaContentType0", "OptOutType", "CallSid", "CallStatus", "CallDuration",
               "DialCallDuration", "DialCallStatus", "RecordingSid", "RecordingDuration",
               "RecordingStatus", "MessageStatus", "ErrorCode", "AccountSid"]
VALUES = st.one_of(
    st.sampled_from([REQUESTER, PRO, REQUESTER_PROXY, "+1", "Anonymous", "266696687", "",
                     "SM" + "a" * 32, "CA" + "b" * 32, "RE" + "c" * 32, "3", "-1", "99999",
                     "https://api.twilio.com/x.jpg", "javascript:alert(1)", "STOP", "yes",
                     "delivered", "completed", "21610"]),
    st.text(max_size=30),
    st.binary(max_size=20),
    st.text(min_size=2000, max_size=4000, alphabet="ab\u00e9\u2603"),
)
VALID = {
    "/webhooks/twilio/sms": {"From": REQUESTER, "To": REQUESTER_PROXY, "Body": "on my way",
                             "NumMedia": "0"},
    "/webhooks/twilio/voice": {"From": REQUESTER, "To": REQUESTER_PROXY,
                               "CallStatus": "ringing"},
    "/webhooks/twilio/message-status?m=1": {"MessageStatus": "delivered"},
    "/webhooks/twilio/call-status?c=1": {"CallStatus": "completed", "CallDuration": "30"},
    "/webhooks/twilio/recording-status?c=1": {"RecordingSid": "RE" + "c" * 32,
                                              "RecordingDuration": "12",
                                              "RecordingStatus": "completed"},
    "/webhooks/twilio/recording-notice?c=1": {"CallStatus": "in-progress",
                                              "Direction": "outbound-dial"},
}
PATHS = list(VALID)
MUTATION = st.one_of(
    st.tuples(st.just("drop"), st.sampled_from(FIELD_NAMES), st.none()),
    st.tuples(st.just("repeat"), st.sampled_from(FIELD_NAMES), VALUES),
    st.tuples(st.just("set"), st.sampled_from(FIELD_NAMES), VALUES),
)
_sid_counter = iter(range(10**9))


def _form(path: str, mutations) -> list[tuple[str, object]]:
    """A valid form for the path (a fresh SID each time), then dropped/repeated/changed fields."""
    sid_field = "CallSid" if "voice" in path or "call" in path or "recording" in path else \
        "MessageSid"
    fields = dict(VALID[path], **{sid_field: f"{sid_field[:2].upper()}{next(_sid_counter):032x}"})
    pairs = list(fields.items())
    for action, name, value in mutations:
        if action == "drop":
            pairs = [(n, v) for n, v in pairs if n != name]
        elif action == "repeat":
            pairs.append((name, value))
        else:
            pairs = [(n, v) for n, v in pairs if n != name] + [(name, value)]
    return pairs


def _encode(pairs) -> bytes:
    out = []
    for name, value in pairs:
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        out.append(quote_from_bytes(name.encode()) + "=" + quote_from_bytes(raw))
    return "&".join(out).encode()


def _as_server_reads(pairs) -> MultiDict:
    """The params as the server decodes them (werkzeug: UTF-8, errors replaced)."""
    return MultiDict([
        (name, value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
        for name, value in pairs
    ])


def test_webhook_forms_never_500_and_never_half_store(app, client, db, clock, twilio_post):
    open_session(db, clock())
    db.commit()
    seen: set[int] = set()

    @FUZZ
    @given(path=st.sampled_from(PATHS), mutations=st.lists(MUTATION, max_size=4))
    def post(path, mutations):
        pairs = _form(path, mutations)
        signature = twilio_post.validator.compute_signature(
            twilio_post.base_url + path, _as_server_reads(pairs))
        response = client.post(path, data=_encode(pairs),
                               content_type="application/x-www-form-urlencoded",
                               headers={"X-Twilio-Signature": signature})
        assert response.status_code < 500, (path, pairs, response.data[:300])
        seen.add(response.status_code)
        # Nothing half-stored: every stored record carries its outcome and status.
        for model in (Message, Call):
            broken = db.scalar(select(func.count()).select_from(model).where(
                (model.outcome.is_(None)) | (model.status.is_(None))
                | (model.twilio_sid.is_(None))))
            assert broken == 0

    post()
    # The fuzzing reached the handlers (accepted and refused forms), not only the signature.
    assert {200, 400} <= seen, seen
