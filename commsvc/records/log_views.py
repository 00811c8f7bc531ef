"""GET /v1/logs/messages and /v1/logs/calls: the communication logs for ops, privacy and admin."""
from __future__ import annotations

from commsvc.api_docs import Blueprint
from commsvc.auth.guard import current_principal, require
from commsvc.db.session import get_db
from commsvc.extensions import config as _config
from commsvc.extensions import now as _now
from commsvc.records import log_presenters, logs_service
from commsvc.records.schemas import (
    CallLogQuery,
    CallPage,
    MessageLogQuery,
    MessagePage,
    ReasonHeader,
    problems,
)

blp = Blueprint("records_log_views", __name__, url_prefix="/v1/logs",
                description="Communication logs: masked for ops; full with X-Access-Reason "
                            "(privacy, admin), and then audited.")
FILTERS = ("phone", "session_id", "booking_id", "status", "direction", "since", "until")


def _list(kind: str, args: dict) -> dict:
    principal = current_principal()
    config = _config()
    now = _now()
    log_filter = logs_service.build_filter(kind, region=config.default_region,
                                           **{name: args.get(name) for name in FILTERS})
    db = get_db()
    page = logs_service.query_logs(
        db, kind, log_filter, limit=args["limit"], cursor=args.get("cursor"),
        hmac_key=config.hmac_key, retention=config.retention, now=now,
        with_content=principal.sees_full_numbers)
    # The reasoned read is audited before anything is shown: no event, no data.
    logs_service.audit_read(db, principal, kind, log_filter, page.rows, now)
    present = log_presenters.PRESENTERS[kind]
    data = [present(row, principal) for row in page.rows]
    db.commit()
    return {"data": data, "next_cursor": page.next_cursor}


@blp.route("/messages", methods=["GET"])
@require("logs:read", reads_only=True)
@blp.arguments(MessageLogQuery, location="query")
@blp.arguments(ReasonHeader, location="headers", as_kwargs=True)
@blp.response(200, MessagePage)
@problems(blp, 401, 403, 422)
def list_messages(args, **_reason):
    """Relayed messages and the platform's own sends (direction outbound, from the outbox),
    newest first; numbers masked and bodies null unless a reasoned full read."""
    return _list("messages", args)


@blp.route("/calls", methods=["GET"])
@require("logs:read", reads_only=True)
@blp.arguments(CallLogQuery, location="query")
@blp.arguments(ReasonHeader, location="headers", as_kwargs=True)
@blp.response(200, CallPage)
@problems(blp, 401, 403, 422)
def list_calls(args, **_reason):
    """Calls, newest first, with duration and recording reference; numbers masked likewise."""
    return _list("calls", args)
