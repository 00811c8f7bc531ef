"""Classify an inbound SMS as opt-out, opt-in, help request or ordinary conversation.

Runs on every inbound message: standard library only, everything compiled at import, about
10 µs of CPU for a 40-character message.

Pipeline
--------
1. Tokens: NFKD with combining marks dropped (accents optional), casefold, apostrophes
   unified, ``n't`` -> ``nt``; clause punctuation becomes a ``|`` token, every other
   non-word character (emoji, quotes, hyphens, apostrophes) a space; then typo and
   abbreviation folding word by word (txt/texting -> ``text``, msgs/mensajes -> ``message``,
   plz -> ``please``, stpo/stoooop -> ``stop``, do not -> ``dont``, unsubcribe ->
   ``unsubscribe``, ...).
2. Whole-message keywords: Twilio's opt-out set plus French and Spanish, START/UNSTOP/YES,
   HELP/INFO/AIDE/AYUDA, with only courtesy words around them ("STOP please", "help?").
   CANCEL/CANCELAR only count bare: "cancel please" is more often about an appointment
   than about messages, and a false opt-out silences a customer.
3. Revocation in the sender's own words (en/fr/es): patterns that need a directive about
   *messaging* ("stop texting me", "remove me from your list", "ne m'écrivez plus",
   "no me manden más mensajes"), each tried only at the words it can start with, with
   guards against negation ("don't stop texting me"), other people or numbers ("stop
   texting my husband", "text my wife instead"), nouns ("the bus stop"), time or frequency
   limits ("don't text me before 8am", "stop texting me every hour") and mistakes
   ("I unsubscribed by accident"). A revocation beats every other reading.
4. A bare STOP as its own sentence next to a plain complaint about the messages
   ("STOP. I never signed up for this", "Stop! Who is this?").
"""
from __future__ import annotations

import enum
import re
import unicodedata

__all__ = ["Intent", "classify"]


class Intent(enum.StrEnum):  # a str: Intent.OPT_OUT == "opt_out", str() gives the value
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    CONVERSATION = "conversation"


# --------------------------------------------------------------------------- normalisation

_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u02b9`\u00b4\u2032\uff07"})
# ASCII in one translate: clause punctuation -> " | ", every other non-alphanumeric -> " ".
_ASCII_TABLE = str.maketrans({
    chr(c): (" | " if chr(c) in ".!?;,:\n\r|" else " ")
    for c in range(128) if not chr(c).isalnum()
})
_NONWORD_RE = re.compile(r"[^\w|]+|_+")  # what is left after the table: emoji, symbols

# Word-level folding of typos and abbreviations, applied token by token (dict look-up; a
# regex only for elongations such as "stoooop", "pleeease", "unsubscribeee").
_FOLD_WORDS: dict[str, str] = {
    variant: canonical
    for canonical, variants in {
        "text": "txt txts txtd txtn txting txtin txtng texting textin textn textng texing textig"
                " tetxing tetx texts texto textos sms smss smses",
        "message": "msg msgs msgz msging msgng msges mssg mssgs messages messaging messagin"
                   " messageing messeges messege mesage mesages messges mensaje mensajes"
                   " mensajito mensajitos mensages mesajes mensjes msj msjs mjs",
        "stop": "stop stpo sotp stahp sstop",
        "please": "please plse plez pleaz pleeze",
        "dont": "dont dnt doont donot",
        "you": "u yu",
        "your": "ur yur",
        "anymore": "anymor",
        "opt out": "optout",
        "thanks": "thx thnx thanx tnx tks thks",
    }.items()
    for variant in variants.split()
}
_FOLD_PREFIXES = ("sto", "pl", "uns")
_FOLD_PATTERN_RE = re.compile(
    r"(?P<stop>stopp+|sto{3,}p+)|(?P<please>plz+|pls+|ple+a+s+e+)"
    r"|(?P<unsubscribe>unsub(?!st|tl)\w*|unsuscrib\w*|unsbscrib\w*|unscubscrib\w*)")


def _tokens(text: str) -> list[str]:
    """Lowercase, accent-free, folded words; ``|`` marks a clause break (never twice running,
    never first or last)."""
    s = text
    if s.isascii():
        s = s.lower()
    else:
        s = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", s)).translate(_APOSTROPHES)
        s = s.casefold()
    if "n't" in s:
        s = s.replace("n't", "nt")
    s = s.translate(_ASCII_TABLE)
    if not s.isascii():
        s = _NONWORD_RE.sub(" ", s)
    out: list[str] = []
    get = _FOLD_WORDS.get
    for token in s.split():
        if token == "|":
            if out and out[-1] != "|":
                out.append(token)
            continue
        folded = get(token)
        if folded is None:
            folded = token
            if token.startswith(_FOLD_PREFIXES):
                m = _FOLD_PATTERN_RE.fullmatch(token)
                if m is not None:
                    folded = m.lastgroup  # type: ignore[assignment]
            elif out:  # two-word forms: "do not" -> dont, "any more" -> anymore
                if token == "not" and out[-1] == "do":
                    out[-1] = "dont"
                    continue
                if token == "more" and out[-1] == "any":
                    out[-1] = "anymore"
                    continue
        out.append(folded)
    if out and out[-1] == "|":
        out.pop()
    return out


def _normalise(text: str) -> str:
    """The normalised text the patterns run on: tokens joined by single spaces."""
    return " ".join(_tokens(text))


# --------------------------------------------------------------------------- keywords

_COURTESY = (r"(?:please|thanks|thank you|thank you very much|thank you so much|thankyou|ty"
             r"|merci|merci beaucoup|svp|stp|s il vous plait|s il te plait|sil vous plait"
             r"|sil te plait|por favor|porfavor|porfa|xfa|xfavor|gracias|muchas gracias)")
_OPTOUT_WORDS = (r"(?:stop all|stopall|stop|unsubscribe|opt out|revoke|quit|end"
                 r"|arretez|arreter|arrete|arret|alto|baja|parar)")
# filler allowed next to an opt-out keyword: courtesy plus a few intensifiers ("stop now")
_OPTOUT_EXTRA = rf"(?:{_COURTESY}|now|right now|it|already|immediately|asap)"

_OPTOUT_KW_RE = re.compile(
    rf"(?:no thanks |no thank you |not interested )?(?:{_COURTESY} )*{_OPTOUT_WORDS}"
    rf"(?: (?:{_OPTOUT_EXTRA}|{_OPTOUT_WORDS}))*")
_SPELLED_RE = re.compile(r"\w(?: \w){2,}")
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
    r"|who are you|not interested|spam|scam|harass\w*|how did you get (?:my|this) number"
    r"|keep (?:text|message|texting|messaging|contacting|spamming) (?:me|us)"
    r"|why (?:am i|do i keep|do you keep|are you) (?:getting|receiving|sending|text|message)"
    r"|qui etes vous|c est qui|mauvais numero|quien es|quien eres|numero equivocado)\b")


# --------------------------------------------------------------------------- own words

_END = r"(?= \||$)"
_MSGN = r"(?:text|message|spam|notification|notifications|alert|alerts)"
_EN: list[tuple[str, str]] = [
    # stop/quit/cease + (sending me) + texting/messages/contacting
    ("stop quit cease halt",
     r"\b(?:stop|quit|cease|halt)(?: (?:all|the|these|those|this|your|any|with|sending|send"
     r"|receiving|getting|me|us|more|promotional|marketing|automated|spam"
     r"|(?:calling|emailing|calls) (?:and|or|n)"
     r"|(?:text|message)(?= (?:text|message)))){0,4}"
     r" (?:text|message|spam|spamming|harassing|contacting|contact|communication|communications"
     r"|junk|crap|garbage"
     r"|communicating|notification|notifications|alert|alerts)\b"
     r"(?! (?:to )?(?:my|his|her|him|them|their|our|the|that)\b"
     r"(?! (?:number|phone|cell|mobile)\b))"),
    # don't / never (text|message|contact) me
    ("dont never no",
     r"\b(?:dont|never|no longer)(?: ever| again| please)? (?:(?:call|phone|email) (?:or|and|n) )?"
     r"(?:text|message|contact|spam)(?: (?:or|and|n) (?:call|phone|email))?"
     r" (?:me|us|this number|my number)(?: (?:again|anymore|ever|ever again|at all|no more|please"
     r"|thanks|thank you|period|stop|going forward"
     r"|in the future))*" + _END),
    # don't send me (any more) texts
    ("dont never no",
     r"\b(?:dont|never|no longer) send (?:me|us) (?:(?:any|anymore|more|these|those|your|such)"
     r" )*(?:text|message|spam)(?: (?:text|message))*(?: (?:again|anymore|ever|at all|please"
     r"|thanks|no more|going forward))*" + _END),
    # I don't want (to receive) (any more) texts
    ("dont never no",
     r"\b(?:dont|no longer|never) (?:want|wish)(?: to (?:receive|get|have))?(?: (?:any|these"
     r"|those|your|more|this|anymore|all|such|further|future|promotional|marketing|text"
     r"|message))* " + _MSGN + r"\b"),
    ("dont never no",
     r"\b(?:dont|no longer|never) (?:want|wish) (?:you|anyone|y all) to (?:ever )?"
     r"(?:(?:text|message|contact) (?:me|us)|send (?:me|us) (?:(?:any|more) )*(?:text|message))"
     r"(?: (?:again|anymore|ever|at all|please|no more))*" + _END),
    ("dont never no",
     r"\b(?:dont|no longer|never) (?:want|wish) to be (?:texted|text|contacted|messaged|message"
     r"|spammed)\b(?! by (?!you\b|u\b|this\b|your\b))"),
    # no more texts (at the start of a clause)
    ("| please ok so just and then seriously i no",
     r"(?:^|\| )(?:(?:please|ok|so|just|and|then|seriously|i said|i want) )*no more "
     + _MSGN + r"\b"),
    # remove / take me off the list
    ("remove take delete drop erase get unsubscribe cross",
     r"\b(?:remove|take|delete|drop|erase|get|unsubscribe|cross) (?:me|us|my number"
     r"|my phone number|my cell|my cell number|this number|my info|my information|my contact"
     r"|my details)(?: (?:off|from|out|of))+ (?:(?:the|your|this|that|all|these|those|any|ya"
     r"|yalls|my|every) )*(?:(?:text|message|contact|call|marketing|distribution"
     r"|messaging|subscriber|notification|spam|group|phone|calling) )*(?:list|lists|text"
     r"|message|contacts|database|db|system|thread|notification|notifications|records|file"
     r"|group)\b"),
    ("be been get being",
     r"\b(?:be|been|get|being) (?:removed|taken off|deleted|unsubscribed)(?: (?:from|off)"
     r" (?:(?:the|your|this|that|all|these|any|my) )*(?:(?:text|message|contact|call|marketing"
     r"|sms) )*(?:list|lists|text|message|contacts|database|system)\b|" + _END + ")"),
    ("enough",
     r"\benough (?:with )?(?:(?:the|these|those|your|all|of) )*(?:text|message|spam)\b"),
    ("remove unsubscribe delete",
     r"\b(?:remove|unsubscribe|delete) (?:me|us|my number)(?: (?:please|now|thanks|thank you"
     r"|asap|immediately))*" + _END),
    ("lose",
     r"\blose my number\b"),
    ("unsubscribe",
     r"\bunsubscribe\b(?! (?:me |us |my number )?from (?!(?:(?:the|your|my|all|these|those|this"
     r"|any|ur) )*(?:text|message|list|lists|notification|notifications|alert|alerts|messaging"
     r"|you|this number)\b|(?:these|those|them|this|it|all|everything|here)(?= \||$)))"),
    # opt (me) out [of the texts]
    ("opt",
     r"\bopt (?:me |us |my number )?out(?:" + _END + r"| (?:please|now|thanks|thank you)\b"
     r"| (?:of|from) (?:(?:the|these|those|your|all|this|any|text|message|marketing|future) )*"
     r"(?:text|message|list|messaging|notification|notifications|alert|alerts|marketing"
     r"|promotion|promotions|communication|communications|contact)\b)"),
    ("leave",
     r"\bleave (?:me|us) alone\b"),
    ("cease",
     r"\bcease and desist\b"),
    ("i told",
     r"\b(?:i said|i told you|told you to|i asked you to|i ve asked you to|i already said)"
     r" (?:to )?(?:please )?stop(?:" + _END + r"| please| now| it| already)"),
    ("revoke revoking withdraw withdrawing rescind rescinding",
     r"\b(?:revoke|revoking|withdraw|withdrawing|rescind|rescinding) (?:my |all |any |our )?"
     r"(?:consent|permission|authorization|authorisation)\b"),
]
_FR: list[tuple[str, str]] = [
    # arrêtez de m'envoyer des messages / arrête de me texter
    ("arret* cess* stop*",
     r"\b(?:arret\w*|cess\w*|stop\w*) (?:de|d) (?:(?:me |m |nous )?(?:texter|contacter|spammer"
     r"|harceler)|(?:me|m|nous) (?:ecrire|relancer|solliciter))\b"),
    ("arret* cess* stop*",
     r"\b(?:arret\w*|cess\w*|stop\w*) (?:de|d) (?:me |m |nous )?envoyer(?: (?:(?:des|les|vos|ces"
     r"|de|d|tous|toutes|ce|cette) )*(?:message|text|notification|notifications|relance"
     r"|relances|pub|spam|alerte|alertes)\b|" + _END + ")"),
    # arrêtez les SMS
    ("arret* stop* cess* fini finis",
     r"\b(?:arret\w*|stop\w*|cess\w*|fini|finis) (?:les|vos|ces|tes|des) (?:message|text"
     r"|notifications|relances|envois|spam)\b"),
    ("stop halte",
     r"\b(?:stop|halte) (?:a|aux) (?:message|text|notifications|relances|spam|pub)\b"),
    # ne m'écrivez plus / ne m'envoyez plus de messages
    ("ne",
     r"\bne (?:me |m |nous )(?:ecri\w*|contact\w*|text\w*|harcel\w*|relanc\w*) plus\b"),
    ("ne",
     r"\bne (?:me |m |nous )envoy\w* plus(?: (?:(?:de|d|aucun|aucune|jamais|de tels) )*"
     r"(?:message|text|notification|notifications|rien|pub|spam)\b|(?: (?:svp|merci|stp|jamais"
     r"|s il vous plait))*" + _END + ")"),
    ("ne",
     r"\bne plus (?:me |m |nous )(?:contacter|ecrire|texter|harceler|relancer|deranger"
     r"|envoyer (?:de |des |d )?(?:message|text))\b"),
    # je ne veux plus recevoir de textos
    ("ne",
     r"\bne (?:veux|veut|voulons|souhaite|souhaitons|desire|voudrais|souhaiterais) (?:plus|pas)"
     r"(?: (?:recevoir|avoir|de|d|vos|ces|les|aucun|aucune|des))* (?:message|text"
     r"|notification|notifications|pub|spam|sollicitation|sollicitations)\b(?! vocal)"),
    ("ne",
     r"\bne (?:veux|souhaite|desire|voudrais) plus (?:etre (?:contacte|sollicite|derange|relance)"
     r"|que (?:vous|tu|l on|on) (?:me |m |nous )(?:contact|ecriv|envoy|text|relanc)\w*)"),
    # désabonnez-moi / je veux me désinscrire
    ("desabonn* desinscri*",
     r"\b(?:desabonn|desinscri|desinscrir)\w*\b(?! (?:de|du|des|a|au|aux) (?:(?:la|le|l|mon|ma|mes|"
     r"votre|vos|cette|ce) )?(?:newsletter|lettre|journal|magazine|revue|mail|mails|courriel|email"
     r"|contrat|abonnement|service|offre|programme|plan)\b)"),
    # retirez-moi de la liste
    ("retir* enlev* supprim* effac* ray* sort* radi*",
     r"\b(?:retir|enlev|supprim|effac|ray|sort|radi)\w* (?:moi|mon numero|mon num|nous)"
     r" (?:de|du|des) (?:(?:la|votre|cette|vos|ta|tes|ces|le|l) )?(?:liste|listes|fichier"
     r"|base|contacts|repertoire|diffusion)\b(?! d attente)"),
    ("me m nous",
     r"\b(?:me|m|nous) (?:retir|enlev|supprim|effac|ray|sort|radi|desinscri)\w* (?:de|du|des)"
     r" (?:(?:la|votre|cette|vos|ta|tes|ces|le|l) )?(?:liste|listes|fichier|base|contacts"
     r"|repertoire|diffusion)\b(?! d attente)"),
    # plus de messages svp
    ("| svp merci stp plus pas fini assez",
     r"(?:^|\| )(?:(?:svp|merci|stp) )?(?:plus|pas|fini|assez) de (?:message|text"
     r"|notification|notifications)(?: (?:svp|merci|stp|s il vous plait))*" + _END),
    ("laisse* fiche*",
     r"\blaisse[rz]? (?:moi|nous) tranquilles?\b|\bfiche[zr]? moi la paix\b"),
    ("retir* revoqu* annul*",
     r"\b(?:retir|revoqu|annul)\w* (?:mon |le |tout )?consentement\b"),
]
_ES: list[tuple[str, str]] = [
    # deja de enviarme mensajes / dejen de escribirme
    ("deja dejen deje dejar dejes para paren pare parar basta cese cesen",
     r"\b(?:deja|dejen|deje|dejar|dejes|para|paren|pare|parar|basta|cese|cesen) de"
     r" (?:(?:escribir|contactar|textear|spamear|acosar)(?:me|nos)\b|(?:enviar|mandar)(?:me|nos)?"
     r"(?: (?:(?:mas|tantos|tantas|los|las|sus|esos|esas|estos|estas|ese|este) )*(?:message|text"
     r"|notificaciones|spam|publicidad|promociones)\b|" + _END + "))"),
    # no me envíen más mensajes / no me escriban más
    ("no",
     r"\bno (?:me |nos )(?:escrib|contact|text)\w*\b(?: (?:mas|nunca|jamas))?(?! (?:antes|despues"
     r"|hasta|a las|por la|en la|el|los))"),
    ("no",
     r"\bno (?:me |nos )(?:vuelva|vuelvan|vuelvas) a (?:escrib|contact|text)\w*"),
    ("no",
     r"\bno (?:me |nos )(?:envi|mand)\w*(?: (?:(?:mas|ningun|ninguno|ningunos|ninguna|ningunas"
     r"|tantos|sus|estos|esos|los|las) )*(?:message|text|notificaciones|nada|spam|publicidad)\b"
     r"| mas(?: (?:por favor|gracias))*" + _END + ")"),
    # quiero darme de baja
    ("darme darnos denme deme dame dennos me nos",
     r"\b(?:(?:darme|darnos|denme|deme|dame|dennos)|(?:me|nos) (?:\w+ ){0,2}?(?:dar|den|de|das"
     r"|dan|doy|damos)) de baja\b(?! (?:la|el|mi|una|un|su|esta|este|los|las)\b)"),
    ("de",
     r"\bde baja (?:de|del) (?:(?:la|esta|su|sus|los|las) )?(?:lista|message|text"
     r"|notificaciones)\b"),
    # bórrame de la lista
    ("borr* quit* sac* saq* elimin* retir* remuev* me nos",
     r"\b(?:(?:borr|quit|sac|saq|elimin|retir|remuev)\w*(?:me|nos)|(?:me|nos) (?:borr|quit|sac"
     r"|saq|elimin|retir|remuev)\w*|(?:borr|quit|sac|saq|elimin|retir|remuev)\w* (?:mi|este)"
     r" numero)"
     r" (?:de|del) (?:(?:la|su|esta|tu|sus|esa|el|este|ese|sus) )?(?:lista|listas|base"
     r"|contactos|sistema|registro|difusion)\b(?! de espera)"),
    # ya no quiero recibir mensajes
    ("no",
     r"\bno (?:quiero|deseo|quisiera|queremos) (?:(?:recibir|tener|mas|ningun|ninguno|ningunos"
     r"|ninguna|estos|estas|esos|esas|sus|tus|los|las) )*(?:message|text|notificaciones"
     r"|publicidad|promociones|spam)\b(?! de voz)"),
    ("no",
     r"\bno (?:quiero|deseo|quisiera|queremos) que (?:me|nos) (?:(?:sigan|siga|sigas|vuelvan a"
     r"|vuelva a|vuelvas a) )?(?:(?:escrib|contact|text)\w*|(?:mand|envi)\w* (?:(?:mas|los|sus"
     r"|estos) )*(?:message|text)\b)"),
    ("| ya por no",
     r"(?:^|\| )(?:(?:ya|por favor) )?no mas (?:message|text|notificaciones|spam)\b(?! de voz)"),
    ("basta",
     r"\bbasta (?:ya )?(?:de|con) (?:(?:los|tantos|sus) )?(?:message|text|notificaciones|spam)\b"),
    ("dejame dejenme dejeme dejanos dejennos",
     r"\b(?:dejame|dejenme|dejeme|dejanos|dejennos) (?:en paz|tranquil[oa]s?)\b"),
    ("desuscri* desinscrib* desabon*",
     r"\b(?:desuscri|desinscrib|desabon)\w*\b(?! (?:de|del|al|a) (?:(?:la|el|mi|su|este|esta) )?"
     r"(?:boletin|correo|email|mail|newsletter|revista|plan|servicio|programa|membresia)\b)"),
    ("revoc* retir* anul*",
     r"\b(?:revoc|retir|anul)\w* (?:mi |el )?(?:consentimiento|autorizacion)\b"),
]


def _index_patterns() -> tuple[dict[str, tuple[re.Pattern[str], ...]],
                               tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]]:
    """Patterns by the word a match can start with ("arret*" is a prefix), each compiled once."""
    exact: dict[str, list[re.Pattern[str]]] = {}
    prefix: dict[str, list[re.Pattern[str]]] = {}
    for triggers, pattern in _EN + _FR + _ES:
        compiled = re.compile(pattern)
        for trigger in triggers.split():
            table = prefix if trigger.endswith("*") else exact
            table.setdefault(trigger.rstrip("*"), []).append(compiled)
    return ({w: tuple(ps) for w, ps in exact.items()},
            tuple((p, tuple(ps)) for p, ps in prefix.items()))


_BY_WORD, _BY_PREFIX = _index_patterns()
_PREFIXES = tuple(p for p, _ in _BY_PREFIX)  # all at least 3 characters long
_BY_PREFIX_HEAD: dict[str, tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]] = {
    head: tuple(entry for entry in _BY_PREFIX if entry[0][:3] == head)
    for head in {p[:3] for p in _PREFIXES}
}

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
    r"|le week end|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|lundi|mardi|mercredi|jeudi"
    r"|vendredi|samedi|dimanche|lunes|martes|miercoles|jueves|viernes|sabado|domingo"
    r"|every|once a|so often|so much|so many|early|late|at \d\w*|\d+ ?(?:am|pm|h))\b")
# Anywhere: the sender says it was a mistake, or redirects us to someone or somewhere else
# ("don't text me, text my husband"): that is conversation, not a revocation.
_VETO_RE = re.compile(
    r"\b(?:by (?:accident|mistake)|accidentally|resubscribe|didnt mean to|did not mean to"
    r"|par erreur|sans faire expres|por error|sin querer"
    r"|(?:text|message|contact|call|email|write to) (?:my (?!number|phone|cell)\w+|him|her"
    r"|the office)|(?:use|try) (?:my|this|the) (?:(?:other|new|work|home|cell|mobile) )*"
    r"(?:number|phone|cell|email|line)|my (?:new|other|work|home) (?:number|phone|cell)"
    r"|(?:ecrivez|envoyez|contactez|appelez|ecris|envoie|contacte)(?: plutot)? a (?:mon|ma|mes)"
    r"|(?:escrib|mand|envi|contact|llam)\w* a mi)\b")


def _accepted(s: str, start: int, patterns: tuple[re.Pattern[str], ...]) -> bool:
    for pattern in patterns:
        m = pattern.match(s, start)
        if m is None:
            continue
        if start and _GUARD_BEFORE_RE.search(s, max(0, start - 30), start):
            continue
        if _GUARD_AFTER_RE.match(s, m.end()):
            continue
        return True
    return False


def _revocation(s: str, tokens: list[str]) -> bool:
    """An unguarded own-words revocation anywhere in ``s`` (``" ".join(tokens)``)."""
    # Only the patterns that can start at each word are tried, anchored there.
    start = 0
    by_word, by_head = _BY_WORD.get, _BY_PREFIX_HEAD.get
    for token in tokens:
        patterns = by_word(token)
        if patterns is not None and _accepted(s, start, patterns):
            return not _VETO_RE.search(s)
        candidates = by_head(token[:3])
        if candidates is not None:
            for prefix, patterns in candidates:
                if token.startswith(prefix) and _accepted(s, start, patterns):
                    return not _VETO_RE.search(s)
        start += len(token) + 1
    return False


# --------------------------------------------------------------------------- public API

def classify(text: str | None, *, opted_out: bool = False) -> Intent:
    """Decide whether an inbound text is an opt-out, an opt-in, a help request, or conversation.

    ``opted_out`` is the sender's current state: a bare YES is an opt-in only for someone who
    has opted out; START and UNSTOP always are. Never raises; None or blank is conversation.
    """
    if not text:
        return Intent.CONVERSATION
    tokens = _tokens(text)
    if not tokens:
        return Intent.CONVERSATION
    s = " ".join(tokens)
    words = s.replace(" |", "") if "|" in s else s
    if len(words) < 40 and _SPELLED_RE.fullmatch(words):
        words = words.replace(" ", "")
    if _OPTOUT_KW_RE.fullmatch(words) or _CANCEL_KW_RE.fullmatch(words):
        return Intent.OPT_OUT
    if _OPTIN_KW_RE.fullmatch(words):
        return Intent.OPT_IN
    if _YES_KW_RE.fullmatch(words):
        return Intent.OPT_IN if opted_out else Intent.CONVERSATION
    if _HELP_KW_RE.fullmatch(words):
        return Intent.HELP
    if _revocation(s, tokens):
        return Intent.OPT_OUT
    if "|" in s and _UNWANTED_SIGNAL_RE.search(s):
        for clause in s.split(" | "):
            if _STRONG_CLAUSE_RE.fullmatch(clause):
                return Intent.OPT_OUT
    return Intent.CONVERSATION
