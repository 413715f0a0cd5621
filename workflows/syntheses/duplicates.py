"""Copy-paste campaigns: texts that are the same, or nearly (a word changed, a signature
added), grouped so that a campaign counts once in the themes and is shown as such.

MinHash over 3-word shingles with banded locality-sensitive hashing finds the candidate pairs
in about linear time; each pair is then confirmed on the share of shingles it shares.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .text import normalise

SHINGLE = 3
HASHES = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.5 similarity become candidates
#: Shared shingles over the larger set's (both texts mostly the same: a short text quoted
#: inside longer ones links none of them): a word changed in 20 gives 0.85, a campaign letter
#: signed by each sender with name, address and phone about 0.65.
SIMILAR = 0.6
MIN_WORDS = 8  # shorter texts ("d'accord", "très bien") are no campaign
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


def find(texts: Sequence[str]) -> list[list[int]]:
    """Groups of indexes of ``texts`` that are copies of each other (two or more), largest
    first, each sorted; the first index of a group stands for it.

    Memory stays small whatever the number of texts: each text's shingles are kept as a
    sorted array of 4-byte hashes, the signatures in one array, and the buckets of one band
    at a time (each bucket's first text paired with the others)."""
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    hashed: list[int] = []  # the indexes of the texts hashed, in order
    shingles: list[np.ndarray] = []  # theirs, sorted and unique
    signatures = np.empty((len(texts), HASHES), dtype=np.uint64)
    exact: dict[str, int] = {}
    for index, text in enumerate(texts):
        words = normalise(text).split()
        if len(words) < MIN_WORDS:
            continue
        key = " ".join(words)
        if key in exact:  # the very same words: no need for hashing
            join(exact[key], index)
            continue
        exact[key] = index
        values = np.fromiter(_shingles(words), dtype=np.uint64)
        signatures[len(hashed)] = _signature(values)
        shingles.append(np.sort(values.astype(np.uint32)))
        hashed.append(index)
    del exact
    rows = HASHES // BANDS
    count = len(hashed)
    positions = np.arange(count)
    checked: set[tuple[int, int]] = set()
    for band in range(BANDS):
        block = np.ascontiguousarray(signatures[:count, band * rows : (band + 1) * rows])
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * rows))).ravel()
        # Each text's bucket, and the bucket's first text (the smallest index).
        _, firsts, bucket = np.unique(keys, return_index=True, return_inverse=True)
        first_of = firsts[bucket.ravel()]
        others = np.flatnonzero(first_of != positions)
        for first_at, other_at in zip(first_of[others].tolist(), others.tolist(), strict=True):
            first, other = hashed[first_at], hashed[other_at]
            pair = (first, other)
            if pair in checked or root(first) == root(other):
                continue
            checked.add(pair)
            a, b = shingles[first_at], shingles[other_at]
            shared = np.intersect1d(a, b, assume_unique=True).size
            if shared / max(a.size, b.size) >= SIMILAR:
                join(first, other)
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(texts)):
        groups[root(index)].append(index)
    found = [sorted(g) for g in groups.values() if len(g) > 1]
    return sorted(found, key=lambda g: (-len(g), g[0]))
