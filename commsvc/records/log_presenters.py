"""How a log row looks to each caller: numbers masked or not, bodies only with full access and
within their retention period; platform sends as outbound rows of the messages log."""
from __future__ import annotations

from commsvc import crypto
from commsvc.auth.visibility import present_phone
from commsvc.clock import isoformat
from commsvc.records.logs_service import LogRow
from commsvc.relay.models import Call
from commsvc.sending.models import OutboundMessage
from commsvc.sending.service import ERASED_AFTER_AN_ATTEMPT, ERASED_BEFORE_SENDING


def _common(record, principal) -> dict:
    return {
        "id": record.id, "session_id": record.session_id, "booking_id": record.booking_id,
        "direction": record.direction,
        "from": present_phone(principal, record.from_phone),
        "to": present_phone(principal, record.to_phone),
        "status": record.status, "outcome": record.outcome, "twilio_sid": record.twilio_sid,
        "created_at": isoformat(record.created_at),
    }


def _body(data: dict, principal, shown: bool, read_body) -> dict:
    """Add the body: only for a full-access caller and within its period; else null."""
    data["body"] = None
    if principal.sees_full_numbers and shown:
        body = read_body()
        if body is crypto.UNAVAILABLE:
            data["body_unavailable"] = True
        else:
            data["body"] = body
    return data


ERASED = (ERASED_BEFORE_SENDING, ERASED_AFTER_AN_ATTEMPT)  # the last_error an erasure wrote


def outbound_outcome(message: OutboundMessage) -> str:
    """What the send gate did with a platform text (docs/records-access.md lists the words)."""
    if message.status == "blocked":  # by an erasure (sending.service.block_unsent), else consent
        return "blocked_erased" if message.last_error in ERASED else "blocked_consent"
    if message.status == "failed" and message.twilio_sid is None:
        return "failed"  # Twilio refused it, or every attempt failed
    if message.status in ("queued", "scheduled", "sending", "simulated"):
        return message.status
    return "sent"  # Twilio took it; the status follows its delivery


def present_outbound(row: LogRow, principal) -> dict:
    """A platform send as a messages-log row: from the pool number, no session, no media."""
    message: OutboundMessage = row.record
    data = {
        "id": message.id, "session_id": None, "booking_id": message.booking_id,
        "direction": "outbound",
        "from": present_phone(principal, message.from_phone),
        "to": present_phone(principal, message.to_phone),
        "status": message.status, "outcome": outbound_outcome(message),
        "twilio_sid": message.twilio_sid, "created_at": isoformat(message.created_at),
        "media_count": 0, "error_code": message.error_code,
    }
    return _body(data, principal, row.content_visible, lambda: message.body)


def present_message(row: LogRow, principal) -> dict:
    """A message as this caller may see it: bodies only with full access and in their period."""
    message = row.record
    if isinstance(message, OutboundMessage):
        return present_outbound(row, principal)
    data = _common(message, principal)
    data["media_count"] = message.media_count
    data["error_code"] = message.error_code
    shown = row.content_visible and message.body_removed_at is None
    return _body(data, principal, shown, lambda: message.body)


def recording_reference(call: Call) -> dict:
    """A call's recording as every read shows it (logs, export): SID, duration, status."""
    return {"sid": call.recording_sid, "duration": call.recording_duration,
            "status": call.recording_status}


def present_call(row: LogRow, principal) -> dict:
    """A call: its duration and recording reference (SID, duration and status: completed
    or failed; never the audio)."""
    call: Call = row.record
    data = _common(call, principal)
    data["duration_seconds"] = call.duration_seconds
    shown = row.content_visible and call.recording_sid and call.recording_removed_at is None
    data["recording"] = recording_reference(call) if shown else None
    return data


PRESENTERS = {"messages": present_message, "calls": present_call}
