"""French text made ready for counting: words, their lemmas (simplemma), without the words
that say nothing (spaCy's French stop words and the consultation's own filler)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import simplemma
from spacy.lang.fr.stop_words import STOP_WORDS

WORD = re.compile(r"[a-zàâäçéèêëîïôöûùüÿñæœ]+(?:['’-][a-zàâäçéèêëîïôöûùüÿñæœ]+)*")
ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’]")

#: Words every contribution uses, whatever it is about.
FILLER = frozenset(
    """
    être avoir faire falloir pouvoir devoir vouloir aller dire mettre prendre donner voir
    savoir permettre rendre trouver passer venir croire penser sembler rester laisser
    chose fois cas exemple etc ainsi aussi très plus moins bien tout tous toute toutes
    autre autres même mêmes chaque certain certains certaine certaines beaucoup peu
    notamment afin encore déjà toujours jamais souvent non oui car donc alors cela ceci
    ça celui celle ceux celles leur leurs notre nos votre vos mon ton son ses sa
    aujourd'hui aujourd’hui demain hier actuel actuellement nouveau nouvelle gens
    contre pour sans entre vers chez depuis pendant selon
    """.split()
)
STOP = frozenset(STOP_WORDS) | FILLER


def words(text: str) -> list[str]:
    """The words of ``text`` in lower case, as they are (no accent-insensitive tricks)."""
    return WORD.findall(unicodedata.normalize("NFC", text.lower()))


@cache
def lemma(word: str) -> str:
    return simplemma.lemmatize(word, lang="fr")


def meaning(word: str) -> str | None:
    """The lemma of a lower-case ``word``, or None for a word that says nothing."""
    word = ELISION.sub("", word)
    if len(word) < 3 or word in STOP:
        return None
    base = lemma(word)
    if len(base) < 3 or base in STOP:
        return None
    return base


def lemmas(text: str) -> list[str]:
    """The meaningful lemmas of ``text``, in order (``meaning`` inlined: this loop runs over
    every word of every contribution, a function call per word costs a fifth more)."""
    found = []
    for word in words(text):
        word = ELISION.sub("", word)
        if len(word) < 3 or word in STOP:
            continue
        base = lemma(word)
        if len(base) < 3 or base in STOP:
            continue
        found.append(base)
    return found


def spans(text: str) -> list[tuple[str, int, int]]:
    """The meaningful lemmas of ``text`` with where their words stand in it (start, end):
    to write a lemma back as the word a person wrote (the elided article left out)."""
    found = []
    text = unicodedata.normalize("NFC", text)
    for match in WORD.finditer(text.lower()):
        base = meaning(match.group())
        if base is not None:
            elided = ELISION.match(match.group())
            start = match.start() + (elided.end() if elided else 0)
            found.append((base, start, match.end()))
    return found
