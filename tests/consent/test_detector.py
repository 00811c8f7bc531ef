"""The opt-out detector: labelled corpus, keyword robustness properties, YES semantics.

Run with ``-s`` to see the corpus report (precision/recall of OPT_OUT, accuracy).
"""
from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commsvc.consent import detector, revocation_phrases
from commsvc.consent.detector import Detection, Intent, classify, detect

CORPUS = Path(__file__).with_name("optout_corpus.tsv")
LABELS = {i.value for i in Intent}
LANGS = {"en", "fr", "es"}

OPT_OUT_KEYWORDS = [
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
    "OPT OUT", "OPT-OUT", "STOP ALL",
    "ARRET", "ARRÊT", "ARRETE", "ARRÊTE",
    "ALTO", "BAJA", "PARAR", "CANCELAR",
    "ANNULER", "FIN", "ARRÊTEZ", "ARRETEZ", "DÉSINSCRIRE", "SE DÉSINSCRIRE", "ME DÉSABONNER",
    "DETENER", "PARA", "CANCELAR SUSCRIPCIÓN", "CANCELAR SUSCRIPCION", "DARSE DE BAJA",
    "DESUSCRIBIR",
]
# Also ordinary words ("para" is "for"): they count only as the whole message.
BARE_ONLY_OPT_OUT_KEYWORDS = ["CANCEL", "CANCELAR", "ANNULER", "FIN", "PARA",
                              "CANCELAR SUSCRIPCIÓN", "ANULEN MI SUSCRIPCIÓN",
                              "ANULAR SUSCRIPCIÓN", "CANCELEN MI SUSCRIPCIÓN"]
ALWAYS_OPT_IN_KEYWORDS = ["START", "UNSTOP"]
YES_KEYWORDS = ["YES", "OUI", "SÍ", "SI"]
HELP_KEYWORDS = ["HELP", "INFO", "AIDE", "AYUDA"]
TRAILING_PUNCTUATION = ".!?,;:…"
EMOJI = ["🛑", "🙏", "😡", "👍", "❤️", "✋🏽", "🙂", "⛔"]


def _load_corpus() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        assert header == ["label", "lang", "opted_out", "text"]
        rows = []
        for lineno, fields in enumerate(reader, start=2):
            assert len(fields) == 4, f"line {lineno}: expected 4 tab-separated fields: {fields!r}"
            rows.append(dict(zip(header, fields, strict=True)) | {"line": str(lineno)})
    return rows


ROWS = _load_corpus()


def _decide(row: dict[str, str]) -> Intent:
    return classify(row["text"], opted_out=row["opted_out"] == "1")


# --------------------------------------------------------------------------- corpus

def test_corpus_is_well_formed_and_covers_every_label_and_language():
    assert len(ROWS) >= 200
    for row in ROWS:
        assert row["label"] in LABELS, row
        assert row["lang"] in LANGS, row
        assert row["opted_out"] in {"0", "1"}, row
        assert row["text"].strip(), row
        assert "\n" not in row["text"] and "\r" not in row["text"], row
    labels = Counter(r["label"] for r in ROWS)
    assert labels["opt_out"] >= 90 and labels["conversation"] >= 100
    assert labels["opt_in"] >= 5 and labels["help"] >= 5
    for lang in LANGS:
        langs = Counter(r["label"] for r in ROWS if r["lang"] == lang)
        assert langs["opt_out"] >= 15 and langs["conversation"] >= 15, (lang, langs)


def test_every_corpus_message_is_classified_as_labelled(capsys):
    tp = fp = fn = correct = 0
    mismatches = []
    for row in ROWS:
        got = _decide(row).value
        expected = row["label"]
        correct += got == expected
        tp += got == expected == "opt_out"
        fp += got == "opt_out" != expected
        fn += expected == "opt_out" != got
        if got != expected:
            mismatches.append(
                f"  line {row['line']} [{row['lang']} opted_out={row['opted_out']}] "
                f"{row['text']!r}: expected {expected}, got {got}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    accuracy = correct / len(ROWS)
    by_label = Counter(r["label"] for r in ROWS)
    by_lang = Counter(r["lang"] for r in ROWS)
    with capsys.disabled():
        print(f"\nopt-out corpus: {len(ROWS)} messages; labels {dict(by_label)}; "
              f"languages {dict(by_lang)}")
        print(f"OPT_OUT precision {precision:.4f} ({tp}/{tp + fp}), "
              f"recall {recall:.4f} ({tp}/{tp + fn}); accuracy {accuracy:.4f} "
              f"({correct}/{len(ROWS)})")
        for line in mismatches:
            print(line)
    assert not mismatches, f"{len(mismatches)} misclassified:\n" + "\n".join(mismatches)


def test_a_false_opt_out_never_happens_on_the_corpus():
    false_alarms = [r["text"] for r in ROWS
                    if r["label"] != "opt_out" and _decide(r) is Intent.OPT_OUT]
    assert not false_alarms


# --------------------------------------------------------------------------- properties

def _random_case(draw, word: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if up else c.lower() for c, up in zip(word, flips, strict=True))


@st.composite
def decorated(draw, words: list[str]) -> str:
    """A keyword with random case, surrounding whitespace, trailing punctuation and emoji."""
    word = _random_case(draw, draw(st.sampled_from(words)))
    space = st.text(alphabet=" \t\n\r\u00a0", max_size=3)
    lead_emoji = "".join(draw(st.lists(st.sampled_from(EMOJI), max_size=2)))
    punct = draw(st.text(alphabet=TRAILING_PUNCTUATION, max_size=4))
    trail = [draw(space), punct, draw(space), "".join(draw(st.lists(st.sampled_from(EMOJI),
                                                                     max_size=3)))]
    if draw(st.booleans()):  # emoji before or after the punctuation
        trail[1], trail[3] = trail[3], trail[1]
    return draw(space) + lead_emoji + draw(space) + word + "".join(trail) + draw(space)


@settings(max_examples=400, deadline=None)
@given(text=decorated(OPT_OUT_KEYWORDS), opted_out=st.booleans())
def test_opt_out_keywords_survive_case_whitespace_punctuation_and_emoji(text, opted_out):
    assert classify(text, opted_out=opted_out) is Intent.OPT_OUT, repr(text)


@settings(max_examples=200, deadline=None)
@given(text=decorated(ALWAYS_OPT_IN_KEYWORDS), opted_out=st.booleans())
def test_start_and_unstop_opt_in_whatever_the_state_and_decoration(text, opted_out):
    assert classify(text, opted_out=opted_out) is Intent.OPT_IN, repr(text)


@settings(max_examples=200, deadline=None)
@given(text=decorated(["YES"]))
def test_decorated_yes_opts_in_only_a_sender_who_opted_out(text):
    assert classify(text, opted_out=True) is Intent.OPT_IN, repr(text)
    assert classify(text, opted_out=False) is Intent.CONVERSATION, repr(text)


@settings(max_examples=200, deadline=None)
@given(text=decorated(HELP_KEYWORDS), opted_out=st.booleans())
def test_help_keywords_survive_case_whitespace_punctuation_and_emoji(text, opted_out):
    assert classify(text, opted_out=opted_out) is Intent.HELP, repr(text)


@settings(max_examples=500, deadline=None)
@given(text=st.text(), opted_out=st.booleans())
def test_classify_never_raises_on_arbitrary_text(text, opted_out):
    assert isinstance(classify(text, opted_out=opted_out), Intent)


@pytest.mark.parametrize("text", [None, "", "   ", "\n", "🙂", "...", "?!"])
def test_missing_blank_or_wordless_text_is_conversation(text):
    assert classify(text) is Intent.CONVERSATION
    assert classify(text, opted_out=True) is Intent.CONVERSATION


# --------------------------------------------------------------------------- examples

@pytest.mark.parametrize("text", ["YES", "yes", "Yes", "yes!", "Yes.", "YES 👍"])
def test_yes_is_opt_in_only_when_the_sender_has_opted_out(text):
    assert classify(text, opted_out=True) is Intent.OPT_IN
    assert classify(text, opted_out=False) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["Yes, 3pm works", "yes please come tomorrow", "yes and no"])
def test_yes_inside_a_sentence_is_conversation_even_after_opting_out(text):
    assert classify(text, opted_out=True) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["opt   out", "stop\tall", "OPT -  OUT", "Stop\n"])
def test_internal_whitespace_runs_collapse_in_keywords(text):
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["STOP please", "please stop", "stop!! thanks", "Stop thank you",
                                  "STOP STOP", "arrêt svp", "baja por favor", "ＳＴＯＰ"])
def test_a_keyword_with_only_courtesy_words_is_still_the_keyword(text):
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["help please", "help?", "Aide svp", "ayuda por favor"])
def test_help_with_only_courtesy_words_is_help(text):
    assert classify(text) is Intent.HELP


@pytest.mark.parametrize("text", ["Help! water everywhere, can you come sooner?",
                                  "alto de la puerta es 2 metros", "START time is 9am",
                                  "Info about the invoice?", "I'll cancel if it rains"])
def test_a_keyword_inside_a_longer_sentence_is_not_the_keyword(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["stop texting me, I don't need help",
                                  "Help? no. Stop texting me",
                                  "stop sending me messages, start over with someone else"])
def test_a_revocation_in_own_words_beats_every_other_reading(text):
    assert classify(text) is Intent.OPT_OUT
    assert classify(text, opted_out=True) is Intent.OPT_OUT


@pytest.mark.parametrize("limit", [
    "for a sec", "for a second", "for a moment", "for 2 secs", "for half an hour",
    "for the day", "for the weekend", "for the rest of the day", "for a couple hours",
    "for a couple of minutes", "for a few days", "for a week", "for the next 10 minutes",
    "a sec", "five minutes",
    # already so before: "for" and a unit the grammar knew
    "for a minute", "for an hour", "for 10 minutes", "for a bit", "for today"])
@pytest.mark.parametrize("revocation", ["Leave me alone", "stop texting me"])
def test_a_revocation_limited_to_a_length_of_time_is_conversation(revocation, limit):
    """Found by an audit: a limit in time makes a revocation conversation (docs/consent.md),
    but only hours, minutes, "a while" and "a bit" were read as one; "a sec", "the weekend",
    "half an hour", "a couple hours" opted out someone who asked for a moment's peace."""
    assert classify(f"{revocation} {limit}, I'm in a meeting") is Intent.CONVERSATION
    assert classify(f"{revocation} {limit}") is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "no me escribas durante una hora", "no me escribas por una hora", "déjame en paz un momento",
    "no me escribas un momento", "déjame en paz por un rato", "déjame en paz un rato",
    "laissez-moi tranquille une heure", "laissez-moi tranquille un moment",
    "laissez-moi tranquille une minute", "laissez-moi tranquille pendant une heure",
    "fichez-moi la paix deux minutes", "ne m'écrivez plus pour le moment"])
def test_a_spanish_or_french_revocation_limited_to_a_length_of_time_is_conversation(text):
    """Found by an audit: "una" (the feminine "a") was no amount, and a length with no
    "pendant", "durante", "por" before it ("un momento", "une heure") was no limit."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "stop texting me", "leave me alone", "stop texting me forever", "leave me alone for good",
    "stop texting me for the rest of my life", "Stop texting me for a second time",
    "Stop texting me for the last time", "leave me alone for real", "déjame en paz",
    "déjame en paz de una vez", "no me escribas por una vez", "laissez-moi tranquille",
    "laissez-moi tranquille une fois pour toutes", "Stop texting me. Stop. Leave me alone",
    # a rate, a share, or no more at all
    "stop texting me 24 hours a day", "Stop texting me for one second of my life",
    "Stop texting me a minute longer", "no me escribas un minuto más",
    "ne m'écrivez plus une minute de plus",
    # how long we have texted, not how long to wait
    "stop texting me 2 days in a row", "Stop texting me 3 days straight"])
def test_a_revocation_with_no_length_of_time_stays_an_opt_out(text):
    """The length-of-time grammar needs a unit of time: "for good", "forever", "the rest of
    my life", "a second time", "una vez" are none; nor is a rate, a share of something or one
    unit more."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize(("text", "language"), [
    ("STOP. I told you yesterday", "en"), ("Stop. I said stop a week ago", "en"),
    ("Stop! I said stop days ago", "en"), ("Stop. I said stop an hour ago", "en"),
    ("STOP. I said STOP a week ago", "en"), ("STOP. I already told you twice", "en"),
    ("Stop! I asked you to stop last week", "en"), ("STOP. I've told you 3 times", "en"),
    ("Stop. How many times do I have to tell you", "en"), ("STOP. Again", "en"),
    ("Stop. For the last time", "en"), ("Please, I said stop 2 days ago. STOP", "en"),
    ("ARRÊTEZ. Je vous l'ai déjà dit", "fr"), ("Stop. J'ai dit stop hier", "fr"),
    ("Arrête! Je t'ai déjà dit il y a une semaine", "fr"), ("STOP. Combien de fois", "fr"),
    ("Stop. Encore une fois", "fr"), ("STOP. Pour la dernière fois", "fr"),
    ("STOP. Ya te dije", "es"), ("Stop. Te dije que pares hace una semana", "es"),
    ("STOP. ¿Cuántas veces?", "es"), ("Stop. Otra vez", "es"), ("STOP. Ya te lo dije ayer", "es"),
    ("STOP. Por última vez", "es")])
def test_a_stop_beside_a_reiteration_of_an_earlier_request_is_an_opt_out(text, language):
    """Found by an audit: "STOP. I told you yesterday", "Stop. I said stop a week ago" repeat
    an opt-out already asked for, and were forwarded as conversation: the worst error, someone
    who said stop twice kept being texted. A reiteration is a clause that wants no more
    contact, beside a STOP as its own sentence."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", [
    "Stop. I'll be there in 5", "Stop by at 3, I told you the gate code yesterday",
    "Stop worrying, I said I'd come", "Don't stop, I told you it's fine", "STOP. I said no",
    "Stop! I told you. The pipe is behind that wall", "Stop. I told you the code yesterday",
    "Stop. I said I'd be late", "Stop. Te dije que el martes", "Stop. Je t'ai dit la porte",
    "I told you yesterday", "I said stop a week ago, the leak came back"])
def test_a_reiteration_about_the_job_or_with_no_stop_beside_it_is_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "Stop texting me I told you yesterday", "Stop texting me I told you this morning",
    "Stop texting me I asked you before", "Stop texting me I told you on Monday",
    "stop texting me I said stop at 9am", "Stop texting me I told you so many times",
    "Stop texting me I said stop a week ago", "Stop texting me I already asked an hour ago",
    "Ne m'écrivez plus je vous l'ai dit ce matin", "No me escribas te lo dije esta mañana",
    "no me escribas, te dije ayer"])
def test_when_the_sender_asked_before_is_no_time_limit_on_the_revocation(text):
    """A time after "I told you", "I said", "I asked" (te dije, je l'ai dit) is when they
    asked before, not a limit: "... I told you this morning" was read as "this morning"
    limiting the revocation, and forwarded."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", [
    "Don't text me before 8am, I told you", "stop texting me until Monday, I said",
    "Stop texting me so many times", "Don't text me after 9pm"])
def test_a_time_limit_before_a_reiteration_still_limits(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.timeout(60)
@pytest.mark.parametrize("text", [
    "stop. " + "i told you already " * 400 + "x", "stop. " + "i said stop " * 400 + "x",
    "stop texting me " + "i told you " * 400 + "before", "stop. i said stop " + "a " * 800,
    "stop texting me " + "i said " * 400 + "this morning?", "stop. " + "ya te dije " * 400])
def test_a_long_reiteration_is_classified_quickly(text):
    classify(text)


class _ScanCounter:
    """A pattern that counts the characters its searches read (to the end of the text)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.flags, self._re, self.read = pattern.pattern, pattern.flags, pattern, 0

    def search(self, s: str, pos: int = 0, endpos: int = 2**31):
        self.read += min(len(s), endpos) - pos
        return self._re.search(s, pos, endpos)


@pytest.mark.parametrize("text", [
    "tell him to stop texting me " * 57, "dile que no me escriba " * 69,
    "tell him to stop texting me and you " * 44])
def test_what_follows_a_request_told_to_another_is_read_once_not_at_every_request(
        text, monkeypatch):
    """Whether the sender turns a request told to another on us after it ("..., and you
    too") was a search to the end of the text at every such request: quadratic in a text of
    1,600 characters repeating them (4-5 ms, against about 1 ms for other texts as long)."""
    from commsvc.consent.detector import own_words
    counters = {name: _ScanCounter(getattr(own_words, name))
                for name in ("YOU_TOO_RE", "SENDER_TOO_RE")}
    for name, counter in counters.items():
        monkeypatch.setattr(own_words, name, counter)
    detect(text)
    assert sum(c.read for c in counters.values()) <= 4 * len(text)


@pytest.mark.parametrize("text", [
    "he said stop texting me " * 66, "ma femme a dit arrêtez de m'écrire " * 45,
    "mi vecina me dijo dejen de escribirme " * 43])
def test_the_clause_after_a_request_quoted_from_another_is_read_once_not_at_every_request(
        text, monkeypatch):
    """Whether a request quoted from another person names us in its clause ("my wife says
    stop texting us") was a search to the clause's end at every such request: quadratic in a
    text of 1,600 characters repeating them with no clause break (about 9 ms)."""
    from commsvc.consent.detector import own_words
    counter = _ScanCounter(own_words.OBJECT_US_RE)
    monkeypatch.setattr(own_words, "OBJECT_US_RE", counter)
    detect(text)
    assert counter.read <= 4 * len(text)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), st.sampled_from([r["text"] for r in ROWS])))
def test_the_opted_out_state_only_ever_turns_a_yes_into_an_opt_in(text):
    # The relay classifies with opted_out=True before reading the sender's state, so a
    # conversation there must be a conversation whatever the state.
    as_opted_in, as_opted_out = classify(text, opted_out=False), classify(text, opted_out=True)
    assert as_opted_in is as_opted_out or (
        as_opted_in is Intent.CONVERSATION and as_opted_out is Intent.OPT_IN), repr(text)


# --------------------------------------------------------------------------- new keywords

@settings(max_examples=200, deadline=None)
@given(text=decorated(YES_KEYWORDS))
def test_oui_and_si_are_yes_an_opt_in_only_for_a_sender_who_opted_out(text):
    assert classify(text, opted_out=True) is Intent.OPT_IN, repr(text)
    assert classify(text, opted_out=False) is Intent.CONVERSATION, repr(text)


@pytest.mark.parametrize("keyword", BARE_ONLY_OPT_OUT_KEYWORDS)
@pytest.mark.parametrize("courtesy", ["please", "svp", "por favor", "merci"])
def test_a_bare_only_keyword_opts_out_alone_but_not_with_a_courtesy_word(keyword, courtesy):
    if keyword.lower() in ("para", "pare") and courtesy == "por favor":
        pytest.skip("PARA with Spanish courtesy is an opt-out: "
                    "test_para_with_spanish_courtesy_is_an_opt_out")
    assert classify(keyword) is Intent.OPT_OUT
    assert classify(f"{keyword} {courtesy}") is Intent.CONVERSATION
    assert classify(f"{courtesy} {keyword}") is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["por favor para", "PARA POR FAVOR", "Ya no me interesa, por favor"
                                  " pare", "ya para", "Para, gracias"])
def test_para_with_spanish_courtesy_is_an_opt_out(text):
    """Found by an audit: "por favor para" was forwarded (PARA counted only bare)."""
    assert detect(text).intent is Intent.OPT_OUT and detect(text).language == "es"


@pytest.mark.parametrize("keyword,sentence", [
    ("PARA", "para el martes"), ("Para", "Para mañana a las 9"), ("FIN", "fin de semana"),
    ("Fin", "Fin des travaux ?"), ("ANNULER", "annuler le rdv"),
    ("Detener", "¿Hay que detener el agua?"),
    ("Cancelar suscripción", "cancelar suscripción del gimnasio"),
    ("para", "para fin de mes"), ("fin", "Fin para"), ("¡Basta!", "basta con eso"),
    ("Ya basta", "Basta por hoy, seguimos mañana")])
def test_a_new_short_keyword_opts_out_alone_but_not_inside_a_longer_message(keyword, sentence):
    assert classify(keyword) is Intent.OPT_OUT
    assert classify(sentence) is Intent.CONVERSATION


# --------------------------------------------------------------------------- language

@pytest.mark.parametrize("text,opted_out,expected", [
    ("STOP", False, Detection(Intent.OPT_OUT, "en")),
    ("please stop texting me", False, Detection(Intent.OPT_OUT, "en", own_words=True)),
    ("ARRÊT", False, Detection(Intent.OPT_OUT, "fr")),
    ("Annuler", False, Detection(Intent.OPT_OUT, "fr")),
    ("STOP svp", False, Detection(Intent.OPT_OUT, "fr")),
    ("ne m'écrivez plus", False, Detection(Intent.OPT_OUT, "fr", own_words=True)),
    ("Stop! Qui êtes-vous ?", False, Detection(Intent.OPT_OUT, "fr", own_words=True)),
    ("Para.", False, Detection(Intent.OPT_OUT, "es")),
    ("Detener por favor", False, Detection(Intent.OPT_OUT, "es")),
    ("STOP por favor", False, Detection(Intent.OPT_OUT, "es")),
    ("Cancelar suscripción", False, Detection(Intent.OPT_OUT, "es")),
    ("no me envíen más mensajes", False, Detection(Intent.OPT_OUT, "es", own_words=True)),
    ("FIN", False, Detection(Intent.OPT_OUT, "en")),  # French or Spanish: no way to tell
    ("AIDE", False, Detection(Intent.HELP, "fr")),
    ("ayuda por favor", False, Detection(Intent.HELP, "es")),
    ("help", False, Detection(Intent.HELP, "en")),
    ("Oui", True, Detection(Intent.OPT_IN, "fr")),
    ("Sí", True, Detection(Intent.OPT_IN, "es")),
    ("START svp", False, Detection(Intent.OPT_IN, "fr")),
    ("START", False, Detection(Intent.OPT_IN, "en")),
])
def test_detect_names_the_language_a_keyword_or_revocation_was_written_in(
        text, opted_out, expected):
    assert detect(text, opted_out=opted_out) == expected


@pytest.mark.parametrize("text,expected", [
    ("No vuelvas a escribirme", "es"), ("Favor de no escribirme", "es"), ("ALTO YA!", "es"),
    ("Je veux plus recevoir de SMS", "fr"), ("M'écrivez plus", "fr"),
    ("Me contactez plus svp", "fr"), ("Stop writing to me", "en"),
    ("Je veux me désabonner", "fr"), ("Quiero desabonarme", "es"),
    ("Quiero desinscribirme", "es"), ("Desinscribir por favor", "es"),
    ("Me desinscribo de la lista", "es"), ("Je veux me désinscrire", "fr"),
    ("Désinscrivez-moi", "fr"), ("Plus jamais de SMS svp", "fr"),
    ("plus jamais de messages", "fr"), ("Nunca más mensajes por favor", "es"),
    ("nunca más promociones", "es"), ("Je ne veux plus jamais recevoir de SMS", "fr"),
    ("No me manden nunca más mensajes", "es"), ("Nunca me vuelvan a escribir", "es")])
def test_an_opt_out_found_by_the_audit_is_answered_in_its_language(text, expected):
    """Found by an audit: each was forwarded as conversation, and "Je veux me désabonner des
    mails" was an opt-out answered in Spanish (ES's "desabon*" caught the French word); the
    other way round, "Quiero desinscribirme" was answered in French (FR's "desinscri*" caught
    the Spanish word)."""
    assert detect(text).intent is Intent.OPT_OUT
    assert detect(text).language == expected


@pytest.mark.parametrize("reply", ["HELP_REPLY", "OPT_IN_CONFIRMATION"])
@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_our_own_help_text_sent_back_is_conversation(reply, language):
    """Found by an audit: "Reply STOP to opt out" (and "Répondez STOP pour vous désabonner")
    in the HELP reply, pasted or sent back, was an opt-out: a keyword after reply, text,
    send, répondez, envoyez, responda, envía ... is an instruction quoted, not a request;
    so are the keywords it lists ("Répondez AIDE pour de l'aide, STOP pour vous
    désabonner", in the START confirmation)."""
    from commsvc.config.settings import Config
    from commsvc.consent import messages
    text = messages.render(messages.in_language(getattr(messages, reply), language), Config())
    assert "STOP" in text
    assert classify(text) is Intent.CONVERSATION
    assert classify(text, opted_out=True) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "Thanks for choosing ABC Cleaning! Your pro is on the way. Reply STOP to unsubscribe.",
    "I got a weird text saying reply STOP to unsubscribe, was that you?",
    "Reply STOP", "Text STOP to 55123", "Répondez STOP au 36180", "Envía BAJA al 55123",
    "Responda STOP para darse de baja", "Reply HELP for help, STOP to cancel",
    "Reply HELP for help, STOP to opt out",
    "Msg&data rates may apply. Text STOP to 55123 to opt out",
    "STOP. Reply YES to confirm"])
def test_a_keyword_quoted_as_an_instruction_is_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "STOP", "STOP!", "Stop please", "STOP SMS", "I replied STOP, stop texting me",
    "Reply STOP to opt out, my foot. Stop texting me"])
def test_a_keyword_said_or_reported_is_still_an_opt_out(text):
    assert classify(text) is Intent.OPT_OUT


def test_conversation_carries_no_language_but_english():
    assert detect("Arrêtez-vous au portail, je vous ouvre") == Detection(Intent.CONVERSATION)
    assert detect("Oui", opted_out=False) == Detection(Intent.CONVERSATION, "en")


def test_the_corpus_is_answered_in_its_language_or_in_english_when_no_word_tells():
    ambiguous = {"START", "YES", "FIN"}  # no word of one language only: English, the default
    wrong = []
    for row in ROWS:
        detection = detect(row["text"], opted_out=row["opted_out"] == "1")
        if detection.intent is Intent.CONVERSATION:
            continue
        english_for_want_of_a_clue = (
            detection.language == "en"
            and row["text"].strip(" .!?").upper() in ambiguous)
        if detection.language != row["lang"] and not english_for_want_of_a_clue:
            wrong.append((row["line"], row["lang"], detection.language, row["text"]))
    assert wrong == []



@pytest.mark.parametrize("text", [
    "stop.\n\nSent from my iPhone", "STOP\n--\nJohn", "STOP\n\nSent from Yahoo Mail for iPhone",
    "ARRET\nEnvoyé de mon iPhone", "Please stop texting me.\nSent from my iPhone"])
def test_a_keyword_or_revocation_is_one_whatever_signature_the_phone_adds(text):
    """Found by an audit: the signature made each an ordinary message, forwarded."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", [
    "Stop\nWait", "Stop!\nWait!", "STOP\nWait", "Stop\nDon't", "STOP\nIt's Leaking",
    "Stop\nThe Dog", "Stop!\nWrong Tree", "STOP\nThat's Wrong", "Alto\nEspere",
    "Arrêtez\nAttendez", "Stop\nSorry", "Stop\nNevermind", "Stop\nYes", "Stop\n- Ok",
    "STOP\n— Sorry", "Alto\n- Mañana", "Arrêtez\n- Attendez", "STOP\nMaria", "Stop,\n  Ana Lopez",
    "STOP - Gas Leak", "Stop - Water Leak", "STOP\n- Leak", "Alto - Peligro", "Arrêt - Fuite"])
def test_a_strong_keyword_with_a_capitalised_word_on_the_next_line_is_conversation(text):
    """Found by reviews: a rule reading a capitalised word after STOP as the sender's name
    made "Stop\nWait" and "STOP - Gas Leak" opt-outs, silencing a customer telling a pro to
    halt; no list of ordinary words could tell a name from an instruction, so a name after a
    keyword is read as the sender's words (conversation)."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["I was sent from the office.\nSee you at 5",
                                  "Sent from my brother's phone: can you come at 5?"])
def test_text_after_sent_from_is_no_signature_when_it_is_the_message(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "Cancel - sent from my husband's phone, he can't make it tomorrow",
    "Cancel, sent from my wife's phone because mine died. We'll rebook next week"])
def test_a_person_named_after_sent_from_is_no_signature(text):
    """Found by a review: the signature rule left a bare CANCEL, an opt-out."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("text", "intent"), [
    ("Sent " + " " * 1600, Intent.CONVERSATION), ("a" + "\n " * 800, Intent.CONVERSATION),
    ("STOP" + "\n" * 1600, Intent.OPT_OUT), ("x - " * 400, Intent.CONVERSATION),
    ("(" * 1600, Intent.CONVERSATION), ("re:" * 500 + " stop", Intent.OPT_OUT),
    # the phrases that must end the message: a long tail of courtesy words, then one more
    ("stop bothering me " + "please " * 400 + "x", Intent.CONVERSATION),
    ("no me molesten " + "más. " * 400 + "x", Intent.CONVERSATION),
    ("please, " * 400 + "don't text", Intent.OPT_OUT),
    # a call asked for after the messages, a dash before a name
    ("No manden mensajes, " + "mejor " * 400 + "x", Intent.OPT_OUT),
    ("No envíen más" + ", gracias" * 400 + " x", Intent.CONVERSATION),
    ("STOP" + "\n" * 1600 + "- Maria", Intent.CONVERSATION),
    # a question ending many LAST phrases, someone else told to stop many times
    ("stop bothering me. " * 400 + "who is this?", Intent.OPT_OUT),
    ("tell the " * 400 + "stop texting me", Intent.CONVERSATION),
    # Found by a review: an alternative that is two others in a row, in a repeated group,
    # doubled the time with each repeat (1.9 s at 22, minutes at 30)
    ("No texts" + " ever again" * 60 + " x", Intent.CONVERSATION),
    ("No texts please" + " ever again please" * 60 + " x", Intent.CONVERSATION),
    ("No me manden mensajes, " + "mejor solo " * 60 + "x", Intent.OPT_OUT)])
def test_long_runs_of_spaces_or_line_breaks_are_classified(text, intent):
    """Found by a review: the first signature pattern backtracked cubically on such a text
    (220 s for 1,600 characters), holding a web worker. The timeout only stops a hang: the
    patterns are anchored and bounded, each text is a fraction of a millisecond."""
    assert classify(text) is intent


_FILLER = "ok, " * 1024  # 4 KB of words: with another, a text twice Twilio's 1,600 characters


@pytest.mark.parametrize(("text", "intent"), [
    ("stop texting me. " + _FILLER + _FILLER, Intent.OPT_OUT),
    (_FILLER + _FILLER + "stop texting me", Intent.OPT_OUT),
    (_FILLER + "Stop texting me. " + _FILLER, Intent.CONVERSATION),
    (_FILLER + "Arrêtez de m'écrire. " + _FILLER, Intent.CONVERSATION),
    # the head's end falls just after "me": the cut is no end of its clause, as "... the
    # address" was none
    ("ok " * 263 + "stop texting me the address. " + "ok " * 600, Intent.CONVERSATION),
    # a short clause at an end, beside a clause longer than the end, whose words near the end
    # are read as they are with nothing after (or before) them
    ("ok " * 600 + "please stop texting me. thanks", Intent.OPT_OUT),
    ("ok " * 600 + "please stop texting me, thank you", Intent.OPT_OUT),
    ("Hi. Please stop texting me " + "ok " * 600, Intent.OPT_OUT),
    ("Hi. Please stop texting me " + "ok " * 600 + ". ok", Intent.OPT_OUT),
    # the whole-message keywords still read it all
    ("STOP " * 2000, Intent.OPT_OUT)])
def test_a_text_past_twilios_cap_is_read_at_its_two_ends(text, intent):
    """Found by a measure: an 8 KB body (the webhook takes up to 64 KB; Twilio sends at most
    1,600 characters) cost 17 to 22 ms of rules, 147 ms at 64 KB, read in full. Only its
    first and last 800 characters are read for a revocation now, as a real text holds."""
    assert len(text) > 1600
    assert classify(text) is intent


@pytest.mark.parametrize("text", [
    "STOP\nSent from my Verizon, Samsung Galaxy smartphone",
    "STOP\nSent from my T-Mobile 4G LTE Device", "STOP\nSent from my phone",
    "STOP\n\nSent from my BlackBerry 10 smartphone on the Verizon Wireless 4G LTE network.",
    "STOP\n- Sent from my Samsung"])
def test_the_signatures_phones_really_add_are_set_aside(text):
    """Found by a review: a device list too short, and 40 characters too few."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", [
    "Stop\nMike Johnson\nJohnson Plumbing LLC",
    "STOP\nMaria Lopez\nLopez Cleaning Services, LLC\n(555) 123-4567",
    "Stop\n\nMike Johnson\nJohnson Plumbing Inc.", "STOP\n- Mike\nJohnson Plumbing Inc.",
    "Alto\nJuan Pérez\nPlomería Pérez S.A. de C.V.", "Arrêtez\nJean Dupont\nDupont Plomberie SARL"])
def test_a_business_signature_block_after_a_keyword_is_set_aside(text):
    """Found by an audit: a name and a company with its legal form under STOP made it an
    ordinary message, forwarded. The legal form tells the block from the sender's words; the
    evidence keeps the keyword without it (a name, a number)."""
    assert classify(text) is Intent.OPT_OUT
    assert "\n" not in detector.as_said(text)


@pytest.mark.parametrize("text", [
    "Stop\nMike Johnson", "STOP - Mike", "Can you come at 5?\nMike Johnson\nJohnson Plumbing LLC",
    "Stop\nWait\nThe pipe"])
def test_a_name_without_a_company_after_it_is_still_the_senders_words(text):
    """'STOP - Mike' (the audit wanted an opt-out) cannot be told from 'STOP - Gas Leak' or
    'Stop\nWait' without a list of names (see the test above it): left conversation."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "cancel the appointment", "stop by at 3", "para las 3", "planta baja", "fin de semana",
    "arrête les travaux", "Stop. I'll be there in 5", "stop the water",
    # beside the audit's fixes: the same words about the job
    "Quiero la planta baja", "La baja, por favor", "Quiero la baja, la alta es muy cara",
    "Quiero la baja?", "dejen de escribir, ya voy para allá", "Mi hijo no deja de escribir",
    "Arrête d'écrire sur le mur, je viens", "Stop sending me the ad mockups, I approved them",
    "stop texting me every day, once a week is fine", "stop texting me every hour",
    "STOP. Reply YES to confirm", "Replying STOP?", "Reply STOP? No. Stop, I'll call",
    "Stop by, my husband will handle the payment", "Stop texting me so many pictures"])
def test_the_jobs_words_beside_the_audits_opt_outs_stay_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "No quiero la alta, quiero la baja", "Planta alta o baja? Quiero la baja",
    "No me gusta la alta. Quiero la baja", "La de arriba no. Quiero la baja"])
def test_quiero_la_baja_after_other_words_picks_the_lower_one_and_stays_conversation(text):
    """'Quiero la baja' opts out as the whole message (after a greeting); after the sender's
    other words about two floors or two quotes it is the lower one, whichever comes first."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "Quiero la baja", "Hola, quiero la baja", "Buenas tardes, quiero la baja por favor",
    "Gracias, quiero la baja", "Ya quiero la baja", "Solicito mi baja"])
def test_quiero_la_baja_as_the_whole_message_is_an_opt_out(text):
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", [
    "Stop texting me, my lawyer will handle it", "stop texting me dick pics",
    "Stop texting me for months", "Stop texting me the updates"])
def test_the_audits_conversations_do_not_reach_past_their_cases(text):
    assert classify(text) is Intent.OPT_OUT


_PATTERN_SOURCES = "".join(
    path.read_text(encoding="utf-8")
    for path in [*sorted(Path(detector.__file__).parent.glob("*.py")),
                 Path(revocation_phrases.__file__)])
# Every alternative written in the patterns' source (words and phrases between ( | and | )).
_ALTERNATIVES = sorted({m.group(1).strip() for m in re.finditer(
    r"[(|]([a-z][a-z ']{1,30}?)(?=[|)])", _PATTERN_SOURCES)} - {""})
_LEADS = ["", "stop ", "no texts ", "please stop texting me ", "no me manden mensajes, ",
          "don't text ", "no more texts ", "arretez de m'envoyer des messages ",
          "remove this number ", "stop bothering me ", "STOP\n", "tell the ", "no envien mas ",
          # with an object: a review found " ever again" * 22 after "don't text me" took 1.7 s
          "don't text me ", "never text us ", "no longer message us ", "tell my ",
          "no me manden mensajes, llamenme ",
          # a quoted instruction runs to the end of its clause; dropped "ne"
          "reply stop to ", "send stop ", "reply help for help, stop to ",
          "me contactez plus ", "je veux plus recevoir "]


@pytest.mark.timeout(120)
def test_no_alternative_repeated_after_a_revocation_makes_the_patterns_backtrack():
    """Found by a review: "ever again" beside "ever" and "again" in a repeated group, and
    "mejor solo" beside "mejor" and "solo", let the matcher split each repeat two ways, so 30
    repeats took minutes and held a web worker. Each alternative of the patterns' source, 30
    times after each lead, must classify (the timeout only stops a hang: each text takes well
    under a millisecond)."""
    assert len(_ALTERNATIVES) > 300
    for lead in _LEADS:
        for alternative in _ALTERNATIVES:
            for tail in (" x", "?"):
                classify(lead + (" " + alternative) * 30 + tail)


@pytest.mark.parametrize(("text", "language"), [
    ("stopplease", "en"), ("STOPPLZ", "en"), ("Stopppp pls", "en"), ("stoppppls", "en"),
    ("pleasestop", "en"), ("plsstop", "en"), ("stopnow!!", "en"), ("STOPSTOP", "en"),
    ("stopit", "en"), ("arretezsvp", "fr"), ("altoporfavor", "es")])
def test_a_keyword_typed_glued_to_courtesy_or_stress_is_the_keyword(text, language):
    """Found by a review: "stopplease", "STOPPLZ", "pleasestop" (no space) were one unknown
    word, forwarded; only "stoppp" and "unsubscribeplease" folded."""
    assert detect(text) == Detection(Intent.OPT_OUT, language)


@pytest.mark.parametrize("text", [
    "stopcock is under the sink on the left", "stopped by but nobody was home",
    "STOPPED LEAKING!! thank you so much", "Nonstop rain here, can we move it to Thursday?",
    "stopover at the supply store first", "bajame el precio un poco?", "altos del closet: 2 m",
    "arrets de bus", "stopcock", "stopped"])
def test_words_of_the_job_that_start_with_a_keyword_stay_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize(("text", "language"), [
    ("Ça suffit, arrêtez", "fr"), ("ca suffit arretez", "fr"), ("C'est assez, arrêtez", "fr"),
    ("Arrêtez tout de suite", "fr"), ("ARRETEZ TOUT DE SUITE!!!", "fr"),
    ("Arrêt immédiatement", "fr"), ("Arrête maintenant", "fr"), ("Stop tout de suite", "fr"),
    ("Alto de inmediato", "es"), ("ALTO INMEDIATAMENTE", "es"),
    ("Anulen mi suscripción", "es"), ("anular suscripcion", "es"),
    ("Cancelen mi suscripción", "es")])
def test_the_keywords_the_last_round_missed_are_opt_outs(text, language):
    """Left by the last round: "Ça suffit, arrêtez" is "Enough, stop"; "tout de suite",
    "immédiatement", "de inmediato" stress a keyword as "now" does; "Anulen mi suscripción"
    is CANCELAR SUSCRIPCIÓN (alone only, like it: a maintenance plan is a subscription too)."""
    assert detect(text) == Detection(Intent.OPT_OUT, language)


@pytest.mark.parametrize("text", [
    "Baja de inmediato, estoy en la puerta", "Baja de inmediato",
    "Arrêtez tout de suite la scie, il y a un tuyau!", "Arrêtez-vous tout de suite au garage",
    "Arrêtez-moi ça tout de suite!", "Ça suffit, arrêtez de peinturer le cadrage",
    "Ça suffit comme peinture, arrêtez là c'est parfait", "Ça suffit pour aujourd'hui, merci",
    "Ça suffit!", "Anulen mi suscripción al plan de mantenimiento, solo quiero esta reparación",
    "Anulen la cita del lunes", "Alto de inmediato el agua, se está inundando",
    # "stp" is French SMS for "s'il te plaît": a plea, no keyword
    "stp", "STP", "Stp!!", "stp appelle-moi en arrivant"])
def test_the_same_words_about_the_job_stay_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize(("text", "language"), [
    ("Lâchez-moi", "fr"), ("Lachez moi svp", "fr"), ("Lâchez-moi donc!!", "fr"),
    ("Lâchez-moi tranquille", "fr"), ("Stop. Lâchez-moi", "fr"),
    ("Je veux plus de textos", "fr"), ("Je veux pu de textos", "fr"),
    ("Je veux plus de messages svp", "fr"), ("Stop, je veux plus de textos", "fr"),
    ("No more offers please", "en"), ("no more coupons please", "en"), ("Ok no more deals", "en"),
    ("¿Pueden dejar de mandarme mensajes?", "es"), ("Pueden dejar de escribirme?", "es")])
def test_the_revocations_the_last_round_missed_are_opt_outs(text, language):
    """Left by the last round: "Lâchez-moi" (leave me alone), "Je veux plus de textos"
    (everyday French without "ne"), "No more offers please" (our marketing) as the whole
    message; and a Spanish request asked as a question ("¿Pueden dejar de mandarme
    mensajes?", as "Can you stop texting me?"), which the pattern's one LAST branch ("dejen
    de acosar") had made a must-end-the-message phrase."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", [
    "Lâchez-moi un coup de fil en arrivant", "Lâchez-moi ça, je m'en occupe", "Lâche pas!",
    "Lâche-moi un texto quand t'arrives", "Lâchez-moi, je suis occupé",
    "Je veux plus de photos du chantier svp", "Je veux plus de messages pour suivre les travaux",
    "Je veux plus de textos comme ça, c'est clair!", "Je veux plus de textos?",
    "No more offers from other pros please, I'm going with you",
    "No more offers, I picked a contractor", "No more deals on the countertop?",
    "Deja de mandarme fotos, ya vi", "dejen de acosar?"])
def test_the_same_revocation_words_about_the_job_stay_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["Pls remove my # from ur list", "remove this # please",
                                  "Borren mi # de su lista", "Retirez mon # de votre liste"])
def test_a_hash_for_the_senders_number_is_their_number(text):
    """Found by a review: "#" for "number" was read only in a wrong number ("STOP wrong #");
    "remove my # from ur list" lost its object and was forwarded."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["my # is 555 1234, text me there", "Wrong # on the invoice",
                                  "#2 on the list is the kitchen sink"])
def test_a_hash_in_job_talk_stays_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "No me escribas a esta hora, mañana temprano", "No me escriban a estas horas",
    "Ne m'écrivez plus à cette heure-ci svp", "Don't text me at this hour"])
def test_a_revocation_limited_to_this_hour_is_conversation(text):
    """Found by a review: "No me escribas a esta hora" (not at this hour of the night) opted
    out a customer who asked the pro to text in the morning; "so late", "tan tarde" were
    already read as a limit, "a esta hora" was not."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize(("text", "language"), [
    ("stop merci bonne journée", "fr"), ("Arrêtez svp, bonne soirée", "fr"),
    ("STOP thanks, have a good day", "en"), ("Alto, gracias, que tenga buen día", "es")])
def test_a_keyword_with_a_parting_wish_is_the_keyword(text, language):
    """Found by a review: "stop merci bonne journée" (a polite Québec STOP) was forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, language)


@pytest.mark.parametrize("text", ["Stop by at 3, have a good day",
                                  "Bonne journée, arrêtez-vous au 2e", "Baja, buen día! Ya llegué"])
def test_a_parting_wish_beside_job_talk_stays_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["Ne m'envoyez plus de textes svp",
                                  "Arrêtez de m'envoyer des textes", "Je veux plus de textes"])
def test_french_textes_are_the_texts(text):
    """Found by an adversarial round: "textes" (French for texts, as "textos") was no word of
    messaging, so "Ne m'envoyez plus de textes" was forwarded and its sender kept texted."""
    assert detect(text) == Detection(Intent.OPT_OUT, "fr", own_words=True)


@pytest.mark.parametrize("text", ["Envoyez-moi un texte quand vous arrivez",
                                  "Arrêtez pas de m'envoyer des textes, j'aime les photos",
                                  "Pouvez-vous m'envoyer plus de textes pendant les travaux?"])
def test_french_textes_about_the_job_stay_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["That's my best price. No more deals.",
                                  "300 is my final. No more deals",
                                  "That's my final offer, no more offers",
                                  "Price is firm. No more deals!"])
def test_no_more_deals_after_a_price_is_haggling(text):
    """Found by an adversarial round: a pro ending a price talk with "No more deals" opted
    out of the customer's job (the relay stopped forwarding their texts)."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["No more offers please", "Thanks. No more offers please",
                                  "Not interested. No more deals", "Who is this? No more offers",
                                  "Seriously, no more offers", "Please stop. No more offers",
                                  "Hi, no more offers please"])
def test_no_more_offers_after_courtesy_or_a_refusal_is_an_opt_out(text):
    assert classify(text) is Intent.OPT_OUT



@pytest.mark.parametrize(("text", "intent"), [
    ("Lose my # once the job is done lol", Intent.CONVERSATION),
    ("You can remove me from your list once the warranty ends", Intent.CONVERSATION),
    ("Remove me from your list when the job is done", Intent.CONVERSATION),
    ("Retirez-moi de votre liste une fois les travaux finis", Intent.CONVERSATION),
    ("Sáquenme de su lista cuando terminen el trabajo", Intent.CONVERSATION),
    ("Lose my number once and for all", Intent.OPT_OUT),
    ("Remove me from your list at once", Intent.OPT_OUT),
    ("Arrêtez de m'écrire une fois pour toutes", Intent.OPT_OUT),
    ("Stop texting me when you know I said stop", Intent.OPT_OUT),
    ("Take me off your list as soon as possible", Intent.OPT_OUT),
    ("Remove me from your list when you get a chance", Intent.OPT_OUT),
    ("Retirez-moi de votre liste dès que possible", Intent.OPT_OUT),
    ("Sáquenme de su lista en cuanto puedan", Intent.OPT_OUT)])
def test_a_revocation_for_when_the_job_is_done_is_conversation(text, intent):
    """Found by an adversarial round: a customer asking to be taken off the list once the
    job is done was cut off from their pro at once (the relay stopped forwarding); "once and
    for all", "at once" still opt out."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Je souhaite plus de notifications", Intent.CONVERSATION),
    ("Je voudrais plus de textos svp", Intent.CONVERSATION),
    ("Je voudrais plus jamais de textos", Intent.OPT_OUT),
    ("Je veux plus de textos", Intent.OPT_OUT)])
def test_je_voudrais_plus_de_textos_wants_more_of_them(text, intent):
    """Found by an adversarial round: "Je souhaite plus de notifications" (I'd like more
    notifications) opted the customer out of their job's texts."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("No escriban más a este #", Intent.OPT_OUT),
    ("No escriban más a este número", Intent.OPT_OUT),
    ("No escribas nunca a este celular", Intent.OPT_OUT),
    ("No escriban a este # después de las 6", Intent.CONVERSATION),
    ("No escriban a este número, escriban al de mi esposa", Intent.OPT_OUT)])
def test_no_escriban_a_este_numero_is_an_opt_out(text, intent):
    """Found by an adversarial round: "No escriban más a este #" (don't write to this number
    any more) was forwarded and its sender kept being texted."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Arrêter maintenant?", Intent.CONVERSATION), ("Arrêter tout de suite?", Intent.CONVERSATION),
    ("¿Parar de inmediato?", Intent.CONVERSATION), ("Stop now?", Intent.CONVERSATION),
    ("Arrêtez tout de suite!", Intent.OPT_OUT), ("Alto de inmediato", Intent.OPT_OUT),
    ("stop?", Intent.OPT_OUT)])
def test_a_keyword_stressed_and_asked_asks_about_the_work(text, intent):
    """Found by an adversarial round: a pro asking "Arrêter maintenant?" (should I stop
    now?) opted out of the customer's job, and the relay stopped forwarding to them."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Arrêtez tout de suite de m'écrire", Intent.OPT_OUT),
    ("Arrête immédiatement de m'envoyer des messages", Intent.OPT_OUT),
    ("Dejen de inmediato de escribirme", Intent.OPT_OUT),
    ("Paren ya de mandarme mensajes", Intent.OPT_OUT),
    ("Arrêtez tout de suite de percer", Intent.CONVERSATION),
    ("Dejen ya de martillar, es domingo", Intent.CONVERSATION)])
def test_a_stress_word_before_de_keeps_the_revocation(text, intent):
    """Found by an adversarial round: "Arrêtez tout de suite de m'écrire" (stop texting me
    right now) was forwarded, and its sender kept being texted."""
    assert classify(text) is intent


@pytest.mark.parametrize("text", ["Baja, que tengan buen día", "Alto, que tenga un buen día"])
def test_a_parting_wish_to_several_is_a_parting_wish(text):
    """Found by an adversarial round: "Baja, que tengan buen día" (to the company: the plural)
    was forwarded, and its sender kept being texted."""
    assert detect(text) == Detection(Intent.OPT_OUT, "es")


def test_j_veux_pu_de_textos_is_je_veux_plus_de_textos():
    """Found by an adversarial round: the Québec "J'veux pu de textos" (the "je" elided) was
    forwarded, and its sender kept being texted."""
    assert detect("J'veux pu de textos") == Detection(Intent.OPT_OUT, "fr", own_words=True)


@pytest.mark.parametrize(("text", "intent"), [
    ("Remove me from the list for the spring cleanup, I'll call you", Intent.CONVERSATION),
    ("Remove my # from your list for the spring cleanup", Intent.CONVERSATION),
    ("Remove me from your list for the promotions", Intent.OPT_OUT),
    ("Take me off your list for good", Intent.OPT_OUT),
    ("Take me off your list for the love of god", Intent.OPT_OUT),
    ("Remove me from your list for the last time", Intent.OPT_OUT),
    ("Remove me from your list for the 3rd time", Intent.OPT_OUT)])
def test_a_list_of_the_job_is_not_the_messages(text, intent):
    """Found by an adversarial round: a customer taking their name off a job's list ("... for
    the spring cleanup") was cut off from their pro."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("stop texting me at this hour or any hour", Intent.OPT_OUT),
    ("No me escribas a esta hora ni nunca", Intent.OPT_OUT),
    ("Ne m'écrivez plus à cette heure-ci ou à aucune autre", Intent.OPT_OUT),
    ("Don't text me at this hour or before 8", Intent.CONVERSATION)])
def test_this_hour_or_any_other_is_no_time_limit(text, intent):
    """Found by an adversarial round: "stop texting me at this hour or any hour" was read as
    a time limit and forwarded, and its sender kept being texted."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Plus de textes, moins d'appels", Intent.CONVERSATION),
    ("Plus de messages, moins de courriels svp", Intent.CONVERSATION),
    ("Plus de textes, c'est mieux pour moi, moins d'appels svp", Intent.CONVERSATION),
    ("Plus de textes svp", Intent.OPT_OUT),
    ("Plus de textos, merci", Intent.OPT_OUT),
    ("Plus de messages, je suis pas intéressé", Intent.OPT_OUT)])
def test_plus_de_textes_set_against_less_asks_for_more(text, intent):
    """Found by an adversarial round: "Plus de textes, moins d'appels" (more texts, fewer
    calls) opted the customer out, and the relay stopped forwarding their job's texts."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Arrêtez de m'envoyer des textes en double svp", Intent.CONVERSATION),
    ("Arrêtez tout de suite de m'envoyer des messages vocaux, écrivez-moi plutôt",
     Intent.CONVERSATION),
    ("Arrêtez de m'envoyer des textes aussi longs, un oui suffit", Intent.CONVERSATION),
    ("Dejen ya de mandarme mensajes tan largos", Intent.CONVERSATION),
    ("Dejen de mandarme mensajes duplicados, me llegan dos veces", Intent.CONVERSATION),
    ("Arrêtez de m'envoyer des textes", Intent.OPT_OUT),
    ("Paren ya de mandarme mensajes", Intent.OPT_OUT)])
def test_which_messages_come_is_not_whether(text, intent):
    """Found by an adversarial round: "Arrêtez de m'envoyer des textes en double" (stop
    sending me duplicate texts) opted the customer out, and the relay stopped forwarding."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Vous pouvez arrêter de m'envoyer des textes et m'appeler à la place?", Intent.OPT_OUT),
    ("Arrêtez de m'envoyer des textos et m'appeler plutôt", Intent.OPT_OUT),
    ("Arrêtez de m'envoyer des textos et m'appeler", Intent.OPT_OUT),
    ("Arrêtez de m'écrire et de m'appeler", Intent.OPT_OUT),
    ("Stop texting me, call me", Intent.OPT_OUT),
    ("no texts, call me instead", Intent.OPT_OUT),
    ("Don't text, call me", Intent.OPT_OUT),
    ("Favor de no enviar mensajes, mejor llamar", Intent.OPT_OUT),
    ("Stop texting me and text Maria instead", Intent.OPT_OUT),
    ("Don't text me, better by email", Intent.OPT_OUT),
    ("Stop texting me the reminders, email them instead", Intent.OPT_OUT),
    # a question or proposal, a time, someone else, wanting texts stay conversation
    ("Can we stop texting and talk on the phone?", Intent.CONVERSATION),
    ("Don't text, call me when you're outside", Intent.CONVERSATION),
    ("stop texting me at work, call me after 5", Intent.CONVERSATION),
    ("stop texting my husband, text me instead", Intent.CONVERSATION),
    ("Never call me after 9. Stop texting me", Intent.OPT_OUT),
    ("Don't call, text me instead", Intent.CONVERSATION)])
def test_a_revocation_with_another_way_to_be_reached_is_an_opt_out(text, intent):
    """The sender asking not to be texted, whatever other channel they ask for instead, is an
    opt-out: the pro is told on its next text that it could not be delivered, and to call."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Dejen de inmediato de mandarme mensajes a este número, usen el de mi esposa",
     Intent.OPT_OUT),
    ("Dejen de mandarme mensajes a este número, escriban al de mi esposa", Intent.OPT_OUT),
    ("Dejen de escribirme, llamen al de mi abogado", Intent.OPT_OUT),
    ("Dejen de mandarme mensajes", Intent.OPT_OUT)])
def test_al_de_mi_esposa_redirects(text, intent):
    """Found by an adversarial round: "Dejen de mandarme mensajes a este número, usen el de
    mi esposa" (use my wife's) opted the customer out instead of reaching the pro."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Je ne veux plus de textes de Marc, juste de vous", Intent.CONVERSATION),
    ("No quiero mensajes del otro plomero, solo de ustedes", Intent.CONVERSATION),
    ("I don't want texts from Marc anymore, just from you", Intent.CONVERSATION),
    ("Je ne veux plus de textes de vous", Intent.OPT_OUT),
    ("No quiero mensajes, solo de ustedes", Intent.OPT_OUT)])
def test_no_texts_from_someone_else_only_from_you_keeps_the_pro(text, intent):
    """Found by an adversarial round: "Je ne veux plus de textes de Marc, juste de vous" (no
    more texts from Marc, only from you) cut the customer off from the pro they chose."""
    assert classify(text) is intent


@pytest.mark.parametrize("text", [
    "My wife said stop texting me and so do I", "My wife said stop texting me. Me too",
    "My wife said stop texting me, I agree", "As my wife said, stop texting me",
    "Like my husband said, stop texting me", "My wife said stop texting me. So did I",
    "Ma femme a dit arrêtez de m'écrire, moi aussi",
    "Mi esposa dijo dejen de escribirme, yo también",
    "My son said stop texting me, he is 12, please stop",
    "The lady said stop texting me so stop", "my wife said stop texting me. she's right"])
def test_a_third_person_quoted_does_not_swallow_the_senders_own_revocation(text):
    """Found by an adversarial round: the sender who joins the one quoted ("... and so do I")
    or takes their words ("As my wife said, stop texting me") kept being texted."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize(("text", "intent"), [
    ("STOP this is not my number", Intent.OPT_OUT),
    ("That's not my number. STOP", Intent.OPT_OUT),
    ("Stop. Not my number", Intent.OPT_OUT),
    ("Alto, este no es mi número", Intent.OPT_OUT),
    ("Arrêtez, ce n'est pas mon numéro", Intent.OPT_OUT),
    ("Stop! This is not my number, it's 4521", Intent.CONVERSATION),
    ("This isn't my number", Intent.CONVERSATION)])
def test_not_my_number_beside_a_stop_is_a_wrong_number(text, intent):
    """Found by an adversarial round: "STOP this is not my number", the commonest wrong-number
    reply, kept being texted: only someone else's number ("This isn't Sarah's phone") was
    known."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Thanks for all the messages. I don't need the text anymore", Intent.CONVERSATION),
    ("I don't need these text anymore", Intent.OPT_OUT),
    ("I don't need the text's anymore", Intent.OPT_OUT),
    ("I don't need the text anymore", Intent.CONVERSATION)])
def test_the_plural_as_written_is_the_messages_the_phrase_names(text, intent):
    """Found by an adversarial round: any plural anywhere counted ("Thanks for all the
    messages. I don't need the text anymore" opted out), and "these text", "the text's" (the
    plural typed wrong) did not."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("No me manden mensajes ahorita ni nunca", Intent.OPT_OUT),
    ("No me escribas ahorita ni nunca", Intent.OPT_OUT),
    ("No me escribas en este momento ni nunca", Intent.OPT_OUT),
    ("No me escribas ahorita, estoy manejando", Intent.CONVERSATION)])
def test_now_or_ever_revokes_with_ahorita_as_with_ahora(text, intent):
    """Found by an adversarial round: "... ahora ni nunca" revoked, "... ahorita ni nunca"
    (the same words, Mexican) was read as a limit to now and kept texting."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Stop texting me nonsense", Intent.OPT_OUT),
    ("Arrête de m'écrire des niaiseries", Intent.OPT_OUT),
    ("Deja de escribirme tonterías", Intent.OPT_OUT),
    ("Arrête de m'écrire des bêtises lol", Intent.CONVERSATION),
    ("Deja de escribirme tonterías jaja", Intent.CONVERSATION)])
def test_silly_texts_are_banter_only_laughed_at(text, intent):
    """Found by an adversarial round: 41274ca made "Arrête de m'écrire des bêtises lol" banter,
    and with it "Stop texting me nonsense", said in earnest to a business, kept texting."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("This is not John. Stop", Intent.OPT_OUT),
    ("Not Maria. Stop", Intent.OPT_OUT),
    ("Ce n'est pas Julie. Arrêtez", Intent.OPT_OUT),
    ("Stop! This is not good", Intent.CONVERSATION),
    ("THIS IS NOT GOOD. STOP", Intent.CONVERSATION),
    ("Stop! Not Mike, the other guy, call him", Intent.CONVERSATION)])
def test_who_the_sender_is_not_written_as_a_name_beside_a_stop_is_a_wrong_person(text, intent):
    """Found by an adversarial round: "This is not John. Stop" kept being texted; only with
    "Wrong number" said too (5a5fb65) did who the sender is not count."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Plus de rappels svp, j'oublie tout", Intent.CONVERSATION),
    ("Plus de rappels, c'est pratique", Intent.CONVERSATION),
    ("Plus de textos svp, ça m'aide", Intent.CONVERSATION),
    ("Plus de rappels svp", Intent.OPT_OUT),
    ("Plus de textos svp, c'est du harcèlement", Intent.OPT_OUT)])
def test_plus_de_rappels_that_help_asks_for_more(text, intent):
    """Found by an adversarial round: once 8c0bbb4 read "rappels" as the reminders, "Plus de
    rappels svp, j'oublie tout" (more reminders, I forget everything) opted the customer out
    of the very reminders they asked more of."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "language"), [
    ("I'd rather not get texts, my wife handles it", "en"),
    ("Stop texting me, my husband will take care of it", "en"),
    ("Deja de escribirme, mi esposa se encarga", "es"),
    ("Arrêtez de m'écrire, ma femme s'en occupe", "fr")])
def test_not_to_be_texted_while_someone_of_the_senders_takes_over_is_an_opt_out(text, language):
    """Found by a review: a hand-over ("my wife handles it") vetoed the revocation before it,
    so the sender kept getting the texts they had asked to stop."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", [
    "Don't text me after 9, my wife handles it",
    "My wife handles the scheduling, can you text her the time?"])
def test_a_hand_over_with_a_limit_or_without_a_revocation_stays_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "¿Cómo dejo de recibir mensajes?", "¿Cómo dejamos de recibir sus mensajes?",
    "¿Cómo le hago para que dejen de llegar los mensajes?",
    "¿Cómo hago para que ya no me lleguen mensajes?"])
def test_asking_how_to_stop_getting_the_messages_in_spanish_is_an_opt_out(text):
    """Found by a review: only "¿Cómo puedo dejar de recibir...?" was read, not the verb
    conjugated ("¿Cómo dejo de...?") nor the messages as the subject ("... que ya no me
    lleguen"), as "How do I stop getting these texts?" is in English."""
    assert detect(text) == Detection(Intent.OPT_OUT, "es", own_words=True)


@pytest.mark.parametrize("text", ["pls stp txtn me", "stp texting me", "plz stp msging me"])
def test_stp_before_an_english_ing_form_of_texting_is_stop(text):
    """Found by a review: "stp" was only French "s'il te plaît", so "pls stp txtn me" read
    "please please text me" and was forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, "en", own_words=True)


@pytest.mark.parametrize("text", ["stp textez-moi quand vous arrivez", "Envoie moi les photos stp"])
def test_stp_in_french_stays_please(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    '"Reminder: your appointment is tomorrow at 9am" - stop sending me these',
    "> Reminder: your appointment is tomorrow at 9am\nstop sending me these",
    "stop sending me these\n> Reminder: your appointment is tomorrow at 9am",
    "> Reminder: your appointment is tomorrow at 9am\nSTOP"])
def test_a_reply_that_quotes_a_reminder_is_read_by_the_senders_own_words(text):
    """Found by a review: the quoted reminder made "stop sending me these" part of a longer
    message, so the whole-message keyword never matched and the opt-out was forwarded."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", [
    '"Reminder: your appointment is tomorrow at 9am. Reply STOP to opt out."',
    "> Reminder: your appointment is tomorrow at 9am\n> Reply STOP to opt out",
    "> Reminder: your appointment is tomorrow at 9am\nThanks, see you then"])
def test_a_quoted_reminder_alone_or_with_conversation_stays_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["Im done getting these texts", "I'm done receiving your texts"])
def test_done_getting_the_texts_is_an_opt_out_as_done_with_them_is(text):
    """Found by a review: only "I'm done with these texts" was read."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["Ça suffit les messages", "C'est assez les textos",
                                  "Ça suffit avec les textos svp", "Assez des messages svp"])
def test_enough_with_the_texts_in_french_is_an_opt_out(text):
    """Found by a review: "Enough texts" was read, "Ça suffit les textos" was forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, "fr", own_words=True)


@pytest.mark.parametrize(("text", "language"), [
    ("No texts please, email only", "en"), ("No more texts, calls only", "en"),
    ("No mensajes, solo llamadas por favor", "es"),
    ("Ya no me manden mensajes, solo correos", "es")])
def test_no_texts_with_only_another_channel_named_is_an_opt_out(text, language):
    """Found by a review: "No texts, call me" was read, "No texts please, email only" and "No
    mensajes, solo llamadas" (the channel as a noun) were forwarded."""
    assert detect(text).intent is Intent.OPT_OUT
    assert detect(text).language == language


@pytest.mark.parametrize("text", ["Ya no quiero que me manden nada",
                                  "No quiero que me manden nada más, gracias"])
def test_not_wanting_to_be_sent_anything_in_spanish_is_an_opt_out(text):
    """Found by a review: "Ya no me manden nada" was read, "Ya no quiero que me manden nada"
    was forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, "es", own_words=True)


@pytest.mark.parametrize("text", ["stop sendin me msgs", "pls stop sendn me these"])
def test_sending_typed_short_is_sending(text):
    """Found by a review: "sendin" was an unknown word, so "stop sendin me msgs" was forwarded."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["No me escribas, mejor ven",
                                  "No me escriba, mejor venga a arreglarlo",
                                  "Don't text me, better come over"])
def test_dont_text_better_come_tells_the_pro_to_come_and_stays_conversation(text):
    """Found by a review: "Don't text me, just come over" stayed conversation but "No me
    escribas, mejor ven" (better come) silenced the customer who wanted the pro there."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["Enough texting, let's talk on the phone",
                                  "Basta de mensajes, hablemos por teléfono",
                                  "Assez de textos, parlons au téléphone"])
def test_proposing_to_talk_on_the_phone_now_stays_conversation(text):
    """Found by a review: "Could we stop texting and just talk on the phone?" stayed
    conversation, "Enough texting, let's talk on the phone" (the same proposal) revoked."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize(("text", "language"), [
    ("ne m ecrivez plu", "fr"), ("je veux pus de textos", "fr"),
    ("ya no kiero mensajes", "es"), ("no kiero mas mensajes", "es")])
def test_plus_and_quiero_typed_short_or_in_sms_speak_are_read(text, language):
    """Found by a review: "plu", Québec "pus" and "kiero" were unknown words, so these
    opt-outs were forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", ["Arretez svp les textos", "Arrêtez donc les messages"])
def test_arretez_with_a_courtesy_before_the_messages_is_an_opt_out(text):
    """Found by a review: "Arrêtez les textos" was read, "Arrêtez svp les textos" forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, "fr", own_words=True)


@pytest.mark.parametrize("text", ["arrete de me txt", "Arrête de me txt stp"])
def test_arrete_de_me_txt_is_arrete_de_me_texter(text):
    """Found by a review: "txt" folds to the noun "text", which the French phrase did not take
    after "me", so "arrete de me txt" was forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, "fr", own_words=True)


@pytest.mark.parametrize("text", ["don't text me on this number anymore",
                                  "Please don't message me on this number"])
def test_dont_text_me_on_this_number_is_an_opt_out(text):
    """Found by a review: "Don't text this number" was read, "Don't text me on this number"
    was forwarded."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", [
    "Can you not text me anymore?", "Would you mind not texting me anymore?",
    "I'd appreciate it if you stopped texting me", "Id appreciate if u didnt text me anymore",
    "I'd appreciate no more texts"])
def test_a_polite_request_not_to_be_texted_from_now_on_is_an_opt_out(text):
    """Found by a review: "Can you stop texting me?" was read, but the polite forms ("Can you
    not text me anymore?", "I'd appreciate it if you stopped texting me") were forwarded."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["Put me on your do not text list",
                                  "Please add this number to the do-not-text list"])
def test_asking_to_be_put_on_the_do_not_text_list_is_an_opt_out(text):
    """Found by a review: it was forwarded; no phrase read the list the sender asked for."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize(("text", "language"), [
    ("Mettez-moi sur votre liste de non-sollicitation", "fr"),
    ("Pónganme en su lista de no contactar", "es")])
def test_asking_for_the_do_not_contact_list_in_french_or_spanish_is_an_opt_out(text, language):
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", ["¿Pueden ya no mandarme mensajes?",
                                  "¿Podrían no mandarme mensajes?"])
def test_asked_not_to_be_sent_messages_in_spanish_is_an_opt_out(text):
    """Found by a review: "no mandarme mensajes" shared its pattern with the bare "no manden
    más", which must end the message, so asked as a question it was never tried."""
    assert detect(text) == Detection(Intent.OPT_OUT, "es", own_words=True)


@pytest.mark.parametrize("text", ["Ya no me manden mensajes, ¿ok?",
                                  "No quiero que me escriban, ¿ok?"])
def test_a_spanish_request_with_a_tag_question_is_still_an_opt_out(text):
    """Found by a review: a phrase whose pattern held a LAST alternative anywhere counted as
    one that must end the message, so "Ya no me manden mensajes, ¿ok?" was forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, "es", own_words=True)


@pytest.mark.parametrize("text", ["No más mensajes repetidos por favor",
                                  "Ya no quiero mensajes duplicados",
                                  "No quiero más mensajes tan largos jaja"])
def test_no_more_duplicate_or_long_messages_in_spanish_asks_how_they_come(text):
    """Found by a review: "Plus de messages en double" stayed conversation but "No más
    mensajes repetidos" (duplicates) revoked every text to the sender."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize(("text", "language"), [
    ("Quit adding me to these group texts", "en"),
    ("Ne m'incluez plus dans ces messages, je suis seulement le propriétaire", "fr"),
    ("Ya no me incluyan en estos mensajes, ya no trabajo ahí", "es")])
def test_asking_to_be_left_out_of_the_texts_is_an_opt_out(text, language):
    """Found by a review: "Remove me from this thread" was read, "Stop including me in these
    texts" and its French and Spanish forms were forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", ["No me estes mandando mensajes", "Ya no me estés escribiendo"])
def test_no_me_estes_with_the_gerund_is_an_opt_out(text):
    """Found by a review: "no me estén escribiendo" (ustedes) was read, the tú form "no me
    estés" was forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, "es", own_words=True)


@pytest.mark.parametrize("text", [
    "Please stop the reminders for the old appointment, the new one is Friday",
    "Stop texting me about the cancelled appointment"])
def test_stopping_the_texts_of_an_old_appointment_stays_conversation(text):
    """Found by a review: the reminders of one appointment that is over were read as all of
    them, so a customer rebooking for Friday lost Friday's reminders."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "Stop texting, I'm outside", "Arrête de m'écrire, j'arrive",
    "Deja de escribirme, ya voy para allá", "Dejen de escribirme, ya estoy afuera"])
def test_stop_texting_because_the_sender_is_there_or_on_the_way_stays_conversation(text):
    """Found by a review: "Stop texting me and come" stayed conversation, but the sender
    saying they are outside or on the way (no texts needed now) revoked every text."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["Did I unsubscribe? I'm not getting texts",
                                  "Have I unsubscribed? haven't had a reminder"])
def test_the_sender_asking_whether_they_unsubscribed_stays_conversation(text):
    """Found by a review: "did you" and "did they" guarded a revocation, "did I" did not, so
    a customer missing their texts was unsubscribed for asking why."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize(("text", "language"), [
    ("If you text me one more time I'm calling the police", "en"),
    ("Text me one more time and I'll report you", "en"),
    ("Si vous m'écrivez encore, j'appelle la police", "fr"),
    ("Si me vuelven a escribir, llamo a la policía", "es")])
def test_a_threat_if_texted_again_is_an_opt_out(text, language):
    """Found by a review: a threat if we text again ("..., I'm calling the police") was
    forwarded: no phrase read it, and "if you" before a revocation guards it."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", [
    "Stop sending me promotions, but keep the appointment reminders",
    "Plus de pubs svp, mais gardez les rappels"])
def test_no_promotions_but_keep_the_reminders_stays_conversation(text):
    """Found by a review: "..., but keep me posted" vetoed a revocation, "..., but keep the
    appointment reminders" did not, so the reminders the sender asked to keep were revoked."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "Please no more texts, ok?", "Plus de textos svp, ok ?", "Stop bothering me, ok?",
    "Laissez-moi tranquille, d'accord ?", "Ya no me manden más, ¿vale?"])
def test_a_request_ending_in_ok_asked_is_no_question(text):
    """Found by a review: the trailing ", ok?" made the request a question, so the phrases
    that must end the message ("no more texts", "leave me alone") did not count."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", [
    "Don't text me, text my husband", "Use my other number", "Text my other number instead",
    "Don't text me, use my other number", "Ne m'écrivez plus sur ce numéro, écrivez sur mon cell",
    "No me escriba a este número, escríbame al otro"])
def test_asking_to_be_texted_at_another_person_or_number_revokes_this_one(text):
    """Decided: the sender who names another person or number of theirs to text asks not to
    be texted here, as one whose husband takes over does; it was forwarded as a redirection."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["c assez la, arretez", "C'est assez là, arrêtez"])
def test_c_assez_la_leads_into_a_stop(text):
    """Found by a review: "c" for "c'est" and a "là" of stress hid "C'est assez, arrêtez"."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["plz dnt txt me no mo", "dont txt me no mo pls"])
def test_dont_text_me_no_mo_is_an_opt_out(text):
    """Found by a review: "no mo" (no more) after "don't text me" hid the request."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize(("text", "intent"), [
    ("This is a landline, don't text it", Intent.OPT_OUT),
    ("It's a home phone, stop texting it", Intent.OPT_OUT),
    ("This is a landline, don't text it the address, call", Intent.CONVERSATION)])
def test_a_landline_not_to_be_texted_is_an_opt_out(text, intent):
    """Found by a review: "don't text it", "it" being this number, a landline, was read as
    about something else and forwarded."""
    assert classify(text) is intent


@pytest.mark.parametrize("text", [
    "Stop texting me I'm on my way", "Stop texting me im outside", "Arrête de m'écrire j'arrive",
    "Deja de escribirme ya voy para allá"])
def test_stop_texting_the_sender_on_the_way_without_a_comma_stays_conversation(text):
    """Found by a review: "Stop texting me, I'm on my way" was the job (no texts needed now),
    but without the comma the sender's arrival was not seen and every text was revoked."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize(("text", "intent"), [
    ("stop texting me cute things lol", Intent.CONVERSATION),
    ("stop sending me memes haha", Intent.CONVERSATION),
    ("Stop texting me cute things", Intent.OPT_OUT)])
def test_stop_texting_me_cute_things_laughed_at_is_banter(text, intent):
    """Found by a review: "stop texting me cute things lol" is banter about what is written,
    as "Arrête de m'écrire des bêtises lol" is, and revoked every text."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("ur texts r annoying, stop", Intent.OPT_OUT),
    ("These texts are getting ridiculous. STOP", Intent.OPT_OUT),
    ("Stop, your texts are annoying the dog", Intent.CONVERSATION)])
def test_stop_beside_the_texts_said_to_be_annoying_is_an_opt_out(text, intent):
    """Found by an adversarial round: a bare STOP beside "ur texts r annoying" (a complaint
    about the messages, as "Too many texts" is) was forwarded."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("I want out of these texts", Intent.OPT_OUT), ("I want off your list please", Intent.OPT_OUT),
    ("I want out of the contract", Intent.CONVERSATION)])
def test_i_want_out_of_these_texts_is_an_opt_out(text, intent):
    """Found by an adversarial round: "I want out of these texts" (off your list) said what
    "take me off your list" says, and was forwarded."""
    assert classify(text) is intent


@pytest.mark.parametrize("text", [
    "Arrête de m'écrire, j'arrive dans 5 min", "Stop texting me, I'm on my way in 10 minutes",
    "Deja de escribirme, ya voy en 5 minutos"])
def test_the_sender_on_the_way_with_when_stays_conversation(text):
    """Found by an adversarial round: "Arrête de m'écrire, j'arrive" was the job, but with
    when the sender arrives ("... dans 5 min") every text was revoked mid-visit."""
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["dejen de mandar tanto mensaje",
                                  "deja de mandarme tanta publicidad"])
def test_dejen_de_mandar_tanto_mensaje_is_an_opt_out(text):
    """Found by an adversarial round: "tantos mensajes" revoked, but the singular typed in a
    hurry, "tanto mensaje", was forwarded."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize(("text", "intent"), [
    ("This # is my work phone, text my cell", Intent.OPT_OUT), ("Use my cell", Intent.OPT_OUT),
    ("Text my cell instead please", Intent.OPT_OUT),
    ("Este # ya no sirve, escríbeme al otro", Intent.OPT_OUT),
    ("Escríbanme a mi celular", Intent.OPT_OUT), ("Usen mi otro número", Intent.OPT_OUT),
    ("Ce # c'est celui de la job, écrivez sur mon cell", Intent.OPT_OUT),
    ("Écrivez-moi sur mon cell", Intent.OPT_OUT), ("Utilisez mon autre numéro svp", Intent.OPT_OUT),
    # a limit in time or place keeps it the job
    ("text my cell after 5", Intent.CONVERSATION),
    ("Don't text me at work, text my cell", Intent.CONVERSATION),
    ("Don't text me before 8, text my cell", Intent.CONVERSATION),
    ("No me escriba en la mañana, escríbame al celular", Intent.CONVERSATION),
    ("Écrivez sur mon cell après 17h", Intent.CONVERSATION),
    ("Escríbeme al celular después de las 5", Intent.CONVERSATION),
    ("Use my cell for the photos", Intent.CONVERSATION)])
def test_use_my_cell_revokes_this_number(text, intent):
    """Decided: another number of the sender's to text ("This # is my work phone, text my
    cell", "Use my cell") asks not to be texted here, as "Don't text me, use my other number"
    does; only "Use my other number" itself revoked, and "my cell" was forwarded."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Stop texting me and text Maria instead", Intent.OPT_OUT),
    ("Text Maria instead of me about the quote", Intent.OPT_OUT),
    ("Please text my husband instead of me", Intent.OPT_OUT),
    # someone else not to text, or a limit, keeps it the job
    ("stop texting Maria, text me instead", Intent.CONVERSATION),
    ("stop texting Maria and text me instead", Intent.CONVERSATION),
    ("Text Maria instead of me after 5", Intent.CONVERSATION),
    ("stop texting me and text my wife instead after 5", Intent.CONVERSATION)])
def test_text_maria_instead_of_me_revokes_this_number(text, intent):
    """Decided: a person named to text instead of the sender ("Stop texting me and text Maria
    instead") asks not to be texted here, as "text my husband" does; it was read as someone
    else to text and forwarded, while "stop texting Maria, text me instead" revoked."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Me texter pu svp", Intent.OPT_OUT), ("M'écrire pu", Intent.OPT_OUT),
    ("Svp me contacter pu jamais", Intent.OPT_OUT),
    ("Me texter plus tard svp", Intent.CONVERSATION),
    ("Pouvez-vous me texter plus souvent?", Intent.CONVERSATION),
    ("M'envoyer plus de photos svp", Intent.CONVERSATION),
    ("Me texter pu après 21h", Intent.CONVERSATION)])
def test_the_quebec_infinitive_me_texter_pu_is_an_opt_out(text, intent):
    """Found by an adversarial round: "Textez-moi pu" and "Me texte pu" were read, but the
    infinitive Québec also asks with, "Me texter pu svp", was forwarded."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    # a day or a part of the day before a request to be texted elsewhere: a limit
    ("Don't text me on Sundays, text my cell", Intent.CONVERSATION),
    ("Don't text me on weekends, text my cell", Intent.CONVERSATION),
    ("Don't text me in the morning, text my wife", Intent.CONVERSATION),
    ("Don't text me while I'm driving, text my wife", Intent.CONVERSATION),
    ("Ne m'écrivez pas la fin de semaine, écrivez sur mon cell", Intent.CONVERSATION),
    ("No me escriba los domingos, escríbame al celular", Intent.CONVERSATION),
    # ... and a revocation limited so, with nothing after it
    ("stop texting me in the morning", Intent.CONVERSATION),
    ("Arrêtez de m'écrire les fins de semaine", Intent.CONVERSATION),
    ("Ne m'écrivez plus les dimanches", Intent.CONVERSATION),
    ("Deja de escribirme los sábados", Intent.CONVERSATION),
    ("Deja de escribirme en las mañanas", Intent.CONVERSATION),
    # no limit: still a revocation of this number
    ("Don't text me anymore, text my cell", Intent.OPT_OUT),
    ("Stop texting me, text my husband", Intent.OPT_OUT),
    ("Stop texting me all weekend", Intent.OPT_OUT),
    ("Stop texting me I work nights", Intent.OPT_OUT)])
def test_a_day_or_part_of_the_day_is_a_limit_in_time(text, intent):
    """Found by an adversarial round: "Don't text me at work, text my cell" stayed
    conversation, but "Don't text me on Sundays, text my cell" revoked: the words of time
    before a redirect were a short list of their own. Checking the days found the same gap
    after a revocation ("stop texting me in the morning", "les fins de semaine", "los
    sábados" revoked). Both now read one vocabulary, time_words.WHEN."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "language"), [
    ("Écris-moi pu, c'est fini", "fr"), ("Textez-moi pu, ça m'intéresse pas", "fr"),
    ("Écrivez-moi pu, on a trouvé quelqu'un d'autre", "fr"),
    ("Laissez-moi tranquille, c'est fini", "fr"),
    ("Dejen de molestar, ya no me interesa", "es"), ("Déjenme en paz, no me interesa", "es"),
    ("Leave me alone, I'm done", "en"), ("Don't text again, we hired someone else", "en")])
def test_a_phrase_that_must_end_the_message_may_be_followed_by_no_interest(text, language):
    """Found by an adversarial round: "Écris-moi pu, c'est fini" was forwarded. The words
    that are not about messaging in themselves count only ending the message or before one
    clause of complaint (phrases.LAST), but its complaints were English only ("not
    interested"), with nothing for being done or having hired someone else: "Leave me alone,
    I'm not interested" revoked, "Déjenme en paz, no me interesa" did not."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", ["Don't text, I'm done with the dishes",
                                  "Textez-moi plus, c'est pratique"])
def test_what_follows_a_phrase_that_must_end_the_message_may_still_be_the_job(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["STOP. Ya no me interesa", "Stop, we're no longer interested",
                                  "Stop. Chu pu intéressé"])
def test_stop_beside_no_longer_interested_is_an_opt_out(text):
    """Found with the test above: "not interested" beside a bare STOP revoked, "no longer
    interested", "ya no me interesa" and the Québec "chu pu intéressé" did not."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["Plus de messages texte svp", "Plus de messages textes svp",
                                  "Pas de messages texte svp"])
def test_messages_texte_is_messages(text):
    """Found by an adversarial round: "Plus de messages svp" revoked, but "Plus de messages
    texte svp" (a text message, as Québec names it) was forwarded: "texte" after "messages"
    was one more word no phrase expected."""
    assert detect(text) == Detection(Intent.OPT_OUT, "fr", own_words=True)


@pytest.mark.parametrize("text", ["Oubliez mon numéro svp", "Forget my number",
                                  "Olvídense de mi número por favor", "Ya olviden este número"])
def test_forget_my_number_is_lose_my_number(text):
    """Found by an adversarial round: "Lose my number" revoked, "Oubliez mon numéro svp"
    (forget my number) was forwarded, in English and Spanish too."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize("text", ["Don't forget my number",
                                  "I forgot my number, can you resend it?",
                                  "Oublié mon numéro, vous me le renvoyez?",
                                  "Oubliez mon numéro de porte, c'est le 12", "Olvidé mi número"])
def test_forgetting_a_number_or_about_the_job_stays_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize(("text", "language"), [
    ("Mettez fin aux textos svp", "fr"), ("Mettez fin à vos messages svp", "fr"),
    ("Put an end to these texts", "en"), ("Pongan fin a los mensajes por favor", "es")])
def test_put_an_end_to_the_texts_is_an_opt_out(text, language):
    """Found by an adversarial round: "Stop aux textos" revoked, "Mettez fin aux textos svp"
    (put an end to the texts) was forwarded, in English and Spanish too."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize(("text", "language"), [
    ("J'en ai assez de vos messages, arrêtez", "fr"), ("Chu tanné de vos textos", "fr"),
    ("Je suis écoeurée de tes messages", "fr"), ("Estoy harta de sus mensajes", "es"),
    ("Ya me cansé de sus mensajes", "es")])
def test_fed_up_with_your_texts_in_french_or_spanish_is_an_opt_out(text, language):
    """Found by an adversarial round: "I'm sick of your texts" revoked, "J'en ai assez de vos
    messages, arrêtez" was forwarded (the bare "arrêtez" after another clause is no keyword),
    and so were the Québec "chu tanné de vos textos" and "estoy harta de sus mensajes"."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", ["J'en ai assez des textos de mon ex",
                                  "J'en ai marre de vos messages vocaux, écrivez-moi",
                                  "Estoy harta de los mensajes del banco",
                                  "J'en ai assez de vos retards"])
def test_fed_up_with_someone_elses_texts_or_the_job_stays_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize("text", ["c'est assez les textos là", "C assez les messages la",
                                  "Plus de SMS là", "Pu de textos là svp"])
def test_a_quebec_la_of_stress_ends_a_french_request(text):
    """Found by an adversarial round: "C'est assez les textos" revoked, "c'est assez les
    textos là" (the "là" Québec ends a sentence with) was forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, "fr", own_words=True)


@pytest.mark.parametrize("text", ["J'veux pu de textos de vous autres",
                                  "Je préfère ne plus recevoir de textos de vous autres"])
def test_from_you_as_quebec_says_it_ends_a_french_request(text):
    """Found by an adversarial round: "J'veux pu de textos" revoked, "J'veux pu de textos de
    vous autres" (from you, in Québec) was forwarded."""
    assert detect(text) == Detection(Intent.OPT_OUT, "fr", own_words=True)


@pytest.mark.parametrize("text", ["Bájenme de la lista por favor",
                                  "Bajame de la lista de mensajes"])
def test_bajenme_de_la_lista_is_an_opt_out(text):
    """Found by an adversarial round: "Bórrenme de la lista" revoked, the Mexican "Bájenme de
    la lista" (take me off the list) was forwarded. "Me bajé de la lista de espera" (what the
    sender did) and "Bájenme la escalera" stay conversation."""
    assert detect(text) == Detection(Intent.OPT_OUT, "es", own_words=True)
    assert classify("Me bajé de la lista de espera") is classify("Bájenme la escalera") is (
        Intent.CONVERSATION)


@pytest.mark.parametrize("text", ["Ya no me sigan mandando mensajes porfa",
                                  "No me sigan escribiendo", "No me sigas texteando"])
def test_no_me_sigan_with_the_gerund_is_an_opt_out(text):
    """Found by an adversarial round: "No me estén mandando mensajes" revoked, "Ya no me sigan
    mandando mensajes" (keep sending) was forwarded. "Ya no me siguen mandando mensajes"
    (they stopped) stays conversation."""
    assert detect(text) == Detection(Intent.OPT_OUT, "es", own_words=True)
    assert classify("Ya no me siguen mandando mensajes, ¿todo bien?") is Intent.CONVERSATION


@pytest.mark.parametrize("text", [
    "yo stop hittin me up with these msgs", "stop hitting me up",
    "Y'all need to stop hitting my phone", "you need to stop bugging me",
    "You gotta stop blowing up my phone"])
def test_hitting_me_up_and_you_need_to_stop_are_opt_outs(text):
    """Found by an adversarial round: "quit blowing up my phone" revoked, but the slang
    "stop hittin me up with these msgs", "stop hitting my phone" and a request led in by
    "y'all need to" were forwarded."""
    assert classify(text) is Intent.OPT_OUT


def test_hitting_me_up_about_the_job_or_another_person_stays_conversation():
    for text in ("stop hitting me up about the bill, I paid", "Tell him to stop hitting me up",
                 "Stop hitting me up lol", "you need to stop hitting the pipe"):
        assert classify(text) is Intent.CONVERSATION, text


@pytest.mark.parametrize("text", ["enough w the texts", "enough w/ the texts",
                                  "stop bothering me w these texts", "I'm done w ur msgs"])
def test_w_is_with(text):
    """Found by an adversarial round: "enough with the texts" revoked, "enough w the texts"
    ("w" or "w/" typed for "with") was forwarded."""
    assert classify(text) is Intent.OPT_OUT


@pytest.mark.parametrize(("text", "intent"), [
    # an appliance's error messages, someone else's messages: the job
    ("Pouvez-vous mettre fin aux messages d'erreur du thermostat?", Intent.CONVERSATION),
    ("J'en ai assez de ces messages d'erreur sur le thermostat", Intent.CONVERSATION),
    ("j'en ai marre de ces messages du thermostat", Intent.CONVERSATION),
    ("Il faut mettre fin aux messages de mon ex", Intent.CONVERSATION),
    ("¿Pueden poner fin a los mensajes de error del termostato?", Intent.CONVERSATION),
    ("Estoy harto de estos mensajes de error del termostato", Intent.CONVERSATION),
    ("Estoy harta de estos mensajes del banco", Intent.CONVERSATION),
    # ours, still revocations
    ("Mettez fin aux textos de votre compagnie", Intent.OPT_OUT),
    ("J'en ai assez de vos messages, arrêtez", Intent.OPT_OUT),
    ("Pongan fin a los mensajes", Intent.OPT_OUT),
    ("Estoy harta de sus mensajes de ustedes", Intent.OPT_OUT),
    ("Ya me cansé de sus mensajes", Intent.OPT_OUT)])
def test_being_fed_up_with_or_ending_messages_of_something_else_is_the_job(text, intent):
    """Found by a review of 3e3a56a and 9898228: "mettre fin aux messages", "poner fin a los
    mensajes", "j'en ai assez de ces messages", "estoy harto de estos mensajes" revoked with
    anything after the messages, so a thermostat's error messages ("... d'erreur", "... de
    error del termostato") or someone else's ("... de mon ex", "... del banco", with "ces" or
    "estos") silenced the customer. The messages named as something's or someone's now leave
    them the job, as "... des textos de mon ex" already did."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    # someone else's messages, a device's: the job
    ("put an end to the texts from the other guy", Intent.CONVERSATION),
    ("enough with the texts from the other guy", Intent.CONVERSATION),
    ("put an end to these messages on the thermostat", Intent.CONVERSATION),
    ("Knock it off with the texts from my ex lol", Intent.CONVERSATION),
    ("Enough with the alerts from the doorbell camera", Intent.CONVERSATION),
    # ours, still revocations
    ("put an end to these texts", Intent.OPT_OUT),
    ("enough with the texts already", Intent.OPT_OUT),
    ("Enough with the reminders from my account", Intent.OPT_OUT),
    ("Put an end to the texts from you guys", Intent.OPT_OUT)])
def test_enough_with_or_ending_messages_of_someone_else_is_the_job(text, intent):
    """Found by the review of f891ba5: the French and Spanish forms of "put an end to the
    texts" left someone else's or a device's messages the job (NOT_OURS_FR/ES), the shared
    English rule ("enough with", "knock it off with", "put an end to") did not, so "enough with
    the texts from the other guy" silenced the customer. It now takes the guards the "stop the
    texts" rule has (SOMEONE_ELSES, NOT_A_DEVICES)."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("yo forget my number", Intent.OPT_OUT),
    ("forget my number bro", Intent.OPT_OUT),
    ("hey lose this number dude", Intent.OPT_OUT),
    ("stop hitting my line", Intent.OPT_OUT),
    ("yo stop hitting my line bro", Intent.OPT_OUT),
    # still the job: a denial, the job after it, someone else doing it
    ("yo don't forget my number", Intent.CONVERSATION),
    ("forget my number bro, use the one on the invoice", Intent.CONVERSATION),
    ("stop hitting my line about the bill, I paid", Intent.CONVERSATION),
    ("tell him to stop hitting my line", Intent.CONVERSATION)])
def test_slang_around_forget_my_number_and_hitting_my_line(text, intent):
    """Found by the review of the last detector round: "forget my number" and "stop hitting my
    phone" revoked, but not with the greeting or the address slang they are said with ("yo
    forget my number", "forget my number bro"), nor "my line" for "my phone". The greetings of
    the "stop bugging me" rule now open "forget my number" and "lose this number" too, an
    address word (bro, dude, man) may end a LAST phrase, and "my line" is a phone."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Estoy hasta la madre de sus mensajes", Intent.OPT_OUT),
    ("Ya estoy hasta el gorro de tantos mensajes", Intent.OPT_OUT),
    ("Estamos hasta la coronilla de sus mensajes", Intent.OPT_OUT),
    # still the job: not the messages, or not ours
    ("Estoy hasta la madre de trabajo, ¿pueden venir el lunes?", Intent.CONVERSATION),
    ("Estoy hasta la madre de estos mensajes del banco", Intent.CONVERSATION),
    ("Fuimos hasta la casa de mi madre", Intent.CONVERSATION)])
def test_being_fed_up_in_mexican_spanish_is_being_sick_of_the_messages(text, intent):
    """Found by the review of the last detector round: "Estoy harta de sus mensajes" revoked,
    the Mexican "Estoy hasta la madre de sus mensajes" (and "hasta el gorro", "hasta la
    coronilla", the same being fed up) did not. They now read as "harto", with its guards."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Please no stop texting me", Intent.OPT_OUT),
    ("please no no stop texting me", Intent.OPT_OUT),
    ("Please don't stop texting me", Intent.CONVERSATION),
    ("Por favor no dejen de escribirme", Intent.CONVERSATION)])
def test_please_no_stop_texting_me_is_an_answer(text, intent):
    """Found by the review of the last detector round: "No stop texting me" and "no please stop
    texting me" revoked (ANSWER_NO_RE), "Please no stop texting me" was read as a denial of
    the request. A "please" before the answering "no" now leaves it an answer."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Would you mind terribly not sending me any more texts?", Intent.OPT_OUT),
    ("would u mind not sending me any more messages please", Intent.OPT_OUT),
    ("Would you mind awfully not texting me again", Intent.OPT_OUT),
    ("could you guys not text me anymore", Intent.OPT_OUT),
    ("I would really appreciate it if you guys didnt text me anymore", Intent.OPT_OUT),
    ("I'd appreciate it if y'all stopped texting me", Intent.OPT_OUT),
    # still the job: a limit, a thing of the job, the texts wanted another way
    ("Would you mind not sending me more texts before 8?", Intent.CONVERSATION),
    ("would you mind not sending me more texts of the yard", Intent.CONVERSATION),
    ("can you guys not text me at work", Intent.CONVERSATION),
    ("Would you mind not texting me before 8?", Intent.CONVERSATION)])
def test_a_polite_indirect_request_not_to_be_texted_is_an_opt_out(text, intent):
    """Found by the round of new registers: "would you mind not texting me anymore" revoked,
    but not with "you guys" or "y'all" as the person read, "mind" softened ("would you mind
    terribly not ..."), or "not sending me any more texts", as "don't send me any more texts"
    already did. The polite rules now take them."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Faut pas arrêter de m'écrire hein, je veux savoir quand vous arrivez", Intent.CONVERSATION),
    ("Il faut pas arrêter de m'envoyer des messages, ça m'aide", Intent.CONVERSATION),
    ("Pas arrêter de m'écrire, je veux les nouvelles", Intent.CONVERSATION),
    # no "pas" just before: still revocations
    ("Faut arrêter de m'écrire hein", Intent.OPT_OUT),
    ("Pas de problème, arrêtez de m'écrire", Intent.OPT_OUT),
    ("C'est pas grave, arrêtez de m'écrire", Intent.OPT_OUT)])
def test_everyday_french_pas_before_the_request_denies_it(text, intent):
    """Found by the round of new registers: "Faut pas arrêter de m'écrire" (don't stop texting
    me, with everyday French's "ne" dropped) opted its sender out: "ne" and "n'" were read as
    a denial before a request, "pas" alone was not. It now is, as "don't", "no", "ne" are."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Arrêtez d'envoyer les messages à mon mari, c'est moi qui gère maintenant",
     Intent.CONVERSATION),
    ("Arrêtez d'envoyer des textos à ma femme svp", Intent.CONVERSATION),
    ("Arrête d'envoyer les SMS à ses parents, c'est moi le client", Intent.CONVERSATION),
    # the sender's own number, or no one named: still revocations
    ("Arrêtez de m'envoyer des messages à mon numéro", Intent.OPT_OUT),
    ("Arrêtez d'envoyer des messages à mon cell", Intent.OPT_OUT),
    ("Arrêtez de m'envoyer des messages", Intent.OPT_OUT)])
def test_french_stop_sending_the_messages_to_someone_else_is_the_job(text, intent):
    """Found by the round of new registers: "stop sending the messages to my husband" was the
    job, "Arrêtez d'envoyer les messages à mon mari" opted the customer out. The French rule
    now leaves the messages sent to someone of the sender's (à mon, ma, mes, son, sa, ses,
    leur) the job, unless it is the sender's number or phone."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Laisse-moi tranquille avec tes SMS là, c'est trop", Intent.OPT_OUT),
    ("Fichez-moi la paix avec vos textos là", Intent.OPT_OUT),
    ("Laissez-moi tranquille avec vos messages là svp", Intent.OPT_OUT),
    ("Laissez-moi tranquille avec les messages là-bas", Intent.CONVERSATION)])
def test_the_french_la_of_stress_may_end_leave_me_alone_with_your_texts(text, intent):
    """Found by the round of new registers: "Laisse-moi tranquille avec tes SMS" revoked, with
    the "là" of stress African and Québec French end it with it did not ("C'est assez les
    textos là" already did). The "là" may now end it."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Quisiera que dejaran de mandarme mensajes", Intent.OPT_OUT),
    ("Me gustaría que dejara de escribirme", Intent.OPT_OUT),
    ("Ojalá dejaran de mandarme mensajes", Intent.OPT_OUT),
    ("quisiera que dejaras de escribirme", Intent.OPT_OUT),
    # a condition, or told to someone else: still the job
    ("Si dejaran de mandarme mensajes tan tarde sería mejor", Intent.CONVERSATION),
    ("Me dijo que dejara de escribirle a su hermano", Intent.CONVERSATION),
    ("Les dije que dejaran la llave, ¿ya llegaron?", Intent.CONVERSATION)])
def test_a_spanish_wish_in_the_past_subjunctive_is_a_request_to_stop(text, intent):
    """Found by the round of new registers: "Quisiera que dejen de mandarme mensajes" revoked,
    "Quisiera que dejaran de ..." (the past subjunctive a wish takes, as "I'd appreciate it if
    you stopped texting me") did not. "dejaran", "dejara", "dejaras" now open the rule
    "dejen de" opens, with its guards ("si" before it)."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("no me escribas más tarde, mejor ahorita que estoy libre", Intent.CONVERSATION),
    ("No me escribas más tarde de las 9", Intent.CONVERSATION),
    ("no me escriban más tarde por favor", Intent.CONVERSATION),
    ("no me escribas más", Intent.OPT_OUT),
    ("no me escribas más, ya es tarde para mí", Intent.OPT_OUT)])
def test_no_me_escribas_mas_tarde_is_a_time_not_no_more(text, intent):
    """Found by the round of new registers: "no me escribas más tarde" (don't text me later)
    opted its sender out: the rule read "más" as "no more" and left "tarde" after it, where
    "más tarde" is a time, as "m'écrivez plus tard" already was."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "language"), [
    ("Désincrivez-moi svp", "fr"), ("Desincrivez moi de la liste", "fr"),
    ("desubscribirme porfa", "es"), ("desubscribanme", "es")])
def test_unsubscribe_verbs_misspelt_in_french_and_spanish_still_revoke(text, language):
    """Found by the round of new registers: "désinscrivez" typed without its second s and
    "desuscribir" with the b of "subscribe" were words no rule knew."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


@pytest.mark.parametrize("text", ["Comment me désincrire de l'appli ?",
                                  "¿Cómo me desubscribo de los correos?"])
def test_a_misspelt_unsubscribe_from_something_else_is_still_conversation(text):
    assert classify(text) is Intent.CONVERSATION


@pytest.mark.parametrize(("text", "intent"), [
    ("arrêtez de m'envoyer ça", Intent.OPT_OUT),
    ("Arrêtez de m'envoyer ça svp", Intent.OPT_OUT),
    ('"Rappel : votre rendez-vous est demain à 9h" arrêtez de m\'envoyer ça', Intent.OPT_OUT),
    ("Dejá de mandarme esto", Intent.OPT_OUT),
    ("Dejen de enviarme esto, gracias", Intent.OPT_OUT),
    # the job after it, asked, or told to someone else
    ("Arrête de m'envoyer ça, j'ai déjà les photos", Intent.CONVERSATION),
    ("Arrête de m'envoyer ça?", Intent.CONVERSATION),
    ("Deja de mandarme eso, ya tengo las fotos", Intent.CONVERSATION),
    ("Dile que deje de mandarme eso", Intent.CONVERSATION)])
def test_stop_sending_me_this_in_french_and_spanish_as_in_english(text, intent):
    """Found by the round of new registers: "stop sending me these (this)" ending the message
    revoked, "Arrêtez de m'envoyer ça" and "Dejá de mandarme esto" did not, so a customer who
    quoted our reminder back with it ('"Rappel : ..." arrêtez de m'envoyer ça') kept being
    texted. They now read as the English, with its guards (the message ends there)."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("stoptextingmeplease", Intent.OPT_OUT),
    ("pleasestopsendingmethesemessages", Intent.OPT_OUT),
    ("nemecrivezplus", Intent.OPT_OUT),
    ("arretezdemenvoyerdesmessages", Intent.OPT_OUT),
    ("NEMENVOYEZPLUSDEMESSAGES!!", Intent.OPT_OUT),
    ("nomemandesmasmensajes", Intent.OPT_OUT),
    ("dejademandarmemensajes", Intent.OPT_OUT),
    ("borrenmedelalista", Intent.OPT_OUT),
    # words no rule knows in the run, or the words say something else
    ("cansomeonestopbytomorrowmorning", Intent.CONVERSATION),
    ("mandamelacotizacionporfa", Intent.CONVERSATION),
    ("dontstoptextingme", Intent.CONVERSATION),
    ("nodejesdeescribirme", Intent.CONVERSATION),
    ("arretedetexterauvolant", Intent.CONVERSATION)])
def test_a_whole_message_typed_without_spaces_reads_as_its_words(text, intent):
    """Found by the round of new registers: "stoptextingme" was one of a few run-ons folded one
    by one; "stoptextingmeplease", "nemecrivezplus", "nomemandesmasmensajes" were words no
    rule knew. A message that is one run of letters now reads as the fewest words of the
    revocations' vocabulary it splits into, when it splits into nothing else."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Please stop testing me *texting", Intent.OPT_OUT),
    ("Please stop tenting me *texting!!", Intent.OPT_OUT),
    ("stop textinf me *texting", Intent.OPT_OUT),
    # nothing like it before it, or more after it: nothing put right
    ("Please stop testing the breaker *touching, it sparks", Intent.CONVERSATION),
    ("Please stop testing the breaker *touching", Intent.CONVERSATION),
    ("I can come at 3 *4", Intent.CONVERSATION)])
def test_an_autocorrect_mistake_put_right_with_an_asterisk_reads_as_put_right(text, intent):
    """Found by the round of new registers: "Please stop testing me *texting" (autocorrect,
    then the word meant after an asterisk, as people put it right) was conversation. The word
    after an asterisk ending the message now replaces the last word before it that looks like
    it (the same first letter, at most two letters apart)."""
    assert classify(text) is intent


@pytest.mark.parametrize(("text", "language"), [
    ("désabonez moi", "fr"), ("Desabonez-moi svp", "fr"), ("Je veux me désaboner", "fr"),
    ("desabonarme por favor", "es"), ("Desabónenme", "es"), ("quiero desabonarme", "es")])
def test_desabonner_typed_with_one_n_is_answered_in_french(text, language):
    """Found by the round of new registers: "désabonez moi" (French, one n) was read by the
    Spanish "desabonar" rule and confirmed in Spanish. The French endings "-ez" and "-er" of
    the verb typed with one n are French's."""
    assert detect(text) == Detection(Intent.OPT_OUT, language, own_words=True)


def test_no_property_test_here_has_a_deadline():
    """Hypothesis fails an example slower than its default deadline (200 ms), and calls the
    test flaky when the replay is fast: on a loaded CI machine (the suite's parallel workers,
    PostgreSQL, on two cores) a classify call of a long generated text could take that long,
    a failure with nothing wrong. Every other property test in the suite has deadline=None."""
    properties = [test for test in globals().values()
                  if getattr(test, "is_hypothesis_test", False)]
    assert len(properties) >= 7
    assert [test.__name__ for test in properties
            if test._hypothesis_internal_use_settings.deadline is not None] == []
