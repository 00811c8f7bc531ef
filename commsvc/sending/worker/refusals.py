"""Twilio's refusals that are about this process's setup, the sender or the moment, never the
text: the worker counts no attempt for them (sender.Worker._spends_an_attempt).
"""
from __future__ import annotations

# Twilio refused this process's credentials (an auth token rotated in the console and not yet
# here, the wrong account): a setting to fix, not a fault of the text, so a corrected
# configuration still sends it.
UNAUTHORIZED = 401
# Twilio refused the text because the sender's queue at Twilio holds 10 hours of texts already
# (a marketing blast from one number at its one segment a second): a 400 about the moment, not
# the text, which goes once the queue drains.
SENDER_QUEUE_FULL = 21611
# Twilio throttled the account (20429: too many concurrent requests; it processed nothing): a
# refusal about the moment, which other texts going is what causes, never the text's fault.
THROTTLED = 429
