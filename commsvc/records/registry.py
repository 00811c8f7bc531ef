"""The personal-data registry: for every column of every table, what it holds and its fate.

Every column is listed. A personal column says its kind, which `Config.retention` period
applies (None: no period; `note` says why it is kept) and what an erasure does to it; every
other column says why it is not personal. tests/records/test_registry.py walks the models'
metadata and fails when a table gains a column this registry does not classify, so a new
column cannot slip in without someone deciding its retention and erasure.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from commsvc.config.settings import Retention

KINDS = frozenset({
    "phone",          # a real person's number, E.164
    "body",           # what a text said
    "media",          # links to a text's pictures
    "recording_ref",  # the SID and length of a call recording held at Twilio
    "twilio_ref",     # the SID of a message or call at Twilio (it fetches the content there)
    "metadata",       # who-when-how-long of a communication, linked to a number by its row
    "booking_ref",    # the booking a conversation belongs to (an ID in the booking app)
    "consent",        # a consent decision or its evidence
    "masked_phone",   # masked numbers and IDs in the audit log
    "hold_subject",   # the number, session or booking a legal hold names
    "phone_hmac",     # a keyed hash of a number (the erasure ledger)
})

# What an erasure of the subject does to the column.
DELETE_ROW = "delete_row"        # the row goes
NULL = "null"                    # the value is blanked, the row stays
TOMBSTONE = "tombstone"          # the number is replaced by erased:<short hmac>
KEEP_EVIDENCE = "keep_evidence"  # kept on purpose: proof the law requires, or the erasure's own
KEEP_SHARED = "keep_shared"      # kept: the counterpart's record; unlinked from the subject by
#                                  the tombstone in the participant rows
ERASURE_ACTIONS = frozenset({DELETE_ROW, NULL, TOMBSTONE, KEEP_EVIDENCE, KEEP_SHARED})
RETENTION_PERIODS = frozenset(f.name for f in fields(Retention))


@dataclass(frozen=True)
class Personal:
    kind: str
    retention: str | None  # a Retention field, or None (then `note` says why)
    erasure: str
    note: str = ""


@dataclass(frozen=True)
class NotPersonal:
    why: str


def _np(why: str) -> NotPersonal:
    return NotPersonal(why)


ROW_ID = _np("surrogate key")
RETRY_TOKEN = _np("the booking app's retry token for one request (Idempotency-Key)")
PLATFORM_NUMBER = _np("a proxy number: the platform's own Twilio number, no one's phone")
RETENTION_MARK = _np("when retention blanked the row's content")
DELIVERY = _np("delivery machinery (scheduling, retries, leases)")
LINK = _np("a link to another row of this registry")
AUDIT_REF = _np("a staff API key id, a machine name or a fixed action word")

# Communications: the whole row is about a person, so erasure deletes it; retention blanks
# the content first (bodies, recordings) and deletes the row at the end of `metadata`.
_MESSAGE_META = Personal("metadata", "metadata", DELETE_ROW)
_CALL_META = Personal("metadata", "metadata", DELETE_ROW)
_PHONE_IN_ROW = Personal("phone", "metadata", DELETE_ROW)
_TWILIO_SID = Personal("twilio_ref", "metadata", DELETE_ROW,
                       "erasure and retention queue its deletion at Twilio (remote_deletions)")
_CONSENT = Personal("consent", None, KEEP_EVIDENCE,
                    "proof of consent and opt-out outlives retention and erasure")

REGISTRY: dict[str, dict[str, Personal | NotPersonal]] = {
    "messages": {
        "id": ROW_ID,
        "session_id": LINK,
        "booking_id": Personal("booking_ref", "metadata", DELETE_ROW),
        "direction": _MESSAGE_META,
        "from_phone": _PHONE_IN_ROW,
        "to_phone": _PHONE_IN_ROW,
        "body": Personal("body", "message_bodies", DELETE_ROW,
                         "retention blanks it and redacts Twilio's copy"),
        "media_count": _MESSAGE_META,
        "media_urls": Personal("media", "message_bodies", DELETE_ROW,
                               "retention blanks it with the body"),
        "twilio_sid": _TWILIO_SID,
        "outcome": _MESSAGE_META,
        "forward_to": _PHONE_IN_ROW,
        "forward_from": PLATFORM_NUMBER,
        "forward_sid": _TWILIO_SID,
        "reply_sid": _TWILIO_SID,
        "status": _MESSAGE_META,
        "error_code": _MESSAGE_META,
        "created_at": _MESSAGE_META,
        "updated_at": _MESSAGE_META,
        "body_removed_at": RETENTION_MARK,
        "notice_of": _np("when the revocation a 'could not be delivered' notice answered began"),
    },
    "calls": {
        "id": ROW_ID,
        "session_id": LINK,
        "booking_id": Personal("booking_ref", "metadata", DELETE_ROW),
        "direction": _CALL_META,
        "from_phone": _PHONE_IN_ROW,
        "to_phone": _PHONE_IN_ROW,
        "twilio_sid": _TWILIO_SID,
        "dial_sid": _TWILIO_SID,
        "outcome": _CALL_META,
        "forward_to": _PHONE_IN_ROW,
        "forward_from": PLATFORM_NUMBER,
        "status": _CALL_META,
        "duration_seconds": _CALL_META,
        "recording_sid": Personal("recording_ref", "recordings", DELETE_ROW,
                                  "retention nulls it and deletes the recording at Twilio"),
        "recording_duration": Personal("recording_ref", "recordings", DELETE_ROW),
        "recording_status": _CALL_META,
        "created_at": _CALL_META,
        "updated_at": _CALL_META,
        "recording_removed_at": RETENTION_MARK,
    },
    "outbound_messages": {
        "id": ROW_ID,
        "to_phone": _PHONE_IN_ROW,
        "from_phone": PLATFORM_NUMBER,
        "body": Personal("body", "message_bodies", DELETE_ROW,
                         "retention blanks it once sent and redacts Twilio's copy"),
        "purpose": _MESSAGE_META,
        "booking_id": Personal("booking_ref", "metadata", DELETE_ROW),
        "status": _MESSAGE_META,
        "scheduled_for": DELIVERY,
        "next_attempt_at": DELIVERY,
        "attempts": DELIVERY,
        "lease_until": DELIVERY,
        "lease_token": DELIVERY,
        "send_started_at": DELIVERY,
        "twilio_sid": _TWILIO_SID,
        "sid_from_lookup": DELIVERY,
        "error_code": _MESSAGE_META,
        "last_error": _MESSAGE_META,
        "requested_by": AUDIT_REF,
        "idempotency_key": RETRY_TOKEN,
        "created_at": _MESSAGE_META,
        "updated_at": _MESSAGE_META,
        "sent_at": _MESSAGE_META,
    },
    "sessions": {
        "id": ROW_ID,
        "booking_id": Personal("booking_ref", "closed_sessions", KEEP_SHARED),
        "status": _np("session state"),
        "closed_reason": _np("session state"),
        "mode": _np("session settings"),
        "record_calls": _np("session settings"),
        "created_at": _np("session lifecycle; names no one without the participant rows"),
        "expires_at": _np("session lifecycle; names no one without the participant rows"),
        "closed_at": _np("session lifecycle; names no one without the participant rows"),
    },
    "session_participants": {
        "id": ROW_ID,
        "session_id": LINK,
        "role": _np("requester or pro"),
        "phone": Personal("phone", "closed_sessions", TOMBSTONE,
                          "tombstoned, not deleted: the counterpart's session stays whole"),
        "proxy_number": PLATFORM_NUMBER,
        "counterpart_phone": Personal("phone", "closed_sessions", TOMBSTONE),
        "active": _np("session state"),
        "created_at": _np("session lifecycle; names no one once the phone is tombstoned"),
        "ended_at": _np("session lifecycle; names no one once the phone is tombstoned"),
    },
    "consent_events": {
        "id": ROW_ID,
        "phone": Personal("phone", None, KEEP_EVIDENCE,
                          "proof of consent and opt-out outlives retention and erasure"),
        "channel": _CONSENT,
        "purpose": _CONSENT,
        "action": _CONSENT,
        "source": _CONSENT,
        "evidence": _CONSENT,
        "created_at": _CONSENT,
        "requested_by": AUDIT_REF,
        "idempotency_key": RETRY_TOKEN,
    },
    "consent_state": {
        "phone": Personal("phone", None, KEEP_EVIDENCE,
                          "the current decision must survive, or a STOP would be forgotten"),
        "channel": _CONSENT,
        "purpose": _CONSENT,
        "allowed": _CONSENT,
        "event_id": _CONSENT,
        "since": _CONSENT,
    },
    "audit_events": {
        "id": ROW_ID,
        "created_at": _np("when a staff member or job acted"),
        "actor": AUDIT_REF,
        "action": AUDIT_REF,
        "reason": Personal("masked_phone", "audit", KEEP_EVIDENCE,
                           "staff text; numbers in it are masked on write"),
        "target": Personal("masked_phone", "audit", KEEP_EVIDENCE,
                           "IDs and masked numbers only, so erasure never edits the chain"),
        "details": Personal("masked_phone", "audit", KEEP_EVIDENCE,
                            "IDs, counts and masked numbers only"),
        "prev_hash": _np("chain hash"),
        "hash": _np("chain hash"),
    },
    "legal_holds": {
        "id": ROW_ID,
        "scope": _np("phone, session or booking"),
        "value": Personal("hold_subject", None, KEEP_EVIDENCE,
                          "a hold in force outlives erasure by definition; a lifted phone"
                          " hold's number becomes the tombstone on erasure (holds.forget_lifted)"
                          " and the row stays as the record that it existed"),
        "reason": _np("staff text about the legal matter"),
        "created_by": AUDIT_REF,
        "created_at": _np("hold lifecycle"),
        "lifted_at": _np("hold lifecycle"),
        "lifted_by": AUDIT_REF,
    },
    "erasures": {
        "id": ROW_ID,
        "subject_hmac": Personal("phone_hmac", None, KEEP_EVIDENCE,
                                 "the ledger erasures replay from after a backup restore"),
        "requested_by": AUDIT_REF,
        "reason": _np("staff text about the request"),
        "created_at": _np("when the erasure ran"),
        "result": _np("counts, and keyed hashes of the erased texts' Idempotency-Keys (a"
                      " retry under one is refused, never sent again)"),
    },
    "remote_deletions": {
        "id": ROW_ID,
        "resource": _np("message, call or recording"),
        "sid": _np("a Twilio SID whose content is already gone here; the row deletes"
                   " Twilio's copy and, kept for good, stops a repeated webhook from"
                   " storing a removed text or call again"),
        "action": _np("delete or redact"),
        "cause": _np("retention, erasure, extra_copy, orphan_callback or kept_pick"),
        "attempts": DELIVERY,
        "last_error": _np("Twilio's status and error code only, or why a kept pick waits"),
        "created_at": DELIVERY,
        "next_attempt_at": DELIVERY,
        "done_at": DELIVERY,
    },
    "api_keys": {
        "id": ROW_ID,
        "name": _np("a label for a system or team"),
        "role": _np("a role"),
        "key_hash": _np("SHA-256 of a staff or system key"),
        "created_at": _np("key lifecycle"),
        "revoked_at": _np("key lifecycle"),
    },
    "proxy_numbers": {
        "id": ROW_ID,
        "phone_number": PLATFORM_NUMBER,
        "country_code": PLATFORM_NUMBER,
        "area_code": PLATFORM_NUMBER,
        "sms": _np("capability"),
        "voice": _np("capability"),
        "mms": _np("capability"),
        "status": _np("pool state"),
        "created_at": _np("pool state"),
        "retired_at": _np("pool state"),
    },
}


def classification(table: str, column: str) -> Personal | NotPersonal | None:
    """How the registry classifies a column (None: not classified, which the test refuses)."""
    return REGISTRY.get(table, {}).get(column)


def personal_columns() -> list[tuple[str, str, Personal]]:
    """Every personal column as (table, column, entry), for docs and reviews."""
    return [(table, column, entry)
            for table, columns in REGISTRY.items()
            for column, entry in columns.items() if isinstance(entry, Personal)]
