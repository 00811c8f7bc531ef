"""Step 1 of the detector: an inbound text as tokens the keyword and phrase patterns run on.

NFKD with combining marks dropped (accents optional), casefold, apostrophes unified, ``n't`` ->
``nt``; clause punctuation becomes a ``|`` token, every other non-word character a space; then
typo and abbreviation folding word by word (the detector package's docstring lists examples).
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from itertools import islice

# Invisible inside a word (zero-width spaces and joiners, a soft hyphen, a word joiner, a BOM):
# "S\u200bTOP" is STOP.
_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u02b9`\u00b4\u2032\uff07"})
# ASCII in one translate: clause punctuation -> " | ", every other non-alphanumeric -> " ".
_ASCII_TABLE = str.maketrans({
    chr(c): (" | " if chr(c) in ".!?;,:\n\r|" else " ")
    for c in range(128) if not chr(c).isalnum()
})
_NONWORD_RE = re.compile(r"[^\w|]+|_+")  # what is left after the table: emoji, symbols


def word_table(groups: dict[str, str]) -> dict[str, str]:
    """{key: "word word ..."} -> {word: key}, for one dict look-up a word."""
    return {word: key for key, words in groups.items() for word in words.split()}


# Word-level folding of typos and abbreviations, applied token by token (dict look-up; a
# regex only for elongations such as "stoooop", "pleeease", "unsubscribeee").
_FOLD_WORDS = word_table({
    # French "textes" too ("ne m'envoyez plus de textes"); not "texte", also the verb
    # ("me texte pu")
    "text": "txt txts txtd txtn txting txtin txtng texting textin textn textng texing textig"
            " tetxing tetx texts texto textos textes sms smss smses",
    "message": "msg msgs msgz msging msgng msges mssg mssgs messages messaging messagin"
               " messageing messeges messege messeging mesage mesages mesaging messges mensaje"
               " mensajes mensajito mensajitos mensages mesajes mensjes msj msjs mjs",
    # reminders in French and Spanish are the notifications the rules know ("Arrêtez les
    # rappels", "Ya no quiero recibir recordatorios"); the plural only: "rappel" is also a call
    # back
    "notifications": "rappels notifs",
    "notification": "notif",
    "notificaciones": "recordatorios",
    "stop": "stop stpo sotp stahp sstop",
    "sending": "sendin sendn sendng",
    "hitting": "hittin hitin",
    "please": "please plse plez pleaz pleeze",
    "dont": "dont dnt doont donot",
    # AAVE and Gen-Z "ion" ("I don't"): "ion want these texts no more"
    "i dont": "ion iont",
    # "outta" is "out of": "opt me outta these texts"
    "out of": "outta",
    "you": "u yu",
    "your": "ur yur",
    "anymore": "anymor",
    "from": "frm",
    # "w" and "w/" (the slash is a space by then) for "with": "enough w the texts"
    "with": "w wit",
    "opt out": "optout",
    "thanks": "thx thnx thanx tnx tks thks",
    "merci": "mrc mci",
    "porfa": "porfis porfi",
    # a v for a b: "dejen de escrivirme", "no me escrivan"; and "mensajear" (US and Mexican
    # Spanish) for "escribir": "dejen de mensajearme", "ya no me mensajeen"
    "escribir": "escrivir mensajear",
    "escribirme": "escrivirme mensajearme mensajiarme",
    "escribirnos": "escrivirnos mensajearnos",
    "escriba": "escriva mensajee",
    "escribas": "escrivas mensajees",
    "escriban": "escrivan mensajeen",
    "escribe": "escrive",
    "escribes": "escrives",
    "escriben": "escriven",
    "escribiendo": "mensajeando",
    "ecrire": "ecrir",
    # Québec French "pu" and "pus" are "plus" (no more): "je veux pu recevoir de textos", "pu
    # de textos", "je veux pus de textos"; "plu" is "plus" typed short ("ne m'écrivez plu")
    "plus": "pu pus plu",
    # Spanish SMS-speak "k" for "qu": "ya no kiero mensajes"
    "quiero": "kiero qiero",
    # ... and "je" run into the verb: "jveux pu de textos"
    "j veux": "jveux jveu jvx",
    # "arrêtez" with one r
    "arretez": "aretez",
    "arrete": "arete",
    "remove": "rmv",
    "arreter": "areter",
    # the French elision typed without its apostrophe ("arrêtez de mécrire", "ne
    # menvoyez plus"): two words again (none of these is a French word)
    "m ecrire": "mecrire mecrir",
    "m ecrivez": "mecrivez",
    "m ecris": "mecris",
    "m envoyer": "menvoyer",
    "m envoyez": "menvoyez",
    "m envoie": "menvoie",
    "m appeler": "mappeler",
    "m harceler": "mharceler",
    "m texter": "mtexter mtxter",
    "m contacter": "mcontacter",
    "m embeter": "membeter",
    # the whole request typed as one word, a hashtag or a handle: "stoptextingme",
    # "#StopTextingMe", "stop_texting_me" reads as "stop texting me"
    "stop text me": "stoptextingme stoptxtingme stoptextme stoptxtme stopmessagingme"
                    " stopmsgingme",
    "stop text": "stoptexting stoptxting stopmessaging stopmsging stoptexts",
})
_FOLD_PREFIXES = ("sto", "pl", "uns", "arr", "alt", "baj")
# Two words read as one: second word -> (the word before it, the one word they make).
# ("messages texte", as Québec names a text message, is "message": "Plus de messages texte svp")
_JOINED = {"not": ("do", "dont"), "more": ("any", "anymore"), "favor": ("x", "xfavor"),
           "texte": ("message", "message")}
# "stp" is French "s'il te plaît" but English SMS-speak for "stop" before an English -ing
# form of messaging: "pls stp txtn me", "stp texting me" ("stp textez-moi" stays "please")
_STOP_BEFORE = frozenset("texting txting txtn txtin txtng textin textn textng texing textig"
                         " tetxing messaging messagin msging msgng sending sendin sendn"
                         " contacting calling callin bugging spamming".split())
_FOLD_PATTERN_RE = re.compile(
    r"(?P<stop>stopp+|sto{3,}p+)|(?P<please>plz+|pls+|ple+a+s+e+)"
    r"|(?P<unsubscribe>unsub(?!st|tl)\w*|unsuscrib\w*|unsbscrib\w*|unscubscrib\w*)")

# A keyword with a courtesy or stress word typed onto it, no space: "stopplease", "STOPPLZ",
# "pleasestop", "stopnow", "STOPSTOP", "arretezsvp", "altoporfavor" -> its words again. Only
# these words on these keywords: "stopcock", "stopped", "stopover", "bajame", "altos" stay.
_GLUED_WORDS = {"please": "please", "plse": "please", "pls": "please", "plz": "please",
                "porfavor": "porfavor", "porfa": "porfa", "xfa": "xfa", "thanks": "thanks",
                "thx": "thanks", "merci": "merci", "svp": "svp", "stp": "stp", "now": "now",
                "asap": "asap", "it": "it", "ya": "ya", "stop": "stop"}
_GLUED_WORD = "|".join(sorted(_GLUED_WORDS, key=len, reverse=True))  # "plse" before "pls"
_GLUED_RE = re.compile(
    r"(?P<lead>please|pls|plz)?(?P<kw>sto+?p+?|arretez|arreter|arrete|arret|alto|baja)"
    rf"(?P<rest>(?:{_GLUED_WORD})*)")
_GLUED_WORD_RE = re.compile(_GLUED_WORD)


def _unglued(token: str) -> str | None:
    """The words of a keyword glued to courtesy or stress ("stopplease" -> "stop please")."""
    m = _GLUED_RE.fullmatch(token) if len(token) <= 40 else None
    if m is None or not (m["lead"] or m["rest"]):
        return None
    kw = "stop" if m["kw"].startswith("sto") else m["kw"]
    words = [_GLUED_WORDS[w] for w in _GLUED_WORD_RE.findall(m["rest"])]
    return " ".join((["please"] if m["lead"] else []) + [kw] + words)


# "#" for "number" in a wrong number or a number of the sender's ("STOP wrong #", "#
# equivocado, baja", "Pls remove my # from ur list", "borren mi #"), before the translation
# makes it a space
_HASH_NUMBER_RE = re.compile(r"\b(wrong|my|this|your|ur|mauvais|mon|ce|mi|este|su) ?#"
                             r"|# ?(equivocado)\b")
_NUMERO_BEFORE = frozenset(("mauvais", "mon", "ce", "mi", "este", "su"))


def _hash_number(m: re.Match[str]) -> str:
    before = m.group(1)
    if before is None:
        return "numero equivocado"
    return f"{before} {'numero' if before in _NUMERO_BEFORE else 'number'}"


# A whole message typed as one run of letters ("stoptextingmeplease", "nemecrivezplus",
# "nomemandesmasmensajes") reads as its words when it splits into nothing but these: the words
# revocations are made of, in en/fr/es (each form as typed: folding comes after). A run with
# any other word in it ("cansomeonestopbytomorrow") stays one word no rule knows.
_RUN_ON_BY_LANGUAGE = tuple(frozenset(words.split()) for words in ("""
    stop quit please pls plz dont do not never no more any anymore text texting texts txt txting
    message messages messaging msg msgs send sending me us my number off take remove out of
    unsubscribe from list the your these those this all leave alone i want wanna to receive get
    thanks thank you u now again ever contact contacting bugging bothering spam
""", """
    ne m nous plus jamais ecrivez ecrire ecris envoyez envoyer envoie textez texter texte de d des
    les vos ces tes arretez arrete arreter cessez svp merci stp retirez moi liste votre ta la sms
    textos messages je veux recevoir pas laissez laisse tranquille
""", """
    nos mas ya dejen deja deje dejar para paren pare mandar mandarme enviar enviarme escribir
    escribirme escriban escribas escriba manden mandes envien envies mensajes mensaje textos
    texto por favor porfa gracias quiero recibir borrenme borrame sacame saquenme lista su sus
    los estos no me de la
"""))
_RUN_ON_WORDS = frozenset().union(*_RUN_ON_BY_LANGUAGE)
# Each word's languages, a bit each: a split that keeps to one language is the likelier
# ("dont messages us", not "dont message sus")
_RUN_ON_LANGUAGES = {w: sum(1 << i for i, ws in enumerate(_RUN_ON_BY_LANGUAGE) if w in ws)
                     for w in _RUN_ON_WORDS}
_RUN_ON_LONGEST = max(map(len, _RUN_ON_WORDS))


def _run_on_words(run: str) -> list[str] | None:
    """`run` as the fewest words of _RUN_ON_WORDS it is made of, at least three, and among
    those the one that changes language the fewest times between words; else None."""
    n = len(run)
    # best[i]: (words, changes of language, the words) of run[:i]
    best: list[tuple[int, int, list[str]] | None] = [(0, 0, [])] + [None] * n
    reached = [0]  # the i whose best is known, in order
    languages = _RUN_ON_LANGUAGES.get
    for i in range(1, n + 1):
        if i - reached[-1] > _RUN_ON_LONGEST:
            return None  # no word of the list ends anywhere in reach: not a run of them
        here = None
        for k in range(bisect_left(reached, i - _RUN_ON_LONGEST), len(reached)):
            j = reached[k]
            word = run[j:i]
            these = languages(word)
            if these is None:
                continue
            count, changes, words = best[j]  # type: ignore[misc]
            if words and not languages(words[-1], 0) & these:
                changes += 1
            if here is None or (count + 1, changes) < here[:2]:
                here = (count + 1, changes, [*words, word])
        if here is not None:
            best[i] = here
            reached.append(i)
    words = best[n][2] if best[n] is not None else None
    return words if words is not None and len(words) >= 3 else None


# An autocorrect mistake put right in the same message, by the word it should have been with
# an asterisk, last: "Please stop testing me *texting" reads as "Please stop texting me". The
# word put right is the last one before it that looks like it (the same first letter, at most
# two letters changed, added or dropped, one in a word of four letters or fewer), unless the
# same word comes first (a word stressed again, "STOP svp *svp*"): "Please stop testing the
# breaker *touching" puts nothing right. Only the text's last _CORRECTION_CHARS characters
# hold the correction, and the word it puts right among the _CORRECTION_CHARS before it: a cost
# bounded in a long body.
_CORRECTION_RE = re.compile(r"\s\*(\w{3,20})\W*$")
_CORRECTION_CHARS = 60
_WORD_RE = re.compile(r"\w+")


def _near(a: str, b: str, most: int) -> bool:
    """At most `most` letters changed, added or dropped between `a` and `b` (Levenshtein)."""
    if abs(len(a) - len(b)) > most:
        return False
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
        if min(row) > most:
            return False
    return row[-1] <= most


def _corrected(s: str) -> str:
    """`s` with the word an asterisk correction at its end puts right replaced by it."""
    m = _CORRECTION_RE.search(s, max(0, len(s) - _CORRECTION_CHARS))
    if m is None:
        return s
    right, head = m[1], s[:m.start()]
    # (a short word, at most one letter apart: "svp" is not "stop", "them" not "these")
    most = 1 if len(right) <= 4 else 2
    for word in reversed(list(_WORD_RE.finditer(head, max(0, len(head) - _CORRECTION_CHARS)))):
        w = word[0]
        if w == right:  # already written: the asterisk stresses it ("STOP svp *svp*")
            return s
        if w[0] == right[0] and len(w) >= 3 and _near(w, right, most):
            return head[:word.start()] + right + head[word.end():]
    return s


def _plain(text: str) -> str:
    """`text` lowercase and accent-free, nothing else changed."""
    if text.isascii():
        return text.lower()
    s = _INVISIBLE_RE.sub("", text)
    return _COMBINING_RE.sub("", unicodedata.normalize("NFKD", s)).translate(
        _APOSTROPHES).casefold()


# A word that may be a run among spaced words ("pls stoptextingmenow ok"): letters only, as
# long as a whole message's run, naming the messages or a keyword (most long words do not, and
# skip the split). Looked for in a text of Twilio's length, a few of them at most.
_LONG_WORD_RE = re.compile(r"[^\W\d_]{10,60}")
_RUN_CORE_RE = re.compile(r"te?xt|messag|msg|mensaj|sms|ecri|escrib|envo|envi|mand|contact"
                          r"|unsub|stop|spam|bugg|bother|alone|tranquil|list")
_GLUED_TEXT_CHARS = 1600
_GLUED_MOST = 8


def spaced_run_on(text: str) -> str:
    """`text`, or, when it is one run of _RUN_ON_WORDS ("stoptextingmeplease!",
    "NoTextsPlease"), the same text (lowercase, accent-free) with that run as its words
    ("stop texting me please!", "no texts please"): what reads the text as written (a plural,
    a question mark) reads them as every rule reads its tokens. A run among spaced words ("pls
    stoptextingmenow ok") is spaced where it stands, the rest of the text as written."""
    parts = text.split()
    if len(parts) > 2:  # (an emoji may stand apart)
        if len(text) > _GLUED_TEXT_CHARS or max(map(len, parts)) < 10:
            return text  # most texts: no word is long enough
        return _spaced_runs(text, parts)
    if not 10 <= len(text) <= 120:
        return text
    out = tokens(text)
    if len(out) != 1:
        return _spaced_runs(text, parts)
    if not 10 <= len(out[0]) <= 60 or not out[0].isalpha():
        return text
    s = _plain(text)
    at = s.find(out[0])
    words = _run_on_words(out[0]) if at >= 0 else None
    return text if words is None else s[:at] + " ".join(words) + s[at + len(out[0]):]


_RUN_PUNCTUATION = "!?.,;:…\"'()*#"


def _spaced_runs(text: str, parts: list[str]) -> str:
    """`text` (split at white space: `parts`) with each of its first _GLUED_MOST words of 10
    letters or more that is a run of _RUN_ON_WORDS (at least three) spaced, lowercase and
    accent-free."""
    out = []
    for token in islice((t for t in parts if len(t) >= 10), _GLUED_MOST):
        m = _LONG_WORD_RE.fullmatch(token.strip(_RUN_PUNCTUATION))
        if m is None:
            continue
        run = _plain(m[0])
        if run in _RUN_ON_WORDS or run in _FOLD_WORDS:  # a word of its own ("escribirme")
            continue
        words = _run_on_words(run) if _RUN_CORE_RE.search(run) else None
        if words is not None:
            out.append((m[0], " ".join(words)))
    for run, spaced in out:
        text = text.replace(run, spaced, 1)
    return text


def tokens(text: str) -> list[str]:
    """Lowercase, accent-free, folded words; ``|`` marks a clause break (never twice running,
    never first or last). A message typed as one run of words is spaced_run_on's."""
    s = _plain(text)
    if "*" in s:
        s = _corrected(s)
    if "n't" in s:
        s = s.replace("n't", "nt")
    if "#" in s:
        s = _HASH_NUMBER_RE.sub(_hash_number, s)
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
        if token in _STOP_BEFORE and out and out[-1] == "stp":
            out[-1] = "stop"
        folded = get(token)
        if folded is None:
            folded = token
            if token.startswith(_FOLD_PREFIXES):
                m = _FOLD_PATTERN_RE.fullmatch(token)
                if m is not None:
                    folded = m.lastgroup  # type: ignore[assignment]
                else:
                    folded = _unglued(token) or token
            elif out:  # two-word forms: "do not" -> dont, "any more" -> anymore, ...
                joined = _JOINED.get(token)
                if joined is not None and out[-1] == joined[0]:
                    out[-1] = joined[1]
                    continue
        if folded == "text" and out and out[-1] == "message":
            continue  # "messages textes", "messages SMS": one noun, "message"
        if " " in folded:  # one word typed for two: "mecrire" -> "m ecrire", "stopplease"
            out.extend(folded.split())
            continue
        out.append(folded)
    if out and out[-1] == "|":
        out.pop()
    return out
