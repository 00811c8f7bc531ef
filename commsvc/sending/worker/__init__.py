"""The outbox worker: claim due messages, send them through Twilio, record what happened.

Invariants (see docs/sending.md for the trade-off):
- A row is claimed under `SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL), marked `sending`
  with a lease and a fresh `lease_token`, and committed before Twilio is called, so any number
  of workers share the queue and never hold the same row at once. A claimed row's
  `next_attempt_at` is its lease expiry: a worker that dies leaves a row that becomes due again.
- Consent (and, for marketing, the allowed hours) is checked again just before the send.
- `send_started_at` is committed before Twilio is called and cleared once the outcome is
  known. A row claimed while it is still set may already be at Twilio (crash, lost answer): it
  is reconciled with Twilio's message list (same to/from, sent since then, same body, a SID not
  already ours) and only resent when Twilio has no such message.
- An attempt spends one of the text's OUTBOX_MAX_ATTEMPTS as its outcome decides, once
  (_spends_an_attempt): `attempts` is then the count it was claimed with plus that decision.
  While a POST is in flight it counts as spent: a worker that dies in it, or whose answer a
  status callback overtakes, never reports an outcome.
- Results are written only by the worker that still holds the lease (`lease_token`), and never
  move a status backwards (a delivery callback may have arrived first).
- The lease is renewed from the clock's current time each time a row is taken up: a batch of
  slow sends outlasts the lease taken when it was claimed, and a row whose lease lapsed while
  it waited would otherwise be claimed by another worker while this one sends it.
- A SID Twilio gives for a row that is no longer here (an erasure removed it during the send)
  is queued for deletion at Twilio, never dropped; so is a lookup's pick for such a row,
  unless a text that stays may own it (picks.py).

Parts: sender (the Worker, which keeps these invariants), run (run_once: one pass), claims (a
pass's claimed texts and tally), refusals (Twilio's refusals that spend no attempt),
last_errors (the worker's words for a text not sent now). run_once, Worker, Counts,
BATCH_SIZE and NO_SENDER stay importable from here.
"""
from commsvc.sending.worker.claims import Counts
from commsvc.sending.worker.last_errors import NO_SENDER
from commsvc.sending.worker.run import BATCH_SIZE, run_once
from commsvc.sending.worker.sender import Worker

__all__ = ["BATCH_SIZE", "NO_SENDER", "Counts", "Worker", "run_once"]
