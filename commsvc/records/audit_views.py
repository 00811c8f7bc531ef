"""GET /v1/audit: the audit log for privacy and admin, newest first."""
from __future__ import annotations

from commsvc.api_docs import Blueprint
from commsvc.auth.guard import require
from commsvc.auth.service import as_actor
from commsvc.clock import isoformat
from commsvc.db.session import get_db
from commsvc.records import audit
from commsvc.records.schemas import AuditPage, AuditQuery, problems

blp = Blueprint("records_audit_views", __name__, url_prefix="/v1/audit",
                description="The hash-chained audit log of every privileged act.")


def present_event(event) -> dict:
    return {
        "id": event.id, "created_at": isoformat(event.created_at), "actor": event.actor,
        "action": event.action, "reason": event.reason, "target": event.target or {},
        "details": event.details or {}, "prev_hash": event.prev_hash, "hash": event.hash,
    }


@blp.route("", methods=["GET"])
@require("audit:read", reads_only=True)
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditPage)
@problems(blp, 401, 403, 422)
def list_audit(args):
    """Audit events, newest first, filtered by actor, action, since (inclusive), until."""
    since, until = args.get("since"), args.get("until")  # until after since: AuditQuery
    page = audit.list_events(get_db(), limit=args["limit"], cursor=args.get("cursor"),
                             actor=as_actor(actor) if (actor := args.get("actor")) else None,
                             action=args.get("action"),
                             since=since, until=until)
    return {"data": [present_event(e) for e in page.rows], "next_cursor": page.next_cursor}
