"""The send gate: accept a platform text into the durable outbox, and follow its status.

Acceptance checks consent (sms, the message's purpose) and, for marketing, the recipient's
allowed hours; nothing is stored when consent refuses. The worker (worker/) does the sending.
Statuses:
  queued, scheduled -> sending -> sent | simulated -> delivered | undelivered | failed
  and, without reaching Twilio, blocked (consent revoked, or the recipient erased, before the
  send) or failed.
Statuses only move forward (STATUS_RANK); a delivery callback never moves one back.

Parts: acceptance (POST /v1/messages), reads (GET), statuses (the statuses and their order),
schedule (when a text is due, and its send-by time), senders (the number it goes from),
blocking (erasure and revocation block waiting texts), outcomes (Twilio's status callbacks,
copies to delete, carrier opt-outs). Every public name stays importable from here, and the
worker and the erasure read them here (tests patch check_consent and block_unsent here).
"""
from commsvc.sending.service.acceptance import (
    CONSENT_REFUSALS,
    PURPOSES,
    Accepted,
    accept,
    body_errors,
    check_consent,
    log_accepted,
    new_id,
)
from commsvc.sending.service.blocking import (
    BLOCKED_BY_REVOCATION,
    block_on_revocation,
    block_unsent,
)
from commsvc.sending.service.outcomes import (
    EXTRA_COPY,
    apply_outbound_status,
    forget_unheld_pick,
    forget_unheld_send,
    on_status_callback,
    record_carrier_opt_out,
    record_sid,
)
from commsvc.sending.service.reads import get, get_visible
from commsvc.sending.service.schedule import (
    MAX_DELAY_SETTINGS,
    accepted_as,
    expired,
    first_due,
    send_by,
)
from commsvc.sending.service.senders import choose_sender, sender_now
from commsvc.sending.service.statuses import (
    DUE_STATUSES,
    ERASED_AFTER_AN_ATTEMPT,
    ERASED_BEFORE_SENDING,
    STATUS_RANK,
    TAKEN_STATUSES,
    TWILIO_STATUSES,
    twilio_took_a_text_since,
)

__all__ = [
    "Accepted",
    "BLOCKED_BY_REVOCATION",
    "CONSENT_REFUSALS",
    "DUE_STATUSES",
    "ERASED_AFTER_AN_ATTEMPT",
    "ERASED_BEFORE_SENDING",
    "EXTRA_COPY",
    "MAX_DELAY_SETTINGS",
    "PURPOSES",
    "STATUS_RANK",
    "TAKEN_STATUSES",
    "TWILIO_STATUSES",
    "accept",
    "accepted_as",
    "apply_outbound_status",
    "block_on_revocation",
    "block_unsent",
    "body_errors",
    "check_consent",
    "choose_sender",
    "expired",
    "first_due",
    "forget_unheld_pick",
    "forget_unheld_send",
    "get",
    "get_visible",
    "log_accepted",
    "new_id",
    "on_status_callback",
    "record_carrier_opt_out",
    "record_sid",
    "send_by",
    "sender_now",
    "twilio_took_a_text_since",
]
