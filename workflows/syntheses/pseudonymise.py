"""Quotes safe to publish: person names (spaCy's French named-entity recognition), email
addresses, phone numbers and street addresses replaced by markers. Nothing else is changed."""

from __future__ import annotations

import re
from functools import cache

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:(?:\+|00)33[\s.-]?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
STREET = re.compile(
    r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|chemin|impasse|allée|"
    r"allées|place|route|quai|cours|lotissement|résidence|square|passage|voie)\b"
    r"[^\n,.;:!?()]{0,60}",
    re.IGNORECASE,
)
MARKERS = {"name": "[nom]", "email": "[courriel]", "phone": "[téléphone]", "address": "[adresse]"}


@cache
def _nlp():
    import spacy

    # Only the entity recognizer is needed: the rest of the pipeline stays off.
    return spacy.load("fr_core_news_sm", disable=["parser", "lemmatizer", "attribute_ruler"])


def pseudonymise(text: str, known_names: tuple[str, ...] = ()) -> str:
    """``text`` with people's names, emails, phones and street addresses replaced."""
    text = EMAIL.sub(MARKERS["email"], text)
    text = PHONE.sub(MARKERS["phone"], text)
    text = STREET.sub(MARKERS["address"], text)
    for name in known_names:
        if len(name) >= 3:
            text = re.sub(rf"\b{re.escape(name)}\b", MARKERS["name"], text, flags=re.IGNORECASE)
    doc = _nlp()(text)
    for entity in reversed([e for e in doc.ents if e.label_ == "PER"]):
        text = text[: entity.start_char] + MARKERS["name"] + text[entity.end_char :]
    return text
