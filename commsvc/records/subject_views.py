"""GET /v1/subjects/{phone}/export and POST /v1/subjects/{phone}/erase (privacy, admin).

Both require X-Access-Reason and are audited. The export shows the subject's own number in
full and every other real number masked (an export must not disclose another person's data);
the platform's numbers (the pool's, TWILIO_SENDER_NUMBER) are shown as they are, and an erased
number (a tombstone) is null, as in the session API.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from flask import current_app, stream_with_context
from marshmallow import Schema, fields

from commsvc import crypto
from commsvc.api_docs import Blueprint, problems
from commsvc.auth.guard import current_principal, require
from commsvc.auth.visibility import masked_throughout, present_number
from commsvc.clock import isoformat
from commsvc.db.session import get_db
from commsvc.fields import phone_input
from commsvc.records import subject_export, subjects
from commsvc.records.log_presenters import recording_reference

blp = Blueprint("records_subject_views", __name__, url_prefix="/v1/subjects",
                description="Everything held about one phone number: export and erasure "
                            "(privacy, admin; X-Access-Reason required; audited).")


class ExportDocument(Schema):
    subject = fields.Dict(metadata={"description": "the number, in full"})
    generated_at = fields.String()
    sessions = fields.List(fields.Dict(), metadata={
        "description": "sessions it took part in; the counterpart's number masked"})
    messages = fields.List(fields.Dict(), metadata={
        "description": "texts it sent or received, with bodies (null once past retention)"})
    calls = fields.List(fields.Dict())
    outbound_messages = fields.List(fields.Dict(), metadata={
        "description": "platform texts sent to it"})
    consent = fields.Dict(metadata={"description": "state and full history"})
    holds = fields.List(fields.Dict(), metadata={"description": "active holds covering it"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class ErasureResult(Schema):
    removed = fields.Dict(keys=fields.String(), values=fields.Integer())
    kept = fields.Dict(metadata={"description": "held: counts kept under a legal hold; "
                                                "consent_events: kept as evidence"})
    consent_revoked = fields.Dict(allow_none=True, metadata={
        "description": "the consent event the erasure appended (channel all, purpose"
                       " marketing, event_id) when a marketing grant was in force; else null"})
    reasons = fields.List(fields.String())


class _Numbers:
    """The subject's number and the platform's numbers in full, every other number masked,
    an erased one null (visibility.present_number, the API's rule)."""

    def __init__(self, subject: str, proxies: set[str]):
        self.kept = frozenset({subject, *proxies})
        self._shown: dict[str | None, str | None] = {}  # few numbers, each named many times

    def __call__(self, number: str | None) -> str | None:
        try:
            return self._shown[number]
        except KeyError:
            shown = self._shown[number] = present_number(number, full=number in self.kept)
            return shown


def _readable(value: str | None) -> str | None:
    """An encrypted value, or None when its key is gone (then *_unavailable says so)."""
    return None if value is crypto.UNAVAILABLE else value


def _media(raw: str | None):
    if raw is None or raw is crypto.UNAVAILABLE:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return [raw]  # stored before media lists were JSON


def _content(row, *columns: str) -> dict:
    """Body-like columns (stored tokens, decrypted here): null once past retention; null and
    flagged when the key is gone."""
    if not row.shown:
        return dict.fromkeys(columns)
    values = {column: crypto.opened(getattr(row, column)) for column in columns}
    data = {column: _readable(value) for column, value in values.items()}
    if any(value is crypto.UNAVAILABLE for value in values.values()):
        data["body_unavailable"] = True
    return data


def _message(row, show) -> dict:
    shown = row.shown
    content = _content(row, "body", "media_urls")
    # None stored means no media: an empty list (null is past retention, or unreadable).
    content["media_urls"] = [] if shown and not row.media_count else _media(content["media_urls"])
    return {"id": row.id, "session_id": row.session_id, "booking_id": row.booking_id,
            "direction": row.direction, "from": show(row.from_phone), "to": show(row.to_phone),
            "forwarded_to": show(row.forward_to), "forwarded_from": show(row.forward_from),
            "outcome": row.outcome, "status": row.status, "error_code": row.error_code,
            "twilio_sid": row.twilio_sid, "forward_sid": row.forward_sid,
            "reply_sid": row.reply_sid, "media_count": row.media_count, **content,
            "body_removed": not shown or row.body_removed_at is not None,
            "created_at": isoformat(row.created_at), "updated_at": isoformat(row.updated_at)}


def _call(row, show) -> dict:
    recording = recording_reference(row) if row.shown and row.recording_sid else None
    return {"id": row.id, "session_id": row.session_id, "booking_id": row.booking_id,
            "direction": row.direction, "from": show(row.from_phone), "to": show(row.to_phone),
            "forwarded_to": show(row.forward_to), "forwarded_from": show(row.forward_from),
            "outcome": row.outcome, "status": row.status, "twilio_sid": row.twilio_sid,
            "dial_sid": row.dial_sid, "duration_seconds": row.duration_seconds,
            "recording": recording, "created_at": isoformat(row.created_at),
            "updated_at": isoformat(row.updated_at)}


def _outbound(row, show) -> dict:
    return {"id": row.id, "to": show(row.to_phone), "from": show(row.from_phone),
            "purpose": row.purpose, "booking_id": row.booking_id, "status": row.status,
            "error_code": row.error_code,
            "last_error": masked_throughout(row.last_error, show.kept),
            **_content(row, "body"),
            # As a relayed message's: an outbox text always has a body until retention takes
            # it (then the row reads null), so null here is "removed", never "there was none".
            "body_removed": not row.shown or row.body is None,
            "twilio_sid": row.twilio_sid,
            "created_at": isoformat(row.created_at), "updated_at": isoformat(row.updated_at),
            "sent_at": isoformat(row.sent_at)}


def _session(session, mine, other, show, now) -> dict:
    # As the sessions API shows it: past expires_at it is expired (and ended then), swept yet
    # or not.
    return {"id": session.id, "booking_id": session.booking_id,
            "status": session.effective_status(now),
            "closed_reason": session.closed_reason, "mode": session.mode,
            "record_calls": session.record_calls, "created_at": isoformat(session.created_at),
            "expires_at": isoformat(session.expires_at),
            "closed_at": isoformat(session.effective_closed_at(now)),
            "role": mine.role, "phone": mine.phone, "proxy_number": mine.proxy_number,
            "counterpart": None if other is None else {
                "role": other.role, "phone": show(other.phone),
                "proxy_number": other.proxy_number}}


class _Each:
    """A list of the document written item by item as the answer is sent, never whole: its
    rows read as they are written."""

    def __init__(self, rows: Iterable, render: Callable[[object], dict]):
        self.rows, self.render = rows, render


def export_document(data: subject_export.SubjectData, now, db) -> dict:
    """The document; its texts, calls and outbox texts read from `db` (collect_subject's) as
    they are written."""
    show = _Numbers(data.phone, data.proxy_numbers)

    def each(query, render) -> _Each:
        return _Each(subject_export.rows(db, query), lambda row: render(row, show))

    return {
        "subject": {"phone": data.phone},
        "generated_at": isoformat(now),
        "sessions": [_session(s, mine, other, show, now) for s, mine, other in data.sessions],
        "messages": each(data.messages, _message),
        "calls": each(data.calls, _call),
        "outbound_messages": each(data.outbound, _outbound),
        "consent": {
            "state": [{**s, "since": isoformat(s["since"])} for s in data.consent_state],
            "history": [{"id": e.id, "channel": e.channel, "purpose": e.purpose,
                         "action": e.action, "source": e.source,
                         # Written by the booking app, it may name other people's numbers:
                         # masked by the export's rule (the subject's and ours stay).
                         "evidence": masked_throughout(e.evidence, show.kept),
                         "created_at": isoformat(e.created_at)}
                        for e in data.consent_history],
        },
        "holds": [{"id": h.id, "scope": h.scope,
                   "value": show(h.value) if h.scope == "phone" else h.value,
                   "placed_at": isoformat(h.created_at)} for h in data.holds],
        "counts": data.counts(),
    }


ROWS_A_WRITE = 200  # texts, calls or outbox texts rendered and sent at a time (~120 kB)


def _json_pieces(document: dict, encode: Callable[[object], str]) -> Iterator[str]:
    """The document's JSON as jsonify writes it (members in the app's JSON order, compact, a
    final newline), an _Each's items rendered and encoded ROWS_A_WRITE at a time."""
    yield "{"
    keys = sorted(document) if current_app.json.sort_keys else list(document)
    for n, key in enumerate(keys):
        value = document[key]
        yield ("," if n else "") + encode(key) + ":"
        if not isinstance(value, _Each):
            yield encode(value)
            continue
        yield "["
        rows, first = iter(value.rows), True
        while some := list(islice(rows, ROWS_A_WRITE)):
            # A compact list is its items' encodings joined by commas, within brackets.
            yield ("" if first else ",") + encode([value.render(row) for row in some])[1:-1]
            first = False
        yield "]"
    yield "}\n"


def _compact_encoder() -> Callable[[object], str]:
    """jsonify's encoding (the app's JSON settings, compact)."""
    provider = current_app.json
    return json.JSONEncoder(default=provider.default, ensure_ascii=provider.ensure_ascii,
                            sort_keys=provider.sort_keys, separators=(",", ":")).encode


@blp.route("/<phone>/export", methods=["GET"])
@require("subjects:export", reason_required=True)
@blp.response(200, ExportDocument)
@problems(blp, 401, 403, 422)
def export_subject(phone: str):
    """Everything held about the number as one document (other people's numbers masked)."""
    principal = current_principal()
    reason = principal.reason
    subject = phone_input(phone, recorded=True)
    ext = current_app.extensions
    now = ext["clock"]()
    db = get_db()
    # What the document shows is read from one snapshot (PostgreSQL: REPEATABLE READ; SQLite:
    # a read transaction, which holds no writer back), beside the request's unit of work, whose
    # audit event is committed before the first byte: a failure until then (every count, the
    # audit) is still a problem+json answer. The texts, calls and outbox texts are then read
    # from that snapshot as they are written, decrypted and sent, FETCH_ROWS and ROWS_A_WRITE
    # at a time: 200,000 texts are 110 MB of JSON and as many rows, neither held whole.
    reads = ext["db"].snapshot_beside(db)
    if reads is not db:
        # The guard's read of the key began the unit of work: on SQLite, BEGIN IMMEDIATE, the
        # write lock, which every other writer would wait on while the snapshot is read.
        db.commit()
    try:
        data = subject_export.collect_subject(reads, subject, config=ext["config"], now=now)
        subject_export.audit_export(db, data, now=now, actor=principal.actor, reason=reason)
        db.commit()
        pieces = _json_pieces(export_document(data, now, reads), _compact_encoder())
    except BaseException:
        reads.close()
        raise
    response = current_app.response_class(stream_with_context(pieces),
                                          mimetype=current_app.json.mimetype)
    # The snapshot's transaction (it only read) ends when the server closes the answer: read
    # to its end, cut midway (the client then gets a cut chunked body, never a short document
    # that reads as whole), or never read (a HEAD: the server sends no body and never starts
    # the pieces, so nothing in them would ever run).
    response.call_on_close(reads.close)
    return response


@blp.route("/<phone>/erase", methods=["POST"])
@require("subjects:erase", reason_required=True)
@blp.response(200, ErasureResult)
@problems(blp, 401, 403, 422)
def erase_subject(phone: str):
    """Erase the number's messages, calls and session participation, except what a legal
    hold keeps and the consent record; idempotent."""
    principal = current_principal()
    reason = principal.reason
    subject = phone_input(phone, recorded=True)
    ext = current_app.extensions
    db, now = get_db(), ext["clock"]()
    held_closed = subjects.stop_routing(db, subject, config=ext["config"], now=now,
                                        actor=principal.actor, reason=reason)
    begun = subjects.begin_erasure(db, subject, config=ext["config"], now=now,
                                   actor=principal.actor, reason=reason)
    db.commit()  # nothing more is routed to the person while the rest of the erasure runs
    batches = subjects.erase_in_batches(db, subject, now=now, entry=begun)
    result = subjects.erase_subject(db, subject, config=ext["config"], now=now,
                                    actor=principal.actor, reason=reason, held_closed=held_closed,
                                    clock=ext["clock"], removed_in_batches=batches, begun=begun)
    db.commit()
    ext["db"].checkpoint_deleted()
    return result
