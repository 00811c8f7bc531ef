"""/v1/consent: current state, history, recording grants and revocations, and the hot check."""
from __future__ import annotations

from flask import current_app, g, request
from marshmallow import ValidationError
from werkzeug.routing import BaseConverter

from commsvc.api_docs import Blueprint, documented_as
from commsvc.auth.guard import current_principal, key_read, require
from commsvc.auth.service import Principal
from commsvc.auth.visibility import (
    audit_reasoned_read,
    present_phone,
    present_pool_number,
    present_text,
)
from commsvc.clock import isoformat
from commsvc.consent import decisions, service
from commsvc.consent import evidence as consent_evidence
from commsvc.consent.models import CHANNELS, PURPOSES, ConsentEvent
from commsvc.consent.schemas import (
    CheckQuerySchema,
    ConsentEventSchema,
    ConsentHeadersSchema,
    ConsentHistorySchema,
    ConsentStateSchema,
    ConsentWriteSchema,
    DecisionSchema,
    HistoryQuerySchema,
)
from commsvc.db.session import get_db
from commsvc.extensions import config as _config
from commsvc.extensions import now as _now
from commsvc.fields import phone_input
from commsvc.phones import mask
from commsvc.pool import service as pool_service
from commsvc.records.schemas import problems

blp = Blueprint("consent_views", __name__, description="Consent: state, history, check")

# Evidence keys that carry personal data beyond the phone itself (a message text, an IP):
# shown only to callers who see full numbers.
PRIVATE_EVIDENCE_KEYS = frozenset({"text", "ip", "forwarded_for"})
# Evidence keys that hold a pool number (the proxy number a STOP was texted to), in the events
# commsvc records itself; in a caller's evidence the same key may hold anyone's number.
POOL_NUMBER_EVIDENCE_KEYS = frozenset({"to"})


def _evidence_out(principal: Principal, event: ConsentEvent) -> dict:
    """The evidence as this caller may see it: numbers written in it by the person-number rule,
    the pool number commsvc wrote by the pool rule, private details only with full numbers."""
    pool_keys = POOL_NUMBER_EVIDENCE_KEYS if event.source in consent_evidence.SYSTEM_SOURCES else ()
    pool = {k: present_pool_number(principal, v) for k, v in (event.evidence or {}).items()
            if k in pool_keys and isinstance(v, str)}
    evidence = {k: v for k, v in (event.evidence or {}).items() if k not in pool}
    if not principal.sees_full_numbers:
        evidence = _without_private(evidence)
    return {**present_text(principal, evidence), **pool}


def _without_private(value):
    """The evidence without its private keys, at any depth: the booking app may nest them
    ({"form": {"ip": ...}}), and commsvc's own `received` is one level down."""
    if isinstance(value, dict):
        return {k: _without_private(v) for k, v in value.items()
                if k not in PRIVATE_EVIDENCE_KEYS}
    if isinstance(value, list):
        return [_without_private(item) for item in value]
    return value


def _event_out(principal: Principal, event: ConsentEvent) -> dict:
    return {
        "id": event.id, "phone": present_phone(principal, event.phone),
        "channel": event.channel, "purpose": event.purpose, "action": event.action,
        "source": event.source, "evidence": _evidence_out(principal, event),
        "created_at": isoformat(event.created_at),
    }


def _audit_read(db, principal: Principal, resource: str, phone: str, count: int) -> None:
    if principal.reason is None:
        return
    audit_reasoned_read(db, principal, resource=resource, query={"phone": mask(phone)},
                        count=count, now=_now())
    db.commit()


def _answer(decision: decisions.Decision) -> dict:
    return {"allowed": decision.allowed, "reason": decision.reason}


@blp.arguments(CheckQuerySchema, location="query")
@blp.response(200, DecisionSchema)
@problems(blp, 401, 403, 422)
def _parsed_check(args):
    """The check as flask-smorest runs a view: webargs loads the query with CheckQuerySchema
    (its 422 names every wrong argument), DecisionSchema writes the answer. It documents
    check_consent, and answers every query the quick reading does not take."""
    return _answer(decisions.check(
        get_db(), phone=args["phone"], channel=args["channel"], purpose=args["purpose"],
        now=_now(), marketing_requires_grant=_config().marketing_requires_grant))


_CHECK_PHONE = CheckQuerySchema().fields["phone"]


def _quick_check_query(query) -> tuple[str, str, str] | None:
    """(phone, channel, purpose) of a query of these three arguments and no other, each as
    CheckQuerySchema loads it; None for any other query, which the schema answers. webargs
    and marshmallow cost a tenth of a check's CPU, and nearly every check is such a query."""
    if len(query) != 3:
        return None
    phone, channel, purpose = query.get("phone"), query.get("channel"), query.get("purpose")
    if not phone or channel not in CHANNELS or purpose not in PURPOSES:
        return None
    try:
        return _CHECK_PHONE.deserialize(phone, "phone", query), channel, purpose
    except ValidationError:
        return None


def _state_with_key():
    """The guard's read_with_key: a quick query's consent state, read in the key lookup's
    statement (one round trip, one connection, a third of a check's CPU less); None for
    any other query, which is read after the guard as before."""
    query = g.check_query = _quick_check_query(request.args)
    if query is None:
        return None
    return decisions.STATE_WITH_KEY, dict(zip(("phone", "channel", "purpose"), query,
                                              strict=True))


@blp.route("/v1/consent/check", methods=["GET"])
@require("consent:read", reads_only=True, read_with_key=_state_with_key)
@documented_as(_parsed_check)
def check_consent():
    """May this phone be contacted on this channel for this purpose now."""
    query = g.check_query
    if query is None:
        return _parsed_check()
    decision = decisions.decide(query[2], key_read()[0], _config().marketing_requires_grant)
    # What flask-smorest answers for _parsed_check's dict: jsonify is current_app.json.response.
    return current_app.json.response(_answer(decision))


@blp.route("/v1/consent/<phone>", methods=["GET"])
@require("consent:read", reads_only=True)
@blp.response(200, ConsentStateSchema)
@problems(blp, 401, 403, 422)
def get_consent(phone):
    """The current state of every channel and purpose, and since when."""
    phone = phone_input(phone)
    db, principal = get_db(), current_principal()
    rows = decisions.current_state(
        db, phone, marketing_requires_grant=_config().marketing_requires_grant)
    _audit_read(db, principal, "consent_state", phone, len(rows))
    return {
        "phone": present_phone(principal, phone),
        "state": [{**row, "since": isoformat(row["since"])} for row in rows],
    }


class SubjectPhone(BaseConverter):
    """A phone in a consent path, never the word "check": POST /v1/consent/check is the check
    sent with the wrong method (405, Allow: GET), not a grant for a phone called "check"."""

    regex = r"(?!check$)[^/]+"


@blp.route("/v1/consent/<subject_phone:phone>", methods=["POST"])
@require("consent:write")
@blp.arguments(ConsentWriteSchema)
@blp.arguments(ConsentHeadersSchema, location="headers")
@blp.response(201, ConsentEventSchema)
@problems(blp, 401, 403, 405, 409, 422)
def post_consent(args, headers, phone):
    """Record a grant or a revocation: one new event (channel and purpose may be "all"); a
    retry under the same Idempotency-Key gets the event already recorded."""
    phone = phone_input(phone)
    db, principal = get_db(), current_principal()
    pool_service.refuse_active_pool_number(db, phone, " (a proxy number in the pool)")
    received = {"api_key_id": principal.key_id, "ip": request.remote_addr}
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded:
        received["forwarded_for"] = forwarded[:200]
    event = service.record_request(
        db, phone=phone, channel=args["channel"], purpose=args["purpose"],
        action=args["action"], source=args["source"],
        evidence={**(args["evidence"] or {}), consent_evidence.RECEIVED: received}, now=_now(),
        requested_by=principal.actor, idempotency_key=headers["idempotency_key"],
    )
    db.commit()
    return _event_out(principal, event)


@blp.route("/v1/consent/<phone>/history", methods=["GET"])
@require("consent:read", reads_only=True)
@blp.arguments(HistoryQuerySchema, location="query")
@blp.response(200, ConsentHistorySchema)
@problems(blp, 401, 403, 422)
def consent_history(args, phone):
    """Every event of this phone, oldest first (events are never changed or deleted)."""
    phone = phone_input(phone)
    db, principal = get_db(), current_principal()
    page = decisions.history(db, phone, cursor=args["cursor"], limit=args["limit"],
                           hmac_key=_config().hmac_key)
    _audit_read(db, principal, "consent_history", phone, len(page.rows))
    return {"data": [_event_out(principal, e) for e in page.rows],
            "next_cursor": page.next_cursor}
