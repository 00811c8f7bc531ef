"""/v1/numbers: the proxy number pool (admin writes; booking, ops, privacy read; ops masked)."""
from __future__ import annotations

from flask import g

from commsvc.api_docs import Blueprint
from commsvc.auth.guard import require
from commsvc.auth.visibility import audit_reasoned_read, present_pool_number
from commsvc.clock import isoformat
from commsvc.db.session import get_db
from commsvc.extensions import config as _config
from commsvc.extensions import now as _now
from commsvc.fields import phone_input
from commsvc.pool import (
    metrics,  # noqa: F401  (registers the pool gauges on /metrics)
    service,
)
from commsvc.pool.models import ProxyNumber
from commsvc.pool.schemas import AddNumber, ListNumbersQuery, NumberOut, NumberPage
from commsvc.sessions.schemas import problems

blp = Blueprint("pool_views", __name__, description="The pool of proxy numbers")


def render(number: ProxyNumber, open_sessions: int) -> dict:
    """A pool number as the caller may see it (present_pool_number): in full to booking and
    admin, to privacy only with X-Access-Reason (an audited read); masked to ops and to privacy
    without a reason."""
    return {
        "phone_number": present_pool_number(g.principal, number.phone_number),
        "capabilities": number.capabilities,
        "status": number.status,
        "country_code": number.country_code,
        "area_code": number.area_code,
        "open_sessions": open_sessions,
        "created_at": isoformat(number.created_at),
        "retired_at": isoformat(number.retired_at),
    }


@blp.route("/v1/numbers", methods=["POST"])
@require("numbers:write")
@blp.arguments(AddNumber)
@blp.response(201, NumberOut)
@problems(blp, 400, 401, 403, 409, 422, 503)
def add_number(body):
    """Add a number to the pool (with "reactivate": true, bring a retired one back).

    409: the number is in the pool already (active, or retired without "reactivate"), or it is
    the phone of a participant in a session still on record, open or ended, or a person's
    with other data an export shows (erase that person's data first if the number changed
    hands).
    """
    db, now = get_db(), _now()
    added = service.add_number(db, phone_number=body["phone_number"],
                               capabilities=body["capabilities"], actor=g.principal.actor,
                               now=now, retention=_config().retention,
                               reactivate=body["reactivate"],
                               reason=g.principal.reason)
    number = added.number
    # A retired number brought back may still serve sessions opened before it was retired.
    counts = (service.open_session_counts(db, [number.phone_number], now)
              if added.reactivated else {})
    db.commit()
    return render(number, counts.get(number.phone_number, 0))


@blp.route("/v1/numbers", methods=["GET"])
@require("numbers:read", reads_only=True)
@blp.arguments(ListNumbersQuery, location="query")
@blp.response(200, NumberPage)
@problems(blp, 401, 403, 422)
def list_numbers(query):
    """The pool, in the order numbers were added, with how many open sessions use each."""
    db, now = get_db(), _now()
    page = service.list_numbers(db, now=now, status=query.get("status"), limit=query["limit"],
                                cursor=query.get("cursor"))
    filters = {"status": query["status"]} if "status" in query else {}
    audit_reasoned_read(db, g.principal, resource="numbers", query=filters,
                        count=len(page.rows), now=now)
    db.commit()
    return {"data": [render(row.number, row.open_sessions) for row in page.rows],
            "next_cursor": page.next_cursor}


@blp.route("/v1/numbers/<phone_number>", methods=["DELETE"])
@require("numbers:write")
@blp.response(200, NumberOut)
@problems(blp, 401, 403, 404, 422)
def retire_number(phone_number: str):
    """Retire a number: no new session gets it; open sessions keep it (idempotent)."""
    db, now = get_db(), _now()
    number = service.retire_number(db, phone_input(phone_number, "phone_number"),
                                   actor=g.principal.actor, now=now, reason=g.principal.reason)
    counts = service.open_session_counts(db, [number.phone_number], now)
    db.commit()
    return render(number, counts.get(number.phone_number, 0))
