"""The one gate for /v1: authenticate the key, check the role's permission, read the reason."""
from __future__ import annotations

import functools

from flask import current_app, g, request

from commsvc.auth.roles import REASONED_ROLES, allows
from commsvc.auth.service import Principal, authenticate, authenticate_reading
from commsvc.db.session import autocommit_engine, get_db
from commsvc.errors import Forbidden, Unauthorized, ValidationFailed
from commsvc.fields import NO_ACCESS_REASON, reason_problem

REASON_HEADER = "X-Access-Reason"
# The names of the headers a request carried more than once (upper case, comma-separated), as
# gunicorn's pre_request (commsvc.gunicorn_conf) found them before the environ joined them.
REPEATED_HEADERS = "X-Commsvc-Repeated-Headers"


def current_principal() -> Principal:
    return g.principal


def _principal_from_request(*, reads_only: bool, read_with_key=None,
                            autocommit: bool = False) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized("Send Authorization: Bearer <api key>.")
    if "," in raw:  # no key has one: the server joined two Authorization headers with it
        raise Unauthorized("Send Authorization once: the request carried it more than once.")
    db = (autocommit_engine(reads_only=reads_only, autocommit=autocommit)
          or get_db(reads_only=reads_only, autocommit=autocommit))
    read = read_with_key() if read_with_key is not None else None
    if read is None:
        principal = authenticate(db, raw.strip())
    else:
        statement, values = read
        found = authenticate_reading(db, raw.strip(), statement, values)
        principal, g.key_read = found or (None, None)
    if principal is None:
        raise Unauthorized("The API key is unknown or revoked.")
    return principal


def require_key() -> Principal:
    """401 unless the request carries a live key (for what no view's `require` guards)."""
    return _principal_from_request(reads_only=True)


def _as_utf8(value: str) -> str:
    """A header value as the client wrote it. WSGI hands header bytes over decoded as ISO-8859-1
    (PEP 3333), so a UTF-8 "café" arrives as "cafÃ©". Bytes that are not UTF-8 become lone
    surrogates, as in a shell argument, which reason_problem refuses as it refuses --reason's:
    read as ISO-8859-1 they were a guess, kept for good in the audit trail."""
    try:
        return value.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # not from a WSGI server: characters past ISO-8859-1
        return value


def _reason(principal: Principal) -> str | None:
    if REASON_HEADER not in request.headers:
        return None
    if principal.role not in REASONED_ROLES:
        raise Forbidden(f"The {principal.role} role may not send {REASON_HEADER}.")
    if REASON_HEADER.upper() in request.headers.get(REPEATED_HEADERS, "").split(","):
        # As Authorization sent twice: two reasons are not one, and joined they would be
        # audited as a reason no one gave.
        raise ValidationFailed(errors={REASON_HEADER: [
            "send one reason: the request carried the header more than once"]})
    reason = _as_utf8(request.headers[REASON_HEADER]).strip()
    if problem := reason_problem(reason, empty=NO_ACCESS_REASON):
        raise ValidationFailed(errors={REASON_HEADER: [problem]})
    return reason


def key_read() -> tuple | None:
    """The columns the view's read_with_key read with the key; None when it read nothing."""
    return g.get("key_read")


def require(permission: str, *, reads_only: bool = False, reason_required: bool = False,
            read_with_key=None, one_statement: bool = False):
    """Guard a /v1 view: 401 without a live key, 403 when the role lacks the permission.

    reads_only=True: the view never writes, so its unit of work runs without a transaction
    (get_db(reads_only=True): no BEGIN/ROLLBACK round trips on PostgreSQL, no wait for a
    writer on SQLite), unless the request states a reason, whose audit record needs one.
    one_statement=True: the view's usual write is one statement, whole or nothing, and it
    opens a transaction itself for anything more: its unit of work runs without one
    (get_db(autocommit=True)), unless the request states a reason, as for reads_only.
    reason_required=True: the act must state why (X-Access-Reason), else 422.
    read_with_key: for a hot view, a function of the request giving (statement, values) for a
    read the key lookup's statement carries (service.live_key_reading), or None to read the
    key alone; its columns are the view's key_read() once the key is known live. Never
    run to answer before the guard: a key unknown or revoked still reads nothing.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            reasoned = REASON_HEADER in request.headers
            principal = _principal_from_request(
                reads_only=reads_only and not reasoned, read_with_key=read_with_key,
                autocommit=one_statement and not reasoned)
            if not allows(principal.role, permission):
                raise Forbidden(f"The {principal.role} role may not do this ({permission}).")
            # The edge checks of the request's input (commsvc.input_guard), wired by create_app:
            # only now, so that the answer without a valid key is a 401 and without the role a
            # 403, whatever the request carries.
            for check in current_app.extensions.get("edge_checks", ()):
                check()
            reason = _reason(principal)
            if reason_required and reason is None:
                raise ValidationFailed(
                    errors={REASON_HEADER: ["this request must state a reason"]})
            g.principal = Principal(principal.key_id, principal.name, principal.role, reason)
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        wrapped.reads_only = reads_only
        wrapped.reason_required = reason_required
        return wrapped

    return decorator
