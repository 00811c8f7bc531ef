"""The characters XML 1.0 cannot carry: TwiML is XML, and the twilio library writes them as
given (a NUL, an escape, a vertical tab), so an answer holding one is not XML and Twilio
refuses it. Control characters but tab, newline and carriage return; U+FFFE and U+FFFF; a lone
surrogate (an undecodable byte in an environment variable), which twilio's to_xml writes as a
character reference XML forbids too, and webhooks.twiml.xml (text, encoded as UTF-8 after)
could not encode at all."""
from __future__ import annotations

import re

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def first_not_xml(text: str) -> int | None:
    """The index of the first character of `text` XML 1.0 cannot carry, or None."""
    found = NOT_XML.search(text)
    return found.start() if found else None
