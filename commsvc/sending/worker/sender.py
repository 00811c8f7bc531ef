"""The Worker: claims due texts, sends each through Twilio, records what happened, and
when to try again. The invariants it keeps are in the package's docstring (__init__.py).
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from commsvc.config.settings import Config
from commsvc.crypto import UNAVAILABLE
from commsvc.errors import ServiceUnavailable
from commsvc.phones import mask
from commsvc.records import remote
from commsvc.records.erasure_ledger import erased_since
from commsvc.sending import quiet_hours, service
from commsvc.sending.models import OutboundMessage
from commsvc.sending.picks import RECONCILE_MARGIN, Pick, picked
from commsvc.sending.worker.claims import Claim, Counts
from commsvc.sending.worker.last_errors import KEY_MISSING, NO_SENDER, UNEXPECTED
from commsvc.sending.worker.refusals import SENDER_QUEUE_FULL, THROTTLED, UNAUTHORIZED
from commsvc.twilio_gateway import UNSUBSCRIBED, TwilioError

log = logging.getLogger("commsvc.sending.worker")
STATUS_CALLBACK_PATH = "/webhooks/twilio/message-status"


@dataclass
class Worker:
    """One pass's dependencies: a session, the gateway, settings, the time of the pass, and
    the clock that tells how long the pass has taken (None: the pass's time stands)."""

    db: Session
    gateway: object
    config: Config
    now: dt.datetime
    rng: random.Random = field(default_factory=random.Random)
    counts: Counts = field(default_factory=Counts)
    clock: Callable[[], dt.datetime] | None = None
    # Refusals about the sender met in this pass (_refused_already): a 401 under None (the
    # account: every request), a 21611 under its From number (that number's sends).
    refused: dict[str | None, TwilioError] = field(default_factory=dict)

    def _now(self) -> dt.datetime:
        """The time now: the clock's, for a pass outlasts its start by as long as its sends
        take (a batch of Twilio timeouts: minutes). A quiet-hours check, a Retry-After and a
        lease count from now, not from when the pass began."""
        return self.clock() if self.clock is not None else self.now

    def _lease_until(self) -> dt.datetime:
        return self._now() + dt.timedelta(seconds=self.config.outbox_lease_seconds)

    # ------------------------------------------------------------------ claiming

    def claim(self, limit: int) -> list[Claim]:
        """Take up to `limit` due rows (queued, scheduled, or a lapsed lease) and commit."""
        query = (
            select(OutboundMessage)
            .where(OutboundMessage.status.in_(service.DUE_STATUSES))
            .where(OutboundMessage.next_attempt_at <= self.now)
            .order_by(OutboundMessage.next_attempt_at)
            .limit(limit)
        )  # Uses index: ix_outbound_messages_status_next_attempt
        if self.db.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claims = []
        lease_until = self._lease_until()
        for row in self.db.scalars(query):
            claim = Claim(row.id, secrets.token_hex(16), row.send_started_at is not None,
                          row.updated_at, row.attempts, lease_until)
            if row.status == "sending":
                log.warning("%s: lease lapsed %s", row.id, "mid-send; reconciling with Twilio"
                            if claim.uncertain else "before its send began; sending")
            row.status, row.lease_token = "sending", claim.token
            row.lease_until = row.next_attempt_at = lease_until
            row.updated_at = self.now
            claims.append(claim)
        self.db.commit()
        self.counts.claimed += len(claims)
        return claims

    def _held(self, claim: Claim) -> OutboundMessage | None:
        """The row, locked, its lease renewed, if this worker still holds it (else None, and
        counted: blocked, when a revocation or an erasure blocked it within this worker's
        lease, which no other worker could take before it lapsed; erased, when an erasure
        removed it; else lost_lease)."""
        row = self.db.get(OutboundMessage, claim.id, with_for_update=True, populate_existing=True)
        if row is not None and row.lease_token == claim.token and row.status == "sending":
            row.lease_until = row.next_attempt_at = claim.lease_until = self._lease_until()
            return row
        blocked = row is not None and row.status == "blocked" \
            and row.updated_at < claim.lease_until
        why = row.last_error if blocked else None  # consent: revoked, or the erasure's words
        self.db.commit()
        if blocked:
            self.counts.blocked += 1
            log.info("%s blocked while this worker held it: %s", claim.id, why)
        else:
            self._gone(claim, row)
        return None

    def _gone(self, claim: Claim, row: OutboundMessage | None) -> None:
        """Count a text this worker no longer holds: erased (an erasure removed its row: only
        an erasure removes a text being sent, retention never takes one still due), or
        lost_lease (another worker took it over once this one's lease lapsed). Once each:
        a text counted erased may be met again (unexpected, after an error past the send)."""
        if row is None:
            if claim.erased:
                return
            claim.erased = True
            self.counts.erased += 1
            log.info("%s: removed by an erasure while this worker held it", claim.id)
        else:
            self.counts.lost_lease += 1

    def _release(self, row: OutboundMessage, status: str) -> None:
        row.status, row.updated_at = status, self._now()
        row.lease_token = row.lease_until = None

    def _block(self, row: OutboundMessage, last_error: str, why: str) -> None:
        """Never send it: blocked, with why, committed and counted."""
        self._release(row, "blocked")
        row.last_error = last_error
        self.db.commit()
        self.counts.blocked += 1
        log.info("%s blocked before sending: %s", row.id, why)

    # ------------------------------------------------------------------ one message

    def process(self, claim: Claim) -> None:
        if claim.uncertain and self._reconcile(claim):
            return  # else Twilio has no such message (claim.uncertain now False), or the
            # body could not be read to look for it (still True)
        row = self._held(claim)
        if row is None:
            return
        if self._blocked_before_sending(row, claim):
            return
        late = service.expired(row, self.config, self._now())
        if late:
            self._give_up(row, claim, late)
            return
        if row.purpose == "marketing":
            now = self._now()
            allowed_at = quiet_hours.next_allowed(row.to_phone, now, self.config)
            if allowed_at > now:
                self._release(row, "scheduled")
                row.scheduled_for = row.next_attempt_at = allowed_at
                self._settled(row, claim)
                self.db.commit()
                self.counts.deferred += 1
                return
        problem = transient = None
        try:
            row.from_phone = service.sender_now(self.db, row, self.config,
                                                unresolved=claim.uncertain)
        except ServiceUnavailable as exc:
            transient = (NO_SENDER, exc.detail)
        if transient is None and row.body is UNAVAILABLE:
            # The body is there, but this process lacks its key (ENCRYPTION_KEYS differs from
            # the web's, e.g. mid-rotation): waited out, so a fixed configuration or another
            # worker still sends it.
            transient = (KEY_MISSING, KEY_MISSING)
        if transient is not None:
            self._wait(row, *transient)
            return
        if row.body is None:
            problem = "body no longer available"  # retention or an erasure removed it
        elif row.attempts >= self.config.outbox_max_attempts:  # e.g. it crashed every worker
            problem = f"gave up after {row.attempts} attempts"
        if problem:
            self._give_up(row, claim, problem)
            return
        if self._refused_already(claim, row.from_phone, ambiguous=claim.uncertain):
            return
        row.attempts = claim.attempts + 1  # until the outcome decides (_failed_attempt)
        row.send_started_at = row.send_started_at or self._now()
        to, from_, body = row.to_phone, row.from_phone, row.body
        since, made = row.send_started_at, row.created_at
        self.db.commit()
        try:
            result = self.gateway.send_message(
                to=to, from_=from_, body=body, status_callback=self._callback_url(claim.id))
        except TwilioError as exc:
            # A network error or a 5xx (a 502 from Twilio's edge, a 500 after the write) may
            # leave the message at Twilio: the next attempt looks it up before sending again.
            ambiguous = exc.status is None or exc.status >= 500
            self._failed_attempt(claim, exc, ambiguous=ambiguous)
            if ambiguous and claim.erased:
                self._forget_erased_attempt(claim, since=since, to=to, from_=from_,
                                            body=body, made=made)
            return
        self._finish(claim, result.sid, simulated=result.simulated)

    def _forget_erased_attempt(self, claim: Claim, *, since: dt.datetime, to: str,
                               from_: str, body: str, made: dt.datetime) -> None:
        """An erasure removed the text while its send was in flight, and the answer was lost:
        no later attempt will look its copy up. Looked up now, with what this worker still
        has in hand, each copy found (the same body, to the same number, sent since the send
        began) is deleted at Twilio as the erased text's (forget_unheld_pick: unless another
        text holds it or a text that stays may own it). Twilio's list failing too, the copy
        is deleted when a status callback names it for the removed text."""
        try:
            found = self.gateway.find_messages(to=to, from_=from_,
                                               sent_after=since - RECONCILE_MARGIN)
        except TwilioError as exc:
            log.warning("%s: erased while its answer was lost, and Twilio's list failed too"
                        " (%s): a copy there goes when a status callback names it", claim.id,
                        exc)
            return
        now = self._now()
        for candidate in found:
            if candidate.get("body") == body:
                service.forget_unheld_pick(self.db, picked(
                    candidate["sid"], to, body, text_made=made, picked_at=now), now=now)
                log.info("%s: erased while its answer was lost; %s found at Twilio, queued"
                         " for deletion unless a text here holds or may own it", claim.id,
                         candidate["sid"])
        self.db.commit()

    def _give_up(self, row: OutboundMessage, claim: Claim, problem: str) -> None:
        """Never send it: failed, with why, committed and counted."""
        self._release(row, "failed")
        row.last_error = problem
        self._settled(row, claim)
        self.db.commit()
        self.counts.failed += 1
        log.warning("%s failed: %s", row.id, problem)

    def _blocked_before_sending(self, row: OutboundMessage, claim: Claim) -> bool:
        """The recipient was erased since the text was made, or consent no longer allows it
        (read now, under its row lock): blocked, with why, committed and counted (True)."""
        if erased_since(self.db, row.to_phone, row.created_at, self.config):
            # send_started_at stays: an earlier attempt may have reached Twilio
            self._block(row, service.ERASED_BEFORE_SENDING if row.send_started_at is None
                        else service.ERASED_AFTER_AN_ATTEMPT, "the recipient's data was erased")
            return True
        decision = service.check_consent(self.db, to=row.to_phone, purpose=row.purpose,
                                         config=self.config, now=self._now())
        if decision.allowed:
            return False
        self._settled(row, claim)
        self._block(row, f"consent: {decision.reason}", f"consent {decision.reason}")
        return True

    @staticmethod
    def _settled(row: OutboundMessage, claim: Claim) -> None:
        """Not sent now: no attempt is in flight any more, unless an earlier one whose answer
        was lost is still unresolved (the body could not be read to look it up at Twilio).
        Then send_started_at stays, so the next attempt reconciles before it sends and a
        late callback from Twilio may still move the row on."""
        if not claim.uncertain:
            row.send_started_at = None

    def _wait(self, row: OutboundMessage, why: str, detail: str) -> None:
        """Not sent now for a reason about the setup, not the text (no number to send from,
        the body's key missing): like a refused auth token, it counts no attempt and is tried
        again after _patience, until the text is too late (then process() fails it)."""
        # send_started_at stays: an earlier attempt may still have reached Twilio
        self._release(row, "queued")
        row.next_attempt_at = self._retry_at(row, self._patience(row, self._now()))
        row.last_error = why
        self.db.commit()
        self.counts.retried += 1
        log.error("%s: %s; retry at %s", row.id, detail, row.next_attempt_at)

    def _callback_url(self, message_id: str) -> str:
        return f"{self.config.public_base_url}{STATUS_CALLBACK_PATH}?o={message_id}"

    def _reconcile(self, claim: Claim) -> bool:
        """True when Twilio already has this message (recorded as sent) or the lease is gone."""
        row = self._held(claim)
        if row is None:
            return True
        to, from_, body, since = row.to_phone, row.from_phone, row.body, row.send_started_at
        own, made = row.twilio_sid, row.created_at
        self.db.commit()
        if own is not None:
            # Its own status callback (`?o=`, our URL) named its copy at Twilio, with a status
            # that moved nothing: it is sent. A lookup could take an identical text's copy,
            # listed first, for it: a guess where Twilio has given proof.
            self.counts.reconciled += 1
            log.info("%s: its status callback named %s; not resending", claim.id, own)
            self._finish(claim, own, simulated=self.gateway.simulated)
            return True
        if body is UNAVAILABLE:
            return False  # nothing to compare with: process() retries it, still uncertain
        if self._refused_already(claim, None, ambiguous=True):
            return True
        try:
            found = self.gateway.find_messages(to=to, from_=from_,
                                               sent_after=since - RECONCILE_MARGIN)
        except TwilioError as exc:
            self._failed_attempt(claim, exc, ambiguous=True)
            return True
        sids = [m["sid"] for m in found]
        known = set(self.db.scalars(  # SIDs other texts hold (this one holds none)
            select(OutboundMessage.twilio_sid).where(OutboundMessage.twilio_sid.in_(sids))
        )) if found else set()
        # ... and copies queued for deletion at Twilio: a second copy of another text (its
        # callback said so), or an erased text's. Taken, this text would count as sent by a
        # copy about to be deleted, and never be sent.
        known |= remote.messages_queued(self.db, sids, action=remote.DELETE)
        self.db.commit()
        for candidate in found:
            # The same body exactly: a text that merely starts with this one is another text
            # (its SID taken here would leave this one unsent and that one sent twice).
            if candidate.get("body") == body and candidate["sid"] not in known:
                self.counts.reconciled += 1
                log.info("%s: Twilio already had it as %s; not resending", claim.id,
                         candidate["sid"])
                self._finish(claim, candidate["sid"], simulated=self.gateway.simulated,
                             looked_up=picked(candidate["sid"], to, body, text_made=made,
                                               picked_at=self._now()))
                return True
        log.info("%s: Twilio has no such message; sending", claim.id)
        claim.uncertain = False
        return False

    def _finish(self, claim: Claim, sid: str, *, simulated: bool,
                looked_up: Pick | None = None) -> None:
        """Record `sid` for the claimed text: Twilio's answer to its send, its own callback's
        SID, or a lookup's pick (`looked_up`)."""
        row = self.db.get(OutboundMessage, claim.id, with_for_update=True, populate_existing=True)
        if row is None or row.lease_token != claim.token:
            # Erased meanwhile (Twilio's copy is queued for deletion), or another worker took
            # the text over: the SID is recorded as Twilio's status callback records it, so the
            # new holder sends nothing more, or this copy, if it sent one too, is deleted.
            # A lookup's pick is no proof: it takes no SID another text's callback named, and
            # for a text erased meanwhile it is deleted only if no text that stays may own it
            # (an identical text's, maybe held).
            service.apply_outbound_status(self.db, claim.id,
                                          "simulated" if simulated else "queued", None,
                                          self._now(), twilio_sid=sid, proof=not looked_up)
            if row is None and looked_up is not None:
                service.forget_unheld_pick(self.db, looked_up, now=self._now())
            self.db.commit()
            self._gone(claim, row)
            log.warning("%s: sent as %s after %s", claim.id, sid,
                        "an erasure removed it" if row is None else "losing the lease")
            return
        # Twilio's answer to this worker's own send is proof, as a status callback is: an
        # identical text whose lookup took this copy meanwhile gives it back, and is looked up
        # again (else the unique SID refused this one, sent again); a lookup's pick this text
        # holds (a stalled worker's) is left to the text it belongs to. A lookup's pick for a
        # text that holds a SID since (its callback named it) is no copy of it to delete.
        if not service.record_sid(self.db, row, sid, proof=not looked_up, now=self._now()) \
                and row.twilio_sid is None:
            # Another text's own callback or answer named the lookup's pick since (identical
            # texts), or its deletion was queued since (a second copy of another text): not
            # this one's copy. Still uncertain (send_started_at stays), it is
            # looked up again at once, spending nothing.
            self._release(row, "queued")
            row.next_attempt_at = self._now()
            self.db.commit()
            self.counts.retried += 1
            log.info("%s: %s turned out another text's; looking it up again", claim.id, sid)
            return
        status = "simulated" if simulated else "sent"
        if row.status == "sending":  # a delivery callback may already have moved it on
            row.status = status
        if row.status not in ("undelivered", "failed"):
            row.error_code = None  # an earlier attempt's; else Twilio's, from that callback
        now = self._now()
        row.sent_at = row.sent_at or now
        row.send_started_at, row.last_error = None, None
        row.lease_token = row.lease_until = None
        row.updated_at = now
        self.db.commit()
        if simulated:
            self.counts.simulated += 1
        else:
            self.counts.sent += 1
        log.info("%s %s to %s as %s", claim.id, status, mask(row.to_phone), sid)

    def _refused_already(self, claim: Claim, sender: str | None, *, ambiguous: bool) -> bool:
        """Whether Twilio refused, earlier in the pass, this process's credentials (401) or a
        send from `sender` for its full queue (21611; None: a lookup, which no queue holds
        up): then this text waits as that one does, and nothing is asked of Twilio, which
        would refuse it alike (a thousand queued texts were a thousand refusals a round)."""
        refusal = self.refused.get(None) or self.refused.get(sender)
        if refusal is None:
            return False
        self._failed_attempt(claim, refusal, ambiguous=ambiguous)
        return True

    def _spends_an_attempt(self, claim: Claim, exc: TwilioError | None) -> bool:
        """Whether a failed request, or an error no rule expects (exc None: a bug, which a
        deploy may fix), counts against the text's OUTBOX_MAX_ATTEMPTS: not a refusal about
        the sender or the moment (401, 21611, 429), nor a 5xx, network or unexpected error
        while Twilio took no text at all since this one's previous attempt (an outage, or a
        bug that meets every text: not a fault of the text). Those are retried until the text
        is too late (service.send_by)."""
        if exc is not None and (exc.status in (UNAUTHORIZED, THROTTLED)
                                or exc.code == SENDER_QUEUE_FULL):
            return False
        if exc is not None and not exc.retryable:
            return True
        return service.twilio_took_a_text_since(self.db, claim.waiting_since)

    def _failed_attempt(self, claim: Claim, exc: TwilioError, *, ambiguous: bool) -> None:
        """Retry (429, 5xx, network), else fail; 21610 also revokes consent.
        A failure that spends no attempt (_spends_an_attempt) is retried after _patience."""
        if exc.status == UNAUTHORIZED:
            self.refused[None] = exc
        row = self._held(claim)
        if row is None:
            return
        if exc.code == SENDER_QUEUE_FULL:
            self.refused[row.from_phone] = exc
        spends = self._spends_an_attempt(claim, exc)
        row.attempts = claim.attempts + spends  # a POST, a lookup or a refusal met in the pass
        row.error_code, row.last_error = exc.code or exc.status, str(exc)[:200]
        now = self._now()
        row.lease_token = row.lease_until = None
        row.updated_at = now
        # A network error or a 5xx can leave a send at Twilio unbeknown to us: reconcile next time.
        if not ambiguous:
            row.send_started_at = None
        retry = not spends or (exc.retryable and row.attempts < self.config.outbox_max_attempts)
        # Not past the send-by time either: a retry is never put off past it, so one due then
        # whose lookup Twilio refuses would otherwise come due again at once, every pass.
        late = service.expired(row, self.config, now) if retry else None
        if retry and late is None and not ambiguous and self._blocked_before_sending(row, claim):
            # Not at Twilio, so no longer left to the worker: a revocation or an erasure
            # recorded while the POST was in flight passed it over (service.block_on_revocation,
            # block_unsent), and it would wait `queued` for its retry after it.
            return
        if retry and late is None:
            row.status = "queued"
            row.next_attempt_at = self._retry_at(
                row, self.backoff(row.attempts, exc.retry_after) if spends
                else self._patience(row, now, exc.retry_after))
            self.counts.retried += 1
            log.log(logging.ERROR if exc.status == UNAUTHORIZED else logging.INFO,
                    "%s: %s; retry at %s (%d attempts spent%s)", claim.id, exc,
                    row.next_attempt_at, row.attempts, "" if spends else ", this one not")
        else:
            row.status = "failed"  # send_started_at stays after an ambiguous attempt
            row.last_error = late or row.last_error
            if exc.code == UNSUBSCRIBED:
                service.record_carrier_opt_out(self.db, row, detail=str(exc), now=now)
            self.counts.failed += 1
            log.warning("%s failed after %d attempts: %s", claim.id, row.attempts, exc)
        self.db.commit()

    def unexpected(self, claim: Claim) -> None:
        """An error no rule here expects (a bug, a surprise from a library) met while the text
        was taken up: it spends an attempt as a 5xx does (_spends_an_attempt: only if Twilio
        took another text since this one's previous attempt, else the bug meets every text
        and a deploy may fix it) and waits, or fails when out of attempts or time, so a text
        that meets it every time ends `failed` with why, never `sending` for good.
        send_started_at stays: a send begun may be at Twilio."""
        row = self._held(claim)
        if row is None:
            return
        spends = self._spends_an_attempt(claim, None)
        row.attempts = claim.attempts + spends
        now = self._now()
        late = service.expired(row, self.config, now)
        out_of_attempts = spends and row.attempts >= self.config.outbox_max_attempts
        self._release(row, "failed" if late or out_of_attempts else "queued")
        row.last_error = late or (f"gave up after {row.attempts} attempts: {UNEXPECTED}"
                                  if out_of_attempts else UNEXPECTED)
        if row.status == "queued":
            row.next_attempt_at = self._retry_at(row, self.backoff(row.attempts, None)
                                                 if spends else self._patience(row, now))
            self.counts.retried += 1
        else:
            self.counts.failed += 1
        self.db.commit()

    def _retry_at(self, row: OutboundMessage, delay: dt.timedelta) -> dt.datetime:
        """When to try again: after `delay`, but never past the text's send-by time, when it
        expires (on time, not a back-off later)."""
        return min(self._now() + delay, service.send_by(row, self.config))

    def _patience(self, row: OutboundMessage, now: dt.datetime,
                  retry_after: float | None = None) -> dt.timedelta:
        """The wait after a failure that counts no attempt (a refusal about the sender or the
        setup: 401, 21611, no number to send from, the body's key missing; an outage):
        between half and all of the time the text has waited since it was first due (within
        the back-off's base and cap), so the waits grow as a back-off's do; never sooner
        than Twilio's Retry-After."""
        waited = (now - service.first_due(row, self.config)).total_seconds()
        return self._not_before(self._jittered(waited), retry_after)

    def backoff(self, attempts: int, retry_after: float | None) -> dt.timedelta:
        """Exponential back-off with jitter, never sooner than Twilio's Retry-After."""
        # Doubled until it reaches the cap, no further: OUTBOX_MAX_ATTEMPTS has no ceiling,
        # base * 2**1024 is too large for a float, and a fixed number of doublings falls short
        # of the cap for a tiny base (1e-17 s: 64 of them, 184 s). ldexp never overflows here.
        base, cap = self.config.outbox_backoff_base_seconds, self.config.outbox_backoff_max_seconds
        doublings = min(max(attempts - 1, 0), math.ceil(math.log2(cap) - math.log2(base)))
        return self._not_before(self._jittered(math.ldexp(base, doublings)), retry_after)

    def _not_before(self, delay: float, retry_after: float | None) -> dt.timedelta:
        """`delay` seconds, or Twilio's Retry-After if longer (up to the back-off's cap)."""
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.outbox_backoff_max_seconds))
        return dt.timedelta(seconds=delay)

    def _jittered(self, ceiling: float) -> float:
        """Seconds to wait: between half and all of `ceiling`, itself kept within the back-off's
        base and cap (OUTBOX_BACKOFF_BASE_SECONDS, OUTBOX_BACKOFF_MAX_SECONDS), so that texts
        refused together do not all come back at once."""
        ceiling = min(self.config.outbox_backoff_max_seconds,
                      max(self.config.outbox_backoff_base_seconds, ceiling))
        return self.rng.uniform(ceiling / 2, ceiling)
