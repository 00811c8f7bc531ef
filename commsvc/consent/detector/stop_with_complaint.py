"""A bare STOP beside a complaint about the messages (pipeline step 4): "STOP. I never signed
up for this", "STOP wrong number", "ARRÊTEZ. Je vous l'ai déjà dit"."""
from __future__ import annotations

import re

from commsvc.consent import revocation_phrases as phrases
from commsvc.consent.detector.keywords import COURTESY, COURTESY_TAIL_RE, OPTOUT_EXTRA
from commsvc.consent.detector.time_words import HOW_OFTEN, PAST_TIME, TIMES

# "STOP. I never signed up for this": a bare strong keyword as its own clause, next to a
# clause that is plainly about unwanted messages. A wrong number is no such clause: only with
# nothing else (STRONG_BESIDE_SIGNAL_RE, only_stop_and_fed_up), so "Stop, wrong number on
# the gate", "Stop! Wrong number, the house is 4521" are about the job.
STRONG_WORDS = "stop all|stopall|stop|unsubscribe|opt out|revoke|arretez|arrete|arret"


def strong(words: str) -> str:
    """A strong keyword among `words` with only courtesy and intensifiers around it."""
    return rf"(?:(?:{COURTESY} )*(?:{words})(?: (?:{OPTOUT_EXTRA}|stop))*)"


STRONG_CLAUSE_RE = re.compile(strong(STRONG_WORDS))
# Words of a complaint that the messages are unwanted, shared by UNWANTED_SIGNAL_RE and
# COMPLAINT: who the sender is asked, and never having asked for the messages.
_WHO_IS_THIS = (r"(?:who is this|whos this|who s this|who are you|qui etes vous|c est qui"
                r"|quien es|quien eres)")
_SIGNED_UP = r"(?:sign(?:ed)? up|subscribe[d]?|opt(?:ed)? in|ask(?:ed)? for (?:this|these|it|them))"
_NEVER_SIGNED_UP_ES = r"(?:nunca|no) me (?:suscribi|inscribi|registre)"
# Never having asked for the messages in French and Spanish, as "I never asked for this": "Je
# n'ai jamais demandé ça", "J'ai jamais demandé ces messages", "Nunca pedí esto", "Yo no pedí
# estos mensajes" (with what was not asked for: "Stop, j'ai jamais demandé le devis" and "Alto,
# no pedí el azulejo" are about the job)
_NEVER_ASKED_FR_ES = (r"(?:(?:je |j )?(?:n )?ai )?jamais demande (?:ca|cela|rien|(?:ces|vos|tes)"
                      r" (?:message|text|notifications|rappels))"
                      r"|(?:yo )?(?:nunca|no|jamas) (?:(?:les|le|te) )?(?:pedi|solicite)"
                      r" (?:esto|eso|nada|(?:estos|esos|sus|tus) (?:message|text"
                      r"|notificaciones|recordatorios))")
# Who gave them the number, or that the sender never did: "Who gave you my number? Stop", "Je
# vous ai jamais donné mon numéro, arrêtez", "¿Quién les dio mi número? Alto"
_MY_NUMBER = (r"(?:who gave you (?:my|this) number|how did you get (?:my|this) number"
              r"|(?:i )?never gave you (?:my|this) number"
              r"|qui vous a donne mon numero"
              r"|(?:je )?(?:ne )?(?:vous |t )?ai jamais donne mon numero"
              r"|quien (?:le |les |te )?dio mi numero|de donde (?:saco|sacaron|sacaste) mi numero"
              r"|(?:yo )?nunca (?:le |les |te )?di mi numero)")
# Asking who keeps texting: "Who keeps texting me? STOP", "Qui m'écrit sans arrêt? Stop",
# "¿Quién me sigue escribiendo? Alto" (who, not "my ex keeps texting me": someone known)
_WHO_KEEPS = (r"(?:who|someone|somebody|this number) keeps (?:text|message|contacting|spamming)"
              r" (?:me|us)"
              r"|qui (?:(?:n )?arrete pas de (?:m|me|nous) (?:ecrire|texter)"
              r"|(?:m|me|nous) (?:ecrit|texte) (?:sans arret|sans cesse|tout le temps))"
              r"|quien (?:me|nos) (?:sigue|anda) (?:escribiendo|mandando (?:message|text))")
# Not knowing who writes, or never having booked anything: "Don't know you. STOP", "I never
# booked anything. STOP", "Je vous connais pas, arrêtez", "No los conozco. BAJA"
_STRANGER = (r"(?:(?:i )?(?:dont|do not) know (?:you|who you are|who this is)"
             r"|(?:i )?(?:never|didnt|did not) (?:book|booked|order|ordered|request|requested)"
             r" anything"
             r"|je (?:ne )?(?:sais pas qui vous etes|vous connais pas)"
             r"|no (?:se quien(?:es)? (?:son|es|eres)|(?:lo|los|la|las|te) conozco))")
# The end of a clause, then only clauses of a strong keyword or courtesy to the end
_THEN_ONLY_KEYWORDS = (rf"(?=(?: {COURTESY})*(?: \| (?:{strong(STRONG_WORDS)}"
                       rf"|{COURTESY}(?: {COURTESY})*))*$)")
# The messages named, in en/fr/es (folded: "texts" is "text", "mensajes" "message")
_TEXTS_EN = r"(?:text|message|reminders|notifications|alerts)(?: s)?"
_TEXTS_FR = r"(?:message|text|notifications|rappels|alertes)"
_TEXTS_ES = r"(?:message|text|notificaciones|recordatorios|alertas)"
# The messages said to be annoying, ours ("your", "these"; not "the texts from the alarm are
# annoying"), in en/fr/es: "ur texts r annoying", "vos textos me tapent sur les nerfs", "sus
# mensajes son molestos"
_ANNOYING = (r"(?:your|ur|these|those|all these|all your) (?:text|message|reminders|notifications)"
             r"(?: s)? (?:are|r|is|re|s) (?:(?:so|really|very|super|getting|way) )*(?:annoying"
             r"|irritating|excessive|too much|ridiculous|nonstop|out of control)"
             r"|(?:vos|tes|ces) (?:message|text|notifications|rappels) (?:(?:me|m)"
             r" (?:tapent sur les nerfs|enervent|gossent|achalent|fatiguent|tannent)"
             r"|sont (?:(?:tellement|trop|vraiment|super) )?(?:tannants|fatigants|agacants"
             r"|enervants|penibles|insupportables))"
             r"|(?:sus|tus|estos|esos) (?:message|text|notificaciones|recordatorios)"
             r" (?:(?:me|nos) (?:molestan|fastidian|tienen (?:hart[oa]s?|cansad[oa]s?))"
             r"|son (?:(?:muy|bien|super) )?(?:molestos|fastidiosos|insoportables|pesados))")
# Texted too much, said of us: "You text me too much", "Vous m'écrivez trop", "Me escriben
# demasiado" (the whole clause: "Vous m'écrivez trop tard" is a time)
_TOO_MUCH = (r"(?:(?:you|u|yall|you guys) (?:text|message) (?:me|us) (?:(?:way|far|so) )?"
             r"(?:too (?:much|often)|so much)"
             r"|(?:vous|tu) (?:m|me|nous) (?:ecrivez|ecris|textez|texte|envoyez|envoies)"
             r" (?:beaucoup |bien |vraiment )?trop(?: souvent)?"
             r"|(?:me|nos) (?:escriben|escribes|escribe|mandan|mandas|manda|textean|texteas)"
             r" (?:demasiado|demasiados message|muchisimo|mucho|tanto|tantos message))")
UNWANTED_SIGNAL_RE = re.compile(
    r"\b(?:(?:never|dont remember|didnt|did not) " + _SIGNED_UP
    # who the sender is asked as the end of its clause: "Stop! Who is this technician?" asks
    # about the job
    + r"|" + _WHO_IS_THIS + rf"(?=(?: {COURTESY})*(?: \||$))"
    # not interested in a thing of the job is no complaint about the messages ("Stop, not
    # interested in the upgrade, just the repair"); in the services, offers, texts it is
    r"|not interested(?! in (?:the|an|a|your|that) (?!service|offer|text|message"
    r"|promo|ad)\w)|spam|scam|harass\w*"
    # ... and who gave us the number, as the end of its clause ("Stop! Who gave you my number
    # for the gate?" is about the job) and with only keywords and courtesy after it: "Stop!
    # Who gave you my number? My neighbour, she loved your work" answers its own question
    + r"|" + _MY_NUMBER + _THEN_ONLY_KEYWORDS
    # ... and not knowing the sender or never having booked, the same way: "I never requested
    # anything. Stop, wait, did my husband book?" goes on about the job
    + r"|" + _STRANGER + _THEN_ONLY_KEYWORDS
    + r"|keep (?:text|message|texting|messaging|contacting|spamming) (?:me|us)"
    # the messages said to be annoying or too many, as the end of its clause: "ur texts r
    # annoying, stop" (not "the texts from the alarm are annoying": ours, named so)
    r"|(?:" + _ANNOYING + r"|(?:so|too) many (?:text|message|reminders|notifications))"
    rf"(?=(?: {COURTESY})*(?: \||$))"
    r"|why (?:am i|do i keep|do you keep|are you) (?:getting|receiving|sending|text|message)"
    + r"|" + _TOO_MUCH + rf"(?=(?: {COURTESY})*(?: \||$))"
    # the messages said to keep coming: "Stop, these keep coming every hour", "Stop, vos
    # messages arrêtent pas", "Stop, estos mensajes siguen llegando" (named, or "these": not
    # "Stop! The ants keep coming back")
    r"|(?:these|those|(?:your|ur|the|these|those|all these|all your) " + _TEXTS_EN + r")"
    r" keeps? (?:coming|arriving|popping up|showing up)(?! back\b)"
    r"|(?:vos|ces|les|tes|tous ces|tous vos) " + _TEXTS_FR + r" (?:n )?(?:arretent (?:pas|jamais)"
    r"|arrivent (?:sans arret|sans cesse|tout le temps|encore))"
    r"|(?:(?:sus|estos|esos|los|tus|tantos) " + _TEXTS_ES + r" (?:siguen|no dejan de|no paran de)"
    r" llega(?:ndo|r)|(?:siguen|no dejan de|no paran de) llega(?:ndo|r)(?: (?:sus|estos|esos|los"
    r"|tus|tantos))? " + _TEXTS_ES + r")"
    # the same in French and Spanish: "STOP. Esto es acoso", "Stop, je suis jamais inscrit"
    # (not interested, in them, only as the whole message: STRONG_BESIDE_SIGNAL_RE)
    r"|harcel\w*|acoso|hostigamiento|jamais inscrite?|" + _NEVER_SIGNED_UP_ES
    + r"|" + _NEVER_ASKED_FR_ES + r"|" + _WHO_KEEPS + r")\b")
_REITERATION = (
    r"(?:(?:(?:i|we) (?:(?:ve|have) )?)?(?:already )?(?:told you|said(?: (?:it|so|that|stop))?"
    r"|asked(?: you)?(?: (?:nicely|to stop|not to))?)"
    rf"(?: {HOW_OFTEN})?"
    r"|how many times(?: do (?:i|we) (?:have|need) to (?:tell you|say it|say this|say that"
    r"|say stop|ask))?|(?:once )?again|for the (?:last|second|third|fourth|fifth|hundredth"
    r"|millionth|nth|\d+(?:st|nd|rd|th)) time|i repeat"
    r"|(?:im|i m|i am) not (?:going to|gonna) (?:tell you|say it|say this|ask)(?: again)?"
    r"|i (?:wont|will not) (?:tell you|say it|say this|ask) again"
    r"|(?:je (?:vous |te |t )?(?:l )?|j )ai (?:deja )?(?:dit|demande)(?: (?:stop|d arreter))?"
    rf"(?: {TIMES})?"
    r"|(?:je (?:vous |te |t )?l ai |j ai )?deja dit"
    r"|combien de fois(?: faut il (?:vous |te )?le dire)?"
    r"|encore(?: une fois)?|une fois de plus|pour la (?:derniere|deuxieme|troisieme|enieme"
    r"|nieme) fois|je repete"
    r"|(?:ya )?(?:te |se |les |le )?(?:lo |los |la |las )?(?:dije|pedi)"
    r"(?: (?:que (?:pares|paren|pare|parara"
    r"|no me (?:escribas|escriba|escriban|mandes|manden)|ya no)|ya))?"
    rf"(?: {TIMES})?"
    r"|cuantas veces(?: (?:te |se |les )?lo tengo que (?:decir|repetir))?|otra vez|de nuevo"
    r"|una vez mas|por (?:ultima|segunda|tercera|enesima) vez)"
    rf"(?: {PAST_TIME})?")
# The whole message a keyword (ALTO, BAJA, STOPPEZ too) and that the sender is the wrong person
# or has no job for us, in either order: "STOP wrong number", "Already hired someone. STOP",
# "Número equivocado, BAJA" (the words: phrases.NOT_FOR_ME, which may also end a phrase of
# phrases.LAST).
_NOT_FOR_ME = phrases.NOT_FOR_ME
# Nothing but bare STOPs and clauses that want no more contact or say the sender asked before:
# "Stop calling me. STOP", "Go away. STOP", "STOP. I already told you", "Please no more. STOP",
# "STOP. I said STOP a week ago", "ARRÊTEZ. Je vous l'ai déjà dit", "ALTO. Ya te dije". Only
# so: beside anything else ("Stop! No more, that's enough mulch", "Stop! Go away, there's a
# wasp nest", "Stop! I told you. The pipe is behind that wall") the STOP is about the job.
# A wrong number counts only so, as ALTO's does (_NOT_FOR_ME): "Stop! Wrong number. I told
# you" is one; "Stop! Wrong number, it's 4521 not 4512" corrects the pro.
# Meaning it: "Stop. I mean it", "Arrêtez. Je suis sérieux", "Alto. Lo digo en serio"; not
# asked ("Arrête! C'est sérieux?", "no way, is it serious?": only_stop_and_fed_up)
_MEANS_IT = (r"(?:i mean it|(?:im|i m|i am) serious|je suis serieuse?|c est serieux"
             r"|(?:lo digo|hablo) en serio)")
_MEANS_IT_RE = re.compile(_MEANS_IT)
_FED_UP_CLAUSE_RE = re.compile(
    rf"(?:(?:{COURTESY}|just|now) )*"
    r"(?:(?:(?:stop|quit) calling|dont call)(?: me| us)?(?: again| anymore| ever again)?"
    r"|go away|leave me alone|no more|not anymore|(?:i )?(?:already )?told you(?: already)?"
    # fed up: "Stop. That's enough", "Stop. C'est assez", "Stop. Ya basta", "Stop. I'm done"
    r"|" + phrases.FED_UP +
    rf"|{_MEANS_IT}"
    # reported or blocking: "STOP. Reported.", "Stop. Blocking this number" (not "blocked"
    # alone: the drain may be)
    r"|reported(?: as spam)?|blocked and reported|(?:(?:im|i m|i am) )?(?:blocking|reporting)"
    r" (?:you|this number)(?: as spam)?(?: now)?|(?:ill|i ll|i will|im going to|i m going to"
    r"|gonna) (?:block|report) (?:you|this number)(?: as spam)?(?: now)?"
    r"|(?:je )?(?:bloque|vais bloquer|signale|vais signaler) (?:ce numero|votre numero)"
    r"|je (?:vous |te )?(?:bloque|vais bloquer|signale|vais signaler)"
    rf"|{_REITERATION}|{_NOT_FOR_ME})")
_COURTESY_CLAUSE_RE = re.compile(rf"{COURTESY}(?: {COURTESY})*")


# Agreeing to what an instruction just quoted says: "Reply STOP? Fine. STOP"
_AGREED_CLAUSE_RE = re.compile(
    r"(?:fine|ok|okay|sure|whatever|done|gladly|happily|alright|all right|d accord|bon"
    r"|tres bien|volontiers|avec plaisir|bueno|vale|listo|claro|con gusto)"
    r"(?: (?:then|by me|with me|alors|pues|entonces))?")


# Who the sender is not, named: "This is not John", "I'm not Maria", "No Mike here", "Ce
# n'est pas Julie", "No soy Juan": beside a STOP with a wrong number or person said too ("This
# is not John. Wrong number. Stop"), or written as a name (_A_NAME_RE: "This is not John.
# Stop", "Not Maria. Stop"): "Stop! This is not good" is about the job.
_NOT_NAMED_CLAUSE_RE = re.compile(
    r"(?:(?:(?:this|it) (?:is not|isnt|aint)|(?:its|it s|im|i m|i am) not|(?:there s|theres) no"
    r"|not"
    r"|ce n est pas|c est pas|(?:je ne suis|je suis) pas|no soy|no es|aqui no (?:es|vive|hay))"
    r"(?: \w+){1,2}(?: here| ici| aqui)?|(?:no|pas de) \w+ (?:here|ici|aqui))")
_NOT_FOR_ME_CLAUSE_RE = re.compile(_NOT_FOR_ME)
# A capitalised word after a word in lower case, as a name is written ("This is not John"); not
# a message in capitals, where "THIS IS NOT JOHN" cannot be told from "THIS IS NOT GOOD"
_A_NAME_RE = re.compile(r"(?<=[a-zà-ÿ] )[A-ZÀ-Þ][a-zà-ÿ]+\b")


def only_stop_and_fed_up(s: str, question: bool, text: str) -> bool:
    """The message is bare STOP clauses and clauses that want no more contact, one of each;
    or a quoted instruction (without_instructions: "Reply STOP?", "Your text says STOP to opt
    out"), then nothing but agreement or courtesy and a bare STOP: the sender does as it says
    ("Reply STOP? Fine. STOP", "The text said reply STOP to opt out. STOP", also after a first
    STOP: "STOP. The text said STOP to opt out. STOP"; not "STOP. Reply YES to confirm", with
    no STOP after it, which may be the sender's template); what comes before the instruction
    is the rest of the message quoted ("Your technician is on the way. Reply STOP to opt out.
    STOP"). `question`: the message ends as one, and meaning it asked is no insisting
    ("Arrête! C'est sérieux?"); `text`: the message as written, where a name is told."""
    strong = fed_up = quoted = obeyed = not_named = not_for_me = before_quote = False
    for clause in s.split(" | "):
        if STRONG_CLAUSE_RE.fullmatch(clause):
            strong = True
            obeyed = quoted
        elif clause == "quoted" or clause.endswith(" quoted"):
            quoted = True
        elif (_FED_UP_CLAUSE_RE.fullmatch(COURTESY_TAIL_RE.sub("", clause))
              and not (question and _MEANS_IT_RE.search(clause))):
            fed_up = True
            not_for_me = not_for_me or _NOT_FOR_ME_CLAUSE_RE.fullmatch(clause) is not None
        elif _NOT_NAMED_CLAUSE_RE.fullmatch(clause):
            if _A_NAME_RE.search(text):
                fed_up = not_for_me = True
            else:
                not_named = True
        elif not (_COURTESY_CLAUSE_RE.fullmatch(clause)
                  or quoted and not obeyed and _AGREED_CLAUSE_RE.fullmatch(clause)):
            if quoted:
                return False
            before_quote = True
    if before_quote:
        return strong and obeyed
    return strong and (obeyed or fed_up and (not_for_me or not not_named))


_STRONG_WORD = strong(STRONG_WORDS + "|stoppez|alto|baja")
# REMOVE / DELETE after the wrong number ("Wrong number, please remove"), REMOVE ME either side;
# not "Remove the wrong number", which may be about an invoice.
_REMOVE_WORD = strong("remove|remove me|remove us|delete|delete me")
# The words one of STRONG_BESIDE_SIGNAL_RE's messages must hold: most texts have none and skip it
BESIDE_WORDS = frozenset("stop stopall unsubscribe opt revoke arretez arrete arret stoppez alto"
                         " baja remove delete".split())
# A clause that says the messages are unwanted, in en/fr/es (_COMPLAINT_CLAUSE_RE's words)
COMPLAINT = (
    r"(?:(?:this is|thats|that s|that is|its|it s|esto es|es|c est|c est du|c est de la) )?"
    r"(?:harassment|harassing|spam|a scam|scam|acoso|hostigamiento|harcelement|du spam)"
    r"|" + _WHO_IS_THIS + r"|qui est ce|" + _WHO_KEEPS
    + r"|(?:i |we )?(?:never|didnt|did not) " + _SIGNED_UP
    + r"(?: for (?:this|these|it|them|that))?"
    r"|(?:yo )?" + _NEVER_SIGNED_UP_ES
    + r"|je ne me suis jamais inscrite?|je me suis jamais inscrite?|" + _NEVER_ASKED_FR_ES
    + r"|" + phrases.NOT_INTERESTED + "|" + _MY_NUMBER + "|" + _STRANGER
    + r"|(?:this is |youve got |you ve got |you have )?(?:the )?wrong number"
    r"|(?:(?:vous avez|tu as|c est) (?:le |un )?)?mauvais numero"
    r"|(?:(?:tiene|tienen|tienes) (?:el )?)?numero equivocado"
    r"|(?:(?:way|far|so|just) )?too many (?:text|message|notifications|reminders)"
    + r"|" + _TOO_MUCH + r"|" + _ANNOYING +
    r"|(?:im|i m|i am) getting (?:(?:way|far|so) )?too many(?: of (?:these|them|your (?:text"
    r"|message)))?"
    r"|(?:beaucoup )?trop de (?:message|text)|(?:son )?demasiados (?:message|text)"
    # blocking, as "Blocking this number" beside a STOP: "Voy a bloquear este número. Alto"
    r"|(?:(?:los |lo |te )?voy a bloquear|bloqueo|bloqueando) (?:este|su|tu) numero")
# The whole message a keyword (ALTO and BAJA too) and that the sender is the wrong person or
# that the messages are unwanted, in either order: "STOP wrong number", "Es spam, BAJA",
# "Nunca me suscribí, alto", "Stop c'est du harcèlement".
STRONG_BESIDE_SIGNAL_RE = re.compile(
    rf"(?:{_STRONG_WORD}|{strong('remove me|remove us')}) (?:{_NOT_FOR_ME}|{COMPLAINT})"
    rf"(?: {COURTESY})*"
    rf"|(?:{_NOT_FOR_ME}|{COMPLAINT}) (?:{_STRONG_WORD}|{_REMOVE_WORD})")
