"""Guards just before a revocation: negation, a noun use of "stop", who stops, and another
person told, asked or quoted ("tell him to stop texting me", "my wife said stop texting me")."""
from __future__ import annotations

import re

# Someone of the sender's, or anyone's: who may be told to stop, or quoted saying it
_PERSON = (r"(?:neighbou?r|dog|cat|kid|child|children|boy|girl|guy|man|men|woman|women|lady"
           r"|ladie|landlord|tenant|roommate|husband|wife|son|daughter|brother|sister|mom|mum"
           r"|dad|mother|father|boyfriend|girlfriend|ex|baby|friend|boss|coworker)s?")
# ... in French and Spanish: who the sender tells or told ("au propriétaire", "al casero"; not
# "al dueño", the owner, who may be us, as "the owner" is not in English)
_PERSON_FR = (r"(?:proprietaire|proprio|voisine?|mari|femme|locataire|concierge|fils|fille|mere"
              r"|pere|coloc|chum|blonde|patron|patronne|ex|frere|soeur|amie?)s?")
_PERSON_ES = (r"(?:casero|casera|vecino|vecina|esposo|esposa|marido|inquilino"
              r"|inquilina|hijo|hija|mama|papa|novio|novia|jefe|jefa|ex|hermano|hermana|amigo"
              r"|amiga|suegro|suegra)s?")
# Telling one other person in Spanish, as "tell him": decir, pedir, avisar, contar with "le",
# the tú, usted and ustedes imperatives and the voseo of Argentina, Uruguay and Central America
# ("decíle", "pedíle", "avisále", "contále": accents dropped, "decile", "pedile", ...)
_TELL_ONE_ES = (r"dile|digale|diganle|decile|pidele|pidale|pidanle|pedile|avisale|avisele"
                r"|avisenle|cuentale|cuentele|cuentenle|contale")
# The sender's own words reported to another person told: "dile que (yo) (le) dije que ..."
_I_SAID_ES = r"(?: (?:yo )?(?:le |te )?(?:dije|digo|pedi|pido) que)?"
# ... or someone named, one word that is no pronoun and no part of a company, which may be us
# ("tell Mike to stop texting me", "dile a Juan que no me escriba", "dis à Marc d'arrêter de
# m'écrire", as "tell him to"; not "tell them", "tell dispatch", "dile a la empresa", "dites à
# votre technicien")
_NAMED_EN = (r"(?!(?:them|em|you|u|ya|yall|your|ur|the|this|that|these|those|a|an|me|us|all"
             r"|everyone|everybody|anyone|anybody|someone|somebody|people|whoever|dispatch"
             r"|dispatcher|management|manager|corporate|support|sales|staff|office|admin|hq"
             r"|billing|customer|company|team|crew|tech|technician|plumber|pro|boss|owner)\b)"
             r"[a-z]+")
_NAMED_ES = (r"(?!(?:su|sus|la|el|los|las|lo|ustedes|usted|todos|todas|nadie|alguien|tu|tus|este"
             r"|esta|ese|esa|mi|mis|un|una|quien)\b)[a-z]+")
_NAMED_FR = (r"(?!(?:vous|votre|vos|la|le|l|les|un|une|tous|tout|toutes|eux|elle|elles|ce|cette"
             r"|ces|ton|ta|tes|mon|ma|mes|son|sa|ses|leur|leurs|qui|quelqu)\b)[a-z]+")
# Just before a match: negation, condition or a noun use of "stop" -> not a revocation; or
# what the sender tells, told or asks another person ("tell him to stop texting me", "ask the
# neighbor to stop bothering me", "make my husband stop": a listed person, or anyone after
# my, his, her, our with "to", but never the sender's own phone: "make my phone stop getting
# these texts" and "You make my life hell, stop texting me" are revocations). Never "you",
# "your office", "this number", "the company", "the app" or "them", which are, or may be, us
# ("Tell the company to stop texting me" is one).
GUARD_BEFORE_RE = re.compile(
    # ("... wouldn't stop texting me" tells what someone else did)
    r"(?:^|\s)(?:(?:dont|never|didnt|not|doesnt|wont|wouldnt|couldnt|no need to|if you|if u"
    # ("why'd you stop texting me back?")
    # (nor the sender asking whether they did: "Did I unsubscribe? I'm not getting texts")
    r"|if they|did you|did they|d you|d they|did i|did we|have i|am i|n|ne|no|nunca|si|the|a"
    r"|bus|next|last|first|one"
    # someone else who cannot stop: "My son can't quit texting me about the bathroom lol" (not
    # the sender, nor us: "I can't stop getting these texts", "Why can't you stop texting me?")
    r"|(?<!\bi )(?<!\bwe )(?<!\byou )(?<!\bu )(?<!\byall )(?:cant|cannot))"
    r"(?: (?:want|need|ask|asked|tell|told) (?:you|them) to| please)?"
    # the sender denying they said it: "I never said stop texting me", "no i didnt say stop
    # texting me", "Je n'ai jamais dit d'arrêter de m'écrire" (not the rhetorical "Didn't I
    # say stop texting me?", a complaint)
    r"|(?:never|didnt|dont|jamais|pas) (?:said|say|dit(?: d| de)?)"
    # ... or saying it now: "I'm not saying stop texting me", "I'm not telling you to ...", "Je
    # ne dis pas d'arrêter de m'écrire", "je dis pas ...", "No digo que dejes de escribirme",
    # "No te estoy diciendo que ...", "Nunca te dije que ..." (not the bare past "¿No te dije
    # que dejaras de escribirme?", as often the complaint "didn't I tell you")
    r"|not (?:saying|sayin)(?: to)?|not (?:telling|asking) (?:you|u|yall) to|dis pas(?: d| de)?"
    # ... or that there is no need to, as "no need to" above: "C'est pas la peine d'arrêter de
    # m'écrire", "Pas besoin de ...", "No hace falta que dejes de escribirme", "No es necesario
    # que ..."
    r"|pas (?:la peine|besoin) (?:d|de)|no (?:hace falta|es necesario|hay necesidad de) que"
    r"|(?:no|nunca)(?: (?:te|le|les|lo))? (?:digo|estoy diciendo|he dicho)(?: que)?"
    r"|nunca(?: (?:te|le|les|lo))? dije(?: que)?"
    # ... or tells another person in Spanish or French, as in English: one ("dile que deje de
    # escribirme", "dígale que ...", "díganle que ...", "dis-lui d'arrêter de m'écrire",
    # "dites-lui ...", as "tell him to") or the sender's own ("dile a mi esposo que ...", "dis
    # à mon mari de ...", as "tell my husband to"); not "them" ("diles que ...", "dígales que
    # ...", "dis-leur ...", as "tell them to") nor "your company" ("Dígale a su empresa que
    # ..."), which may be us
    # ... also with the sender's own words reported to them: "tell him I said to stop texting
    # me", "dis-lui que j'ai dit d'arrêter de m'écrire", "dile que dije que deje de escribirme"
    r"|(?:" + _TELL_ONE_ES + r") que" + _I_SAID_ES + "(?: ya)?"
    r"|(?:" + _TELL_ONE_ES + r"|diles|digales|diganles|pideles"
    r"|pidales|pidanles) a (?:mi|mis)(?: \w+){1,2} que" + _I_SAID_ES + "(?: ya)?"
    r"|(?:" + _TELL_ONE_ES + r") a " + _NAMED_ES + r" que" + _I_SAID_ES + "(?: ya)?"
    # ... or told (asked) someone of the sender's, in the past, as "I told my husband (the
    # landlord) to": "J'ai dit au propriétaire d'arrêter de m'écrire", "Le dije al dueño que
    # deje de escribirme", "Le pedí a mi vecina que ..." (not "Je vous ai dit ...", "Les dije
    # que ...": us)
    r"|(?:j ai|je lui ai|je leur ai|on a) (?:dit|demande) (?:a (?:mon|ma|mes|la|l)|au|aux)"
    r"(?: \w+)? " + _PERSON_FR + r"(?: d| de)"
    r"|(?:le|les) (?:dije|pedi) (?:a (?:mi|mis|la|el|los|las)|al)(?: \w+)? " + _PERSON_ES
    + r" que(?: ya)?"
    r"|(?:dis|dites|demande|demandez) (?:lui|a (?:mon|ma|mes)(?: \w+){1,2}|a " + _NAMED_FR + ")"
    r"(?: que (?:j ai|je lui ai|je) (?:dit|demande))?(?: d| de)?"
    r"|(?:tell|told|ask|asked|make|made|get|got) (?:(?:him|her"
    r"|(?:my|his|her|our|the|that)(?: \w+)? " + _PERSON + r")(?: to| \|"
    r"| (?:that )?(?:i|we) (?:said|say|asked|told you)(?: (?:him|her|you) )?(?: to)?)?"
    r"|(?:my|his|her|our)(?! (?:own |stupid |new |old )?(?:phone|number|cell|mobile|line|inbox"
    r"|device|iphone|android|account|notifications|messages|texts|email)\b)(?: \w+){1,3} to"
    r"|" + _NAMED_EN + r"(?: (?:that )?(?:i|we) (?:said|asked))? to)"
    # the link or button that does it, a thing of the app, as "the unsubscribe link" is:
    # "le lien pour se désabonner", "le bouton de désinscription", "el enlace para desuscribirse"
    r"|(?:lien|bouton|enlace|boton|liga) (?:pour|de|d|para)(?: (?:se|me|vous|nous))?"
    r") $")
# The guard's telling lead ("tell him to", "dile que", "dis-lui de") ...
TELLING_RE = re.compile(r"\s?(?:tell|told|ask|asked|make|made|get|got|" + _TELL_ONE_ES
                        + r"|dis|dites|demande|demandez)\b")
# ... is no guard when the sender includes us after the request: "Dile que no me escriba, y tú
# tampoco me escribas más", "tell him to stop texting me, and you (stop) too", "Dis-lui
# d'arrêter de m'écrire, toi aussi"
YOU_TOO_RE = re.compile(
    r"\b(?:(?<!\btold )(?<!\btell )(?<!\basked )(?:you|u|yall|you guys)"
    # (the request said again: "... and you stop too", "... you quit it as well")
    r"(?: (?:should |need to |must )?(?:stop|quit)(?: it)?)? (?:too|as well|also)"
    r"|same (?:for|goes for) (?:you|u)"
    r"|neither should (?:you|u)|(?:tu|usted|ustedes|vos) (?:tampoco|tambien)"
    r"|ni (?:tu|usted|ustedes|vos)\b(?! (?:\w+ )?(?:hijo|hija|esposo|esposa|marido|mama|papa))"
    r"|(?:toi|vous) (?:aussi|non plus|pareil)|ni (?:toi|vous))\b")
# ... and "pas" alone just before a French infinitive, as everyday French drops the "ne":
# "Faut pas arrêter de m'écrire", "J'veux pas désinscrire ma femme". Not before an imperative,
# a new sentence typed without its full stop: "Ça m'intéresse pas arrêtez de m'écrire", "Je
# rigole pas arrête de m'écrire" (GUARD_BEFORE_RE ends where the match starts, so the verb
# after it is read apart: FR_INFINITIVE_RE).
PAS_BEFORE_RE = re.compile(r"(?:^|\s)pas $")
FR_INFINITIVE_RE = re.compile(r"\w+(?:er|ir|re)\b")
# ... except "no" opening the message or a clause before an English revocation: the answer
# "No, stop texting me" written without its comma ("No stop texting me", "no no stop texting
# me", "no please stop texting me", "please no stop texting me"). English denies such a
# request with "don't" or "never"; the Spanish "no" before its verb ("No dejen de
# escribirme") still denies it.
ANSWER_NO_RE = re.compile(r"(?:^|\| )(?:please )?no(?: no)*(?: please)? $")
# Just before STOP (QUIT, CEASE): what the sender or a third person will stop doing, not a
# request ("I'll stop texting now", "he's going to stop texting", "do you want me to stop
# texting?"); but "I want to stop getting texts", "how can I stop these texts" are wishes,
# and "I'll unsubscribe", "I'm going to revoke my consent" revocations.
STOPPING = ("stop ", "quit ", "cease ", "halt ")
WHO_STOPS_RE = re.compile(
    r"(?:^|\s)(?:(?:i|we|he|she)(?: (?:ll|will|shall)(?: (?:try|promise) to)?"
    r"| (?:m|am|re|are|s|is) (?:going to|gonna)| gonna| promise to)"
    r"|(?:want|wants|wanted|need|needs|like|ask|asked|tell|told) (?:me|us) to) $")
# Just before a match: a third person quoted saying it, with or without quotation marks or a
# colon ("My wife said stop texting me, she means the group chat", 'my neighbor said "stop
# texting me"', "Ma femme a dit arrêtez de m'écrire", "Mi vecina me dijo: dejen de
# escribirme"): the "me" is theirs, not the sender's. Not with "us" as the object ("My wife
# says stop texting us" speaks for the sender's household), nor "said to stop texting me" (an
# instruction about the sender), nor the sender's own "I said stop texting me".
# Someone named, opening the message or a clause, is such a third person too: "Mike said stop
# texting me", "Marie a dit arrêtez de m'écrire", "Juan me dijo: dejen de escribirme". One word
# that is no pronoun, no word of the sender's own saying ("I've said", "Already said",
# "Literally said", "J'ai dit", "On a dit", "Ya dije") and no part of a company (_NAMED_EN).
_SAYER = (r"(?!(?:i|ive|id|im|we|weve|wed|it|its|who|what|which|someone|somebody|nobody|just"
          r"|already|literally|again|also|clearly|politely|nicely|seriously|so|and|or|ok|okay|k"
          r"|lol|lmao|haha|like|yes|yeah|no|nope|never|ever|once|twice|always|even|then|now"
          r"|still|because|cuz|bc|j|je|on|tu|nous|qui|ca|c|bon|oui|non|yo|le|te|se|les|quien"
          r"|nadie|tambien|siempre|nunca|ya|si|bueno|pues|que|porque|ayer|hoy|hier)\b)"
          + _NAMED_EN)
SAID_BY_OTHER_RE = re.compile(
    # (not "as" or "like" before it: "As my wife said, stop texting me" is the sender's own)
    r"(?:(?:^|\| )" + _SAYER
    + r"|(?:^|(?<!\bas)(?<!\blike)\s)(?:he|she|they|il|elle|ils|elles|el|ella|ellos|ellas"
    r"|(?:my|his|her|our|the|that)(?: \w+)? " + _PERSON
    + r"|(?:mon|ma|sa|son)(?: \w+)? (?:femme|mari|voisine?|mere|pere|fils|fille|coloc|chum"
    r"|blonde|patron|patronne|amie?|soeur|frere)"
    r"|(?:mi|su)(?: \w+)? (?:esposa|esposo|marido|vecina|vecino|mama|papa|hijo|hija|novio|novia"
    r"|jefe|jefa|suegra|suegro|hermano|hermana|amigo|amiga|roomie)))"
    r" (?:said|says|say|told me|tells me|was like|goes|yelled|a dit|dit|m a dit|me dit|disait"
    r"|dijo|me dijo|dice|me dice|decia)(?: \|)?(?: (?:please|just|ya|por favor|porfa|svp|stp))* $")
# ... unless the sender joins in after it: "My wife said stop texting me and so do I", "...
# Me too", "..., moi aussi", "..., yo también", "..., so stop"
SENDER_TOO_RE = re.compile(
    r"\b(?:so do i|so did i|i do too|me too|me as well|same here|same for me|i agree|moi aussi"
    r"|moi pareil|pareil pour moi|je suis d accord|yo tambien|yo igual|estoy de acuerdo"
    # ... or asks it in their own words after it: "..., so stop", "... Please respect that"
    r"|(?:so|please|pls|now) stop|(?:she|he) s right|respect (?:that|it|this|her|his))\b")
# ... the household's object, in the match or its clause after it ("... this number" is theirs too)
OBJECT_US_RE = re.compile(r"(?:\bus|\bnous|nos|\bthis number|\bce numero|\beste numero)\b")
