"""Revocations in the sender's own words, in English, French and Spanish: the detector's data.

Each entry is (trigger words, pattern). The detector tries a pattern only where one of its
trigger words starts (a trailing * makes the word a prefix), on text already normalised by
detector._tokens: accents dropped, typos and abbreviations folded (txt/texting -> text,
msgs/mensajes -> message), clause punctuation turned into a "|" token.

Words that are not about messaging in themselves (bothering, molestar, déranger; "remove this
number", "don't text" with no object) count only as the whole clause or the end of the
message (END, LAST), so that the same words about the job stay conversation.
"""
from __future__ import annotations

END = r"(?= \||$)"
# The end of the whole message, with only courtesy or intensifiers after (any clause breaks
# between), or one clause that says who the sender is not or that the messages are unwanted:
# for words that are not about messaging in themselves ("stop bothering me", "don't text
# again", "I said stop"), so that what follows in another clause ("stop bugging me, I'll be
# there at 5", "don't text, just come in", "I said stop, the dog is out") keeps the job the
# point, as "stop texting me and come" does.
# (and who gave us the number: "No more offers. Who gave you my number?")
WHO_ASKED = (r"(?:who is this|whos this|who are you|qui etes vous|c est qui|quien es|quien eres"
             r"|(?:who gave you|how did you get) (?:my|this) number|qui vous a donne mon numero"
             r"|quien (?:le |les |te )?dio mi numero)")
# A person of the sender's ("my wife", "my property manager"); not their lawyer ("my lawyer
# will handle it" is a threat, not a hand-over) nor their phone or spam filter
NOT_A_HANDOVER = r"lawyer|attorney|abogad[oa]|avocate?|phone|carrier|spam|filter|blocker"
_OTHER_PERSON = r"(?!(?:\w+ )?(?:" + NOT_A_HANDOVER + r")\b)(?:\w+ )?\w+"
# Someone of the sender's takes the job's messages over: "I'd rather not get texts, my wife
# handles it", "talk to my husband", "mi esposa se encarga", "ma femme s'en occupe". The sender
# still asks not to be texted: a revocation, as another way to be reached is (OTHER_WAY).
# ... or to be texted at another number or person of theirs: "Don't text me, text my
# husband", "..., use my other number", "..., écrivez sur mon cell", "..., escríbame al otro",
# "..., escriban al de mi esposa" ask not to be texted here: a revocation of this number.
ELSEWHERE = (
    r"(?:(?:please|just|then|instead) )*(?:text|message|contact|write to|use|try) my "
    + _OTHER_PERSON + r"|(?:ecrivez|envoyez|textez|contactez|ecris|texte)(?: moi)?(?: plutot)?"
    r" (?:a|sur|au) (?:mon|ma) " + _OTHER_PERSON
    + r"|(?:escrib|mand|envi|contact|textee)\w* (?:a mi|al de mi) " + _OTHER_PERSON
    + r"|(?:usen|use|usa) el de mi " + _OTHER_PERSON
    + r"|(?:escrib|mand|envi|contact|textee)\w* al (?:otro|nuevo)")
HANDOVER = (
    r"(?:my " + _OTHER_PERSON + r" (?:(?:will|ll|can|is going to|s going to|is gonna|s gonna) )?"
    r"(?:handle|take care of|take over|deal with|manage|handles|takes care of|takes over"
    r"|deals with|manages|is handling|s handling|is taking over|s taking over)\b"
    r"|(?:talk|speak|deal) (?:to|with) my " + _OTHER_PERSON
    + r"|mi " + _OTHER_PERSON + r" (?:se (?:encarga|va a encargar|ocupa|va a ocupar)"
    r"|lo (?:maneja|va a manejar|ve|va a ver))\b|(?:hablen|hable|habla|traten) con mi "
    + _OTHER_PERSON + r"|(?:mon|ma) " + _OTHER_PERSON + r" (?:s en occupe|va s en occuper"
    r"|s en occupera|gere|va gerer|gerera)\b|(?:voyez|parlez|voir|parler) avec"
    r" (?:mon|ma) " + _OTHER_PERSON + "|" + ELSEWHERE + r")(?: [^ |]+){0,4}")
# The sender is the wrong person or has no job for us: beside a bare keyword, the whole
# message ("STOP wrong number", "Already hired someone. STOP", "Número equivocado, BAJA";
# nothing more: "Stop, wrong person. The invoice should say Garcia" corrects the pro), or the
# clause that ends a LAST phrase ("Don't text again, we hired someone else").
NOT_FOR_ME = (r"(?:(?:(?:this is|youve got|you ve got|you have) )?(?:the )?wrong"
              r" (?:number|person)"
              # ... or no longer someone's, or not the sender's: "This isn't Sarah's phone
              # anymore", "This is not my number", "Ce n'est plus le numéro de Julie", "Ce
              # n'est pas mon numéro", "Este ya no es el número de Juan", "No es mi número"
              r"|(?:(?:this|it|that) (?:is not|isnt|is no longer)|(?:thats|that s|its|it s)"
              r" not|not) (?:\w+ s |my |our )?(?:phone|number|cell)(?: anymore)?"
              r"|ce n est (?:plus|pas) (?:le (?:numero|cell) d\w*(?: \w+)?|mon (?:numero|cell))"
              r"|(?:este )?(?:ya )?no es (?:el (?:numero|celular|telefono) de \w+|mi (?:numero"
              r"|celular|telefono))"
              # "Je ne suis pas la bonne personne", "Vous vous êtes trompé de numéro"
              r"|(?:je (?:ne )?suis )?pas la bonne personne"
              r"|(?:vous vous etes|tu t es) trompee?s? de (?:numero|personne)"
              r"|(?:(?:i|we) )?(?:already )?(?:(?:hired|found|booked) someone(?: else)?"
              r"|(?:went with|hired|found|booked) (?:someone else|another (?:company|contractor"
              r"|pro|plumber|electrician|painter|roofer|handyman|crew)))"
              # ... in French and Spanish: "Stop svp, on a trouvé quelqu'un d'autre", "Alto,
              # ya contratamos a alguien" (someone: not a thing found, "Alto, ya encontré
              # otro", "Stop, j'ai pris un autre")
              r"|(?:on a|j ai|nous avons) (?:deja )?(?:(?:trouve|engage|embauche|pris)"
              r" (?:quelqu un(?: d autre)?|une? autre (?:plombier|entrepreneur|electricien"
              r"|peintre|couvreur|contracteur|gars|compagnie|entreprise))"
              r"|(?:engage|embauche) un autre)"
              r"|(?:ya )?(?:(?:contrate|contratamos) (?:a )?(?:alguien|otro)"
              r"|(?:encontre|encontramos) (?:a (?:alguien|otro)|alguien|otr[oa] (?:plomero"
              r"|contratista|tecnico|electricista|pintor|albanil|compania|empresa)))(?: mas)?"
              r"|(?:(?:tiene|tienen|tienes) (?:el )?)?numero equivocado|persona equivocada"
              r"|(?:se )?equivocaron de numero"
              r"|(?:(?:vous avez|tu as|c est) (?:le |un )?)?mauvais numero|mauvaise personne)")
# No interest (any more) in the three languages: "Not interested", "We're no longer interested",
# "Ça m'intéresse pas", "Chu pu intéressé", "Ya no me interesa"
NOT_INTERESTED = (r"(?:(?:im|i m|i am|were|we re|we are) )?(?:not|no longer) interested"
                  r"|(?:ya )?no (?:me|nos) interesa"
                  r"|(?:ca )?(?:ne )?(?:m|nous) interesse (?:pas|plus)"
                  r"|(?:(?:(?:je (?:ne )?|j )?suis|chu) )?(?:pas|plus) interessee?s?")
# Fed up, as the clause that ends a LAST phrase: "Leave me alone, I'm done", "Écris-moi pu,
# c'est fini", "Dejen de molestar, ya estuvo"
FED_UP = (r"(?:(?:im|i m|i am|were|we re|we are) (?:so )?done(?: with (?:you|you guys|this"
          r"|all this|it|these|them))?|(?:thats|that s)? ?enough|c est (?:fini|termine|assez)"
          r"|ca suffit|(?:ya )?(?:estuvo|basta|se acabo))")
# How slang addresses the person read, in en/fr/es, after a request: "forget my number bro",
# "arrête de me déranger mec", "deja de molestarme wey"; or before it, where the detector sets
# it aside (own_words.without_address): "bro stop bugging me", "güey deja de molestarme"
ADDRESS = (r"bro|bruh|dude|man|fam|mec|frere|gars|wesh|wsh|wey|guey|compa|carnal|mano|pana"
           r"|tio|tia|chamo|hermano")
# ... and the words it opens one with: "yo forget my number", "hey stop bugging me"
LEAD_EN = r"please|just|ok|so|now|seriously|ugh|hey|yo"
# No more need of the messages, as the reason that follows a request: "Can u guys stop sending
# me these, I don't need them", "... i dont need them anymore"
NO_NEED = (r"(?:i|we) (?:dont|no longer) (?:need|want) (?:them|these|those|it|em"
           r"|any of (?:them|these|those|it))(?: (?:anymore|any more|at all))?")
# ... or the sender gone from where the job was, in en/fr/es: "Please forget my number, we
# moved", "Oubliez mon numéro, on a déménagé", "Olvídense de mi número, nos mudamos"
MOVED = (r"(?:(?:i|we) (?:ve |have )?(?:just |already )?moved(?: away| out)?"
         r"|(?:on a|j ai|nous avons) (?:deja )?demenage|(?:ya )?(?:nos|me) (?:mudamos|mude)"
         # ... or no longer living there: "Bórrenme, ya no vivo ahí", "Remove me, I don't live
         # there anymore", "Retirez-moi, j'habite plus là"
         r"|(?:i|we) (?:dont|no longer) live (?:there|here)(?: anymore)?"
         r"|(?:je |j |on )?(?:n )?(?:habite|habitons|reste|restons|vis|vit) plus (?:la|ici)"
         r"|ya no (?:vivo|vivimos) (?:ahi|alli|alla|aqui))"
         # ... with when the move was: "we moved out last month", "on a déménagé le mois passé",
         # "nos mudamos el mes pasado", "I moved 2 years ago"
         r"(?: (?:last (?:week|month|year|spring|summer|fall|winter)|recently|a while ago"
         r"|(?:a|one|two|three|a few|a couple|several|\d+) (?:weeks?|months?|years?) ago"
         r"|(?:le mois|l an|l annee) (?:passee?|derniere?)|la semaine (?:passee|derniere)"
         r"|recemment|il y a (?:\w+ )?(?:semaines?|mois|ans?)|(?:el (?:mes|ano)|la semana)"
         r" pasad[oa]|hace (?:\w+ )?(?:semanas?|mes|meses|anos?)"
         # ... or in a month or a season: "we moved in June", "on a déménagé en juin", "nos
         # mudamos en junio"
         r"|in (?:january|february|march|april|may|june|july|august|september|october|november"
         r"|december|the (?:spring|summer|fall|autumn|winter))|en (?:janvier|fevrier|mars|avril"
         r"|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|ete|automne|hiver)"
         r"|au printemps|en (?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre"
         r"|octubre|noviembre|diciembre|(?:el )?(?:verano|otono|invierno)|primavera)))?")
# ... and the stress of Gen-Z and AAVE English: "leave me alone fr", "stop bugging me rn"
STRESS_EN = r"fr|frfr|for real|forreal|rn|deadass|istg"
# ... and "not now" made "not ever", a refusal for good: "don't text (me) now or ever", "...
# rn or ever again", "Don't text now. Or ever."
NOW_OR_EVER = r"(?:now|rn|right now)(?: \|)? or ever(?: again)?"
# ... or that our texts keep coming though the sender asked, as a clause of its own or after
# "and", "but": "I said stop and you keep texting", "Leave me alone, you keep texting me", "Je
# vous ai dit stop et vous continuez", "Déjenme en paz, siguen escribiendo" (not someone else's
# texts: "..., you keep texting my wife" goes on)
KEEP_TEXTING = (r"(?:(?:and|but|yet|et|mais|y|pero) )?(?:(?:you|u|yall|y all)(?: guys| all)?"
                r" (?:keep(?: on)?|still|are still|re still|r still) (?:text|message|contacting"
                r"|spamming|sending (?:me )?(?:these|them|those|text|message))(?: (?:me|us))?"
                r"(?: (?:anyway|anyways))?"
                r"|(?:vous|tu) (?:continuez|continues)(?: (?:a|de) (?:m ecrire|me texter"
                r"|m envoyer des (?:message|text)))?"
                r"|(?:vous|tu) (?:n )?(?:arretez|arretes) (?:pas|jamais) de m (?:ecrire"
                r"|envoyer des (?:message|text))"
                r"|(?:me )?(?:siguen|sigues|sigue)(?: (?:escribiendo|escribiendome"
                r"|(?:mandando|enviando)(?:me)? message|mandandome message|enviandome message))?)")
LAST = (r"(?:(?: \|)? (?:please|thanks|thank you|now|already|ever|period|ok|okay|d accord|vale"
        r"|svp|merci|stp|" + ADDRESS + "|" + STRESS_EN
        + r"|s il vous plait|por favor|porfa|xfa|xfavor|gracias|ya|mas))*"
        # (a reason, with or without a comma: "forget my number we moved")
        rf"(?:(?: \|)? (?:{NO_NEED}|{MOVED}|{KEEP_TEXTING})"
        rf"| \| (?:{WHO_ASKED}|{NOT_INTERESTED}|{NOT_FOR_ME}|{FED_UP}"
        r"|(?:this is |thats |its )?(?:harassment|spam)|(?:i )?never"
        r" (?:signed up|subscribed|asked for (?:this|it))|go away|leave me alone"
        r"|how many times|why (?:do you|are you|you) (?:keep |still )?(?:text|message|contacting)"
        r" (?:me|us)|" + HANDOVER + "))?$")
# The messages, counted only when the text writes them as a plural ("texts", "msgs", "SMS"):
# folding made "texts" and "text" one word, and a singular may be one text about the job. The
# detector checks the group by its name.
AS_WRITTEN = r"(?P<as_written>text|message)(?: s)?"  # (" s": "the text's", typed for "texts")
# A next clause asking to be reached another way (a call, an email): still a revocation of the
# texts, for the words that must end the message ("Don't text, call me", "Arrêtez d'écrire,
# appelez-moi", "Favor de no escribir, mejor llamar"); the pro is told to call on its next
# text. Not with a time after it ("Don't text, call me when you're outside" is the arrival).
OTHER_WAY = (r"(?:(?: \|)?(?: (?:lol|haha|lmao|jaja|mdr))?(?: (?:just|please|instead|then|mejor"
             r"|solo|nomas|plutot|svp|por favor|pero|but|juste))*"
             r" (?:(?:call|phone|ring|email)(?: (?:me|us))?|appell?e[zr]?(?: (?:moi|nous))?"
             r"|(?:m|nous) appeler|(?:je|j) veux des appels|llam(?:en|e|a|ar)(?:me|nos)?"
             r"|marc(?:a|ame|ar)|marquen(?:me)?|a (?:phone )?call(?: the (?:day|night) before)?"
             # ("..., but emails are fine", "a call is better")
             r"|(?:(?:phone )?calls?|a (?:phone )?call|e ?mails?) (?:are|is)"
             r" (?:fine|ok|okay|better)"
             # ("..., email only", "..., solo llamadas"; not French "juste des appels": "Je
             # veux plus de textos" may want more)
             r"|llamadas|correos|e ?mail only|calls only)"
             r"(?: (?:instead|please|plutot|a la place|mejor|svp|por favor|asap|anytime))*)?")
# Swearing and insistence between "stop" and the messages: "stop fucking texting me", "stop
# f***ing texting me" (the stars are spaces by then), "stop constantly texting me".
INTENSIFIER = (r"fucking|fuckin|fking|fkn|fcking|fuking|f ing|f in|f king|f cking|freaking"
               r"|freakin|frigging|friggin|effing|bloody|damn|damned|goddamn|goddamned|darn"
               r"|dang|constantly|continually|continuously|repeatedly|always")
# The person read, as the object ending the clause or before a word of time or topic: "(I'll)
# stop texting you (now, about it)" is the sender, or someone else, stopping. Not before
# anything else: "stop texting you idiots", "stop texting you're annoying" are said to us.
OBJECT_YOU = (r"(?:you|yall|y all)(?= \||$| (?:now|anymore|again|then|ok|okay|sorry|lol|and"
              r"|so|too|if|when|once|after|until|till|for|about|from|at|on|every|before"
              r"|tonight|today|tomorrow|soon)\b)")
# After an unsubscribe verb (désabonner, désinscrire, desuscribir, desabonar): a thing of the
# app or another subscription, not the texts: "me désinscrire de l'appli", "me désabonner des
# mails", "desuscribirme de los correos", "del boletín". ("Notifications" alone are the texts.)
_ARTICLE = (r"(?:la|le|l|les|mon|ma|mes|votre|vos|ton|ta|tes|cette|ce|ces|el|los|las|mi|mis"
            r"|su|sus|tu|tus|este|esta|estos|estas|ese|esa|esos|esas)")
_SOMETHING_ELSE = (
    r"(?:newsletters?|infolettres?|bulletins?|lettres?|journal|journaux|magazines?|revues?"
    r"|revistas?|boletin|boletines|(?:e |e)?mails?|courriels?|correos?(?: electronicos?)?"
    r"|contrats?|abonnements?|services?|gym|gyms|gymnase|gimnasio|salle de sport|club|clubs"
    r"|servicios?|offres?|programmes?|programas?|plan|planes|plans|membresias?|appli|applis"
    r"|application|applications|app|apps|aplicacion|aplicaciones|site|sitio|compte|cuenta"
    r"|(?:notifications|notificaciones) (?:push|(?:de|del) (?:(?:la|l) )?(?:appli|app"
    r"|application|aplicacion)))")
# ... but the service or programme of the texts is the texts ("del servicio de mensajes", "du
# service de SMS")
_TEXTS_SERVICE = (r"(?:services?|servicios?|programmes?|programas?) (?:de|d|des|del)"
                  r" (?:(?:los|les) )?(?:message|text|notifications|notificaciones)\b")
# ("Désabonnez-moi de l'infolettre": the pronoun may come between)
NOT_OF_SOMETHING_ELSE = (r"(?!(?: moi| nous)? (?:de|du|des|a|au|aux|del|al)"
                         r" (?:" + _ARTICLE + r" )?"
                         r"(?!" + _TEXTS_SERVICE + ")" + _SOMETHING_ELSE + r"\b)")
# ... nor someone of the sender's family taken out of something of theirs, a class, a camp, a
# team: "désinscrivez ma fille du cours", "unsubscribe my son from swim lessons", "desuscriban
# a mi hija de la clase" (the messages or the list are ours: "unsubscribe my daughter from
# these texts" still revokes)
_KIN = (r"(?:daughter|son|kid|child|children|boy|girl|wife|husband|mom|dad|mother|father"
        r"|brother|sister|grandson|granddaughter|fille|fils|enfant|garcon|femme|mari|mere|pere"
        r"|frere|soeur|hija|hijo|nina|nino|nena|nene|esposa|esposo|marido|mama|papa|hermana"
        r"|hermano)s?")
NOT_OF_SOMEONE_ELSE = (
    r"(?! (?:a )?(?:my|our|his|her|ma|mon|mes|nos|notre|sa|son|ses|mi|mis|su|sus|nuestr[oa]s?)"
    r" (?:\w+ )?" + _KIN + r" (?:from|de|du|des|del|al)\b(?! (?:(?:the|your|these|those|all|ur"
    r"|vos|ces|les|tous|sus|los|las|estos|tus|todos) )*(?:text|message|list|liste|lista|sms"
    r"|notifications?|notificaciones)\b))")
# The messages of someone else: "from the old company", "from my ex", "from another pro"
# (not the sender's dealings with us, nor another number of ours: "Stop the reminders from my
# account", "... from another number you use")
SOMEONE_ELSES = (r"(?! from (?:(?:the|that|a|an) (?:old|other|previous|last|former)|my|his|her"
                 r"|our|him|another|other)\b(?! (?:account|booking|appointment|order|profile"
                 r"|request|quote|number)\b))")
# Pestering verbs: with the sender as object they say "stop texting me" in other words.
BOTHER = r"(?:bothering|bugging|pestering|hassling|annoying|bombarding)"
# ... and the slang "hitting me up" (contacting me): "Stop hitting me up with these msgs"
HITTING_UP = r"hitting (?:me|us) up"
# ... and the sender's phone as the object: "stop blowing up my phone", "quit hittin my line"
HITTING_PHONE = (r"(?:blowing|hitting) up (?:my|our) (?:phone|cell|line)"
                 r"|hitting (?:my|our) (?:phone|cell|line)")
MSGN = r"(?:text|message|spam|notification|notifications|alert|alerts|reminders)"
# Advertising: "no more ads", "no más promociones", "plus de pub" want no more of our texts,
# as "STOP ADS" does.
ADS = r"(?:ads|ad|promos|promo|promotions|marketing)"
ADS_ES = r"(?:publicidad|promociones|promos|anuncios)"
OFFERS_ES = r"(?:ofertas|promociones|promos|anuncios|descuentos|cupones)"
ADS_FR = r"(?:pub|pubs|publicite|publicites|promos|promotions)"
# Calling named first, then the messages: "arrêtez de m'appeler et de m'écrire", "dejen de
# llamarme y (de) escribirme", as "stop calling and texting me" (the reverse order needs nothing).
FR_CALLING_AND = r"(?:(?:me |m |nous )?appeler (?:et|ou|ni) (?:de |d )?)?"
ES_CALLING_AND = r"(?: llamar(?:me|nos)? (?:y|o|ni)(?: de)?)?"
# Stress or courtesy between the verb and its "de": "Arrêtez tout de suite de m'écrire",
# "Arrêtez svp de m'envoyer des textos", "Dejen de inmediato de escribirme", "Paren ya de
# mandarme mensajes", "Dejen por favor de escribirme"
FR_STRESS = (r"(?: (?:tout de suite|immediatement|maintenant|donc|svp|stp|s il vous plait"
             r"|s il te plait))?")
ES_STRESS = r"(?: (?:ya|de inmediato|inmediatamente|ahora|por favor|porfa|xfa|xfavor|porfavor))?"
# Which messages, after "arrêtez de m'envoyer des textos", "dejen de mandarme mensajes": in
# duplicate, voice, so long ("... en double", "... vocaux", "... aussi longs", "... duplicados",
# "... de voz", "... tan largos") is about how they come, not about getting them
WHICH_MESSAGES = (r"(?! (?:en double|vocaux|vocales|de voz|duplicados|duplicadas|repetidos"
                  r"|repetidas|(?:aussi|si|trop|tan) (?:longs|long|largos|largas))\b)")
# ... nor, after the messages, whose or what they are when they are not ours: an appliance's
# error messages, someone else's ("mettre fin aux messages d'erreur du thermostat", "j'en ai
# assez de ces messages de mon ex", "estoy harto de estos mensajes de error", "... del banco")
NOT_OURS_FR = r"(?! (?:d erreur|du|des|(?:de|d) (?:mon|ma|mes|son|sa|ses|leur|leurs|la|le|l))\b)"
NOT_OURS_ES = r"(?! (?:de error|del|de (?:mi|mis|la|el|los|las))\b)"
# From us, after the messages no more wanted: "ne plus recevoir de SMS de votre part", Québec
# "de vous autres"
FROM_US_FR = r"(?: de (?:vous(?: autres)?|votre part|votre (?:compagnie|entreprise)|toi|ta part))?"
# Courtesy after a French request that must end its clause, and the "là" of stress Québec ends
# it with: "Plus de textos svp", "C'est assez les textos là"
FR_TAIL = r"(?: (?:svp|merci|stp|s il vous plait|la))*"
# The infinitive of an opt-out menu, French and Spanish: "ne plus recevoir de SMS (de votre
# part)", "no recibir más mensajes (de su parte)"
_FR_NO_MORE_RECEIVE = (
    r"(?:ne plus (?:jamais )?|arreter de )recevoir(?: (?:de|d|vos|ces|les|aucun|aucune|des))*"
    r" (?:message|text|notification|notifications|pub|spam|sollicitation|sollicitations)\b"
    + WHICH_MESSAGES + FROM_US_FR)
_ES_RECEIVE_MESSAGES = (
    r" recibir (?:(?:mas|ningun|ninguno|ninguna|estos|estas|sus|tus|los|las) )*"
    r"(?:message|text|notificaciones|publicidad|promociones|spam)\b" + WHICH_MESSAGES
    + r"(?: de (?:su parte|ustedes|ti))?")
_ES_NO_MORE_RECEIVE = r"(?:no|dejar de)" + _ES_RECEIVE_MESSAGES
# Devices that beep, ping and alert, things of the job: their alerts are not our texts
DEVICE = (r"thermostat|doorbell|camera|alarm|panel|lock|controller|sprinkler|timer|detector"
          r"|sensor|hub|furnace|boiler|heater|dishwasher|washer|dryer|fridge|oven|router")
DEVICE_FR = (r"thermostat|sonnette|camera|alarme|panneau|serrure|controleur|gicleur|minuterie"
             r"|detecteur|capteur|fournaise|chaudiere|chauffe eau|thermopompe|lave vaisselle"
             r"|laveuse|secheuse|frigo|four|routeur")
DEVICE_ES = (r"termostato|timbre|camara|alarma|panel|cerradura|controlador|aspersor|temporizador"
             r"|detector|sensor|caldera|calentador|boiler|lavavajillas|lavadora|secadora|refri"
             r"|refrigerador|horno|router|modem")
# A device named just after a revocation in French or Spanish, its alerts not our texts:
# "Arrêtez les notifications du thermostat svp, il sonne la nuit", "Dejen de mandar
# notificaciones de la alarma", "Ya no quiero notificaciones de la cámara" (a guard after
# every phrase: limits.GUARD_AFTER_RE; English names it inside its phrases, NOT_A_DEVICES)
OF_A_DEVICE = (r" (?:(?:du|de la|de l|des|de mon|de ma|de mes|de votre|de vos|sur le|sur la"
               r"|sur mon|sur ma|sur votre) (?:\w+ ){0,2}?(?:" + DEVICE_FR + r")"
               r"|(?:del|de la|de los|de las|de mi|de mis|de su|de sus|en el|en la|en mi|en su)"
               r" (?:\w+ ){0,2}?(?:" + DEVICE_ES + r"))s?\b")
# ... after the messages: "Stop the alerts on the thermostat, it keeps beeping", "put an end to
# these messages on the thermostat"
# (or the device named before, "it": "The alarm panel keeps beeping, how do I stop the alerts on
# it?")
NOT_A_DEVICES = (r"(?! (?:on|from|of|for|in) (?:the|my|our|that|this|your) (?:\w+ ){0,2}?(?:"
                 + DEVICE + r")s?\b| (?:on|from) (?:it|them)\b)")
# I said (told you, asked you to) stop, and 'already' in it
_I_TOLD = (r"(?:i (?:already )?said|i (?:already )?told you|told you to|i (?:already )?asked you to"
           r"|i keep (?:saying|telling you(?: to)?|asking you to)"
           r"|i ve (?:already )?asked you to|i have (?:already )?asked you to"
           r"|how many times do (?:i|we) (?:have|need) to (?:say|tell you|ask you))")
# The end of a clause, a courtesy or "now" before it: "opt me out of these please",
# "unsubscribe me from them thanks"
COURTESY_END = r"(?: (?:please|now|thanks|thank you))*" + END
# The sender's number, as the object of the texts ("stop texting my work phone", "stop sending
# to my number"): the number they write from, which is this one; not an old one (GUARD_AFTER_RE
# reads "to my old number"), and for sending, the number ending the clause
MY_NUMBER = (r"(?:(?:work|office|business|home|personal|main|cell|mobile) )?(?:number|phone|cell"
             r"|mobile|line)")
# No need for us to: "no need (for you) to", "you don't (no longer) need (have) to"
NO_NEED_TO = (r"(?:no need (?:for you )?|(?:you|u|yall|y all)(?: guys| all)? (?:dont|no longer)"
              r" (?:need|have) )to")
# The same message twice, how the texts come rather than whether (limits.GUARD_AFTER_RE): "stop
# texting me the same thing twice", "Deja de mandarme lo mismo dos veces"; after a sending verb
# its object, so that the guard reads it (a clause of no interest after it revokes: "... dos
# veces. No me interesa")
SAME_TWICE = (r"(?:the same (?:thing|message|text|stuff)|la meme chose|le meme message|lo mismo"
              r"|el mismo message) (?:twice|two times|2 times|deux fois|2 fois|dos veces|2 veces)")
EN: list[tuple[str, str]] = [
    # stop/quit/cease + (sending me) + texting/messages/contacting
    ("stop quit cease halt",
     r"\b(?:stop|quit|cease|halt)(?: (?:all|the|these|those|this|your|any|with|sending|send"
     r"|receiving|getting|me|us|more|promotional|marketing|automated|spam|" + INTENSIFIER +
     r"|(?:calling|emailing|calls) (?:and|or|n)"
     r"|(?:text|message)(?= (?:text|message)))){0,4}"
     r" (?:text|message|spam|spamming|harassing|contacting|contact|communication|communications"
     # ("junk", "crap", "garbage" only as the object that ends the clause: "Stop the garbage
     # disposal, it's jammed", "Stop the junk removal at the garage" are the job)
     r"|(?:junk|crap|garbage)(?=(?: (?:please|now|already|thanks|thank you|period|ok))*"
     r"(?: \||$| (?:to|from) (?:me|us|this number)\b))"
     r"|communicating|notification|notifications|alert|alerts|reminders"
     r"|writing (?:to )?(?:me|us)"
     # ... or sending to the sender's number: "stop sending to my number"
     # (ending the clause: not "stop sending to my number the photos, email them")
     r"|sending(?= (?:to|on) (?:my|this) " + MY_NUMBER
     + r"(?: (?:please|anymore|now|thanks|thank you))*(?: \||$)))\b"
     # nor a device's alerts ("Stop the alerts on the thermostat, it keeps beeping", "How do I
     # stop the notifications from the smart lock you installed?")
     + NOT_A_DEVICES +
     r"(?! (?:to |with )?(?:my|his|her|him|them|their|our|the|that)\b"
     r"(?! " + MY_NUMBER + r"\b))"
     # nor the person read ("I'll stop texting you now", "he said he'll stop texting you")
     r"(?! (?:to )?" + OBJECT_YOU + ")"
     # nor someone else's: "STOP the texts from the other company, not yours"
     + SOMEONE_ELSES),
    # stop sending me ads (promos, marketing), anywhere: our texts are what they want no more
    # of, as "STOP ADS" says; ending the clause ("stop sending me the ad mockups" is the job)
    ("stop quit cease",
     r"\b(?:stop|quit|cease) (?:(?:" + INTENSIFIER + r") )?sending (?:me|us)"
     r"(?: (?:these|those|your|the|all|any|more|such|of))* " + ADS
     + r"(?: (?:please|anymore|from (?:you|this number)))*" + END),
    # ... or the same thing twice ("stop sending me the same thing twice"), for the guard
    ("stop quit", r"\b(?:stop|quit) sending (?:me|us)(?= " + SAME_TWICE + ")"),
    # stop bothering me / quit bugging me / stop blowing up my phone: ending the message ("stop
    # bugging me about the price" and "stop bothering the dog" are conversation) and starting
    # its clause, said to us: not to someone else ("tell him to stop bugging me", "make the
    # dog stop bothering me") nor a joke ("haha stop bugging me", "lol ok ok stop bugging me")
    # (or told they must: "Y'all need to stop hitting my phone", "You gotta stop bugging me")
    ("| please just ok so now seriously ugh hey yo i can could will would you y yall u stop quit"
     " cease",
     r"(?:^|\| )(?:(?:" + LEAD_EN + r"|i said|i told you(?: to)?"
     r"|i asked you to|can you|could you|will you|would you|(?:you|u|y all|yall)(?: guys| all)?"
     r" (?:need to|gotta|have to|got to)) )*(?:stop|quit|cease) (?:" + BOTHER
     + r" (?:me|us)|" + HITTING_UP + "|" + HITTING_PHONE + ")" + LAST),
    # stop sending me these (them), asked, starting its clause and ending the message (see
    # LAST), or with the reason they are not needed after it, with or without a comma: "Can u
    # guys stop sending me these, I don't need them" (not "... these pics", nor "..., I have
    # the photos already": things of the job; nor asked as a question)
    ("| please just ok so now seriously ugh hey yo can could will would stop quit",
     r"(?:^|\| )(?:(?:" + LEAD_EN + r"|(?:can|could|will|would) you(?: guys| all)?) )*"
     r"(?:stop|quit) sending (?:me|us) (?:these|those|them|this stuff|all this)"
     r"(?: (?:anymore|please))*" + LAST),
    # ... or anywhere when it names the messages ("stop bothering me with these texts", "...
    # with the reminders", "quit hittin my line with these texts")
    ("stop quit cease",
     r"\b(?:stop|quit|cease) (?:" + BOTHER + r" (?:me|us)|" + HITTING_UP + "|" + HITTING_PHONE
     + r") with"
     r" (?:(?:these|those|your|the|all) )*"
     r"(?:text|message|spam|reminders?|notifications?|alerts?|ads?|promo\w*)" + END),
    # "I'm good on these texts", as Gen-Z and AAVE English say "no thanks": with "these",
    # "your" (not "the": "I'm good on the texts" may say they came), ending its clause; not
    # "good with" (fine with them)
    ("good straight ok okay all set",
     r"(?:(?<=\bim )|(?<=\bi m )|(?<=\bi am )|(?<=\bwe re )|(?<=\bwere )|(?<=\bwe are ))"
     r"(?:good|straight|ok|okay|all set|set) (?:on|without) (?:all )?(?:these|those|your|ur"
     r"|yalls|ya) (?:" + MSGN + "|" + ADS + r")(?: (?:anymore|thanks|thank you|please|tho"
     r"|though|" + STRESS_EN + "))*" + END),
    # don't / never (text|message|contact) me
    ("dont never no",
     r"\b(?:dont|never|no longer)(?: ever| again| please)? (?:(?:call|phone|email) (?:or|and|n) )?"
     r"(?:text|message|contact|spam|write to|write)(?: (?:or|and|n) (?:call|phone|email))?"
     r" (?:me|us|this number|my number)(?: (?:on|at|to) this (?:number|phone))?"
     # ... and the other way named after it: "Don't text me or email me again"
     r"(?: (?:or|and|n) (?:call|phone|email) (?:me|us))?"
     r"(?: (?:again|anymore|ever|at all|no more|no mo|please"
     r"|thanks|thank you|period|stop|going forward|further"
     # ("Don't contact me again in any way", "... by any means")
     r"|in the future|in any (?:way|form)|by any means|whatsoever|" + NOW_OR_EVER + "))*" + END),
    # I want out of these texts (off your list), as "take me off your list"
    ("i we",
     r"\b(?:i|we) (?:(?:just|really) )?(?:want|wanna|would like|d like) (?:out|off)"
     r"(?: (?:of|from))? (?:(?:these|those|the|your|ur|all|this|ya|yalls) )*"
     r"(?:(?:text|message) )?(?:"
     + MSGN + r"|list|texting list|spam)(?: (?:please|thanks|thank you|now|asap))*" + END),
    # ... "it", after a clause that says this number is a landline: "This is a landline,
    # don't text it" (it is this number)
    ("this that it its",
     r"\b(?:(?:this|that|it)(?: number| phone| #)? (?:is|s)|its) a (?:landline|land line"
     r"|home phone|house phone|home line|house line|fixed line) \| (?:(?:so|please) )*"
     r"(?:(?:dont|never) (?:text|message)|stop (?:text|message)) (?:it|this number|here)"
     r"(?: (?:again|anymore|ever|please|thanks|thank you))*" + LAST),
    # asked politely not to, from now on: "Can you not text me anymore?", "Would you mind not
    # texting me again", "I'd appreciate it if you stopped texting me", "I'd appreciate no
    # more texts" ("anymore" or "again" needed after "not": "Can you not text me, just come?"
    # is the arrival)
    # (the person read as "you guys", "you all"; "mind" softened: "Would you mind terribly
    # not ..."; and "not sending me any more texts", as "don't send me any more texts")
    ("can could would will",
     r"\b(?:can|could|would|will) (?:you|u|y all|yall)(?: guys| all)?(?: please)?"
     r" (?:not|mind(?: (?:terribly|awfully|much|too much|please|kindly))? not)"
     r" (?:(?:text|message|contacting|contact) (?:me|us)(?: please)?(?: (?:anymore|again"
     r"|ever again|going forward|in the future))+|sending (?:me|us) (?:anymore|more|further)"
     r" (?:text|message)(?: (?:please|anymore|again))*)" + END),
    # ... or the same said as what we are to do, told or asked of us: "Tell them not to text
    # me anymore", "I asked you not to text me again", "Please ask the company not to contact
    # me anymore" (another person told is GUARD_BEFORE_RE's: "tell him not to text me anymore")
    ("not",
     r"\bnot to (?:(?:call|phone|email) (?:or|and|n) )?(?:text|message|contact|write to)"
     r"(?: (?:or|and|n) (?:call|phone|email))? (?:me|us|this number|my number)(?: please)?"
     r"(?: (?:anymore|again|ever again|going forward|in the future|no more))+"
     r"(?: (?:please|thanks|thank you))*" + END),
    ("i id",
     r"\b(?:i d|id|i would|i will|i ll) (?:really )?appreciate (?:it )?(?:if (?:you|u|y all"
     r"|yall)(?: guys| all)? (?:stopped|would stop|could stop|stop) (?:text|message|contacting)"
     r" (?:me|us)|if (?:you|u|y all|yall)(?: guys| all)? (?:didnt|did not|wouldnt|would not"
     r"|no longer) (?:text|message|contact) (?:me|us)|no (?:more|further) (?:text|message))"
     r"(?: (?:anymore|again|going forward|in the future|thanks|thank you|please))*" + END),
    # "Put me on your do not text list", "Add this number to the do-not-contact list"
    ("put add place",
     r"\b(?:put|add|place) (?:me|us|this number|my number) (?:on|to|in) (?:your|the|ur)"
     r" (?:dont|no) (?:text|contact|message|solicit)(?: (?:or|and) (?:call|text))? list" + END),
    # out of the texts of a job or group: "Stop including me in these texts", "Quit adding me
    # to these group texts" ("..., just text me directly" is a veto)
    ("stop quit",
     r"\b(?:stop|quit) (?:including|adding|copying|cc ing|ccing) (?:me|us) (?:in|on|to)"
     r" (?:(?:these|those|the|your|this|all|all these|all the) )?(?:group )?(?:text|message"
     r"|thread|threads|chat|chats)\b" + END),
    # a threat if we text again: "If you text me one more time I'm calling the police", "Text
    # me again and I'll report you" (a threat is needed: "If you text me again I'll answer")
    ("if text message",
     r"\b(?:if (?:you|u) (?:text|message|contact) (?:me|us) (?:one more time|again|ever again)"
     r"|(?:text|message) (?:me|us) (?:one more time|again) and)"
     r"(?: [^ |]+| \|){0,6}? (?:(?:call|calling|contact|contacting) (?:the )?(?:police|cops)"
     r"|(?:report|reporting|block|blocking|sue|suing) (?:you|u|this number|your company)"
     r"|(?:my|a|an) (?:lawyer|attorney)"
     r"|(?:the )?(?:fcc|ftc))\b"),
    # the formal "refrain from texting me (further)"
    ("refrain",
     r"\brefrain from (?:(?:calling|emailing) (?:or|and) )?(?:text|message|contacting"
     r"|communicating with|writing to|sending (?:me|us) (?:text|message))(?: (?:me|us"
     r"|this number))?"
     r"(?: (?:again|anymore|further|in the future|going forward|please|thanks|thank you))*"
     + END),
    # "Please don't text again", "Do not text": with no object only starting its clause ("you
    # never text" is a complaint) and ending the message ("don't text, just come in")
    ("| please just dont never",
     r"(?:^|\| )(?:(?:please|just) )?(?:dont|never)(?: ever| please)?"
     r" (?:(?:call|phone|email) (?:or|and|n) )?(?:text|message|contact)"
     r"(?: (?:or|and|n) (?:call|phone|email))?"
     # (not "now" or "rn" right after it: "Busy, don't text rn" is a moment, not a request
     # that ends the messages, as "Don't text me right now" is; but "... now or ever" is)
     r"(?! (?:now|rn|right now)\b(?!(?: \|)? or ever\b))"
     r"(?: (?:again|anymore|ever again|at all|no more"
     r"|going forward|in the future|" + NOW_OR_EVER + "))*" + OTHER_WAY + LAST),
    # no need to text (me) anymore, ending the message (not "no need to text me, I'm here", nor
    # "no need to text me again when you get here", nor "..., no need to keep texting me" or
    # "... to send me more texts", said of the job's photos: the job is the point)
    # (or said as "you don't need to": "You don't need to text me anymore", as "No need to
    # text me anymore")
    ("no you u yall y",
     r"\b" + NO_NEED_TO + r" (?:text|message|contact|email|write to)(?: (?:me|us))?"
     r" (?:anymore|any more|again|ever again)" + OTHER_WAY + LAST),
    # ... and "no need to keep texting me", "no need to send me any more texts" as the whole
    # message only
    ("no you u yall y",
     r"^" + NO_NEED_TO + r" (?:(?:keep|continue) (?:text|message|contacting) (?:me|us)"
     r"|send (?:me|us) (?:any more|anymore|more) (?:text|message))" + LAST),
    # don't send me (any more) texts
    ("dont never no",
     r"\b(?:dont|never|no longer) send (?:me|us) (?:(?:any|anymore|more|these|those|your|such)"
     r" )*(?:text|message|spam)(?: (?:text|message))*(?: (?:again|anymore|ever|at all|please"
     r"|thanks|no more|going forward))*" + END),
    # I don't want (to receive) (any more) texts; or our ads after "these", "your", "any",
    # "more" ("Don't want these promos, stop"; not "I don't want ads on the yard sign",
    # "I don't want promos, I want a fair price")
    ("dont never no",
     r"\b(?:dont|no longer|never) (?:want|wish)(?: to (?:receive|get|have))?(?: (?:any|these"
     r"|those|your|more|this|anymore|all|such|further|future|promotional|marketing|text"
     r"|message))* (?:" + MSGN + r"|(?:(?<=these )|(?<=those )|(?<=your )|(?<=more )|(?<=any ))"
     # (ending the clause, or but for "anymore", thanks: not where they go, "Don't want your
     # promos on my truck", nor a discount, "I don't want these promotions applied")
     r"(?:ads|promos|promotions)(?= \||$| (?:anymore|any more|again|ever|please|thanks"
     r"|thank you|period|stop)\b))\b"
     # nor not wanting them to end: "I don't want these texts to stop, they help"
     r"(?! (?:to (?:stop|end|go away|be (?:stopped|cancelled|canceled|turned off))|stopped"
     r"|cancelled|canceled|turned off)\b)"),
    # ... "the" ("these", "your") texts (reminders, the job's updates) ending the message, see
    # LAST: "Stop. I don't want the reminders anymore", "I don't need these texts anymore"; not
    # "I don't want the reminders to go to my wife", nor "... the reminders, just a call the day
    # before"; the texts written as a plural (AS_WRITTEN): "I don't need the text anymore" is
    # the one text the pro was to send
    ("dont never no",
     r"\b(?:dont|no longer|never) (?:want|need)(?: to (?:receive|get))? (?:the|these|those"
     r"|your|all (?:the|these|your)) (?:(?:job|appointment|project|service|booking) )?"
     r"(?:(?:text )?" + AS_WRITTEN + r"|reminders|notifications|alerts|updates)"
     r"(?: (?:anymore|any more|again))?" + OTHER_WAY + LAST),
    # I'd rather not (I prefer not to) get texts; "No longer receive texts", as opt-out menus
    # word it: starting its clause and ending the message (LAST), so not "I'd rather not get
    # texts at 6am", nor "Worried I will no longer receive texts ..." (a word of candour may
    # lead it: "Honestly I'd rather not get texts")
    ("| i no honestly frankly actually really tbh",
     r"(?:^|\| )(?:(?:honestly|frankly|actually|really|tbh) )?"
     r"(?:i (?:(?:would |d )?prefer not to|(?:would |d )?rather not)|no longer)"
     r" (?:receive|get)(?: (?:any|anymore|more|your|these|those))*"
     r" (?:(?:text )?" + AS_WRITTEN + r"|notifications|alerts|reminders)"
     r"(?: (?:anymore|again|from (?:you(?: guys| all| people)?|yall|y all)))?" + OTHER_WAY + LAST),
    # nothing from us any more, ending the message (LAST): "I don't want to receive anything
    # from you anymore", as "Je veux plus rien recevoir de vous", "Ya no quiero recibir nada de
    # ustedes" (from us: "I don't want anything from you" may turn down an offer of the job)
    ("dont no",
     r"\b(?:dont|no longer) (?:want|wish) to (?:receive|get) anything (?:else |more )?from"
     r" (?:you|yall|y all|you guys|this number|your company)(?: (?:anymore|again|ever again))*"
     + LAST),
    # I never want to hear from you again
    ("dont never no",
     r"\b(?:dont|never|no longer) (?:want|wish) to (?:ever )?hear from (?:you|yall|y all"
     r"|this number|your company)(?: (?:again|ever again|anymore|ever))*" + END),
    # this number no longer wants / does not want (to receive) texts
    ("this",
     r"\bthis (?:phone )?number (?:no longer|doesnt|does not|dont|never) (?:wants?|wish(?:es)?)"
     r"(?: to (?:receive|get|have))?(?: (?:any|these|those|your|more|anymore|such|further"
     r"|text|message))* " + MSGN + r"\b"),
    ("dont never no",
     r"\b(?:dont|no longer|never) (?:want|wish) (?:you|anyone|y all) to (?:ever )?"
     r"(?:(?:text|message|contact) (?:me|us)|send (?:me|us) (?:(?:any|more) )*(?:text|message))"
     r"(?: (?:again|anymore|ever|at all|please|no more))*" + END),
    ("dont never no",
     r"\b(?:dont|no longer|never) (?:want|wish) to be (?:texted|text|contacted|messaged|message"
     r"|spammed)\b(?! by (?!you\b|u\b|this\b|your\b))"),
    # no more texts (at the start of a clause)
    ("| please ok so just and then seriously i no",
     r"(?:^|\| )(?:(?:please|ok|so|just|and|then|seriously|i said|i want) )*no more "
     r"(?:(?:marketing|promotional|promo) )?(?:" + MSGN + "|" + ADS + r")\b"
     # not someone else's: "No more texts from the old company since I switched to you"
     + SOMEONE_ELSES +
     # "no more texts needed" says so of the job when more follows ("OK no more texts needed,
     # see you tomorrow"), as "no need to text anymore" does
     r"(?! needed\b(?!" + LAST + "))"),
    # use (text) my other number (my cell) (instead), the whole message: the sender asks not
    # to be texted here ("This # is my work phone, text my cell", "Use my cell"); a limit
    # after it ("text my cell after 5") keeps it the job
    ("| please just use text message",
     r"(?:^|\| )(?:(?:please|just) )*(?:use|text|message) my (?:(?:(?:other|new"
     r"|cell|mobile|personal) )+(?:number|phone|cell|line|one)?|cell|mobile)"
     r"(?: (?:instead|from now on))?" + LAST),
    # text (message) someone else instead of me: "Text Maria instead of me about the quote"
    # asks not to be texted here, as "Stop texting me and text Maria instead" does
    ("| please just text message",
     r"(?:^|\| )(?:(?:please|just) )*(?:text|message) (?!me\b|us\b)(?:\w+ ){1,2}?instead of"
     r" (?:me|us)(?: (?:about|for|on) (?:the|this|that|my|your|our) \w+)?"),
    # no more offers (deals, specials, coupons): our marketing, as "no more ads", ending the
    # message ("No more offers from other pros please, I'm going with you" is about the job)
    # and starting it, after nothing but courtesy, a greeting, a refusal, STOP or who is this
    # ("Thanks. No more offers"): after other words it is a price haggled over ("That's my
    # final offer, no more offers", "Best I can do is 400. No more deals"). Nor with an
    # acknowledgement as a clause of its own either side: "Ok. No more deals", "No more
    # coupons? ok" take in that there are none left ("Ok no more deals" is one).
    ("please ok okay so just seriously i no thanks thank not who whos hi hello hey stop",
     r"^(?:(?:please|thanks|thank you|hi|hello|hey|no|no thanks|no thank you"
     r"|not interested|seriously|(?P<stop>(?:(?:ok|okay)(?: \|)? )?(?:please )?stop|stop please)"
     r"|(?P<ack>ok|okay)|"
     + WHO_ASKED + r") \| )*(?:(?:please|ok|okay|so|just|seriously|i said|i want) )*no more"
     r" (?:(?:special|promotional|marketing) )?(?:offers|deals|specials|coupons)"
     # (after a STOP, an "ok?" insists: "Stop. No more offers, ok?? thanks"; and after an "Ok."
     # a "please" asks: "Ok. No more offers please"; not "Ok. No more offers, thanks")
     r"(?(stop)|(?! \| (?:ok|okay|k)\b))"
     r"(?(ack)(?=(?: \|)? (?:please|svp|por favor)\b))" + LAST),
    # remove / take me off the list
    ("remove take delete drop erase get unsubscribe cross",
     r"\b(?:remove|take|delete|drop|erase|get|unsubscribe|cross) (?:me|us|my number"
     r"|my phone number|my cell|my cell number|this number|my info|my information|my contact"
     r"|my details)(?: (?:off|from|out|of))+ (?:(?:the|your|this|that|all|these|those|any|ya"
     r"|yalls|my|every|whatever|whichever) )*(?:(?:text|message|contact|call|marketing"
     r"|distribution|messaging|mailing|subscriber|notification|spam|group|phone|calling) )*"
     r"(?:list|lists|text|message|contacts|database|db|system|thread|notification"
     r"|notifications|records|file|group)\b"
     # not a list of the job: "Remove me from the list for the spring cleanup, I'll call you"
     # (but "... for the promotions" is ours, and "for the last time", "for the 3rd time",
     # "for the love of god", "for my sanity" insist)
     r"(?! for (?:the|a|an|my|this|that|next) (?!(?:\w+ )?(?:promo\w*|ads?|marketing|text"
     r"|message|newsletters?|offers?|deals?|specials?|spam)\b|(?:last|first|second|third|nth"
     r"|\d+\w*|\w+th|love|sake|own|sanity)\b))"),
    # I want off this list, we want out of your list (the whole clause: not "I want off the
    # list for the roof, keep me for the gutters")
    # (tried at "want", "like": "i" and "we" are too common a trigger)
    ("want wanna like",
     r"(?:(?<=\bi )|(?<=\bwe ))(?:want|wanna) (?:off|out of) (?:(?:the|your|this|that|these"
     r"|all|ya|every|whatever) )*(?:(?:text|message|contact|marketing|distribution|messaging"
     r"|mailing|subscriber|notification|spam) )*(?:list|lists|thread|group)" + END
     + r"|(?:(?<=\bwould )|(?<=\bd ))like (?:off|out of) (?:(?:the|your|this|that|these|all|ya"
     r"|every|whatever) )*(?:(?:text|message|contact|marketing|distribution|messaging|mailing"
     r"|subscriber|notification|spam) )*(?:list|lists|thread|group)" + END),
    ("be been get being",
     r"\b(?:be|been|get|being) (?:removed|taken off|deleted|unsubscribed)(?: (?:from|off)"
     r" (?:(?:the|your|this|that|all|these|any|my) )*(?:(?:text|message|contact|call|marketing"
     r"|sms) )*(?:list|lists|text|message|contacts|database|system)\b|" + END + ")"),
    # I'm done with / sick of these texts: only with "these", "your", "the" ("I'm tired of
    # texting back and forth, call me" wants a call), not someone else's
    ("sick tired fed done finished",
     r"(?:(?<=\bim )|(?<=\bi m )|(?<=\bam )|(?<=\bwere )|(?<=\bre )|(?<=\bare )|(?<=\bso )"
     r"|(?<=\breally )|(?<=\bjust )|(?<=\bsooo ))(?:(?:sick|tired|fed up) of (?:all )?(?:these"
     r"|those|your|the|ur)|(?:done|finished) (?:with|getting|receiving) (?:all )?(?:these|those"
     # (not "done with the texts you sent": read them)
     r"|your|ur)) (?:" + MSGN + r"|ads|promos)\b"
     r"(?! (?:back|and forth|from (?:my|the|his|her|our|that|him)|about|you sent)\b)"),
    # enough (with) the texts; knock it off (quit it, cut it out) with the texts
    # ... put an end to the texts ("Mettez fin aux textos", "Pongan fin a los mensajes"); ours,
    # as NOT_OURS_FR/ES say there: not "enough with the texts from the other guy", "put an end
    # to these messages on the thermostat"
    ("enough knock quit cut stop put",
     r"\b(?:enough (?:with )?|(?:knock it off|quit it|cut it out|stop it) with |put an end to )"
     r"(?:(?:the|these|those|your|all|of) )*(?:text|message|spam|reminders|notifications)\b"
     + NOT_A_DEVICES + SOMEONE_ELSES),
    # remove me / delete this number / take this number off, the whole clause ("remove this
    # number from the invoice" is about the invoice), never what the sender will do ("should I
    # delete this number?", "I'll remove this number")
    # ("remove me" alone is no more about messaging than "take me off": ending the message, see
    # LAST; beside what follows it may be the schedule, "Please remove me, I can't make it
    # Monday")
    ("remove delete",
     r"(?<!\bi )(?<!\bll )(?<!\bill )(?<!\bwill )(?<!\bwe )"
     r"\b(?:remove|delete) (?:me|us)(?: (?:please|now|thanks|thank you|asap|immediately))*" + LAST),
    ("remove unsubscribe delete erase take",
     r"(?<!\bi )(?<!\bll )(?<!\bill )(?<!\bwill )(?<!\bwe )"
     r"\b(?:unsubscribe (?:me|us)|(?:remove|unsubscribe|delete) (?:my number|this number"
     r"|my phone number|my cell|my cell number|my contact info|my info|my contact information"
     r"|my information"
     r"|my details)|erase (?:my|this) number|take (?:my|this) number off)"
     r"(?: (?:please|now|thanks|thank you|asap"
     r"|immediately))*" + END),
    ("lose",
     r"\blose my number\b"),
    # "lose this number" starting its clause: "I always lose this number" is not one
    ("| " + LEAD_EN.replace("|", " ") + " lose",
     r"(?:^|\| )(?:(?:" + LEAD_EN + r") )*lose this number(?: (?:please|now|thanks|thank you|"
     + ADDRESS + "))*" + END),
    # "forget my number", as "lose my number": starting its clause and ending the message (see
    # LAST): "Don't forget my number", "I forgot my number, can you resend it?" are not one
    ("| " + LEAD_EN.replace("|", " ") + " forget",
     r"(?:^|\| )(?:(?:" + LEAD_EN + r") )*forget (?:my|this) number" + LAST),
    ("unsubscribe",
     r"\bunsubscribe\b(?! (?:(?:the|my|our|that|this|his|her|old|other|work) )*(?:button"
     r"|buttons|link|links|option|page|feature|setting|settings|email|emails|newsletter"
     r"|newsletters)\b)"
     r"(?! (?:me |us |my number )?from (?!(?:(?:the|your|my|all|these|those|this"
     r"|any|ur) )*(?:text|message|list|lists|notification|notifications|alert|alerts|messaging"
     r"|you|this number)\b|(?:these|those|them|this|it|all|everything|here|all (?:of )?this"
     r"|all of it|all of these|all of them)" + COURTESY_END + "))" + NOT_OF_SOMEONE_ELSE),
    # opt (me) out [of the texts]
    ("opt",
     r"\bopt (?:me |us |my number )?out(?:" + END + r"| (?:please|now|thanks|thank you)\b"
     r"| (?:of|from) (?:(?:the|these|those|your|all|this|any|text|message|marketing|future) )*"
     r"(?:text|message|list|messaging|notification|notifications|alert|alerts|reminders"
     r"|marketing|promotion|promotions|communication|communications|contact)\b"
     # ... of this, of everything
     r"| (?:of|from) (?:this|it|these|those|them|everything|all (?:of )?this|all of it"
     r"|all of these|all of them)" + COURTESY_END + ")"),
    # leave me alone: not about messaging in itself, so ending the message (see LAST): "Please
    # leave me alone, I'm working from home, just do the yard" keeps the job the point
    ("leave",
     r"\bleave (?:me|us) alone(?: (?:for good|for real|forever|once and for all))?" + LAST),
    # ... or anywhere with the messages: not "leave me alone with this mess"; but "... with
    # your texts" is a revocation
    ("leave",
     r"\bleave (?:me|us) alone with(?: \w+){0,4} (?:text|message|spam|ads?|calls?"
     r"|notifications?|promo\w*|marketing)\b"),
    ("cease",
     r"\bcease and desist\b"),
    # I want the texts to stop, make these texts stop: ending the message (not "I want the
    # reminders to stop at 9pm"), said by the sender ("my wife wants ..." is someone else's),
    # and starting the message (greetings at most): after another clause, "these
    # notifications" are those it named ("My Ring doorbell sends 20 alerts a day. I need these
    # notifications to stop", "The old alarm company still texts me. I want those texts to
    # stop")
    ("i we please hi hello hey ok okay seriously honestly look just really so want need make",
     r"^(?:(?:i|we|please|hi|hello|hey|ok|okay|seriously|honestly|look|just|really|so)(?: \|)? )*"
     r"(?:(?:want|need) (?:(?:all|of|the|these|those|your|this) )+(?:" + MSGN + "|" + ADS
     + r") to stop|make (?:(?:all|of|the|these|those|your|this) )+(?:" + MSGN + "|" + ADS
     + r") stop)(?: coming)?" + LAST),
    ("i told how",
     r"\b" + _I_TOLD + r" (?:to )?(?:please )?stop(?: to (?:opt out|unsubscribe))?"
     r"(?: (?:please|now|already))*" + LAST),
    # ... "stop it" starting the message only: after another clause "it" is what that clause
    # named ("The dripping? I already asked you to stop it")
    ("i told how please ok hey seriously",
     r"^(?:(?:please|ok|hey|seriously)(?: \|)? )*" + _I_TOLD
     + r" (?:to )?(?:please )?stop(?: (?:please|now|already))* it(?: (?:please|now|already))*"
     + LAST),
    ("revoke revoking withdraw withdrawing rescind rescinding",
     r"\b(?:revoke|revoking|withdraw|withdrawing|rescind|rescinding) (?:my |all |any |our )?"
     r"(?:consent|permission|authorization|authorisation)\b"),
    # I do not (no longer) consent to (receiving) (text) messages, to being texted
    ("dont no",
     r"\b(?:dont|no longer) consent to (?:(?:(?:receiving|receive|getting|get|any|these|your"
     r"|more) )*(?:text )?" + MSGN + r"|being (?:texted|messaged|contacted|text|message))"
     r"(?: (?:from (?:you|this number|your number)|anymore|any more|please))*" + END),
]
# Someone of the sender's as the object, not their number: "... texter mon mari", "... à ma
# femme" (not "... mon cell")
NOT_TO_SOMEONE_FR = (r"(?! (?:(?:a|au|aux) )?(?:mon|ma|mes|son|sa|ses|leur|leurs)\b(?! (?:numero"
                     r"|cell|cellulaire|telephone|portable)\b))")
FR: list[tuple[str, str]] = [
    # "(Écrivez-moi) sur mon cell", "Utilisez mon autre numéro", the whole message, as "Use my
    # cell": another number of the sender's, not this one ("Ce # c'est celui de la job,
    # écrivez sur mon cell"); a limit after it ("... après 17h") keeps it the job
    ("| svp juste plutot ecrivez ecris textez texte envoyez envoie utilisez utilise",
     r"(?:^|\| )(?:(?:svp|juste|plutot) )*(?:(?:ecrivez|ecris|textez|texte"
     r"|envoyez|envoie)(?: moi)?(?: plutot)? (?:sur|a|au) |utilisez |utilise |textez |texte )"
     r"(?:mon|ma) (?:(?:autre|nouveau|nouvelle) (?:numero|cell|cellulaire|portable|ligne)?"
     r"|(?:numero de )?(?:cell|cellulaire|portable))(?: (?:plutot|a la place|dorenavant"
     r"|perso))?" + LAST),
    # "Si vous m'écrivez encore, j'appelle la police", as "If you text me again ..."
    ("si",
     r"\bsi (?:vous|tu) (?:m|me|nous) (?:ecrivez|ecris|textez|textes|texte|envoyez|envoies)"
     r"(?: \w+)?(?: encore| une autre fois| de nouveau)(?: [^ |]+| \|){0,6}?"
     r" (?:(?:appelle|appeler|appellerai) la police|signale|signaler|bloque|bloquer|avocat"
     r"|plainte)\b"),
    # "Ne m'incluez plus dans ces messages", as "Stop including me in these texts"
    ("ne",
     r"\bne (?:m|me|nous) (?:incluez|ajoutez|mettez) plus (?:dans|sur|en copie de) (?:ces|les"
     r"|vos|la|le|cette|ce) (?:message|text|conversation|groupe|fil)\b" + END),
    # "Mettez-moi sur votre liste de non-sollicitation", as "Put me on your do not text list"
    ("mettez ajoutez inscrivez",
     r"\b(?:mettez|ajoutez|inscrivez) (?:moi|nous|mon numero|ce numero) (?:sur|a|dans) (?:votre"
     r"|la) liste (?:de non sollicitation|d exclusion|ne pas (?:appeler|contacter|ecrire))"
     r"(?: (?:svp|merci|stp|s il vous plait))*" + END),
    # arrêtez de m'envoyer des messages / arrête de me texter (or "me txt", folded to "text")
    ("arret* cess* stop*",
     r"\b(?:arret\w*|cess\w*|stop\w*)" + FR_STRESS + " (?:de|d) " + FR_CALLING_AND
     + r"(?:(?:me |m |nous )?(?:texter|contacter|spammer"
     r"|harceler)|(?:me|m|nous) (?:ecrire|relancer|solliciter|text))\b"
     # not someone of the sender's, with no pronoun: "Vous pouvez arrêter de texter mon mari,
     # c'est moi qui gère" (as "stop texting my husband"; "... mon cell" is the sender's)
     + NOT_TO_SOMEONE_FR),
    # arrêtez de me déranger / de m'embêter / d'écrire (no object), ending the message (see
    # LAST) and starting its clause: not "Dis-lui d'arrêter de me déranger"
    ("| svp stp merci mais alors arret* cess* stop*",
     r"(?:^|\| )(?:(?:svp|stp|merci d|merci de|mais|alors) )*(?:arret\w*|cess\w*|stop\w*)"
     r" (?:de|d) (?:(?:me|m|nous) (?:deranger|embeter|importuner|achaler|tanner)"
     r"|ecrire(?: (?:a|sur) ce numero)?)"
     # ... with the messages: "arrêtez de me tanner avec vos textos"
     r"(?: avec (?:(?:vos|tes|ces|les|tous vos|toutes vos) )?(?:message|text|notifications"
     r"|relances|spam|" + ADS_FR + r"))?" + OTHER_WAY + LAST),
    ("arret* cess* stop*",
     r"\b(?:arret\w*|cess\w*|stop\w*)" + FR_STRESS + " (?:de|d) " + FR_CALLING_AND
     + r"(?:me |m |nous )?envoyer(?: (?:(?:des|les|vos|ces"
     r"|de|d|tous|toutes|ce|cette) )*(?:message|text|notification|notifications|relance"
     r"|relances|spam|alerte|alertes|" + ADS_FR + r")\b" + WHICH_MESSAGES
     # not someone else's, as "stop sending the messages to my husband": "Arrêtez d'envoyer
     # les messages à mon mari, c'est moi qui gère"
     + NOT_TO_SOMEONE_FR + "|" + END
     # ... or to the sender's number: "Arrêtez d'envoyer à mon numéro"
     + r"|(?= (?:a|au|sur) (?:mon|ce) (?:numero|cell|cellulaire|telephone|portable)"
     r"(?: (?:du|de) (?:travail|bureau|job))?" + FR_TAIL + END + "))"),
    # ... or the same thing twice, for the guard: "Arrêtez de m'envoyer la même chose deux fois"
    ("arret* cess*",
     r"\b(?:arret\w*|cess\w*)" + FR_STRESS + r" (?:de|d) (?:me|m|nous) envoyer(?= " + SAME_TWICE
     + ")"),
    # ... "arrêtez de m'envoyer ça", as "stop sending me these": starting its clause and
    # ending the message (see LAST): "Arrête de m'envoyer ça, j'ai déjà les photos" is the job
    ("| svp stp merci mais alors arret* cess*",
     r"(?:^|\| )(?:(?:svp|stp|merci d|merci de|mais|alors) )*(?:arret\w*|cess\w*) (?:de|d)"
     r" (?:me|m|nous) envoyer (?:ca|cela|ceci|tout ca|ces trucs)(?: la)?" + LAST),
    # arrêtez les SMS, "Arrêtez svp les textos"
    ("arret* stop* cess* fini finis",
     r"\b(?:arret\w*|stop\w*|cess\w*|fini|finis)(?: (?:svp|stp|s il vous plait|donc))?"
     r" (?:les|vos|ces|tes|des|toute|toutes les"
     r"|toutes vos) (?:message|text|notifications|relances|envois|spam|communication"
     r"|communications|" + ADS_FR + r")\b"
     # nor the device named before: "La sonnette sonne sans arrêt, comment arrêter les
     # notifications dessus?"
     r"(?! (?:la )?dessus\b| de (?:ca|cela)\b)"),
    # cessez tout contact (not "Arrêtez tout", which also stops the work)
    # ("tout envoi" is also a shipment: ending the message only, not "Arrêtez tout envoi svp,
    # on a assez de tuiles")
    ("arret* cess*",
     r"\b(?:arret\w*|cess\w*) tout (?:(?:contact|message)(?: (?:avec (?:moi|nous)|svp|stp"
     r"|merci|s il vous plait))*" + END + r"|envoi(?: avec (?:moi|nous))?" + LAST + ")"),
    ("stop halte",
     r"\b(?:stop|halte) (?:a|aux)(?: (?:vos|ces|tes|tous ces))?"
     r" (?:message|text|notifications|relances|spam|" + ADS_FR + r")\b"),
    # ... "mettez fin aux textos", as "put an end to the texts" (ours: not "mettre fin aux
    # messages d'erreur du thermostat")
    ("mettez mettre mets",
     r"\b(?:mettez|mettre|mets) fin (?:a|aux)(?: (?:vos|ces|tes|tous ces))?"
     r" (?:message|text|notifications|relances|spam|" + ADS_FR + r")\b" + NOT_OURS_FR),
    # ne m'écrivez plus / ne m'envoyez plus de messages
    ("ne",
     r"(?<!\bil )(?<!\belle )(?<!\bon )(?<!\bils )(?<!\belles )(?<!\bpersonne )"
     r"\bne (?:me |m |nous )(?!ecrit\b|\w+(?:ent|ait|aient)\b)"
     r"(?:ecri\w*|contact\w*|text\w*|harcel\w*|relanc\w*) plus\b"
     # not at the old number: "Ne m'écrivez plus sur l'ancien numéro, utilisez le 514..."
     r"(?! (?:sur|a|au|dans)(?: l| le| mon| ce)? (?:ancien|vieux|autre) (?:numero|num|cell"
     r"|cellulaire|telephone)\b)"),
    # m'écrivez plus, me contactez plus svp: everyday French drops the "ne"; then only the
    # imperative, starting its clause and ending it ("Vous m'écrivez plus souvent", "m'écrivez
    # plus tard" are no request); or the infinitive Québec says it with, "Me texter pu svp",
    # "M'écrire pu" ("Pouvez-vous me texter plus souvent?", "Me texter plus tard svp" are none)
    ("| svp stp merci me m nous",
     r"(?:^|\| )(?:(?:svp|stp|merci) )?(?:me|m|nous) (?:ecrivez|ecris|contactez|contacte|textez"
     r"|texte|harcelez|harcele|relancez|relance|envoyez|envoie|ecrire|contacter|texter|harceler"
     r"|relancer|envoyer) plus(?: (?:jamais|rien|de|d"
     r"|message|text|svp|stp|merci|s il vous plait))*" + END),
    # ... and with the pronoun after it, as Québec says it: "Textez-moi pu", "Écrivez-moi plus
    # jamais" (not "Écrivez-moi plus tard", "... plus souvent")
    ("| svp stp merci ecrivez ecris textez texte contactez contacte",
     r"(?:^|\| )(?:(?:svp|stp|merci) )?(?:ecrivez|ecris|textez|texte|contactez|contacte)"
     r" (?:moi|nous) plus(?:(?: (?:svp|stp|merci|s il vous plait))* jamais(?: (?:jamais|svp|stp"
     r"|merci|s il vous plait))*" + END
     # without jamais ending the message: "Textez-moi plus, ça marche mieux que les appels"
     # asks for more texts
     + "|" + LAST + ")"),
    # ne me dérangez plus, ending the message (see LAST): the imperative starting its clause
    # only, "Ça ne me dérange plus", "Vous ne me dérangez plus" say it no longer bothers them
    ("| ne svp stp merci",
     r"(?:^|\| )(?:(?:svp|stp|merci) )?ne (?:me|m|nous) (?:derangez|derange|embetez|embete"
     r"|importunez|importune) plus" + LAST),
    ("ne",
     r"\bne (?:me |m |nous )envoy\w* plus(?: (?:(?:de|d|aucun|aucune|jamais|de tels) )*"
     r"(?:message|text|notification|notifications|rien|pub|spam)\b|(?: (?:svp|merci|stp|jamais"
     r"|s il vous plait))*" + END + ")"),
    ("ne",
     r"\bne plus (?:me |m |nous )(?:contacter|ecrire|texter|harceler|relancer|deranger"
     r"|envoyer (?:de |des |d )?(?:message|text))\b"),
    # "Ne plus recevoir de SMS", as opt-out menus word it, and "Je préfère (souhaite) ne plus
    # recevoir de textos", "Je veux arrêter de recevoir des SMS": starting its clause only
    # ("J'ai peur de ne plus recevoir de messages" fears losing them) and ending the message
    # (LAST), as in English: not "Je préfère ne plus recevoir de textos le matin", which
    # limits them
    ("| ne je j arreter",
     r"(?:^|\| )(?:(?:je|j) (?:prefere|prefererais|souhaite|souhaiterais|voudrais|veux"
     r"|desire) )?" + _FR_NO_MORE_RECEIVE + OTHER_WAY + LAST),
    # ... asked how, as "How do I stop getting these texts?" is: "Comment faire pour ne plus
    # recevoir de SMS ?", the question ending there (not "... de textos le matin ?")
    ("| comment",
     # (or the verb conjugated: "Comment j'arrête de recevoir vos textos ?", "Comment on
     # arrête de recevoir ...")
     r"(?:^|\| )comment(?: (?:(?:faire|je fais|on fait|puis je|je peux|est ce que je peux)"
     r" pour|puis je|je peux|est ce que je peux))? "
     + _FR_NO_MORE_RECEIVE.replace("|arreter de ", "|arreter de |(?:j|je|on) arrete de ", 1)
     + r"(?: (?:svp|stp|merci|s il vous plait))*$"),
    # je ne veux plus recevoir de textos; everyday French drops the "ne", then only with a
    # verb: "je veux plus recevoir de SMS" ("je veux plus de messages" may want more)
    ("ne je j",
     r"\b(?:ne (?:veux|veut|voulons|souhaite|souhaitons|desire|voudrais|souhaiterais)"
     r" (?:plus(?: jamais)?|pas)"
     r"|(?:je|j) (?:veux|souhaite|desire|voudrais) (?:plus(?: jamais)?|pas) (?:recevoir|avoir)"
     # ... or "plus aucun" with no verb, which wants none, never more: "Je veux plus aucun
     # message de vous"
     r"|(?:je|j) (?:veux|souhaite|desire|voudrais) plus(?: jamais)?(?= aucune? ))"
     r"(?: (?:recevoir|avoir|de|d|vos|ces|les|aucun|aucune|des))* (?:message|text"
     r"|notification|notifications|pub|spam|sollicitation|sollicitations)\b(?! vocal)"),
    # ... nothing at all, ending the message (LAST): "Je ne veux plus rien recevoir de votre
    # part", Québec "J'veux pu rien recevoir de vous autres" (not "... rien recevoir avant
    # lundi", the delivery)
    ("ne je j",
     r"\b(?:(?:je|j) (?:ne )?|ne )(?:veux|voulons|souhaite|souhaitons|desire|voudrais)"
     r" plus(?: jamais)? rien recevoir" + FROM_US_FR + FR_TAIL + LAST),
    # ... "N'écrivez plus à ce numéro", "Ne textez plus ce numéro", as "No escriban más a este
    # número" (the whole clause)
    ("n ne",
     r"\b(?:n|ne) (?:ecrivez|ecris|textez|texte|envoyez|envoie)(?: (?:plus|jamais))+"
     r"(?: (?:de |des |d )?(?:message|text))?(?: (?:a|sur|au))? ce numero" + FR_TAIL + END),
    # ... and "je veux plus de textos" (Québec "je veux pu de textos") ending the message and
    # starting its clause: with more after it, "plus de" may want more ("Je veux plus de
    # messages pour suivre les travaux"); never "plus de photos". "Je voudrais (souhaite)
    # plus de textos", written with care, wants more of them: only with "jamais"
    # (Québec "J'veux pu de textos" with the "je" elided)
    ("| je j",
     r"(?:^|\| )(?:je|j) (?:veux plus|(?:voudrais|souhaite) plus jamais) (?:jamais )?(?:de|d)"
     r" (?:message|text"
     # ... "de vous autres" (from you, as Québec says it, where "pu" is no more: "de votre
     # part" in careful French may want more: "Je veux plus de messages de votre part")
     r"|notifications|pub|pubs|spam)(?: de vous autres)?" + OTHER_WAY + LAST),
    # ... "je veux plus être contacté" without the "ne"
    ("ne je j",
     r"\b(?:ne|je|j) (?:veux|souhaite|desire|voudrais) plus (?:etre (?:contacte|sollicite"
     r"|derange|relance)e?s?\b"
     # (not by someone else, as "I don't want to be texted by ...": "Je veux plus être
     # contactée par le vendeur, juste par vous")
     r"(?! par (?:le|la|les|l|un|une|ce|cette|mon|ma|mes|son|sa|ses|leur|leurs|d autres?)\b)"
     r"|que (?:vous|tu|l on|on) (?:me |m |nous )(?:contact|ecriv|envoy|text|relanc)\w*)"),
    # désabonnez-moi / je veux me désinscrire (not "... des mails", "... de l'appli"); not the
    # Spanish "desinscribirme", ES's ("desinscrib": French conjugates it with v, never b)
    # (also typed without its second s: "Désincrivez-moi svp")
    # (and with one n, with a French ending: "désabonez-moi", "me désaboner")
    ("desabon* desinscri* desincri*",
     r"\b(?:desabonn\w*|desabon(?:ez|er)|desins?cri(?!b)\w*)\b" + NOT_OF_SOMETHING_ELSE
     + NOT_OF_SOMEONE_ELSE),
    # retirez-moi, enlevez-moi alone, the whole clause with courtesy only, as "remove me" is,
    # ending the message (see LAST): "Merci, mais retirez-moi svp" (not "Retirez-moi ça",
    # "Enlevez-moi du vendredi", "Enlevez-moi svp, je serai pas là lundi": the schedule)
    ("retirez enlevez",
     r"(?:^|(?<=\| )|(?<=\bsvp )|(?<=\bmais )|(?<=\bdonc ))(?:retirez|enlevez) (?:moi|nous)"
     r"(?: (?:svp|stp|merci|s il vous plait|sil vous plait))*" + LAST),
    # retirez-moi de la liste
    ("retir* enlev* supprim* effac* ray* sort* radi*",
     r"\b(?:retir|enlev|supprim|effac|ray|sort|radi)\w* (?:moi|mon numero|mon num|nous"
     r"|ce numero)"
     r" (?:de|du|des) (?:(?:la|votre|cette|vos|ta|tes|ces|le|l) )?(?:liste|listes|fichier"
     r"|base|contacts|repertoire|diffusion)\b(?! d attente)"),
    ("me m nous",
     r"\b(?:me|m|nous) (?:retir|enlev|supprim|effac|ray|sort|radi|desinscri(?!b))\w* (?:de|du|des)"
     r" (?:(?:la|votre|cette|vos|ta|tes|ces|le|l) )?(?:liste|listes|fichier|base|contacts"
     r"|repertoire|diffusion)\b(?! d attente)"),
    # plus de messages svp (not "more" set against less, or against calls the sender cannot
    # hear: detector.VETO_RE)
    # (after an ARRÊTE or STOP too, as "Stop por favor no más mensajes": "Arrête stp pu de
    # textos")
    ("| svp merci stp plus pas fini assez stop arret arrete arretez",
     r"(?:^|\| )(?:(?:svp|merci|stp|stop|arret|arrete|arretez) )*(?:plus(?: jamais)?|pas|fini"
     r"|assez) (?:de|d) (?:message|text"
     r"|notification|notifications|spam|" + ADS_FR + r")" + FR_TAIL + END),
    # j'en ai assez de vos textos, chu tanné de vos messages, as "I'm sick of these texts": only
    # with "vos", "tes", "ces" (or "des"), not someone else's ("... des textos de mon ex") nor
    # which ones ("... de vos messages vocaux")
    ("assez marre ras plein tanne tannee tannes tannees ecoeure ecoeuree fatigue fatiguee",
     r"(?:(?:(?<=\ben ai )|(?<=\ben a )|(?<=\ben avons ))(?:assez|marre|ras le bol|plein le dos)"
     r"|(?:(?<=\bsuis )|(?<=\bchu )|(?<=\bsommes ))(?:tannee?s?|ecoeuree?s?|fatiguee?s?)"
     # ... or opening a clause without its verb: "Tanné de vos textos", "Marre de vos messages"
     r"|(?:^|(?<=\| ))(?:marre|ras le bol|tannee?s?|ecoeuree?s?|fatiguee?s?))"
     r" (?:(?:de|d) (?:vos|tes|ces|tous vos|toutes vos|tous ces|toutes ces)|des) (?:message|text"
     r"|notifications|relances|spam|" + ADS_FR + r")\b" + WHICH_MESSAGES + NOT_OURS_FR),
    # ça suffit (avec) les textos, c'est assez les messages, as "Enough with the texts"
    ("| ca c cest assez",
     r"(?:^|\| )(?:ca suffit|c est assez|cest assez|c assez|assez)(?: avec)? (?:les|vos|ces|tes"
     r"|des) (?:message|text|notifications|spam|" + ADS_FR + r")" + FR_TAIL + END),
    # ... "lâchez-moi avec vos textos", "tannez-moi pu avec vos messages" (Québec)
    # je vous ai déjà dit stop / d'arrêter, as "I told you to stop"; ending the message ("J'ai
    # dit stop, le chien est dehors" is about the job)
    ("je j",
     r"\b(?:je (?:vous |te |t )?ai|j ai) (?:deja )?(?:dit|demande) (?:stop|d arreter|de stop)"
     r"(?: deja)?" + LAST),
    # ... and with the keyword itself, "J'ai dit arrêtez", starting its clause: "Quand l'eau a
    # débordé j'ai dit arrêtez", "Pour la fuite j'ai dit arrêtez" tell what was said on the job
    ("je j",
     r"(?:^|(?<=\| )|(?<=^mais )|(?<=\| mais )|(?<=^non )|(?<=\| non ))"
     r"(?:je (?:vous |te |t )?ai|j ai) (?:deja )?(?:dit|demande) (?:arretez|arrete|arret)"
     r"(?: deja)?" + LAST),
    # laissez-moi tranquille, fichez-moi la paix: ending the message (see LAST), as "leave me
    # alone"
    ("laisse* fiche* fout*",
     r"\b(?:laisse[rz]? (?:moi|nous) tranquilles?|(?:fiche|fout|foute)[zr]? (?:moi|nous) la paix)"
     r"(?: (?:une fois pour toutes|pour de bon))?" + LAST),
    # lâchez-moi (donc): "leave me alone", the whole clause ending the message (see LAST):
    # "Lâchez-moi un coup de fil" (Québec: give me a call), "Lâche pas!" are the job
    ("| svp stp mais bon lache*",
     r"(?:^|\| )(?:(?:svp|stp|mais|bon) )*lache[rz]? (?:moi|nous)(?: donc)?(?: tranquilles?)?"
     + LAST),
    ("lache* tanne*",
     r"\b(?:lache|tanne)[rz]? (?:moi|nous)(?: plus)? avec (?:vos|tes|ces|les|tous vos|toutes vos)"
     r" (?:message|text|notifications|relances|pubs?|spam)\b"),
    # ... and "fichez-moi la paix / laissez-moi tranquille avec vos textos", the messages ending
    # the clause: "... avec vos messages vocaux", "... avec les messages de la ville, le permis
    # est ok" are about which messages; nor what someone else said ("Ma voisine m'a dit: ...")
    ("fiche* fout* laisse*",
     r"(?<!dit \| )\b(?:(?:fiche|fout|foute)[rz]? (?:moi|nous) la paix|laisse[rz]? (?:moi|nous)"
     r" tranquilles?) avec (?:vos|tes|ces|les|tous vos|toutes vos)"
     r" (?:message|text|notifications|relances|pubs?|spam)"
     # (and the "là" of stress: "Laisse-moi tranquille avec tes SMS là")
     r"(?: (?:svp|stp|merci|s il vous plait|la|une fois pour toutes|pour de bon))*" + END),
    ("retir* revoqu* annul*",
     r"\b(?:retir|revoqu|annul)\w* (?:mon |le |tout )?consentement\b"),
    # je ne consens pas (plus) à recevoir des SMS
    ("ne",
     r"\bne consen\w* (?:pas|plus) a (?:recevoir|etre contacte|etre contactee)(?: (?:de|d|des"
     r"|vos|ces|les))* (?:message|text|notification|notifications)\b"),
    # supprimez mon numéro / retirez ce numéro (the whole clause: "retirez ce numéro de la
    # facture" is about the invoice)
    # (Québec's "enlevez" too); not with another number put in its place in the next clause:
    # "Enlevez ce numéro, mettez celui de ma femme", "Effacez ce numéro svp, le bon c'est le
    # 438", "..., gardez le 514" correct the file
    ("supprim* effac* retir* enlev*",
     r"\b(?:supprim|effac|retir|enlev)\w* (?:mon numero|mon num|mes coordonnees|ce numero)"
     r"(?: (?:svp|stp|merci|s il vous plait))*" + END
     + r"(?! \|(?: \w+){0,6} (?:mettez|mets|gardez|garde|utilisez|prenez|remplacez|le bon"
     r"|la bonne|le nouveau|mon nouveau|celui de|celui du)\b)"),
    # "Oubliez mon numéro", as "forget my number": starting its clause and ending the message
    # (see LAST): "J'ai oublié mon numéro", "Oublié mon numéro, vous me le renvoyez?" are not one
    ("| svp stp merci bon alors oubliez oublie oublies",
     r"(?:^|\| )(?:(?:svp|stp|merci|bon|alors) )*(?:oubliez|oublie|oublies) (?:mon|ce) numero"
     + LAST),
]
# What someone did or does, not a request: the Spanish past and present indicative of escribir,
# contactar, textear ("El plomero no me escribió", "Todavía no me escriben, ¿a qué hora
# llegan?", "No me contactaron ayer", "no me textearon") tells the pro what happened; the
# request is the subjunctive ("no me escriban", "no me contacten", "no me textees") or a
# gerund after estén/anden.
_NOT_DONE_ES = (r"(?!(?<=escrib)(?:io|iste|imos|ieron|ia|ian|ido)\b"
                r"|(?<=contact)(?:o|aste|amos|aron|aba|aban|ado)\b"
                r"|(?<=text)(?:eo|easte|earon|eaba|eaban|eado)\b"
                # (the present, unless "más" follows: "ya no me escriben más" is a request
                # typed in a hurry)
                r"|(?:(?<=escrib)(?:e|es|en)|(?<=contact)(?:a|as|an)|(?<=text)(?:ea|eas|ean))\b"
                r"(?! (?:mas|nunca|jamas)\b))")
# ... and of mandar, enviar: "No me mandaron mensaje ayer" says what happened
_NOT_SENT_ES = (r"(?!(?:(?<=mand)|(?<=envi))(?:o|aste|amos|aron|aba|aban|ado)\b"
                r"|(?:(?<=mand)|(?<=envi))(?:a|as|an)\b(?! (?:mas|nunca|jamas)\b))")
# The auxiliaries of a request in the gerund: "no me estén escribiendo", "ya no me anden
# mandando mensajes", "ya no me sigan mandando mensajes" (the subjunctive only: "ya no me
# siguen mandando" says they stopped)
KEEP_ON_ES = r"(?:esten|estes|este|anden|andes|sigan|sigas|siga)"
# (the past subjunctive of a wish, "Quisiera que dejaran de mandarme mensajes", "Me gustaría
# que dejara de escribirme", as "I'd appreciate it if you stopped texting me")
# (its words are the triggers of the entries it opens, written once)
_DEJEN_DE_WORDS = ("deja dejen deje dejar dejes dejaran dejara dejaras para paren pare parar basta"
                   " cese cesen")
_DEJEN_DE = (r"\b(?:" + "|".join(_DEJEN_DE_WORDS.split()) + ")"
             + ES_STRESS + " (?:de|d)" + ES_CALLING_AND)
# Someone of the sender's the messages go to, not their number: "Dejen de mandar mensajes al
# número de mi hermano", "... a mi esposa" (not "... a mi número"), as NOT_TO_SOMEONE_FR
NOT_TO_SOMEONE_ES = (r"(?! (?:a|al|para) (?:(?:numero|celular|cel|telefono) de )?(?:mi|mis|su"
                     r"|sus)\b(?! (?:numero|celular|cel|telefono)\b))")
ES: list[tuple[str, str]] = [
    # "Escríbeme al otro", "Escríbanme a mi celular", "Usen mi otro número", the whole message,
    # as "Use my cell": another number of the sender's, not this one ("Este # ya no sirve,
    # escríbeme al otro"); a limit after it ("... después de las 5") keeps it the job
    ("| mejor porfa por solo escrib* mand* envi* textee* usen use usa",
     r"(?:^|\| )(?:(?:mejor|porfa|por favor|solo) )*(?:(?:(?:escrib|mand|envi|textee)\w*"
     r"|usen|use|usa) (?:al|a mi|mi|el) (?:otro|nuevo) (?:numero|celular|cel|telefono)"
     r"|(?:(?:escrib|mand|envi|textee)\w*|usen|use|usa) (?:al|a mi|mi) (?:numero de )?"
     r"(?:celular|cel|movil)|(?:escrib|mand|envi|textee)\w*(?:me|nos) al (?:otro|nuevo))"
     r"(?: (?:mejor|en su lugar|de ahora en adelante))?" + LAST),
    # "Si me vuelven a escribir, llamo a la policía", as "If you text me again ..."
    ("si",
     r"\bsi (?:me|nos) (?:vuelven|vuelves|vuelve) a (?:escribir|mandar|enviar|textear)"
     r"(?: [^ |]+| \|){0,6}? (?:(?:llamo|llamar|hablo|hablar) a la policia|reporto|reportar"
     r"|denuncio|denunciar|bloqueo|bloquear|abogado|demando|demandar)\b"),
    # "Ya no me incluyan en estos mensajes", as "Stop including me in these texts"
    ("no",
     r"\bno (?:me|nos) (?:incluyan|incluya|agreguen|agregue|pongan|ponga) (?:mas )?(?:en|a)"
     r" (?:estos|esos|los|sus|este|ese|el|la|esta) (?:message|text|grupo|chat|conversacion)\b"
     + END),
    # "Pónganme en su lista de no contactar", as "Put me on your do not text list"
    ("ponganme pongame agreguenme agregueme anotenme anoteme",
     r"\b(?:ponganme|pongame|agreguenme|agregueme|anotenme|anoteme) (?:en|a) (?:su|la|tu)"
     r" lista de no (?:contactar|molestar|escribir|enviar|mandar)(?: message)?"
     r"(?: (?:por favor|porfa|gracias))*" + END),
    # deja de enviarme mensajes / dejen de escribirme
    # (a question too: "¿Pueden dejar de mandarme mensajes?" asks it, as "Can you stop texting
    # me?" does; only the bare "acosar" must end the message, apart so as not to make the
    # whole entry a LAST one)
    (_DEJEN_DE_WORDS,
     # ("d", "m" as typed in a hurry: "dejen d escribirme", "ya no m escriban")
     _DEJEN_DE + r" (?:(?:escribir|contactar|textear|spamear|acosar)(?:me|nos)\b"
     # ... or to the sender's number: "Dejen de mandar a mi número", "... de escribir a mi
     # celular del trabajo"
     r"|(?:escribir|textear|enviar|mandar)(?= (?:a|al) (?:mi|este) (?:numero|celular|cel"
     r"|telefono)(?: (?:del|de la) (?:trabajo|oficina|casa))?(?: (?:por favor|porfa|gracias))*"
     + END + ")"
     r"|(?:enviar|mandar)(?:me|nos)?"
     # ("tanto mensaje", the singular of a hurry: "dejen de mandar tanto mensaje")
     r"(?: (?:(?:mas|tantos|tantas|tanto|tanta|los|las|sus|esos|esas|estos|estas|ese|este) )*"
     r"(?:message|text|notificaciones|spam|" + ADS_ES + r")\b" + WHICH_MESSAGES
     + NOT_TO_SOMEONE_ES + "|" + END + "))"),
    (_DEJEN_DE_WORDS, _DEJEN_DE + " acosar" + LAST),
    # ... or the same thing twice, for the guard: "Deja de mandarme lo mismo dos veces"
    (_DEJEN_DE_WORDS, _DEJEN_DE + r" (?:mandar|enviar)(?:me|nos)(?= " + SAME_TWICE + ")"),
    # ... "dejen de mandarme esto", as "stop sending me these": starting its clause and ending
    # the message (see LAST): "Deja de mandarme eso, ya tengo las fotos" is the job
    ("| ya por porfa oye deja dejen deje dejes",
     r"(?:^|\| )(?:(?:ya|por favor|porfa|oye) )*(?:deja|dejen|deje|dejes) de (?:mandar|enviar)"
     r"(?:me|nos) (?:esto|eso|estas cosas|esas cosas)" + LAST),
    # deja de molestarme, dejen de escribir (no object): ending the message (see LAST) and
    # starting its clause, said to us: not to someone else ("Dile que deje de molestarme")
    ("| ya por porfa oye quiero queremos deja dejen deje dejar dejes para paren pare basta cese"
     " cesen",
     r"(?:^|\| )(?:(?:ya|por favor|porfa|oye|quiero que|queremos que) )*(?:deja|dejen|deje"
     r"|dejar|dejes|para|paren|pare|basta|cese|cesen) de (?:molestar|fastidiar|escribir)(?:me|nos)?"
     # ... with the messages: "dejen de molestar con sus mensajes"
     r"(?: con (?:(?:sus|tus|los|tantos|tanto|esos|estos) )?(?:message|text|notificaciones|spam"
     r"|" + ADS_ES + r"))?" + OTHER_WAY + LAST),
    # no me envíen más mensajes / no me escriban más / (favor de) no escribirme
    ("no",
     # (also "no me estén escribiendo", "ya no me anden mandando mensajes")
     r"\bno (?:(?:me |m |nos )(?:" + KEEP_ON_ES + r" )?(?:escrib|contact|text)"
     + _NOT_DONE_ES + r"\w*"
     r"|(?:escribir|contactar|textear)(?:me|nos))"
     # (nor now only: "No me escribas ahorita, estoy manejando"; but "... ahora (ahorita) ni
     # nunca")
     # (nor later: "no me escribas más tarde, mejor ahorita", "más" then no "no more"; but
     # "... más tarde ni nunca")
     # ("más" taken whole, never given back to let the somewhere else after it pass: "No me
     # escriban más por WhatsApp, solo por aquí")
     r"\b(?: (?:mas|nunca|jamas))?+(?! (?:(?:ahorita|ahora|en este momento)\b(?! ni\b)|antes"
     r"|despues|hasta|a las|por la|en la|el|los|tarde\b(?! ni\b)"
     # nor somewhere else: "No me escriban al correo, solo aquí", "... al número viejo"
     # (a place, "al trabajo", is LIMIT_AFTER_RE's)
     r"|al (?:correo|mail|email|otro|(?:numero|telefono|celular) (?:viejo|anterior|de))"
     r"|a mi (?:correo|mail|email)|por (?:correo|mail|email|whatsapp)))"
    ),
    # favor de no enviar mensajes / no envíen más: the plural imperative or the infinitive
    # with no object ("envie", "mande" would be "I sent" too); not to someone ("... al número
    # de mi esposo"). The bare "no envíen más" ending the message only (LAST): "No mandes más, ya
    # lo tengo" is about the photos. This number is us: "Favor de no mandar mensajes a este
    # número" is one.
    # (two entries: only the bare one must end the message, so a question may ask the other:
    # "¿Pueden ya no mandarme mensajes?")
    ("no",
     r"\bno (?:(?:enviar|mandar)(?:me|nos)?|envien|manden|envies|mandes)(?: (?:mas|ningun"
     r"|ninguno|ningunos|ninguna|ningunas|tantos|sus|estos|esos|los|las))* (?:message|text"
     r"|notificaciones|spam|publicidad)\b"
     r"(?! (?:a|al|para)\b(?! este (?:numero|telefono|celular)\b))"),
    ("no",
     r"\bno (?:(?:enviar|mandar)(?:me|nos)?|envien|manden|envies|mandes) mas" + OTHER_WAY
     + LAST),
    # favor de no escribir (más), with no object: ending the message, as "dejen de escribir"
    ("favor",
     r"\bfavor de no (?:escribir|contactar|textear|(?:mandar|enviar) (?:message|text))"
     r"(?: (?:mas|nunca|a este numero))*" + OTHER_WAY + LAST),
    # no escriban (más) a este número, ending the message: this number is us, as in "Favor de
    # no mandar mensajes a este número" ("... a este número después de las 6" is a limit,
    # "..., escriban al de mi esposa" a redirect)
    ("no",
     r"\bno (?:escriban|escriba|escribas|contacten|contacte|contactes)(?: (?:mas|nunca))*"
     r" a este (?:numero|telefono|celular)" + OTHER_WAY + LAST),
    # no me molesten (más): the imperative only, "no me molesta" is "it doesn't bother me"
    ("no",
     r"\bno (?:me|nos) (?:molesten|molestes|moleste|fastidien|fastidies)" + LAST),
    # no me vuelvas a escribir / no vuelvas a escribirme
    ("no",
     r"\bno (?:(?:me |m |nos )(?:vuelva|vuelvan|vuelvas) a (?:escrib|contact|text)\w*"
     r"|(?:vuelva|vuelvan|vuelvas) a (?:escribir|contactar|textear)(?:me|nos)\b)"),
    # ... a mandar (enviar) mensajes, the messages ending the clause: "No me vuelvan a mandar
    # mensajes de voz", "... mensajes al celular de mi esposo", "... tan temprano" are about
    # which messages, where or when
    ("no",
     r"\bno (?:(?:me |m |nos )(?:vuelva|vuelvan|vuelvas) a (?:mandar|enviar)"
     r"|(?:vuelva|vuelvan|vuelvas) a (?:mandar|enviar)(?:me|nos))"
     r"(?: (?:mas|sus|los|esos|estos|ningun|ningunos))* (?:message|text|notificaciones|spam"
     r"|" + ADS_ES + r")(?: (?:mas|nunca|jamas|por favor|porfa|gracias))*" + END
    ),
    # nunca más me escriban: the request only (the subjunctive), not "nunca más me escribió"
    ("nunca",
     r"\bnunca (?:mas )?(?:me |m |nos )(?:(?:(?:vuelvan|vuelvas|vuelva) a (?:escribir|contactar"
     r"|textear)|escriban|escribas|escriba|contacten|contactes"
     r"|contacte|texteen|textees|textee)(?: (?:mas|por favor|porfa|gracias))*" + END
     + r"|(?:manden|mandes|envien|envies)(?: (?:mas|sus|los|esos|estos))* (?:message|text"
     r"|notificaciones|spam|" + ADS_ES + r")(?: (?:mas|nunca|jamas|por favor|porfa|gracias))*"
     + END + r")"),
    # (two entries: only the second must end the message, so a question may ask the first:
    # "Ya no me manden mensajes, ¿ok?")
    ("no",
     r"\bno (?:me |m |nos )(?:" + KEEP_ON_ES + r" )?(?:envi|mand)" + _NOT_SENT_ES
     + r"\w* (?:(?:mas|nunca|ningun"
     r"|ninguno|ningunos|ninguna|ningunas|tantos|sus|estos|esos|los|las) )*(?:message|text"
     r"|notificaciones|nada|spam|publicidad)\b"
     # not to another place or phone, nor voice notes: "no me manden mensajes al whats, aquí
     # sí", "... al celular de mi esposo", "... de voz, mejor texto" (this number is us); nor
     # now only: "No me mandes msj ahorita, estoy en el trabajo"
     r"(?! (?:a|al|para)\b(?! este (?:numero|telefono|celular)\b)| de voz\b|"
     r" (?:(?:ahorita|ahora|en este momento)\b(?! ni\b)))"),
    ("no",
     r"\bno (?:me |m |nos )(?:" + KEEP_ON_ES + r" )?(?:envi|mand)" + _NOT_SENT_ES
     + r"\w*(?: mas" + LAST
     # ... our offers and promotions, ending the message ("Ya no me manden ofertas"), as "No
     # more offers": with more after them they may be bids for the job ("No me manden más
     # ofertas, ya elegí a Pedro"); a request only, not "Ya no me mandan ofertas" (they stopped)
     + r"|(?:(?<=manden)|(?<=mandes)|(?<=envien)|(?<=envies)|(?<=mandar)|(?<=enviar))"
     r"(?: (?:mas|sus|estas|esas|las|tantas))* " + OFFERS_ES + LAST + ")"),
    # quiero la baja / solicito mi baja: the whole message (after a greeting or thanks, see
    # LAST), or of the list or the messages anywhere ("quiero la baja de la lista"); not
    # "Quiero la baja, la alta es muy cara" nor, after other words, "No quiero la alta, quiero
    # la baja", "Planta alta o baja? Quiero la baja" (the lower one, of two floors or quotes)
    ("ya hola buenas buenos gracias muchas disculpe disculpa oye oiga quiero queremos quisiera"
     " deseo solicito pido",
     r"^(?:(?:ya|hola|buenas|buenos dias|buenas tardes|buenas noches|gracias|muchas gracias"
     r"|disculpe|disculpa|oye|oiga)(?: \|)? )*(?:quiero|queremos|quisiera|deseo|solicito|pido)"
     r" (?:la|mi) baja" + LAST),
    ("quiero queremos quisiera deseo solicito pido",
     r"\b(?:quiero|queremos|quisiera|deseo|solicito|pido) (?:la|mi|nuestra) baja (?:de|del)"
     r" (?:(?:la|los|las|sus|esta|este|su|mi) )?(?:lista|message|text|notificaciones|numero)\b"),
    # ... nada, ending the message (LAST): "Ya no quiero recibir nada de ustedes", as "Je veux
    # plus rien recevoir de vous" (not "No quiero recibir nada hasta el lunes")
    ("no",
     r"\bno (?:quiero|deseo|queremos|quisiera) recibir nada(?: mas)?"
     r"(?: de (?:ustedes|su parte|ti|tu parte))?" + LAST),
    # quiero darme de baja (not "... de la app", "... del plan de mantenimiento")
    ("darme darnos denme deme dame dennos me nos",
     r"\b(?:(?:darme|darnos|denme|deme|dame|dennos)|(?:me|nos) (?:\w+ ){0,2}?(?:dar|den|de|das"
     r"|dan|doy|damos)) de baja\b(?! (?:la|el|mi|una|un|su|esta|este|los|las)\b)"
     + NOT_OF_SOMETHING_ELSE),
    ("de",
     r"\bde baja (?:de|del) (?:(?:la|esta|su|sus|los|las) )?(?:lista|message|text"
     r"|notificaciones)\b"),
    # bórrame de la lista, Mexican "bájenme de la lista" (the imperative only: "me bajé de la
    # lista" says what the sender did)
    ("borr* quit* sac* saq* elimin* retir* remuev* me nos bajenme bajeme bajame bajennos bajanos",
     r"\b(?:(?:borr|quit|sac|saq|elimin|retir|remuev)\w*(?:me|nos)|(?:me|nos) (?:borr|quit|sac"
     r"|saq|elimin|retir|remuev)\w*|(?:borr|quit|sac|saq|elimin|retir|remuev)\w* (?:mi|este)"
     r" numero|bajenme|bajeme|bajame|bajennos|bajanos)"
     r" (?:de|del) (?:(?:la|su|esta|tu|sus|esa|el|este|ese|sus) )?(?:lista|listas|base"
     r"|contactos|sistema|registro|difusion)\b(?! de espera)"),
    # ya no quiero recibir mensajes
    ("no",
     r"\bno (?:quiero|deseo|quisiera|queremos) (?:(?:recibir|tener|mas|ningun|ninguno|ningunos"
     r"|ninguna|estos|estas|esos|esas|sus|tus|los|las) )*(?:message|text|notificaciones"
     r"|publicidad|promociones|spam)\b" + WHICH_MESSAGES),
    # "No recibir más mensajes", as opt-out menus word it, and "Prefiero no recibir más SMS",
    # "Quiero dejar de recibir mensajes": starting its clause only ("Tengo miedo de no recibir
    # más mensajes" fears losing them) and ending the message (LAST): not "Prefiero no
    # recibir mensajes en la mañana"
    ("| no prefiero preferiria quisiera deseo quiero dejar",
     r"(?:^|\| )(?:(?:prefiero|preferiria|quisiera|deseo|quiero) )?" + _ES_NO_MORE_RECEIVE
     + OTHER_WAY + LAST),
    # ... asked how, as "How do I stop getting these texts?" is: "¿Cómo hago para no recibir
    # más mensajes?", "¿Cómo dejo de recibir mensajes?", the question ending there (not "...
    # mensajes por la noche?")
    ("| como que",
     r"(?:^|\| )(?:como|que) (?:(?:(?:hago|le hago|puedo hacer|hacemos|podemos hacer) para"
     r"|puedo|podemos) " + _ES_NO_MORE_RECEIVE + r"|(?:dejo|dejamos|le dejo) de"
     + _ES_RECEIVE_MESSAGES
     # "¿Cómo le hago para que ya no me lleguen mensajes?", "... para que dejen de llegar"
     + r"|(?:hago|le hago|hacemos) para que (?:ya no (?:me|nos) lleguen|no (?:me|nos) lleguen mas"
     r"|dejen de llegar(?:me|nos)?) (?:(?:los|sus|estos|tus|mas) )*(?:message|text)\b"
     + WHICH_MESSAGES + r")(?: (?:por favor|porfa|gracias))*$"),
    ("no",
     r"\bno (?:quiero|deseo|quisiera|queremos) que (?:me|nos) (?:(?:sigan|siga|sigas|vuelvan a"
     r"|vuelva a|vuelvas a) )?(?:(?:escrib|contact|text)\w*|(?:mand|envi)\w* (?:(?:mas|los|sus"
     r"|estos) )*(?:message|text)\b)"),
    # ... nada, ending the message (not "... nada hasta el lunes", "..., ya pagué": the bill);
    # an entry of its own, so that the one above may still be asked ("..., ¿ok?")
    ("no",
     r"\bno (?:quiero|deseo|quisiera|queremos) que (?:me|nos) (?:(?:sigan|siga|sigas|vuelvan a"
     r"|vuelva a|vuelvas a) )?(?:mand|envi)\w* (?:mas )?nada(?: mas)?" + LAST),
    # (after a STOP or ALTO too: "Stop por favor no más mensajes")
    ("| ya por porfa stop alto no nunca",
     r"(?:^|\| )(?:(?:stop|alto|ya|por favor|porfa) )*(?:no|nunca) mas (?:message|text"
     r"|notificaciones|spam|" + ADS_ES + r")\b" + WHICH_MESSAGES),
    # "Alto a los mensajes", as "Alto a la violencia" says: ALTO with the messages, ours
    # (NOT_OURS_ES: not "... de error", "... del banco"), ending its clause
    ("alto",
     r"\balto a (?:(?:los|las|sus|tus|estos|estas|tantos|tantas|todos|todas) )+(?:message|text"
     r"|notificaciones|spam|" + ADS_ES + r")" + NOT_OURS_ES
     + r"(?: (?:por favor|porfa|xfa|xfavor|gracias|ya))*" + END),
    # estoy harto de sus mensajes, ya me cansé de sus mensajes, as "I'm sick of these texts":
    # only with "sus", "tus", "estos", "tantos" ("Estoy harta de los mensajes del banco" are
    # someone else's); Mexican "estoy hasta la madre (el gorro, la coronilla) de sus mensajes"
    ("harto harta hartos hartas cansado cansada cansados cansadas harte canse hasta",
     r"(?:(?:(?<=\bestoy )|(?<=\bestamos )|(?<=\bando )|(?<=\bandamos ))(?:(?:hart|cansad)[oa]s?"
     r"|hasta (?:la madre|el gorro|la coronilla|el copete))"
     r"|(?<=\bme )(?:harte|canse)) (?:de|con) (?:sus|tus|estos|esos|tantos|tanto|todos sus"
     r"|todos estos) (?:message|text|notificaciones|spam|" + ADS_ES + r")\b" + WHICH_MESSAGES
     + NOT_OURS_ES),
    # "pongan fin a los mensajes", as "put an end to the texts"
    ("pongan ponga pon poner",
     r"\b(?:pongan|ponga|pon|poner) fin a (?:(?:los|sus|estos|esos|tus|tantos) )?(?:message"
     r"|text|notificaciones|spam|" + ADS_ES + r")\b" + NOT_OURS_ES),
    # basta de mensajes; Mexican "párenle con los mensajes"
    # ("para", also "for", with "ya" only: "para ya con los mensajes")
    ("basta parenle parale parele paren pare para",
     r"\b(?:basta|parenle|parale|parele|paren|pare|para(?= ya\b)) (?:ya )?(?:de|con)"
     r" (?:(?:los|tantos|sus|tus|esos"
     r"|estos) )?(?:message|text|notificaciones|spam|" + ADS_ES + r")\b"),
    # ... or anywhere with the messages: "déjenme en paz con sus mensajes"
    ("dejame dejenme dejeme dejanos dejennos",
     # (the messages ending the clause: not "... con sus mensajes de voz y mándenme texto",
     # "... con los mensajes del banco"; nor what someone else said: "Me dijo: ...")
     r"(?<!dijo \| )\b(?:dejame|dejenme|dejeme|dejanos|dejennos) (?:en paz"
     r"|tranquil[oa]s?) con (?:(?:sus|tus|los|tantos|tanto|esos|estos) )?(?:message|text"
     r"|notificaciones|spam|" + ADS_ES + r")(?: (?:por favor|porfa|gracias|ya))*" + END),
    ("dejame dejenme dejeme dejanos dejennos",
     # ending the message (see LAST), as "leave me alone"
     r"\b(?:dejame|dejenme|dejeme|dejanos|dejennos) (?:en paz|tranquil[oa]s?)"
     r"(?: (?:de una vez(?: por todas)?|para siempre))?" + LAST),
    # desuscríbanme / me quiero desabonar (not "... de los correos", "... de la app"); not the
    # French "désabonner", FR's ("desabonn" with two n, or one before "-ez", "-er")
    # (also with the b of "subscribe": "desubscribirme")
    ("desuscri* desubscri* desinscrib* desabon*",
     r"\b(?:desub?scri|desinscrib|desabon(?!n|ez\b|er\b))\w*\b" + NOT_OF_SOMETHING_ELSE
     + NOT_OF_SOMEONE_ELSE),
    # formal Spanish: absténganse de escribirme, no deseo ser contactado, cesen toda
    # comunicación
    ("abstenganse abstengase abstengan abstenga",
     r"(?:\babstenganse|\babstengase|(?<=\bse )abstengan|(?<=\bse )abstenga) de (?:(?:escribir"
     r"|contactar|textear"
     r"|molestar)(?:me|nos)|(?:enviar|mandar)(?:me|nos) (?:(?:mas|sus|los) )?(?:message|text))\b"),
    ("no",
     r"\bno (?:deseo|quiero|deseamos|queremos) ser (?:contactad|molestad)[oa]s?\b"),
    ("cesen cese detengan suspendan",
     r"\b(?:cesen|cese|detengan|suspendan) (?:(?:toda|cualquier) comunicacion\b"
     # "todo contacto" with us only, ending its clause: not "Suspendan todo contacto con el
     # proveedor viejo", "Que el perro cese todo contacto con la cerca"
     r"|todo contacto(?: (?:conmigo|con nosotros|por favor|porfa|gracias))*" + END + ")"),
    ("revoc* retir* anul*",
     r"\b(?:revoc|retir|anul)\w* (?:mi |el )?(?:consentimiento|autorizacion)\b"),
    # no doy mi consentimiento para recibir mensajes
    ("no",
     r"\bno (?:doy|damos|otorgo) (?:mi|nuestro|el) consentimiento (?:para|a) recibir"
     r"(?: (?:mas|los|sus|estos|ningun|ningunos))* (?:message|text|notificaciones)\b"),
    # eliminen mi número / borren este número (the whole clause: "borren este número del
    # presupuesto" is about the quote)
    ("borr* elimin* quit*",
     r"\b(?:borr|elimin|quit)\w* (?:mi numero|mi telefono|mis datos|este numero)"
     r"(?: (?:por favor|porfa|gracias))*" + END),
    # ... or "bórrenme", "elimínenme" alone (with courtesy only), ending the message (see LAST),
    # as "remove me"
    ("borr* elimin* quit* saqu* sacame",
     r"(?:^|(?<=\| )|(?<=\bpor favor )|(?<=\bporfa )|(?<=\bya )|(?<=\bpero ))(?:borrenme"
     r"|borreme|borrame|eliminenme|elimineme|eliminame"
     # ... and "sáquenme", "quítenme" alone, as "remove me": "Gracias, pero sáquenme por
     # favor" (not "Sáquenme de aquí", "Quítenme del horario del viernes", "Quítenme por favor,
     # no puedo el lunes": the schedule)
     r"|saquenme|saqueme|sacame|quitenme|quiteme|quitame)(?: (?:por favor|porfa|gracias))*"
     + LAST),
    # "Olvídense de mi número", as "forget my number": starting its clause and ending the
    # message (see LAST); not "olvide" ("olvidé mi número": I forgot it)
    ("| por porfa ya olvidense olvidate olvidese olviden olvida",
     r"(?:^|\| )(?:(?:por favor|porfa|ya) )*(?:(?:olvidense|olvidate|olvidese) de|olviden|olvida)"
     r" (?:mi|este) numero" + LAST),
]
