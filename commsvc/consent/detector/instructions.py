"""A keyword quoted as an instruction ("Reply STOP to unsubscribe"), made one word no rule
knows, so that it is not read as said."""
from __future__ import annotations

import re

from commsvc.consent.detector.keywords import HELP_WORDS, OPTIN_WORDS, OPTOUT_WORDS, YES_WORDS

# A keyword quoted as an instruction, not said: "Reply STOP to unsubscribe" (a business's
# text forwarded or pasted, our own HELP text sent back), "I got a text saying reply STOP to
# opt out, was that you?", "Répondez STOP pour vous désabonner", "Envía BAJA al 12345". A
# reply verb with a keyword, or a send verb with a keyword and what it is for or where it goes
# ("text STOP to 12345"; "SMS stop" alone folds to "text stop" and is the sender's own).
# Only the imperative or infinitive: "I replied STOP" or "j'ai répondu STOP" reports an
# opt-out. The instruction, up to the end of its clause, becomes a word no rule knows, and
# the message is read as usual: "Reply STOP to unsubscribe" alone is conversation, a bare
# "STOP" still an opt-out, and so is "Reply STOP to opt out, my foot. Stop texting me"; but
# "STOP. Reply YES to confirm" is no bare STOP (the instruction is the sender's words too).
_REPLY_VERBS = ("reply respond repondez repondre reponds responde responda respondan responder"
                " contesta conteste contesten contestar").split()
_SEND_VERBS = ("text send envoyez envoie envoyer tapez taper envia envie envien enviar manda"
               " mande manden mandar escribe escriba escriban escribir").split()
_QUOTING_VERBS = "saying says said dit disait dice decia dijo".split()
# every keyword: the opt-out ones, those only bare, START, YES and HELP
_INSTRUCTED_KW = (rf"(?:{OPTOUT_WORDS}|cancel|cancelar|annuler|fin|{OPTIN_WORDS}|{HELP_WORDS}"
                  rf"|{YES_WORDS})")
# each word once: "back with" is "back" then "with" (see _NO_MORE)
_INSTRUCTION_LEAD = r"(?: (?:back|with|the|word|le|mot|par|con|la|palabra))*"
_INSTRUCTION_PURPOSE = r" (?:to|for|pour|para|a|au|aux|al)\b(?: [^ |]+)*"
# ... and the keywords it lists after it, each with its purpose: "Reply HELP for help, STOP to
# opt out", "Répondez AIDE pour de l'aide, STOP pour vous désabonner"
_INSTRUCTION_MORE = rf"(?: \| (?:or |ou |o )?{_INSTRUCTED_KW}{_INSTRUCTION_PURPOSE})*"
_INSTRUCTION_RE = re.compile(
    # not after "je": "je réponds STOP" says it, as "I'm replying STOP" does
    rf"(?<!\bje )\b(?:(?:{'|'.join(_REPLY_VERBS)}){_INSTRUCTION_LEAD} {_INSTRUCTED_KW}\b"
    rf"(?:{_INSTRUCTION_PURPOSE}{_INSTRUCTION_MORE})?"
    rf"|(?:{'|'.join(_SEND_VERBS)}){_INSTRUCTION_LEAD} {_INSTRUCTED_KW}{_INSTRUCTION_PURPOSE}"
    rf"{_INSTRUCTION_MORE}"
    # ... or a text reported as saying it, with what it is for: "a text saying STOP to opt out,
    # is that you?", "un texto qui dit STOP pour se désabonner", "un mensaje que dice BAJA para
    # cancelar"; not the sender's own saying ("I said STOP to opt out", "I'm saying STOP ...",
    # "Just saying STOP to opt out", "We're saying ..."): the text (it, that, qui, que) says it
    r"|(?:(?<=\btext )|(?<=\bmessage )|(?<=\breminder )|(?<=\breminders )|(?<=\bnumber )"
    r"|(?<=\bnotification )|(?<=\bemail )|(?<=\bit )|(?<=\bthat )|(?<=\bwhich )|(?<=\bqui )"
    # (the phone or its screen, and what keeps saying it: "My phone keeps saying STOP to
    # unsubscribe at the bottom of your texts", "your texts keep saying ..."; not "I keep saying
    # STOP to unsubscribe", the sender's own)
    r"|(?<=\bphone )|(?<=\bscreen )|(?<=\bit keeps )|(?<=\bphone keeps )|(?<=\btext keep )"
    r"|(?<=\bmessage keep )"
    r"|(?<=\bque ))"
    rf"(?:{'|'.join(_QUOTING_VERBS)}){_INSTRUCTION_LEAD} {_INSTRUCTED_KW}{_INSTRUCTION_PURPOSE}"
    rf"{_INSTRUCTION_MORE})")
# The words an instruction starts with: most texts have none and skip the regex.
_INSTRUCTION_VERBS = frozenset(_REPLY_VERBS + _SEND_VERBS + _QUOTING_VERBS)


def without_instructions(tokens: list[str]) -> list[str]:
    """`tokens` with each keyword quoted as an instruction (and the rest of its clause) made
    one word, "quoted"."""
    if _INSTRUCTION_VERBS.isdisjoint(tokens):
        return tokens
    return _INSTRUCTION_RE.sub("quoted", " ".join(tokens)).split()
