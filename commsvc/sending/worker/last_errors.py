"""The worker's words, in a text's last_error, for why it was not sent now."""
from __future__ import annotations

KEY_MISSING = "the body's encryption key is not in this process's ENCRYPTION_KEYS"
NO_SENDER = "no number to send from that is not the recipient's masked line"
UNEXPECTED = "an unexpected error in the worker (its log has the traceback)"
