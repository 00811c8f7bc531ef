"""POST/GET /v1/holds and DELETE /v1/holds/{id}: legal holds, for privacy and admin."""
from __future__ import annotations

from functools import partial

from flask import current_app

from commsvc.api_docs import Blueprint
from commsvc.auth.guard import current_principal, require
from commsvc.auth.visibility import (
    audit_reasoned_read,
    present_phone,
    present_pool_number,
    present_text,
)
from commsvc.clock import isoformat
from commsvc.db.session import get_db
from commsvc.extensions import config as _config
from commsvc.extensions import now as _now
from commsvc.pool import service as pool_service
from commsvc.records import holds, subjects
from commsvc.records.schemas import (
    HoldCreate,
    HoldLifted,
    HoldListQuery,
    HoldOut,
    HoldPage,
    problems,
)

blp = Blueprint("records_hold_views", __name__, url_prefix="/v1/holds",
                description="Legal holds: data they cover survives retention and erasure.")


def _present_holds(db, rows: list, principal) -> list[dict]:
    """Holds as the caller may see them: a held phone that is a pool number by the pool rule."""
    pool = pool_service.pool_numbers_among(db, [h.value for h in rows if h.scope == "phone"])
    return [present_hold(hold, principal, pool) for hold in rows]


def present_hold(hold, principal, pool_numbers: set[str]) -> dict:
    """A held phone and any number written in the reason, shown as the caller may see them."""
    value = hold.value
    if hold.scope == "phone":
        present = present_pool_number if value in pool_numbers else present_phone
        value = present(principal, value)
    return {
        "id": hold.id, "scope": hold.scope, "value": value,
        "reason": present_text(principal, hold.reason),
        "active": hold.lifted_at is None, "created_by": hold.created_by,
        "created_at": isoformat(hold.created_at), "lifted_at": isoformat(hold.lifted_at),
        "lifted_by": hold.lifted_by,
    }


@blp.route("", methods=["POST"])
@require("holds:manage")
@blp.arguments(HoldCreate)
@blp.response(201, HoldOut)
@problems(blp, 401, 403, 422, 503)
def place_hold(body):
    """Place a hold on a phone, a session or a booking (it may come before their data)."""
    principal = current_principal()
    db = get_db()
    hold = holds.place_hold(db, scope=body["scope"], value=body["value"], reason=body["reason"],
                            actor=principal.actor, now=_now())
    db.commit()
    return _present_holds(db, [hold], principal)[0]


@blp.route("", methods=["GET"])
@require("holds:manage")
@blp.arguments(HoldListQuery, location="query")
@blp.response(200, HoldPage)
@problems(blp, 401, 403, 422)
def list_holds(args):
    """Holds in force, newest first (include_lifted=true for all)."""
    principal, db = current_principal(), get_db()
    page = holds.list_holds(db, limit=args["limit"], cursor=args.get("cursor"),
                            include_lifted=args["include_lifted"])
    data = _present_holds(db, page.rows, principal)
    audit_reasoned_read(db, principal, resource="holds",
                        query={"include_lifted": args["include_lifted"]},
                        count=len(page.rows), ids=[hold.id for hold in page.rows], now=_now())
    db.commit()
    return {"data": data, "next_cursor": page.next_cursor}


@blp.route("/<string:hold_id>", methods=["DELETE"])
@require("holds:manage")
@blp.response(200, HoldLifted)
@problems(blp, 401, 403, 404, 503)
def lift_hold(hold_id):
    """Lift a hold: what it alone kept of people erased while it was in force is erased now
    (`erased_again`); the rest of its data is eligible for retention at the next run."""
    principal, db, now = current_principal(), get_db(), _now()
    release = partial(subjects.erase_released, db, config=_config(), now=now,
                      actor=principal.actor, reason=principal.reason)
    hold, lifted_now, released = holds.lift_hold(db, hold_id, actor=principal.actor, now=now,
                                                 config=_config(), reason=principal.reason,
                                                 release=release)
    if not lifted_now:  # no hold.lifted names this look at it: a reasoned one is a read
        audit_reasoned_read(db, principal, resource="holds", query={"hold_id": hold.id},
                            count=1, ids=[hold.id], now=now)
    db.commit()
    if released and released["subjects"]:
        current_app.extensions["db"].checkpoint_deleted()
    return {**_present_holds(db, [hold], principal)[0], "erased_again": released}
