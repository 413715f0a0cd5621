"""The themes of what was said: non-negative matrix factorisation (NMF) of the TF-IDF of
the contributions' lemmas — each theme a few top terms, its size (the contributions it
weighs most in) and the contributions that represent it best. Deterministic: the same texts
in the same order give the same themes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import sqrt

import numpy as np
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

MIN_DOCUMENTS = 6  # fewer texts than this: their top terms, no themes
TERMS = 8
QUOTES = 3


@dataclass
class Theme:
    terms: list[str]
    size: int
    members: list[int] = field(default_factory=list)  # indexes, best first
    representatives: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " · ".join(self.terms[:3])


def how_many(documents: int, most: int) -> int:
    """The number of themes for a corpus: grows as its square root, 2 to ``most``."""
    return max(2, min(most, round(sqrt(documents / 15))))


def find(lemmas: Sequence[list[str]], texts: Sequence[str], *, most: int = 8) -> list[Theme]:
    """Themes of the documents (their lemmas; their texts choose the representatives)."""
    useful = [i for i, words in enumerate(lemmas) if words]
    if len(useful) < MIN_DOCUMENTS:
        return []
    corpus = [" ".join(lemmas[i]) for i in useful]
    vectoriser = TfidfVectorizer(
        token_pattern=r"\S+",
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.6,
        max_features=30_000,
        sublinear_tf=True,
        dtype=np.float32,
    )
    try:
        matrix = vectoriser.fit_transform(corpus)
    except ValueError:  # every term in a single document, or in all of them
        return []
    if matrix.shape[1] < 4:
        return []
    k = min(how_many(len(useful), most), matrix.shape[1] - 1, len(useful) - 1)
    model = NMF(n_components=k, init="nndsvd", max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weights = model.fit_transform(matrix)
    vocabulary = vectoriser.get_feature_names_out()
    best = weights.argmax(axis=1)
    strength = weights.max(axis=1)
    themes = []
    for topic in range(k):
        order = np.argsort(-model.components_[topic])
        terms = _distinct_terms([str(vocabulary[j]) for j in order[: TERMS * 2]])
        members = [int(i) for i in np.flatnonzero((best == topic) & (strength > 0))]
        if not members:
            continue
        members.sort(key=lambda i: (-float(weights[i, topic]), i))
        theme = Theme(terms=terms[:TERMS], size=len(members), members=[useful[i] for i in members])
        theme.representatives = _representatives(theme.members, texts)
        themes.append(theme)
    themes.sort(key=lambda t: (-t.size, t.terms))
    return themes


def _distinct_terms(terms: list[str]) -> list[str]:
    """Top terms without a word repeated inside a bigram already shown."""
    shown: list[str] = []
    for term in terms:
        words = set(term.split())
        if any(words <= set(other.split()) or set(other.split()) <= words for other in shown):
            continue
        shown.append(term)
    return shown


def _representatives(members: list[int], texts: Sequence[str]) -> list[int]:
    """The best-weighted members that read well as a quote (neither a word nor a page) and
    do not repeat one another."""
    chosen: list[int] = []
    seen: list[set[str]] = []
    for i in members[:100]:
        if not 60 <= len(texts[i]) <= 700:
            continue
        words = set(texts[i].lower().split())
        if any(len(words & other) / len(words | other) > 0.5 for other in seen):
            continue
        chosen.append(i)
        seen.append(words)
        if len(chosen) == QUOTES:
            break
    return chosen or members[:QUOTES]


def top_terms(lemmas: Sequence[list[str]], limit: int = TERMS) -> list[str]:
    """For a few documents: their most frequent lemmas."""
    counts: dict[str, int] = {}
    for words in lemmas:
        for word in set(words):
            counts[word] = counts.get(word, 0) + 1
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
