"""Guards just after a revocation: a limit in time or place, a language, a thing of the job, or
what to do instead ("don't text me before 8am", "stop texting me the address, I have it")."""
from __future__ import annotations

import re

from commsvc.consent import revocation_phrases as phrases
from commsvc.consent.detector.keywords import COURTESY
from commsvc.consent.detector.stop_with_complaint import COMPLAINT
from commsvc.consent.detector.time_words import FEW, NUMBER, UNIT, WHEN

_LIMIT_COURTESY = r"(?:" + COURTESY + r"|sorry|perdon|lo siento|desole)"
# Not beside a whole clause of no interest after it, a courtesy closing it or not: the guards
# for how the texts come or the sender being there step aside ("Stop texting me novels. Not
# interested (thanks)", "stop texting me lol I'm outside. Not interested" revoke).
_NO_COMPLAINT_AFTER = (r"(?!.* \| (?:" + COMPLAINT + r")(?: " + _LIMIT_COURTESY
                       + r")*(?: \||$))")
# The sender there or on the way, so texts are not needed now, the whole clause: "Stop
# texting me, I'm outside", "Arrête de m'écrire, j'arrive", "Deja de escribirme, ya voy para
# allá" (not "..., I'm here to complain")
# (a laugh or "literally", "already" may come first: "stop texting me lol I'm literally at the
# door", "Deja de escribirme jaja ya estoy en la puerta", "... lol je suis devant la porte")
_ARRIVING = (r"(?:(?:(?:lol|haha|lmao|jaja|jajaja|mdr|ptdr) )?"
             r"(?:(?:i m|im|i am)(?: (?:literally|already|just|right))?"
             r" (?:outside|here|downstairs|at the door|out front"
             r"|on my way|coming|almost there|pulling up)|on my way|omw"
             r"|j arrive|(?:je suis|j suis|chu)(?: (?:deja|juste))? (?:la|dehors"
             r"|devant(?: la porte)?|a la porte|en bas|en route|en chemin)|(?:ya )?(?:voy"
             r" (?:para alla|en camino)|llegue|casi llego|estoy (?:afuera|aqui|aca|en la puerta"
             r"|abajo|enfrente))|ya voy)"
             # ... with when: "j'arrive dans 5 min", "I'm on my way, 10 minutes"
             r"(?: (?:in|dans|en) (?:\d+|a few|a couple|quelques|unos|un par de)"
             r" (?:min|mins|minutes|minutos|sec|secs|seconds|secondes|segundos))?"
             r"(?: (?:now|right now|already|lol|haha|jaja|mdr|ya))*(?= \||$)"
             + _NO_COMPLAINT_AFTER + ")")
# "... and come", "... and just fix it", "... y ven a arreglar", "... et venez réparer": what a
# customer tells a pro who texts instead of coming or doing the work.
# (not "come on" ending its clause: "Stop texting me. Come on!" is exasperation)
_COME = (r"(?:come(?! on(?: \||$))|get here|get over here|show up"
         # the work, not "fix your spam filter" (the messages)
         r"|(?:fix|do|finish) (?:it|this|that|my|our|the (?:job|work))|do your job"
         r"|get (?:it|this|that) done|start working|get (?:back )?to work|call 911"
         r"|ven|venga|vengan|arregla|arregle|arreglen|hazlo|hagalo|haganlo"
         r"|venez|viens|reparez|repare|faites le|fais le"
         # ... or, told through someone, what they are to do: "Dites au technicien d'arrêter de
         # m'écrire et de venir", "Dígale al técnico que deje de escribirme y que venga"
         r"|(?:de|d) (?:venir|arriver|passer|reparer)|que (?:venga|vengan|venga a|pase|arregle)"
         r"|to come"
         # ... or to look at the job: "stop texting me and check the breaker box", "Arrête de
         # m'écrire et va vérifier le disjoncteur", "Deja de escribirme y revisa el breaker"
         # (not our records: "... and check your list")
         r"|(?:go )?(?:check|look at) (?:the|it|this|that)(?! (?:list|records?|database"
         r"|number)\b)|(?:va |allez )?(?:verifier|verifiez|verifie|regarder|regardez|regarde)"
         r" (?:le|la|les|l)(?! (?:liste|dossier|fichier)\b)"
         r"|(?:revisa|revise|revisen|checa|cheque|chequen) (?:el|la|los|las)(?! (?:lista"
         r"|registro)\b)"
         # ... or to drive, as one says "don't text and drive": "Stop texting and drive safe",
         # "Deja de textear y maneja"; not "... and drive off a bridge"
         r"|(?:drive|driving|conduis|conduisez|maneja|maneje|manejen)(?: (?:safe|safely"
         r"|carefully|prudemment|con cuidado))?(?= \||$| (?:lol|haha|jaja|mdr|ptdr|please|svp"
         r"|porfa)\b)|" + _ARRIVING + r")\b")
# ... or in the next clause: "Enough with the texts, just come over", "Basta de mensajes, ven"
# (or "better" come: "No me escribas, mejor ven", "Don't text me, better come over"); the
# sender there or on the way also with no punctuation: "Stop texting me I'm on my way" (no
# texts needed now: the job, not a limit in time, which names when)
_AND_COME = (r"(?:(?:and|&|y|et|pis|\|(?: (?:and|y|et|pis))?) (?:just |solo |nomas |juste |mejor"
             r" |better |plutot )?" + _COME + "|" + _ARRIVING + ")")
_LANGUAGE = r"(?:english|spanish|french|ingles|espanol|frances|anglais|espagnol|francais)"
# What may follow a language or place to stop at: the language or place to use instead.
# The language a limit named, once more, is no other to text in ("... in Spanish, I prefer
# Spanish" revokes): the group `limited` is the one the limit captured (none for a place).
_OTHER_LANGUAGE = r"(?!(?P=limited)\b)" + _LANGUAGE
_REDIRECT = (
    r"(?:(?:(?:only|just|solo|solamente|seulement|uniquement) )?(?:(?:in|en) )?"
    + _OTHER_LANGUAGE + r"(?: (?:only|solo|solamente|seulement|uniquement))?"
    r"|(?:i )?(?:only )?(?:speak|prefer|prefiero|hablo|yo hablo) (?:only |solo )?"
    + _OTHER_LANGUAGE + r"(?: only| solo| solamente)?"
    r"|i dont (?:speak|understand) (?:it|" + _LANGUAGE + r")|no (?:hablo|entiendo)(?: "
    + _LANGUAGE + r")?|je ne (?:parle|comprends) pas (?:l )?" + _LANGUAGE
    + r"|je (?:ne )?parle (?:que |seulement |uniquement )?(?:l )?" + _OTHER_LANGUAGE
    # (or with no "me": "... at work, text after 5")
    + r"|(?:text|message|call|write to|email)(?: me)? (?:at home|on my cell|later|tonight|tomorrow"
    r"|(?:after|before) \d{1,2}(?::?\d\d)?(?: ?(?:am|pm))?|in " + _OTHER_LANGUAGE + r")"
    r"(?: (?:instead|after \d{1,2}(?::?\d\d)?(?: ?(?:am|pm))?))?"
    r"|(?:(?:escrib|llam|mand|envi)(?:a|e|an|en)(?:me)?|mejor|solo|solamente|pero) (?:a la casa"
    r"|al celular|en " + _OTHER_LANGUAGE
    # ... and a time, as "text after 5": "escriba después de las 5", "écrivez après 17h"
    + r"|(?:despues|antes) de las \d{1,2}|mas tarde|en la noche|manana)"
    r"|(?:ecrivez|appelez|envoyez|textez)(?: moi)? (?:a la maison|sur mon portable|en "
    + _OTHER_LANGUAGE + r"|(?:apres|avant) \d{1,2}(?:h\d*)?|plus tard|ce soir|demain))")
# A limit in time as a length, in en/fr/es: an amount and a unit ("a sec", "2 secs", "half an
# hour", "a couple (of) hours", "the rest of the day", "the weekend", "una hora", "un momento",
# "une heure", "deux minutes"). Not a count, a rate or a run ("a second time", "24 hours a
# day", "2 days in a row", "3 days straight", "a week ago": how long we have texted), a
# share of something ("one second of my life"), not one unit more ("a minute longer", "un
# minuto más", "une minute de plus": no more, ever), nor "the rest of my life", "good",
# "ever", "real", "una vez" (no unit). Nothing here repeats, so it cannot backtrack.
_TIME_UNIT = (UNIT + r"(?! time\b| of (?:my|your|his|her|our|their)\b| (?:a|per) (?:day|week"
              r"|night)\b| (?:longer|more|mas|de plus|in a row|straight|ago)\b)")
# The amounts that are a length right after the revocation, without "for" ("leave me alone a
# sec", "laissez-moi tranquille une heure"); not "another" ("don't text me another minute").
_SHORT_AMOUNT = rf"(?:{FEW}|half an?|a half|the rest of the|the rest of this|{NUMBER})"
_SHORT_WHILE = r"(?:" + _SHORT_AMOUNT + r" |\d+ ?)" + _TIME_UNIT
# After "for" (pour, por, durante) more of them: "for the day", "for another hour".
_WHILE = (r"(?:(?:" + _SHORT_AMOUNT + r"|the|the next|the next few|the next couple of|this"
          r"|another|couple of|le|la|el) |(?:the next |another )?\d+ ?)" + _TIME_UNIT)
# Past-tense words of saying or asking: what follows them in the clause is when or how often
# the sender asked before, no limit ("stop texting me I told you this morning", "... I asked
# you before", "... I said stop on Monday", "no me escribas te lo dije esta mañana").
_ASKED_BEFORE = r"\b(?:told|said|asked|dije|dicho|pedi|ai (?:deja )?(?:dit|demande))\b"
# Just after a match in the same clause: a time or condition limit -> not a revocation; not
# once the sender says they asked before (_ASKED_BEFORE).
GUARD_AFTER_RE = re.compile(
    r"(?:(?!" + _ASKED_BEFORE + r")[^|]){0,40}?"
    r"\b(?:before|after|until|till|til|unless|while|during|tonight|today|tomorrow"
    r"|this (?:week|month|morning|afternoon|evening|weekend)|for now|so late|so early"
    r"|this late|this early|(?:at this hour|a esta hora|a estas horas|a cette heure)"
    # ... not "at this hour or any hour", "ni a esta hora ni nunca", "ni à cette heure ni à
    # aucune autre"
    r"(?! (?:ci )?(?:or|ni|ou)\b)"
    r"|antes|despues|hasta|mientras"
    # ... while driving: "Arrête de texter au volant!", "... manejando"
    r"|au volant|al volante|en conduisant|manejando"
    # ... or on another phone of the sender's, as "stop sending messages to my old number" is
    # the number to drop, not a revocation: "How do I stop getting texts on my old phone?"
    r"|(?:on|to) (?:my|the) (?:old|previous|former) (?:phone|number|cell|line)"
    # ... or for one appointment that is over, not the next: "Please stop the reminders for
    # the old appointment, the new one is Friday"
    r"|(?:for|about) (?:the|my|that) (?:old|previous|former|cancell?ed|other) (?:appointment"
    r"|visit|booking|job|date|time)"
    r"|hoy|manana|esta (?:noche|semana|tarde)|este mes|por ahora|avant"
    r"|apres|jusqu|pendant|ce soir|aujourd hui|demain|cette semaine|ce mois|pour l instant"
    # the days and the parts of the day ("in the morning", "les fins de semaine", "los
    # domingos")
    r"|" + WHEN +
    r"|(?:every|so much|so many)(?! (?:single |of (?:your |these |those |the )?)?(?:spam|ads?"
    r"|promo\w*|junk|marketing|text|message|notification\w*|alert\w*|offer\w*|deal\w*)\b"
    # "every day" ending the message is how often we text, said to be too often ("stop
    # texting me every day", as "tous les jours", "todos los días"); with anything after
    # ("every day, once a week is fine") it may ask for less
    r"| (?:single )?day" + phrases.LAST + ")"
    r"|once a|so often|early|late|tarde de las|mas tarde|tan tarde|trop tard|at \d\w*"
    # a condition still to come, the job done or paid: "remove me from your list once the job
    # is done", "... when the warranty ends", "une fois les travaux finis", "cuando terminen
    # el trabajo"; not the pro's convenience ("when you get a chance", "as soon as
    # possible", "dès que possible", "en cuanto puedan"), "once and for all", "at once"
    r"|(?:(?<!\bat )once|as soon as|des que|en cuanto|une fois|una vez|when|quand|lorsque"
    r"|cuando) (?:[^|]{0,30}? )?(?:job|work|project|repair|warranty|install\w*|done|finished"
    r"|over|complete\w*|paid|travaux|chantier|fini\w*|termin\w*|acab\w*|trabajo|obra"
    r"|garantia)"
    r"|(?:between|entre) (?:\d+|noon|midi|las|la)"
    r"|\d+ ?(?:am|pm|h)"
    # a while (_WHILE): "for an hour", "for a sec", "for the weekend", "pour une heure", "por
    # un rato", "durante una hora"
    r"|(?:for|pour|por|durante) " + _WHILE + r")\b"
    # ... or just after the match without "for", in what can only be a length: "laissez-moi
    # tranquille une heure", "déjame en paz un momento", "leave me alone a sec"
    r"|(?: (?:me|us|moi|nous))? " + _SHORT_WHILE + r"\b"
    # ... or a device named in French or Spanish, whose alerts they are
    r"|" + phrases.OF_A_DEVICE +
    # a concrete thing of the job, ending its clause, rather than the messages ("stop texting
    # me the address, I have it", "... the gate code", "... (the) questions (please)"), or
    # "stop texting me and come": the job is the point. Only these: "stop texting me the
    # surveys", "... price updates" are revocations.
    # (or what they are for: "Stop texting this # for the quote, use my email"; the group
    # `job`: beside a bare STOP or a complaint it is no guard, see own_words._accepted)
    # (or what they bring: "stop texting me with questions", "... with all these questions")
    r"|(?: (?:me|us|this number))?(?: (?:for|about|with))?(?: (?P<job>the (?:\w+ )?(?:address|code"
    r"|photos?|pictures?|pics?|details|directions|link|location|map|price|quote|invoice|receipt|estimate|schedule|eta"
    r"|tracking number|questions?)|(?:(?:all )?(?:these|those|your|so many|more) )?questions)"
    # (a courtesy may close it: "stop texting me the gate code please")
    r"(?=(?: " + _LIMIT_COURTESY + r")*(?: \||$)| " + _AND_COME + ")"
    # ... photos or videos of the job with any article or none, ending the clause or saying
    # what they show: "stop texting me photos", "... pictures of the mold", "arrête de me
    # texter des photos" (not "... dick pics": only an article before them)
    r"|(?: (?:me|us|moi|nous))? (?:(?:the|these|those|all|your|more|so many|des|les|ces|vos"
    r"|tes|tant de|los|las|sus|tus|mas|tantas) )?(?:same )?(?:photos?|pictures?|pics?|videos?"
    # ... or how they come: "... the photos one by one, send them all at once" (or a laugh
    # after them: "... the same photo lol I got it")
    r"|fotos?|images?|imagenes)(?= \||$| (?:lol|haha|jaja|mdr|ptdr|of|from|de|du|des|del"
    r"|one by one|one at a time|separately|individually|une par une|une a une|un par un"
    r"|una por una|uno por uno|por separado)\b"
    r"| " + _AND_COME + ")"
    # ... or how they are written, too long or in capitals, rather than whether: "Arrêtez donc
    # de m'écrire des romans", "Stop writing me essays", "Deja de escribirme testamentos jaja",
    # "Stop texting me in all caps", "Arrêtez de m'écrire aussi tard"
    # (ending the clause, or before a laugh, a courtesy or "and just" what to do instead; not
    # with no interest in any: "Stop texting me novels. Not interested")
    r"|(?: (?:me|us|moi|nous))? (?:(?:(?:des|de|such|so many|these|those|all these|tantos"
    r"|tantas|puros|puras) )?(?:novels?|essays?|paragraphs?|walls? of text|romans?|paves?"
    r"|tartines?|bibles?|testaments?|novelas?|testamentos?|biblias?|rollos?"
    # ... or silly, laughed at: "Arrête de m'écrire des bêtises lol", "Deja de escribirme
    # tonterías jaja", "stop texting me cute things lol" (not "Stop texting me nonsense", said
    # in earnest)
    r"|(?:betises|niaiseries|conneries|tonterias|tonteras|nonsense|memes|jokes|puns|poems"
    r"|(?:cute|sweet|silly|funny|corny|cheesy) (?:things|stuff|messages|text)|cosas lindas"
    r"|des mots doux)"
    r"(?= (?:lol|haha|jaja|jajaja|mdr|ptdr)\b))"
    r"|in (?:all )?caps|en majuscules|en mayusculas|(?:aussi|si) (?:tard|tot)"
    # ... or the same one twice: "stop texting me the same thing twice lol", "Arrêtez de
    # m'écrire la même chose deux fois", as "... en double", "... duplicados" (WHICH_MESSAGES)
    r"|" + phrases.SAME_TWICE + ")"
    r"(?= \||$| (?:lol|haha|jaja|jajaja|mdr|ptdr|please|svp|por favor)\b"
    r"| (?:and|et|y) (?:just|juste|solo|nomas) (?!stop\b|arret|para\b|dej))"
    + _NO_COMPLAINT_AFTER +
    # ... or someone else not to text, the sender to text instead: "stop texting Maria, text me
    # instead" (the other way round, "Stop texting me and text Maria instead", revokes)
    r"|(?: (?!me\b|us\b)\w+){1,2}(?: \|| and| but)?(?: (?:just|please))*"
    r" (?:text|message) (?:me|us) instead\b"
    r"| " + _AND_COME + ")")
# A limit in time widened to every time after it, ending its clause: "don't text me before 8
# or any other time", "STOP texting me at 6am!!! and every other time too", "Ne m'écrivez plus
# le dimanche ni aucun autre jour", "Arrêtez de m'écrire le soir ou n'importe quand", "No me
# escribas antes de las 8 ni a ninguna otra hora": no limit, the request stands, and it is read
# without them (without_widened_limits), whether its words may end the message or not. Not
# another time allowed ("..., any other time is fine") nor one still limited ("... or any other
# time before noon"). Nothing here repeats but the closing words, so it cannot backtrack.
_WIDENING_RE = re.compile(
    r"(?: \|)* (?:or|nor|and|ni|ou|et|o|y) (?:(?:at|on|in|a|en|de) )?"
    r"(?:(?:any|every|aucune?|toute?|ningun|ninguna|ninguno|cualquier|n importe(?: quelle?)?)"
    r"(?: (?:other|autre|otra|otro))? (?:time|times|hour|hours|day|days|moment|heure|heures"
    r"|jour|jours|hora|horas|dia|dias|momento)(?: (?:of the|de la|del) (?:day|week|journee"
    r"|semaine|dia|semana))?"
    r"|ever|at all|anytime|n importe quand|jamais|nunca)"
    r"(?: (?:too|either|whatsoever|tampoco|non plus|" + COURTESY + r"))*(?= \||$)")
_WIDENING_WORDS = frozenset("any every aucun aucune tout toute ningun ninguna ninguno cualquier"
                            " importe ever all anytime jamais nunca".split())
# Where such a limit starts, read back from the widening: a word of when ("before", "after",
# "at 6am", "avant", "le soir", "antes", "en la noche", the days: WHEN), with the preposition
# or article before it ("on weekends", "le dimanche", "los domingos", "à 6h")
_LIMIT_START_RE = re.compile(
    r"(?:before|after|until|till|til|during|between|past|tonight|today|tomorrow|early|late"
    r"|so (?:early|late)|this (?:early|late|week|weekend|morning|afternoon|evening)"
    r"|at (?:\d|night|this hour)|\d+ ?(?:am|pm|h)"
    r"|avant|apres|jusqu|pendant|ce soir|aujourd hui|demain|tot|tard|(?:aussi|si) (?:tot|tard)"
    r"|antes|despues|hasta|durante|hoy|manana|esta noche|temprano|tarde|tan (?:temprano|tarde)"
    r"|a las|" + WHEN + r")\b")
_LIMIT_LEAD = frozenset("on in at the le les la l a au en el los las por".split())
_LIMIT_CHARS = 40


def without_widened_limits(s: str) -> str:
    """`s` (tokens joined) without each limit in time that a widening after it makes every time,
    and the widening: "dont text me before 8 or any other time" -> "dont text me"."""
    if _WIDENING_WORDS.isdisjoint(s.split()):
        return s
    out, done = [], 0
    for widening in _WIDENING_RE.finditer(s):
        end = widening.start()
        clause = s.rfind("| ", done, end) + 2 if "| " in s[done:end] else done
        # the first word of when after the clause's first word, at most _LIMIT_CHARS back
        at = s.find(" ", max(clause, end - _LIMIT_CHARS - 1)) + 1
        while 0 < at < end and not _LIMIT_START_RE.match(s, at):
            at = s.find(" ", at) + 1
        if not 0 < at < end:
            continue
        lead = s.rfind(" ", 0, at - 1) + 1
        if lead > clause and s[lead:at - 1] in _LIMIT_LEAD:
            at = lead
        out.append(s[done:at - 1])
        done = widening.end()
    return "".join(out) + s[done:] if out else s


# Just after a match: a language or a place, then nothing but thanks or one redirect ("stop
# texting me in English, I speak Spanish", "no me escriba en ingles, solo espanol", "... at
# work, text me at home", "... au bureau svp") -> not a revocation; without a redirect right
# after it, only while nothing else in the message insists (_insists). Anything else after it
# ("... or at home", "... I'm done", "ya basta") leaves the message a revocation.
LIMIT_AFTER_RE = re.compile(
    r"(?: (?:me|us))? (?:(?:in|en) (?P<limited>" + _LANGUAGE + r")|at (?:work|school"
    r"|the office)|au (?:travail|bureau)|(?:en el|al) trabajo)"
    r"(?:(?: \|)? " + _LIMIT_COURTESY + r")*(?: \| (?P<redirect>" + _REDIRECT + r")(?:(?: \|)? "
    + _LIMIT_COURTESY + r")*)?(?: \|)*$")
