"""Roles and what each may do. Deny by default: a permission not listed is refused."""
from __future__ import annotations

ROLES = ("booking", "ops", "privacy", "admin")

# messages:read: a platform text is a row of the communication logs (masked, no body for ops).
_OPS = frozenset({"sessions:read", "numbers:read", "consent:read", "logs:read", "messages:read"})
_PRIVACY = _OPS | {"pii:read", "subjects:export", "subjects:erase", "holds:manage", "audit:read"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "booking": frozenset({
        "sessions:read", "sessions:write", "consent:read", "consent:write",
        "messages:send", "messages:read", "numbers:read",
    }),
    "ops": _OPS,
    "privacy": frozenset(_PRIVACY),
    "admin": frozenset(),  # admin may do everything; see allows()
}

# Roles that may send X-Access-Reason to see full numbers and bodies.
REASONED_ROLES = frozenset({"privacy", "admin"})
# Roles that see participants' full numbers without a reason (they made the sessions).
FULL_NUMBER_ROLES = frozenset({"booking"})
# Roles that see pool (proxy) numbers in full without a reason: booking tells its users which
# number to text; admin manages the pool.
POOL_NUMBER_ROLES = frozenset({"booking", "admin"})


def allows(role: str, permission: str) -> bool:
    if role == "admin":
        return True
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
