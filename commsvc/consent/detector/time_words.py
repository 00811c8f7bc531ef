"""Units of time and amounts of them in en/fr/es, shared by the rules that read how long ago
the sender asked and how long a revocation is limited to."""
from __future__ import annotations

# Units of time and amounts of them, in en/fr/es: one vocabulary for how long ago the sender
# asked ("a week ago", "il y a une heure", "hace un mes": PAST_TIME), how long a revocation is
# limited to ("for a month", "pendant un mois", "por un mes": _TIME_UNIT) and how many times
# the sender asked ("fifteen times": TIMES).
UNIT = (r"(?:sec|secs|second|seconds|moment|moments|min|mins|minute|minutes|hr|hrs|hour|hours"
        r"|while|bit|day|days|night|morning|afternoon|evening|weekend|week end|week|weeks|month"
        r"|months|seconde|secondes|heure|heures|jour|jours|journee|soiree|semaine|semaines|mois"
        r"|segundo|segundos|momento|momentito|minuto|minutos|hora|horas|rato|ratito|dia|dias"
        r"|semana|semanas|mes|meses|finde|fin de semana)")
NUMBER = (r"(?:one|two|three|four|five|ten|fifteen|twenty|thirty|deux|trois|quatre|cinq|dix"
          r"|quinze|vingt|trente|dos|tres|cuatro|cinco|diez|quince|veinte|treinta)")
# "a", "a few", "a couple (of)" in the three languages: an amount of a unit
FEW = r"(?:an?|un|une|una|unos|unas|quelques|a few|a couple|a couple of)"
_AGO_AMOUNT = rf"(?:(?:{FEW}|several|many|{NUMBER}|\d+) )?"
# A whole clause that says the sender asked before, in en/fr/es: "I told you yesterday", "I said
# stop a week ago", "I asked you to stop", "How many times", "For the last time", "Je vous
# l'ai déjà dit", "J'ai dit stop hier", "Combien de fois", "Ya te dije", "Te dije que pares",
# "¿Cuántas veces?", "Otra vez". A past time may end it (when they asked: "yesterday", "a week
# ago", "il y a une heure", "hace una semana"), never anything else: "I said no", "I told you
# the gate code", "I said I'd come" are about the job. Each part at most once, so it cannot
# backtrack.
PAST_TIME = (r"(?:yesterday|earlier|before|this morning|this afternoon|last (?:week|night"
             r"|month|time)|on (?:mon|tues|wednes|thurs|fri|satur|sun)day|ages ago"
             rf"|{_AGO_AMOUNT}{UNIT} ago|hier|ce matin|la semaine derniere|avant"
             rf"|tout a l heure|deja|il y a {_AGO_AMOUNT}{UNIT}|ayer|esta manana|antes"
             rf"|la semana pasada|hace {_AGO_AMOUNT}{UNIT})")
# A count of times, in en/fr/es ("3 times", "trois fois", "3 veces"), counts as "how many
# times" does, with "already" after it ("I told you 3 times already").
# (or no figure: "multiple times", "several times", "maintes fois", "varias veces")
TIMES = (rf"(?:(?:\d+|{NUMBER}|a hundred|a million|a thousand|cent|mille|plusieurs|cien|mil"
         r"|muchas|tantas|multiple|several|countless|numerous|maintes|varias|multiples)"
         r" (?:times|fois|veces)(?: already| deja| ya)?)")
HOW_OFTEN = (r"(?:already|again|twice|(?:so )?many times|" + TIMES + ")")
# When, in the week or the day, texts are unwanted, in en/fr/es: a limit in time to a
# revocation ("stop texting me in the morning", "Arrêtez de m'écrire les fins de semaine",
# "Deja de escribirme los domingos") and, before a request to be texted elsewhere, what makes
# that request a limit too ("Don't text me on Sundays, text my cell"). The days with their
# plurals; the parts of the day with what says which ("in the", "le", "por la"): "I work
# nights" or "toute la journée" (all day long) are no limit. Shared by limits.py and vetoes.py.
WHEN = (r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)days?|weekdays|weekends"
        r"|(?:on|over|during) (?:the |a )?(?:weekend|week end|weekday)"
        r"|lundis?|mardis?|mercredis?|jeudis?|vendredis?|samedis?|dimanches?|lunes|martes"
        r"|miercoles|jueves|viernes|sabados?|domingos?"
        r"|(?:in|during) the (?:mornings?|afternoons?|evenings?|night|week)"
        r"|in the middle of the night|at (?:night|lunch|dinner|dinnertime|bedtime)"
        r"|(?:le|les) (?:matins?|soirs?|midis?|nuits?|week ends?)|la nuit"
        r"|(?:la|les|en) fins? de semaine|en (?:semaine|soiree|matinee)|de nuit"
        r"|(?:en|por) (?:la|las) (?:mananas?|tardes?|noches?)|de noche|de madrugada"
        r"|(?:el|los) fin(?:es)? de semana|entre semana|temprano)")
