"""Classify an inbound SMS as opt-out, opt-in, help request or ordinary conversation.

Runs on every inbound message, so everything is compiled at import and a call does a handful
of regex passes over a short normalised string. Standard library only.

Pipeline
--------
1. Normalise: NFKD and drop combining marks (accents optional), casefold, unify apostrophes,
   ``n't`` -> ``nt``, clause punctuation -> ``" | "``, every other non-word character (emoji,
   quotes, hyphens, apostrophes) -> space, then word-level typo/abbreviation folding
   (txt/texting -> ``text``, msgs -> ``message``, plz -> ``please``, stpo -> ``stop``,
   do not -> ``dont``, ...) and whitespace collapsing.
2. Whole-message keywords (Twilio's opt-out set plus French and Spanish, START/UNSTOP/YES,
   HELP/INFO/AIDE/AYUDA), allowing only courtesy words around them ("STOP please",
   "help?"). CANCEL/CANCELAR only count bare: "cancel please" is far more often about an
   appointment than about messages, and a false opt-out silences a customer.
3. Revocation in the sender's own words (en/fr/es): patterns that need a directive about
   *messaging* ("stop texting me", "remove me from your list", "ne m'écrivez plus",
   "no me manden más mensajes"), with guards against negation ("don't stop texting me"),
   third parties ("stop texting my husband"), nouns ("the bus stop") and time or condition
   limits ("don't text me before 8am", "stop texting me at night").
   A revocation beats every other reading.
"""
from __future__ import annotations

import enum
import re
import unicodedata

__all__ = ["Intent", "classify"]


class Intent(str, enum.Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    CONVERSATION = "conversation"


# --------------------------------------------------------------------------- normalisation

_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u02b9`\u00b4\u2032\uff07"})
_NT_RE = re.compile(r"n't\b")
_CLAUSE_RE = re.compile(r"\s*(?:[.!?;,:\n\r\u2026|]\s*)+")
_NONWORD_RE = re.compile(r"[^\w|]+|_+")
_BARS_RE = re.compile(r"\|(?: \|)+")

# Word-level folding: one regex, one named group per canonical form.
_FOLD_GROUPS: dict[str, tuple[str, str]] = {
    # group name: (replacement, pattern)
    "text": ("text", r"txt[sdn]?|txting|txtin|txtng|texting|textin|textn|textng|texing|textig"
                     r"|tetxing|tetx|texts|textos?|sms|smss|smses"),
    "message": ("message", r"msg[sz]?|msging|msgng|msges|mssgs?|messages|messaging|messagin"
                           r"|messageing|messeges|messege|mesages?|messges|mensajes?|mensajitos?"
                           r"|mensages|mesajes|mensjes|msjs?|mjs"),
    "stop": ("stop", r"stpo|sotp|stopp+|sto{3,}p+|stahp|sstop"),
    "please": ("please", r"plz+|pls+|plse|plez|pleaz|pleeze|ple+a+s+e+"),
    "dont": ("dont", r"dnt|doont|donot|do not"),
    "you": ("you", r"u|yu"),
    "your": ("your", r"ur|yur"),
    "anymore": ("anymore", r"any more|anymor"),
    "unsub": ("unsubscribe", r"unsub(?!st|tl)\w*|unsuscrib\w*|unsbscrib\w*|unscubscrib\w*"),
    "optout": ("opt out", r"optout"),
    "thanks": ("thanks", r"thx|thnx|thanx|tnx|tks|thks"),
}
_FOLD_RE = re.compile(
    r"\b(?:" + "|".join(f"(?P<{name}>{pat})" for name, (_, pat) in _FOLD_GROUPS.items())
    + r")\b"
)
_FOLD_REPL = {name: repl for name, (repl, _) in _FOLD_GROUPS.items()}


def _fold(m: re.Match[str]) -> str:
    return _FOLD_REPL[m.lastgroup]  # type: ignore[index]


def _normalise(text: str) -> str:
    s = text
    if not s.isascii():
        s = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", s)).translate(_APOSTROPHES)
    s = _NT_RE.sub("nt", s.casefold())
    s = _NONWORD_RE.sub(" ", _CLAUSE_RE.sub(" | ", s))
    s = _FOLD_RE.sub(_fold, s)
    s = " ".join(s.split())
    if "| |" in s:
        s = _BARS_RE.sub("|", s)
    return s.strip(" |")


# --------------------------------------------------------------------------- keywords

_COURTESY = (r"(?:please|thanks|thank you|thank you very much|thank you so much|thankyou|ty"
             r"|merci|merci beaucoup|svp|stp|s il vous plait|s il te plait|sil vous plait"
             r"|sil te plait|por favor|porfavor|porfa|xfa|xfavor|gracias|muchas gracias)")
_OPTOUT_WORDS = (r"(?:stop all|stopall|stop|unsubscribe|opt out|revoke|quit|end"
                 r"|arretez|arreter|arrete|arret|alto|baja|parar)")
# filler allowed next to an opt-out keyword: courtesy plus a few intensifiers ("stop now")
_OPTOUT_EXTRA = rf"(?:{_COURTESY}|now|right now|it|already|immediately|asap)"

_OPTOUT_KW_RE = re.compile(
    rf"(?:{_COURTESY} )*{_OPTOUT_WORDS}(?: (?:{_OPTOUT_EXTRA}|{_OPTOUT_WORDS}))*")
_CANCEL_KW_RE = re.compile(r"(?:cancel|cancelar)(?: (?:cancel|cancelar))*")
_OPTIN_KW_RE = re.compile(rf"(?:{_COURTESY} )*(?:start|unstop)(?: (?:{_COURTESY}|start|unstop))*")
_YES_KW_RE = re.compile(rf"(?:{_COURTESY} )*yes(?: (?:{_COURTESY}|yes))*")
_HELP_KW_RE = re.compile(
    rf"(?:{_COURTESY} )*(?:help|info|aide|ayuda)(?: (?:{_COURTESY}|help|info|aide|ayuda))*")

# "STOP. I never signed up for this": a bare strong keyword as its own clause, next to a
# clause that is plainly about unwanted messages.
_STRONG_CLAUSE_RE = re.compile(
    rf"(?:{_COURTESY} )*(?:stop all|stopall|stop|unsubscribe|opt out|revoke|arretez|arrete"
    rf"|arret)(?: (?:{_OPTOUT_EXTRA}|stop))*")
_UNWANTED_SIGNAL_RE = re.compile(
    r"\b(?:(?:never|dont remember|didnt|did not) (?:sign(?:ed)? up|subscribe[d]?|opt(?:ed)? in"
    r"|ask(?:ed)? for (?:this|these|it|them))|wrong number|who is this|whos this|who s this"
    r"|who are you|spam|scam|how did you get (?:my|this) number"
    r"|qui etes vous|c est qui|mauvais numero|quien es|quien eres|numero equivocado)\b")


# --------------------------------------------------------------------------- own words

_END = r"(?= \||$)"
_MSGN = r"(?:text|message|spam|notification|notifications|alert|alerts)"
_EN = [
    # stop/quit/cease + (sending me) + texting/messages/contacting
    r"\b(?:stop|quit|cease|halt)(?: (?:all|the|these|those|this|your|any|with|sending|send"
    r"|receiving|getting|me|us|more|(?:calling|emailing|calls) (?:and|or|n)"
    r"|(?:text|message)(?= (?:text|message)))){0,4}"
    r" (?:text|message|spam|spamming|harassing|contacting|contact|communication|communications"
    r"|communicating|notification|notifications|alert|alerts)\b"
    r"(?! (?:to )?(?:my|his|her|him|them|their|our)\b(?! (?:number|phone|cell|mobile)\b))",
    # don't / never (text|message|contact) me
    r"\b(?:dont|never|no longer)(?: ever| again| please)? (?:(?:call|phone|email) (?:or|and|n) )?"
    r"(?:text|message|contact|spam)(?: (?:or|and|n) (?:call|phone|email))?"
    r" (?:me|us|this number|my number)(?: (?:again|anymore|ever|ever again|at all|no more|please"
    r"|thanks|thank you|period|here|on this number|at this number|stop|going forward"
    r"|in the future))*" + _END,
    # don't send me (any more) texts
    r"\b(?:dont|never|no longer) send (?:me|us) (?:(?:any|anymore|more|these|those|your|such)"
    r" )*(?:text|message|spam)(?: (?:text|message))*(?: (?:again|anymore|ever|at all|please"
    r"|thanks|no more|going forward))*" + _END,
    # I don't want (to receive) (any more) texts
    r"\b(?:dont|no longer|never) (?:want|wish)(?: to (?:receive|get|have))?(?: (?:any|these"
    r"|those|your|more|this|anymore|all|such|further|future|promotional|marketing|text"
    r"|message))* " + _MSGN + r"\b",
    r"\b(?:dont|no longer|never) (?:want|wish) (?:you|anyone|y all) to (?:ever )?"
    r"(?:(?:text|message|contact) (?:me|us)|send (?:me|us) (?:(?:any|more) )*(?:text|message))"
    r"(?: (?:again|anymore|ever|at all|please|no more))*" + _END,
    r"\b(?:dont|no longer|never) (?:want|wish) to be (?:texted|text|contacted|messaged|message"
    r"|spammed)\b",
    # no more texts (at the start of a clause)
    r"(?:^|\| )(?:(?:please|ok|so|just|and|then|seriously|i said|i want) )*no more "
    + _MSGN + r"\b",
    # remove / take me off the list
    r"\b(?:remove|take|delete|drop|erase|get|unsubscribe|cross) (?:me|us|my number"
    r"|my phone number|my cell|my cell number|this number|my info|my information|my contact"
    r"|my details)(?: (?:off|from|out|of))+ (?:(?:the|your|this|that|all|these|those|any|ya"
    r"|yalls|my|every) )*(?:(?:text|message|mailing|contact|call|marketing|distribution"
    r"|messaging|subscriber|notification|spam|group|email|phone|calling) )*(?:list|lists|text"
    r"|message|contacts|database|db|system|thread|notification|notifications|records|file"
    r"|group)\b",
    r"\b(?:remove|unsubscribe|delete) (?:me|us|my number)(?: (?:please|now|thanks|thank you"
    r"|asap|immediately))*" + _END,
    r"\blose my number\b",
    r"\bunsubscribe\b",
    # opt (me) out [of the texts]
    r"\bopt (?:me |us |my number )?out(?:" + _END + r"| (?:please|now|thanks|thank you)\b"
    r"| (?:of|from) (?:(?:the|these|those|your|all|this|any|text|message|marketing|future) )*"
    r"(?:text|message|list|messaging|notification|notifications|alert|alerts|marketing"
    r"|promotion|promotions|communication|communications|contact)\b)",
    r"\bleave (?:me|us) alone\b",
    r"\b(?:i said|i told you|told you to|i asked you to|i ve asked you to|i already said)"
    r" (?:to )?(?:please )?stop(?:" + _END + r"| please| now| it| already)",
    r"\b(?:revoke|revoking|withdraw|withdrawing|rescind|rescinding) (?:my |all |any |our )?"
    r"(?:consent|permission|authorization|authorisation)\b",
]
_FR = [
    # arrêtez de m'envoyer des messages / arrête de me texter
    r"\b(?:arret\w*|cess\w*|stop\w*) (?:de|d) (?:(?:me |m |nous )?(?:texter|contacter|spammer"
    r"|harceler)|(?:me|m|nous) (?:ecrire|relancer|solliciter))\b",
    r"\b(?:arret\w*|cess\w*|stop\w*) (?:de|d) (?:me |m |nous )?envoyer(?: (?:(?:des|les|vos|ces"
    r"|de|d|tous|toutes|ce|cette) )*(?:message|text|notification|notifications|relance"
    r"|relances|pub|spam|alerte|alertes)\b|" + _END + ")",
    # arrêtez les SMS
    r"\b(?:arret\w*|stop\w*|cess\w*|fini|finis) (?:les|vos|ces|tes|des) (?:message|text"
    r"|notifications|relances|envois|spam)\b",
    # ne m'écrivez plus / ne m'envoyez plus de messages
    r"\bne (?:me |m |nous )(?:ecri\w*|contact\w*|text\w*|harcel\w*|relanc\w*) plus\b",
    r"\bne (?:me |m |nous )envoy\w* plus(?: (?:(?:de|d|aucun|aucune|jamais|de tels) )*"
    r"(?:message|text|notification|notifications|rien|pub|spam)\b|(?: (?:svp|merci|stp|jamais"
    r"|s il vous plait))*" + _END + ")",
    r"\bne plus (?:me |m |nous )(?:contacter|ecrire|texter|harceler|relancer|deranger"
    r"|envoyer (?:de |des |d )?(?:message|text))\b",
    # je ne veux plus recevoir de textos
    r"\bne (?:veux|veut|voulons|souhaite|souhaitons|desire|voudrais|souhaiterais) (?:plus|pas)"
    r"(?: (?:recevoir|avoir|de|d|vos|ces|les|aucun|aucune|des))* (?:message|text"
    r"|notification|notifications|pub|spam|sollicitation|sollicitations)\b(?! vocal)",
    r"\bne (?:veux|souhaite|desire|voudrais) plus (?:etre (?:contacte|sollicite|derange|relance)"
    r"|que (?:vous|tu|l on|on) (?:me |m |nous )(?:contact|ecriv|envoy|text|relanc)\w*)",
    # désabonnez-moi / je veux me désinscrire
    r"\b(?:desabonn|desinscri|desinscrir)\w*",
    # retirez-moi de la liste
    r"\b(?:retir|enlev|supprim|effac|ray|sort|radi)\w* (?:moi|mon numero|mon num|nous)"
    r" (?:de|du|des) (?:(?:la|votre|cette|vos|ta|tes|ces|le|l) )?(?:liste|listes|fichier"
    r"|base|contacts|repertoire|diffusion)\b",
    # plus de messages svp
    r"(?:^|\| )(?:(?:svp|merci|stp) )?(?:plus|pas|fini|assez) de (?:message|text"
    r"|notification|notifications)(?: (?:svp|merci|stp|s il vous plait))*" + _END,
    r"\blaisse[rz]? (?:moi|nous) tranquilles?\b|\bfiche[zr]? moi la paix\b",
    r"\b(?:retir|revoqu|annul)\w* (?:mon |le |tout )?consentement\b",
]
_ES = [
    # deja de enviarme mensajes / dejen de escribirme
    r"\b(?:deja|dejen|deje|dejar|dejes|para|paren|pare|parar|basta|cese|cesen) de"
    r" (?:(?:escribir|contactar|textear|spamear|acosar)(?:me|nos)\b|(?:enviar|mandar)(?:me|nos)?"
    r"(?: (?:(?:mas|tantos|tantas|los|las|sus|esos|esas|estos|estas|ese|este) )*(?:message|text"
    r"|notificaciones|spam|publicidad|promociones)\b|" + _END + "))",
    # no me envíen más mensajes / no me escriban más
    r"\bno (?:me |nos )(?:escrib|contact|text)\w*(?: (?:mas|nunca|jamas))?(?! (?:antes|despues"
    r"|hasta|a las|por la|en la|el|los))",
    r"\bno (?:me |nos )(?:envi|mand)\w*(?: (?:(?:mas|ningun|ninguno|ningunos|ninguna|ningunas"
    r"|tantos|sus|estos|esos|los|las) )*(?:message|text|notificaciones|nada|spam|publicidad)\b"
    r"| mas(?: (?:por favor|gracias))*" + _END + ")",
    # quiero darme de baja
    r"\b(?:darme|darnos|denme|deme|dame|dennos) de baja\b",
    r"\b(?:me|nos) (?:\w+ ){0,2}?(?:dar|den|de|das|dan|doy|damos) de baja\b",
    r"\bde baja (?:de|del) (?:(?:la|esta|su|sus|los|las) )?(?:lista|message|text"
    r"|notificaciones)\b",
    # bórrame de la lista
    r"\b(?:(?:borr|quit|sac|elimin|retir|remuev)\w*(?:me|nos)|(?:me|nos) (?:borr|quit|sac"
    r"|elimin|retir|remuev)\w*|(?:borr|quit|sac|elimin|retir|remuev)\w* (?:mi|este) numero)"
    r" (?:de|del) (?:(?:la|su|esta|tu|sus|esa|el|este|ese|sus) )?(?:lista|listas|base"
    r"|contactos|sistema|registro|difusion)\b",
    # ya no quiero recibir mensajes
    r"\bno (?:quiero|deseo|quisiera|queremos) (?:(?:recibir|tener|mas|ningun|ninguno|ningunos"
    r"|ninguna|estos|estas|esos|esas|sus|tus|los|las) )*(?:message|text|notificaciones"
    r"|publicidad|promociones|spam)\b(?! de voz)",
    r"\bno (?:quiero|deseo|quisiera|queremos) que (?:me|nos) (?:escrib|contact|text)\w*",
    r"(?:^|\| )(?:(?:ya|por favor) )?no mas (?:message|text|notificaciones|spam)\b(?! de voz)",
    r"\bbasta (?:ya )?(?:de|con) (?:(?:los|tantos|sus) )?(?:message|text|notificaciones|spam)\b",
    r"\b(?:dejame|dejenme|dejeme|dejanos|dejennos) (?:en paz|tranquil[oa]s?)\b",
    r"\b(?:desuscri|desinscrib|desabon)\w*",
    r"\b(?:revoc|retir|anul)\w* (?:mi |el )?(?:consentimiento|autorizacion)\b",
]
_REVOKE_RE = re.compile("|".join(f"(?:{p})" for p in _EN + _FR + _ES))

# Just before a match: negation, condition or a noun use of "stop" -> not a revocation.
_GUARD_BEFORE_RE = re.compile(
    r"(?:^|\s)(?:dont|never|didnt|not|doesnt|wont|no need to|if you|if u|if they|did you"
    r"|did they|n|ne|no|nunca|si|the|a|bus|next|last|first|one)"
    r"(?: (?:want|need|ask|tell) (?:you|them) to| please)? $")
# Just after a match in the same clause: a time or condition limit -> not a revocation.
_GUARD_AFTER_RE = re.compile(
    r"[^|]{0,40}?\b(?:before|after|until|till|til|unless|while|during|tonight|today|tomorrow"
    r"|this (?:week|morning|afternoon|evening|weekend)|for now|at night|so late|so early"
    r"|this late|this early|on weekends?|on the weekend|instead|antes|despues|hasta|mientras"
    r"|hoy|manana|esta (?:noche|semana|tarde)|por ahora|de noche|en la noche|avant|apres|jusqu"
    r"|pendant|ce soir|aujourd hui|demain|cette semaine|pour l instant|le soir|la nuit"
    r"|le week end)\b")
# Anywhere: the sender says it was a mistake.
_VETO_RE = re.compile(
    r"\b(?:by (?:accident|mistake)|accidentally|resubscribe|didnt mean to|did not mean to"
    r"|par erreur|sans faire expres|por error|sin querer)\b")


def _revocation(s: str) -> bool:
    for m in _REVOKE_RE.finditer(s):
        start = m.start()
        if start and _GUARD_BEFORE_RE.search(s, max(0, start - 30), start):
            continue
        if _GUARD_AFTER_RE.match(s, m.end()):
            continue
        return not _VETO_RE.search(s)
    return False


# --------------------------------------------------------------------------- public API

def classify(text: str | None, *, opted_out: bool = False) -> Intent:
    """Decide whether an inbound text is an opt-out, an opt-in, a help request, or conversation.

    ``opted_out`` is the sender's current state: a bare YES is an opt-in only for someone who
    has opted out; START and UNSTOP always are. Never raises; None or blank is conversation.
    """
    if not text:
        return Intent.CONVERSATION
    s = _normalise(text)
    if not s:
        return Intent.CONVERSATION
    words = s.replace(" |", "") if "|" in s else s
    if _OPTOUT_KW_RE.fullmatch(words) or _CANCEL_KW_RE.fullmatch(words):
        return Intent.OPT_OUT
    if _OPTIN_KW_RE.fullmatch(words):
        return Intent.OPT_IN
    if _YES_KW_RE.fullmatch(words):
        return Intent.OPT_IN if opted_out else Intent.CONVERSATION
    if _HELP_KW_RE.fullmatch(words):
        return Intent.HELP
    if _revocation(s):
        return Intent.OPT_OUT
    if "|" in s and _UNWANTED_SIGNAL_RE.search(s):
        for clause in s.split(" | "):
            if _STRONG_CLAUSE_RE.fullmatch(clause):
                return Intent.OPT_OUT
    return Intent.CONVERSATION
