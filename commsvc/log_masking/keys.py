"""API keys and bearer credentials redacted wherever a client put them."""
from __future__ import annotations

import re

# An API key (commsvc.auth.service.KEY_PREFIX and its secret), wherever a client put it, its
# "_" URL-encoded too.
_API_KEY = re.compile(r"(?i)csk(?:[_-]|%5F)[A-Za-z0-9_%-]{4,}")


KEY_REDACTED = "csk:REDACTED"  # nothing mask_text would make plain ("_" or "*")


def redact_keys(text: str) -> str:
    """API keys (csk_..., whatever the case, "_" encoded too) and bearer credentials hidden."""
    lowered = text.lower()  # the patterns ignore case; so must the quick look
    if "csk" in lowered or "bearer" in lowered:
        text = _BEARER.sub(r"Bearer \1REDACTED", _API_KEY.sub(KEY_REDACTED, text))
    return text


# A token never holds a quote (RFC 6750's b64token): quotes around it stay.
_BEARER = re.compile(r"(?i)\bbearer(?:\s|%20|\+)+(['\"]?)(?!REDACTED)[^\s&;,)'\"]{8,}")
