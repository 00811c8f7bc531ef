"""Anywhere in the message: a mistake, another person or number to text, a one-time call, or
wanting the texts after all; each makes a revocation conversation."""
from __future__ import annotations

import re

from commsvc.consent.detector.time_words import WHEN

# Where a request of the sender's own starts: the message or a clause, or after "just",
# "please", "and", "but" (et, y, mais, pero): "..., but keep me posted", "just text me directly";
# not "my wife will keep me posted", "no need to keep me updated"
# (or a word that starts a sentence: "Unsubscribe? Actually I want the reminders", "Lol I want
# the updates")
_CLAUSE_LEAD = (r"(?:(?<=\| )|(?<!.)|(?<=\bjust )|(?<=\bplease )|(?<=\band )|(?<=\bbut )"
                r"|(?<=\bet )|(?<=\by )|(?<=\bmais )|(?<=\bpero )|(?<=\bactually )|(?<=\bhonestly )"
                r"|(?<=\bwell )|(?<=\bwait )|(?<=\bok )|(?<=\bokay )|(?<=\boh )|(?<=\blol )"
                r"|(?<=\bhaha )|(?<=\bhmm )|(?<=\bso ))")
# ... or asked of us in so many words: "..., but do keep me updated", "you can keep me posted",
# "could you keep me posted" (not "my wife will keep me posted")
_ASKED_LEAD = (_CLAUSE_LEAD[:-1] + r"|(?<=\bdo )|(?<=\byou can )|(?<=\byou could )"
               r"|(?<=\bcan you )|(?<=\bcould you )|(?<=\bwill you )|(?<=\bwould you ))")
# ... or answering: "No, I want the reminders", "¿Baja? No, sí quiero los recordatorios"
# (not after the Spanish "no", which denies the verb: "no quiero los mensajes")
_ANSWER_LEAD = (_CLAUSE_LEAD[:-1] + r"|(?<=\bsi )|(?<=\byes )|(?<=\boui )|(?<=\bnon ))")
_ANSWER_LEAD_EN = _ANSWER_LEAD[:-1] + r"|(?<=\bno )|(?<=\bnah )|(?<=\bnope ))"
# ... not asked and refused in the next sentence: "Text me directly? No. Stop", "Call me
# instead? No. Stop texting me"
# (a "no" of its own: not "..., email me instead, no texts during work")
_REFUSED = (r"(?!(?: instead| plutot| a la place| mejor)? \| (?:(?:lol|haha|hell|oh|jaja|mdr) )?"
            r"(?:no|nope|nah|non|never|no way|jamais|nunca|nel)"
            r"(?: (?:thanks|thank you|merci|gracias))?(?: \||$))")
# Having a call instead, proposed: "do a quick call", "hop on a call", "se faire un appel",
# "hacer una llamada"
_HAVE_A_CALL = (r"(?:do|have|hop on|jump on|get on|set up) a (?:quick |short )?(?:phone |video )?"
                r"call|(?:se )?faire un (?:petit )?appel|(?:hacer|hacernos|echarnos) una llamada")
# Anywhere: the sender says it was a mistake, or redirects us to someone or somewhere else
# ("don't text me, text my husband"): that is conversation, not a revocation.
VETO_RE = re.compile(
    r"\b(?:by (?:accident|mistake)|accidentally|resubscribe|didnt mean to|did not mean to"
    r"|par erreur|sans faire expres|por error|sin querer"
    # ... or that they ask for someone else, whose number this is not: "Is STOP the word to
    # unsubscribe? Asking for my mom", "Je demande pour ma mère", "Pregunto por mi mamá" (not
    # "asking for a friend", said of oneself, nor "... for my wife too", "... and me")
    r"|(?:asking|ask|je demande|demande|pregunto|lo pregunto) (?:for|pour|por) (?:my|ma|mon|mes|mi"
    r"|mis) (?:\w+ )?(?:mom|mum|mother|dad|father|parents|wife|husband|son|daughter|neighbou?r"
    r"|grandma|grandpa|grandmother|grandfather|sister|brother|friend|tenant|mere|pere|femme"
    r"|mari|voisine?|fille|fils|grand mere|grand pere|soeur|frere|amie?|locataire|mama|papa"
    r"|papas|esposa|esposo|vecina|vecino|hija|hijo|abuela|abuelo|hermana|hermano|amiga|amigo"
    r"|inquilino|inquilina)\b(?! (?:too|as well|also|aussi|tambien)\b"
    # ... nor for them and the sender: "Asking for my mom and me", "... pour ma mère et moi",
    # "... por mi mamá y por mí"
    r"| (?:and (?:me|myself|for me)|et (?:moi|pour moi))\b| y (?:por |para )?(?:mi|yo)(?= \||$"
    r"| tambien))"
    # ... or that they want the texts after all: "Unsubscribe? No, I want the reminders", "Je
    # veux garder les rappels", "Sí quiero los recordatorios": the texts ending the clause or
    # before "but", "for", "just" (not "I want the texts deleted", "... to stop", "... gone")
    # (each alternative that starts with a lookbehind puts a lookahead of its first words before
    # it: VETO_RE is tried at every position, and a lookahead fails faster)
    # (said by the sender, see _CLAUSE_LEAD, or as the answer "no, I want them": not "Why
    # would I want these texts? Stop", "I don't think I need the reminders", "If I want the
    # reminders, I'll let you know")
    r"|(?:(?=i |we )" + _ANSWER_LEAD_EN + r"(?:i|we) (?:still )?(?:want|need|like)"
    r" (?:to (?:keep|get) )?"
    r"(?:the|these|your|my|those) (?:(?:job|appointment|project|work|service|booking) )?"
    r"(?:text|message|reminders|notifications|alerts|updates)"
    r"|(?=je |on )" + _ANSWER_LEAD + r"(?:je|on) (?:veux|veut|voudrais|prefere)"
    r" (?:garder |recevoir |avoir )?(?:les|vos)"
    r" (?:text|message|rappels|notifications)"
    r"|(?=quiero |queremos |necesito )" + _ANSWER_LEAD + r"(?:quiero|queremos|necesito)"
    r" (?:seguir recibiendo )?(?:los|sus) (?:message"
    r"|text|recordatorios|notificaciones))"
    r"(?= \||$| (?:but|just|for|though|still|mais|juste|pour|pero|solo|para)\b)"
    # ... or to be kept posted: "Could you stop the automated reminders? ... but keep me posted
    # on the job", "Tenez-moi au courant", "Manténganme informado" (asked of us, see
    # _CLAUSE_LEAD; nor another way: "... by email", "... via email", "... in the app")
    r"|(?=keep |tenez |tiens |mantengan|mantenme|mantengame|gardez |garde )" + _ASKED_LEAD +
    r"(?:keep (?:me|us) (?:posted|updated|informed|in the loop)|(?:tenez|tiens) (?:moi|nous)"
    r" au courant|(?:mantenganme|mantenme|mantengame|mantenganos) (?:informad[oa]s?|al tanto)"
    # ... or the texts of the job kept: "Stop sending me promotions, but keep the appointment
    # reminders", "Plus de pubs svp, mais gardez les rappels"
    # ... or to have them keep coming: "Unsubscribe? lol no, keep em coming"
    r"|keep (?:them|em|those|these|the (?:text|message|reminders|updates)) coming"
    r"|keep (?:sending (?:me |us )?)?(?:the|my|those|your) (?:(?:appointment|job|project"
    r"|service|booking) )?(?:reminders|updates|notifications|text|message)"
    r"(?! to (?:yourself|yourselves|urself))"
    r"|(?:gardez|garde) (?:les|mes|vos) (?:notifications|message|text|mises a jour))"
    r"(?! (?:by|par|por|via|through|thru|over|in|on|sur|dans|en) (?:the |l |la |le |el |your )?"
    r"(?:e ?mail|mail|courriel|correo|phone|telephone|app|application|aplicacion|portal"
    r"|portail|website|site|letter|lettre|carta)\b)" + _REFUSED +
    # "plus de textes" (more texts) set against less in another clause, before or after it, or
    # against calls the sender cannot hear: "Plus de textes, moins d'appels", "Moins d'appels,
    # plus de textes", "Plus de textes svp, j'entends pas"
    r"|moins(?<![^|] moins)\b.* \| (?:(?:svp|merci|stp) )?plus de (?:message|text)\b"
    r"|(?=svp |merci |stp |plus de )(?:(?<=\| )|(?<!.))(?:(?:svp|merci|stp) )?plus de"
    r" (?:message|text|notifications)\b.* \| (?:moins\b"
    r"|(?:je |j )?(?:n )?(?:entends|entend|ecoute) (?:pas|rien|mal)\b|(?:je )?suis (?:sourde?"
    r"|malentendante?)\b"
    # ... or that they help: "Plus de rappels svp, j'oublie tout", "..., c'est pratique"
    r"|(?:je |j )(?:oublie|oublies)\b|c est (?:pratique|utile|super|parfait|genial)\b"
    r"|ca (?:m )?aide\b)"
    # ... or to the sender alone: "¿Pueden dejar de mandar mensajes al grupo y solo a mí?"
    r"|(?:solo|solamente|nomas|juste|seulement|only|just) (?:a mi|a moi|to me)\b"
    # ... or a proposal to talk on the phone instead: "On peut arrêter les textos et se parler
    # au téléphone?", "Could we stop texting and just talk on the phone?", "Enough texting,
    # let's talk on the phone", "Basta de mensajes, hablemos por teléfono"
    # (or have a call: "Can we stop texting and just do a quick call?", "..., hacer una
    # llamada", "... et se faire un appel")
    r"|(?=(?:se |nous )?(?:parler|jaser) (?:au|par) telephone|hablar por telefono"
    r"|talk (?:on|over|by) (?:the )?phone|" + _HAVE_A_CALL + r")(?:(?<=\bet )|(?<=\by )"
    r"|(?<=\band )|(?<=\band just )"
    r"|(?<=\bet juste )|(?<=\by solo )|(?<=\blet s )|(?<=\blets ))"
    r"(?:(?:se |nous )?(?:parler|jaser) (?:au|par) telephone|hablar por telefono"
    r"|talk (?:on|over|by) (?:the )?phone|" + _HAVE_A_CALL + ")"
    r"|hablemos por telefono|(?:parlons|on se parle) (?:au|par) telephone"
    # ... or to be texted on this number: "Don't text my old phone, use this number"
    # (another person or number of the sender's is no redirection: "Don't text me, text my
    # husband", "..., use my other number" ask not to be texted here, a revocation)
    r"|(?:use|try) this (?:number|phone|cell|line|one|account)\b"
    # ("Merci de ne plus me contacter sur mon ancien numéro, utilisez celui-ci", "No me
    # escriban al número viejo, usen este número")
    r"|(?:utilisez|utilise|prenez) (?:celui ci|ce numero|ce cell|ce cellulaire)\b"
    r"|(?:usen|use|usa|utilicen|utilice) este (?:numero|celular|cel|telefono)\b"
    # ... or another number of theirs for when or where the clause before said not to text
    # them, a limit (the number alone revokes this one: "Use my cell"): "Don't text me at work,
    # text my cell", "Don't text me before 8, text my cell", "No me escriba en la mañana,
    # escríbame al celular", "Ne m'écrivez pas au bureau, écrivez sur mon cell", "Don't text
    # me on Sundays, text my cell" (the days and parts of the day: WHEN)
    r"|(?:before|after|until|till|during|while|when|tonight|today|tomorrow|at (?:work|school"
    r"|the office)|avant|apres|jusqu|pendant|quand|ce soir|aujourd hui|demain"
    r"|au (?:travail|bureau)|a (?:la job|l ecole)|antes|despues|hasta|durante|cuando|mientras"
    r"|hoy|manana|esta noche|(?:al|en el) trabajo|en la (?:oficina|escuela)"
    # ... or the sender's work number texted, as "at work": "Stop sending to my work number,
    # text my cell", "Arrêtez d'envoyer les messages à mon numéro du travail, écrivez sur mon
    # cell", "Dejen de mandar mensajes a mi número del trabajo, escríbanme al celular" (not
    # said to be this one: "Don't text me, this is my work number, use my cell" revokes it)
    r"|(?<!\bis )(?<!\bs )(?<!\best )(?<!\bes )(?:my|the|mon|le|au|mi|el|al)"
    r" (?:(?:work|office|business) (?:number|phone|cell|line)"
    r"|numero (?:du |de |d )?(?:travail|bureau|job)"
    r"|(?:numero|telefono|celular) (?:del|de mi|de la) (?:trabajo|oficina))(?! (?:is|s|est|es)\b)"
    r"|" + WHEN
    + r")\b[^|]{0,30} \|"
    r"(?: (?:please|just|svp|juste|plutot|mejor|porfa))* (?:(?:use|text|message) my"
    r"|(?:ecrivez|ecris|textez|texte|envoyez|envoie|utilisez)(?: moi)?(?: sur| a| au)? (?:mon|ma)"
    r"|(?:escrib|mand|envi|textee|usen|use|usa)\w*(?: al| a mi| mi))\b"
    # ... or to the sender alone, out of a group or from the pro in person: "Take me off the
    # group text, just text me directly", "Dejen de mandar mensajes al grupo, mándenme
    # directo", "Stop the automated texts pls, just text me yourself"
    r"|(?=(?:text|message|write to|email) (?:me|us) )"
    + _CLAUSE_LEAD +
    r"(?:text|message|write to|email) (?:me|us) (?:directly|separately|individually|privately"
    # (not asked and refused: "Text me directly? No. Stop")
    r"|yourself|personally)" + _REFUSED +
    r"|(?:ecrivez|textez|envoyez) moi (?:directement|en prive|separement)" + _REFUSED +
    r"|(?:escrib|mand|envi|textee)\w*me (?:directo|directamente|por separado|aparte|en privado)"
    + _REFUSED +
    # "... from the old plumber, only you" (the whole message ends so), "Je ne veux plus de
    # textes de Marc, juste de vous", "No quiero mensajes del otro plomero, solo de ustedes"
    r"|from\b[^|]{1,40}(?: \|)? (?:only|just) (?:you|from you)$"
    r"|\b(?:de|del)\b[^|]{1,40}(?: \|)? (?:juste|seulement|que|solo|solamente) de (?:vous|ustedes)$"
    # ... or a call asked for at a time, for one occasion: "Don't text, call me when you're
    # outside", "No me escriba, llámeme cuando llegue", "..., call me at 5" (not "when you
    # can", "when you get a chance": any time)
    # (asked: not "Never call me after 9")
    r"|(?<!\bdont )(?<!\bnever )(?<!\bnot )(?<!\bno me )(?<!\bnunca me )(?:call|phone|ring"
    r"|appelle|appelez|llamame|llameme|llamenme|marcame|marquenme)(?: (?:me|us|moi|nous))?"
    r" (?:(?:when|once|quand|lorsque|cuando)\b(?!(?: \w+)? (?:can|chance|want|like|peux|pouvez"
    r"|veux|voulez|puedas?|puedan|quieras?|quieran)\b)"
    r"|(?:at \d|a \d|a las|after|before|tomorrow|tonight|later|in the morning|apres|avant"
    r"|demain|ce soir|plus tard|despues|antes|manana|mas tarde|en la manana)\b)"
    r")")
