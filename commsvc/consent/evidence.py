"""What a consent request may say: its actions and sources, and its evidence (plain JSON,
bounded in size and depth)."""
from __future__ import annotations

import json
import re

from commsvc.consent.models import ALL
from commsvc.errors import ValidationFailed

ACTIONS = ("grant", "revoke")
# Room for a full inbound SMS (1,600 characters of up to 4 UTF-8 bytes) plus its SIDs.
MAX_EVIDENCE_BYTES = 8192
MAX_EVIDENCE_DEPTH = 5
SOURCE_RE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,31}")
# The evidence key under which commsvc records how an API decision reached it (key id, IP); the
# caller's own keys are kept as given beside it.
RECEIVED = "received"
# Sources commsvc records itself; an API caller may not claim them.
SYSTEM_SOURCES = frozenset({"sms_keyword", "twilio_opt_out", "twilio_21610", "erasure"})


def expand(value: str, choices: tuple[str, ...], field: str) -> tuple[str, ...]:
    """The channels or purposes `value` names (all of `choices` for "all"), or a 422 on `field`."""
    if value == ALL:
        return choices
    if value not in choices:
        raise ValidationFailed(errors={field: [f"must be one of {', '.join(choices)} or all"]})
    return (value,)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


# Python's JSON parser reads NaN, Infinity and 1e400 (infinity), which JSON does not have.
NOT_PLAIN_JSON = "must be plain JSON: no NaN or Infinity (a number such as 1e400 reads as one)"


def validate_evidence(evidence: object) -> dict:
    """Evidence is a JSON object of bounded size and nesting (it is kept forever).

    The size bounds what the caller sent: RECEIVED, which commsvc adds to an API decision (key
    id, IP, a proxy's X-Forwarded-For), is bounded by commsvc and not counted, or how much a
    caller may send would depend on its address and proxies."""
    if not isinstance(evidence, dict):
        raise ValidationFailed(errors={"evidence": ["must be an object"]})
    sent = {k: v for k, v in evidence.items() if k != RECEIVED}
    try:
        size = len(json.dumps(sent, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False).encode())
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationFailed(errors={"evidence": [NOT_PLAIN_JSON]}) from exc
    if size > MAX_EVIDENCE_BYTES:
        raise ValidationFailed(errors={"evidence": [f"at most {MAX_EVIDENCE_BYTES} bytes"]})
    if _depth(evidence) > MAX_EVIDENCE_DEPTH:
        raise ValidationFailed(errors={"evidence": [f"at most {MAX_EVIDENCE_DEPTH} levels deep"]})
    return evidence


def validate(action: str, source: str) -> None:
    """A 422 naming each of an action and a source a consent request may not give."""
    errors: dict[str, list[str]] = {}
    if action not in ACTIONS:
        errors["action"] = ["must be grant or revoke"]
    if not isinstance(source, str) or not SOURCE_RE.fullmatch(source):
        errors["source"] = ["1-32 characters: lower-case letters, digits, _ . : -"]
    if errors:
        raise ValidationFailed(errors=errors)
