"""The themes on real answers: no catch-all theme, what cannot be placed counted as « non
classés », labels in the words people wrote, the same texts giving the same themes."""

from __future__ import annotations

import json
import re

from tests.domain.test_synthesis_build import DATA
from workflows.syntheses import themes
from workflows.syntheses.text import lemmas


def largest_question() -> list[str]:
    """The answers of the Grand Débat's most answered question (726 real texts, of which
    many say little: « Aucun », « non »)."""
    answers = json.loads((DATA / "grand-debat-answers-2019.json").read_text())
    by_question: dict[str, list[str]] = {}
    for answer in answers:
        by_question.setdefault(answer["questionIndex"], []).append(answer["reponse"])
    return max(by_question.values(), key=len)


def test_no_theme_holds_more_than_a_quarter_and_the_rest_is_counted():
    texts = largest_question()
    found = themes.find([lemmas(t) for t in texts], texts, most=10)
    assert len(found) >= 5
    assert max(t.size for t in found) <= 0.25 * len(texts)
    assert found.unassigned > 0  # the method had to leave some: they are counted
    placed = [i for t in found for i in t.members]
    assert len(placed) == len(set(placed)) == sum(t.size for t in found)
    assert found.unassigned == len(texts) - len(placed)
    for theme in found:
        assert 1 <= len(theme.representatives) <= themes.QUOTES
        assert set(theme.representatives) <= set(theme.members)


def test_labels_are_words_the_contributions_wrote():
    texts = largest_question()
    found = themes.find([lemmas(t) for t in texts], texts, most=10)
    for theme in found:
        written = " ".join(" ".join(texts[i].lower().split()) for i in theme.members)
        for term in theme.terms:
            assert term in written, (term, theme.terms)  # never a lemma nobody wrote
        assert theme.label == " · ".join(theme.terms[:3])


def test_a_lemma_pair_is_written_back_as_people_write_it():
    texts = [
        "Il faut des transports en commun dans les villages.",
        "Plus de transports en commun, moins de voitures.",
        "Le transport commun coûte cher.",
        "Les impôts sont trop lourds; l'impôt sur le revenu aussi. Des impôts justes !",
    ]
    assert themes.readable(["transport commun", "impôt", "voiture", "absent"], texts) == [
        "transports en commun",
        "impôts",
        "voitures",
    ]
    assert themes.readable(["absent"], texts) == ["absent"]


def test_the_same_texts_give_the_same_themes():
    texts = largest_question()
    words = [lemmas(t) for t in texts]
    first, again = themes.find(words, texts, most=10), themes.find(words, texts, most=10)
    assert [(t.terms, t.members, t.representatives) for t in first] == [
        (t.terms, t.members, t.representatives) for t in again
    ]
    assert first.unassigned == again.unassigned


def test_too_few_texts_give_no_theme_and_all_unassigned():
    texts = ["Des pistes cyclables.", "Un bus le dimanche."]
    found = themes.find([lemmas(t) for t in texts], texts)
    assert list(found) == [] and found.unassigned == 2
    assert not re.search(r"\bnmf\b", themes.__doc__ or "", re.IGNORECASE)
