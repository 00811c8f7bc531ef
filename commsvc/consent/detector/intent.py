"""What the detector says a text is: the intent and the language to answer in."""
from __future__ import annotations

import enum
from typing import NamedTuple


class Intent(enum.StrEnum):  # a str: Intent.OPT_OUT == "opt_out", str() gives the value
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    CONVERSATION = "conversation"


DEFAULT_LANGUAGE = "en"


class Detection(NamedTuple):
    """What a text is, and the language to answer it in ("en", "fr" or "es")."""

    intent: Intent
    language: str = DEFAULT_LANGUAGE
    # An opt-out said in the sender's own words rather than a keyword message: the text may
    # hold anything else they wrote (a name, an address), so it is no evidence to keep as is.
    own_words: bool = False


CONVERSATION = Detection(Intent.CONVERSATION)
