"""What a phone or mail app adds to a text (a signature, a "Re:", a message quoted in reply), set
aside before reading it (pipeline step 0)."""
from __future__ import annotations

import re

# What a phone or mail app adds to a text, never the sender's words: a "Re:" before it, and
# after it a signature line ("--", "Sent from my iPhone", "Get Outlook for iOS") with what
# follows, or "- Sent from my Samsung" / "(sent from my Apple Watch)" ending its last line.
# Only devices and mail apps: "sent from my husband's phone" is the sender speaking. Every
# pattern is anchored and bounded, so a long text costs linear time.
_REPLY_PREFIX_RE = re.compile(
    r"(?i)(?:[ \t]{0,3}(?:re|reply|r[ée]p|resp|fwd?|tr)[ \t]{0,3}:[ \t]*)+")
_SENT_FROM = (r"(?:sent|envoy[ée]|enviado) (?:from|via|with|de|depuis|desde|con)"
              r" (?:my |mon |ma |mi |an? |un |une )?(?:iphone|ipad|samsung|galaxy|android"
              r"|apple watch|pixel|blackberry|mobile|smartphone|phone|cell|verizon|t-mobile"
              r"|sprint|at&t|motorola|lg|huawei|xiaomi|oneplus|nokia|yahoo mail|outlook|gmail"
              r"|aol|mail|t[ée]l[ée]phone|tel[ée]fono|m[oó]vil|celular|portable)\b")
# A signature line: anything after the device (an operator, a model) up to 100 characters.
_SIGNATURE_LINE_RE = re.compile(
    rf"(?i)(?:--|—|__|[-–—(]?[ \t]*{_SENT_FROM}[^\n]{{0,100}}|get outlook for [^\n]{{0,20}})")
# Ending the last line: only words after the device ("iPhone", "Samsung Galaxy S23"), so
# "Cancel - sent from my iPhone, the app crashed" keeps what the sender said after it.
_SIGNATURE_TAIL_RE = re.compile(
    rf"(?i)(?<![ \t])(?:[ \t]+[-–—][ \t]{{1,3}}{_SENT_FROM}[\w .-]{{0,30}}"
    rf"|[ \t]*\({_SENT_FROM}[\w .-]{{0,30}}\)[ \t]*)\Z")
# A business's signature block: a line of one to four capitalised words (a name, maybe after a
# dash), then the company with its legal form on the next line ("Stop\nMike Johnson\nJohnson
# Plumbing LLC", "Alto\nJuan Pérez\nPlomería Pérez S.A. de C.V."). The legal form tells it
# from the sender's words: a name alone after STOP is not set aside ("STOP\nMaria", "STOP -
# Mike" cannot be told from "Stop\nWait", "STOP - Gas Leak").
_NAME_LINE_RE = re.compile(r"(?:[-–—][ \t]*)?[A-ZÀ-ÖØ-Þ][\w'.-]*(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'.-]*){0,3}")
_COMPANY_LINE_RE = re.compile(
    r"(?:[\w&'.,-]+[ \t]+){1,6}(?i:llc|l\.l\.c\.|inc|inc\.|ltd|ltd\.|corp|corp\.|co\.|llp|pllc"
    r"|s\.a\.(?: de c\.v\.)?|s\.l\.|sarl|sas|eurl|lt[ée]e)")
# With no dash only after a single word, the whole message: "STOP sent from my iPhone", but
# not "Cancel all the texts sent from my phone by mistake" (the sender's own words).
_ONE_WORD_SIGNED_RE = re.compile(rf"(?i)[ \t]*(\w+)[!.]?[ \t]+{_SENT_FROM}[\w .-]{{0,30}}")

# A message the sender replies to, quoted with their own words: in quotation marks, three
# words or more, as the whole first part ('"Reminder: your visit is tomorrow at 9" - stop
# sending me these'), or as ">" lines before or after the reply ("> Reminder: ...\nSTOP").
# Only their own words are read; a quote with nothing else is read as it is ('"Reply STOP to
# opt out"' alone is conversation, a quoted instruction).
_QUOTE_FIRST_RE = re.compile(
    r'[ \t]*(?:"[^"\n]{1,300}"|“[^”\n]{1,300}”|«[^»\n]{1,300}»)[ \t]*(?:[-–—:>|]+[ \t]*)?'
    r"(?=\S)")
_QUOTE_OPENINGS = frozenset('"“«')


def _without_quote(text: str) -> str:
    """The sender's own words after a message quoted before them, if any."""
    head = text.lstrip()[:1]
    if head in _QUOTE_OPENINGS:
        quote = _QUOTE_FIRST_RE.match(text)
        if quote is not None and len(quote.group().split()) >= 3:
            return text[quote.end():]
    elif ">" in text and "\n" in text:  # the quote before or after the reply
        own = [line for line in text.split("\n") if not line.lstrip().startswith(">")]
        if "".join(own).strip():
            return "\n".join(own)
    return text


def without_signature(text: str) -> str:
    """The text without what the phone or mail app added: a "Re:", a quoted message, a
    signature and what follows it."""
    prefix = _REPLY_PREFIX_RE.match(text) if ":" in text[:8] else None
    if prefix is not None:
        text = text[prefix.end():]
    text = _without_quote(text)
    if "\n" in text:
        lines = text.split("\n")
        for i in range(1, len(lines)):
            line = lines[i].strip()
            if _SIGNATURE_LINE_RE.fullmatch(line):
                text = "\n".join(lines[:i])
                break
            if (i > 1 and _COMPANY_LINE_RE.fullmatch(line)
                    and _NAME_LINE_RE.fullmatch(lines[i - 1].strip())):
                text = "\n".join(lines[:i - 1])
                break
    lowered = text.lower()
    if "ent " in lowered or "nvoy" in lowered or "nviado" in lowered:
        one_word = _ONE_WORD_SIGNED_RE.fullmatch(text)
        text = one_word.group(1) if one_word else _SIGNATURE_TAIL_RE.sub("", text, count=1)
    return text
