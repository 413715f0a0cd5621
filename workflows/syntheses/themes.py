"""The themes of what was said: the TF-IDF of the contributions' lemmas reduced to a few
dozen dimensions (truncated SVD), each contribution's vector normalised, grouped by k-means
(cosine). A contribution far from every theme (its cosine to the nearest centre under
``CUT``) is in none: it is counted as « non classés », never hidden in a catch-all theme;
with ``CAPPED`` themes or more, none holds more than ``CAP`` of the contributions (the least
close of a larger one are not classified either). Each theme: its terms (c-TF-IDF: what its
contributions say more than the others), written back as the words the contributions use,
its size and the contributions that represent it best. Deterministic: the same texts in the
same order give the same themes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import sqrt

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from .text import spans

MIN_DOCUMENTS = 6  # fewer texts than this: their top terms, no themes
#: The terms weighed: lemmas and pairs of lemmas found in 2 documents or more and in no more
#: than 60 % of them, the 30,000 most frequent.
MIN_DF, MAX_DF, MAX_FEATURES = 2, 0.6, 30_000
TERMS = 8
QUOTES = 3
DIMENSIONS = 50  # of the reduced space
CUT = 0.2  # cosine to the nearest centre under which a contribution is in no theme
CAP = 0.25  # the largest share a theme may hold…
CAPPED = 5  # …once there are this many themes
PHRASE = 1.5  # a two-word term's weight against one word's, for readable labels
MINI_BATCH = 5000  # from this many texts, mini-batch k-means
SURFACE_SAMPLE = 80  # texts read to write a term back as words
BETWEEN = re.compile(r"\s+|\s*['’]|\s+\w+\s+|\s+\w+\s*['’]|\s+\w+\s+\w+\s+")


@dataclass
class Theme:
    terms: list[str]
    size: int
    members: list[int] = field(default_factory=list)  # indexes, best first
    representatives: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " · ".join(self.terms[:3])


class Themes(list[Theme]):
    """The themes found, and how many of the texts they were given are in none."""

    unassigned: int = 0


def how_many(documents: int, most: int) -> int:
    """The number of themes for a corpus: grows as its square root, 2 to ``most``."""
    return max(2, min(most, round(sqrt(documents / 2))))


@dataclass
class Counts:
    """How often each term (a lemma, or two in a row) comes in each document: counted once
    for a corpus and shared by the themes of its parts (the build's overall themes and those
    of each item), where counting is most of the time."""

    matrix: sp.csr_matrix
    vocabulary: np.ndarray  # the terms, in the order of the matrix's columns (alphabetical)

    def rows(self, indexes: Sequence[int]) -> Counts:
        return Counts(self.matrix[list(indexes)], self.vocabulary)


def count(lemmas: Sequence[list[str]]) -> Counts | None:
    """The counts of ``lemmas``' terms (each document a row); None when no term is in two
    documents."""
    vectoriser = CountVectorizer(
        token_pattern=r"\S+", ngram_range=(1, 2), min_df=MIN_DF, dtype=np.float32
    )
    try:
        matrix = vectoriser.fit_transform(" ".join(words) for words in lemmas)
    except ValueError:  # no term at all, or none in two documents
        return None
    return Counts(matrix.tocsr(), vectoriser.get_feature_names_out())


def _weighted(counts: Counts) -> tuple[sp.csr_matrix, np.ndarray] | None:
    """TF-IDF (sublinear, smoothed, rows of norm 1) of the terms kept for these documents
    (``MIN_DF``, ``MAX_DF``, ``MAX_FEATURES`` among them): what scikit-learn's
    ``TfidfVectorizer`` gives when fitted on them alone, without counting again."""
    matrix = counts.matrix
    documents = matrix.shape[0]
    frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])  # documents per term
    kept = np.flatnonzero((frequency >= MIN_DF) & (frequency <= MAX_DF * documents))
    if len(kept) > MAX_FEATURES:
        totals = np.asarray(matrix[:, kept].sum(axis=0)).ravel()
        # (ties broken as scikit-learn breaks them: the same terms as its vectoriser's)
        kept = np.sort(kept[np.argsort(-totals)[:MAX_FEATURES]])
    if not len(kept):
        return None
    weights = TfidfTransformer(sublinear_tf=True).fit_transform(matrix[:, kept])
    return weights.astype(np.float32), counts.vocabulary[kept]


def find(
    lemmas: Sequence[list[str]],
    texts: Sequence[str],
    *,
    most: int = 10,
    counts: Counts | None = None,
) -> Themes:
    """Themes of the documents (their lemmas; their texts choose the representatives and
    the words of the terms). ``unassigned``: the documents in no theme (those without a
    meaningful word included). ``counts``: those of these documents, if counted already."""
    found = Themes()
    found.unassigned = len(texts)
    useful = [i for i, words in enumerate(lemmas) if words]
    if len(useful) < MIN_DOCUMENTS:
        return found
    counts = count([lemmas[i] for i in useful]) if counts is None else counts.rows(useful)
    weighted = _weighted(counts) if counts is not None else None
    if weighted is None:
        return found
    matrix, vocabulary = weighted
    n, terms = matrix.shape
    if terms < 4:
        return found
    k = min(how_many(n, most), terms - 1, n - 1)
    dimensions = min(DIMENSIONS, terms - 1, n - 1)
    reduced = TruncatedSVD(dimensions, n_iter=2, random_state=0).fit_transform(matrix)
    reduced = normalize(reduced).astype(np.float32)
    if n >= MINI_BATCH:
        model = MiniBatchKMeans(k, random_state=0, n_init=3, batch_size=2048)
    else:
        model = KMeans(k, random_state=0, n_init=3)
    theme_of = model.fit_predict(reduced)
    centres = normalize(model.cluster_centers_)
    closeness = np.einsum("ij,ij->i", reduced, centres[theme_of])
    theme_of[closeness < CUT] = -1
    if k >= CAPPED:
        _cap(theme_of, closeness, k, int(CAP * n))
    weights = _class_weights(matrix, theme_of, k)
    weights[:, np.char.find(vocabulary.astype(str), " ") >= 0] *= PHRASE
    for topic in range(k):
        members = np.flatnonzero(theme_of == topic)
        if not len(members):
            continue
        ranked = sorted(members.tolist(), key=lambda i: (-float(closeness[i]), i))
        originals = [useful[i] for i in ranked]
        order = np.argsort(-weights[topic], kind="stable")[: TERMS * 3]
        chosen = _distinct_terms([str(vocabulary[j]) for j in order])
        theme = Theme(
            terms=readable(chosen, [texts[i] for i in originals[:SURFACE_SAMPLE]])[:TERMS],
            size=len(ranked),
            members=originals,
        )
        theme.representatives = _representatives(theme.members, texts)
        found.append(theme)
    found.sort(key=lambda t: (-t.size, t.terms))
    found.unassigned = len(texts) - sum(t.size for t in found)
    return found


def _cap(theme_of: np.ndarray, closeness: np.ndarray, k: int, most: int) -> None:
    """A theme holds at most ``most`` documents: the least close of the others go to none."""
    for topic in range(k):
        members = np.flatnonzero(theme_of == topic)
        if len(members) > most:
            order = members[np.argsort(-closeness[members], kind="stable")]
            theme_of[order[most:]] = -1


def _class_weights(matrix: sp.csr_matrix, theme_of: np.ndarray, k: int) -> np.ndarray:
    """c-TF-IDF: each theme's share of each term, weighted by how rare the term is across
    the themes; two-word terms weigh ``PHRASE`` times more (a label reads better so)."""
    placed = np.flatnonzero(theme_of >= 0)
    indicator = sp.csr_matrix(
        (np.ones(len(placed), dtype=np.float32), (theme_of[placed], placed)),
        shape=(k, matrix.shape[0]),
    )
    frequency = np.asarray((indicator @ matrix).todense())
    frequency /= np.maximum(frequency.sum(axis=1, keepdims=True), 1e-12)
    mean = frequency.mean(axis=0)
    weights = frequency * np.log1p(mean.sum() / np.maximum(mean, 1e-12))
    return weights


def _distinct_terms(terms: list[str]) -> list[str]:
    """Top terms without a word repeated: a bigram takes the place of its word shown
    before it (« transport » → « transport commun »), a word or bigram sharing a word with
    one shown is left out."""
    shown: list[str] = []
    for term in terms:
        words = set(term.split())
        overlapping = [n for n, other in enumerate(shown) if words & set(other.split())]
        if not overlapping:
            shown.append(term)
        elif len(overlapping) == 1 and len(shown[overlapping[0]].split()) < len(words):
            shown[overlapping[0]] = term
    return shown


def readable(terms: list[str], texts: Sequence[str]) -> list[str]:
    """Lemma terms written back as the contributions write them: each the form most often
    found in ``texts`` (« transport commun » → « transports en commun », « impôt » →
    « impôts » if that is how they are written). A pair never written side by side gives its
    two words, each as written; a word never met is left out, unless none is met: then the
    terms stay as they are."""
    wanted = {tuple(term.split()) for term in terms} | {(w,) for t in terms for w in t.split()}
    forms: dict[tuple[str, ...], Counter[str]] = {key: Counter() for key in wanted}
    for text in texts:
        found = spans(text)
        for n, (base, start, end) in enumerate(found):
            if (base,) in wanted:
                forms[(base,)][text[start:end].lower()] += 1
            if n + 1 < len(found) and (base, found[n + 1][0]) in wanted:
                after, stop = found[n + 1][1], found[n + 1][2]
                if BETWEEN.fullmatch(text[end:after]):  # « transports en commun »
                    forms[(base, found[n + 1][0])][" ".join(text[start:stop].lower().split())] += 1
    written = []
    for term in terms:
        for key in [tuple(term.split())] if forms[tuple(term.split())] else term.split():
            counts = forms[key if isinstance(key, tuple) else (key,)]
            if counts:
                written.append(min(counts, key=lambda f: (-counts[f], f)))
    return list(dict.fromkeys(written)) or terms


def _representatives(members: list[int], texts: Sequence[str]) -> list[int]:
    """The best-placed members that read well as a quote (neither a word nor a page) and
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
