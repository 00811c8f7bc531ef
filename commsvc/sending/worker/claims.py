"""What a pass holds: the texts it claimed (Claim) and its tally (Counts)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class Counts:
    claimed: int = 0
    sent: int = 0
    simulated: int = 0
    reconciled: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    deferred: int = 0
    lost_lease: int = 0  # another worker took the text over: its lease had lapsed
    erased: int = 0  # an erasure removed the text while this worker held it

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Claim:
    """A text this worker claimed, under its token, and what it knew of it then."""

    id: str
    token: str
    uncertain: bool  # a previous attempt may have reached Twilio
    waiting_since: dt.datetime  # when it last came back to the queue: accepted, or refused
    attempts: int  # spent when claimed; only this worker's outcome changes that while it holds it
    lease_until: dt.datetime  # this worker's lease, as it last set it (claim, _held)
    erased: bool = False  # an erasure removed the text while this worker held it
