"""The OpenAPI document's entries for what is not under /v1: Twilio's webhooks and the
operations endpoints. Their views are plain Flask (form posts answered with TwiML, probes), so
flask-smorest cannot describe them; API.md's contract for them is written out here instead."""
from __future__ import annotations

from commsvc.api_docs import PROBLEM_CONTENT

_STRING = {"type": "string"}
_SID = {"type": "string", "pattern": "^[A-Z]{2}[0-9a-fA-F]{32}$"}
_DIGITS = {"type": "string", "pattern": "^[0-9]{1,9}$"}

# Each webhook: (what Twilio posts it for, its form fields, the required ones, query parameters
# commsvc puts in the callback URLs it gives Twilio[, the error statuses it can answer]).
WEBHOOKS = {
    "sms": ("An inbound text or MMS to a proxy number: relayed, answered or refused as API.md"
            " says.", {
                "MessageSid": _SID, "AccountSid": _SID, "From": _STRING, "To": _STRING,
                "Body": _STRING, "NumMedia": _DIGITS, "MediaUrl0": _STRING,
                "OptOutType": _STRING,
            }, ["MessageSid", "From", "To"], []),
    "voice": ("An inbound call to a proxy number: <Dial callerId=...> to the other participant,"
              " or a spoken message.", {
                  "CallSid": _SID, "AccountSid": _SID, "From": _STRING, "To": _STRING,
                  "CallStatus": _STRING,
              }, ["CallSid", "From", "To"], []),
    "message-status": ("Delivery status of a message commsvc sent, forwarded or replied with.", {
        "MessageSid": _SID, "MessageStatus": _STRING, "ErrorCode": _DIGITS,
    }, ["MessageSid", "MessageStatus"], ["m", "r", "o", "s"]),
    "call-status": ("Status and duration of a relayed call.", {
        "CallSid": _SID, "CallStatus": _STRING, "CallDuration": _DIGITS,
        "DialCallStatus": _STRING, "DialCallDuration": _DIGITS, "DialCallSid": _SID,
        "DialBridged": _STRING,
        # A recorded <Dial>'s action carries its recording's SID (kept if its own callback is lost)
        "RecordingSid": _SID,
    }, ["CallSid"], ["c", "s"]),
    "recording-status": ("A call recording's status and duration (the audio stays at Twilio).", {
        "RecordingSid": _SID, "CallSid": _SID, "RecordingStatus": _STRING,
        "RecordingDuration": _DIGITS,
    }, ["RecordingSid"], ["c", "s"]),
    # Reads no database row: only the signature, the body size and the body's own encoding
    # (a malformed chunked body, met when the signature check reads the form) can fail.
    "recording-notice": ("The <Number url> of a recorded call's <Dial>, requested when the"
                         " called party answers: RECORDING_NOTICE spoken to them before the"
                         " bridge. The form is the dialled leg's.", {
                             "CallSid": _SID, "ParentCallSid": _SID, "AccountSid": _SID,
                             "From": _STRING, "To": _STRING, "CallStatus": _STRING,
                             "Direction": _STRING,
                         }, [], ["c", "s"], ("400", "403", "413")),
}
_QUERY_DESCRIPTIONS = {
    "m": "the relayed message this status is for (set by commsvc in statusCallback)",
    "r": "the relayed message whose reply to its sender this status is for (set by commsvc in"
         " the reply's statusCallback): the reply's SID is kept, to delete it at Twilio with"
         " the message",
    "o": "the platform send this status is for (set by commsvc in statusCallback)",
    "c": "the call this callback is for (set by commsvc in the callback URL)",
    "s": "the Twilio SID of the inbound message or call named by m, r or c (set by commsvc):"
         " a callback finds that record or none",
}


_ERRORS = {
    "400": "A malformed Twilio form; nothing stored",
    "403": "Missing or invalid X-Twilio-Signature; nothing stored",
    "413": "A form past the body size limit; nothing stored",
    # Twilio does not retry a 5xx by default (docs/twilio.md): the text, call or status is lost.
    "503": "The database is unavailable; Twilio does not retry it by default (only with"
           " connection overrides): the caller hears Twilio's application error, and the"
           " text or status update is lost",
}


def _webhook(summary: str, fields: dict, required: list[str], query: list[str],
             errors: tuple[str, ...] = tuple(_ERRORS)) -> dict:
    return {"post": {
        "tags": ["twilio webhooks"],
        "summary": summary,
        "security": [],
        "parameters": [
            {"in": "header", "name": "X-Twilio-Signature", "required": True, "schema": _STRING,
             "description": "Twilio's HMAC-SHA1 of PUBLIC_BASE_URL + path (+ query) and the"
                            " sorted form, with TWILIO_AUTH_TOKEN"},
            *({"in": "query", "name": name, "required": False, "schema": _STRING,
               "description": _QUERY_DESCRIPTIONS[name]} for name in query),
        ],
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
            # OpenAPI 3.0: a `required` list, when present, names at least one field.
            "schema": {"type": "object", "properties": fields,
                       **({"required": required} if required else {})}}}},
        "responses": {
            "200": {"description": "TwiML", "content": {"text/xml": {"schema": _STRING}}},
            **{status: {"description": _ERRORS[status], "content": PROBLEM_CONTENT}
               for status in errors},
        },
    }}


def _probe(summary: str, responses: dict) -> dict:
    return {"get": {"tags": ["operations"], "summary": summary, "security": [],
                    "responses": responses}}


def _json(description: str, properties: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties, "required": list(properties)}}}}


OPERATIONS = {
    "/healthz": _probe("The process is up", {"200": _json("Up", {"status": _STRING})}),
    "/readyz": _probe("The database answers", {
        "200": _json("Ready", {"status": _STRING, "database": _STRING}),
        "503": _json("Not ready", {"status": _STRING, "database": _STRING}),
    }),
    "/metrics": _probe("Prometheus metrics, read from the database at scrape time", {
        "200": {"description": "Prometheus text format",
                "content": {"text/plain": {"schema": _STRING}}}}),
}


def document_edges(spec: dict, prefix: str) -> dict:
    """Add the webhooks (under prefix) and the operations endpoints to the document."""
    paths = spec.setdefault("paths", {})
    for name, entry in WEBHOOKS.items():
        paths[f"{prefix}/{name}"] = _webhook(*entry)
    paths.update(OPERATIONS)
    return spec
