"""Copy-paste campaigns: texts that are the same, or nearly (a word changed, a signature
added), grouped so that a campaign counts once in the themes and is shown as such.

MinHash over 3-word shingles with banded locality-sensitive hashing finds the candidate pairs
in about linear time; each pair is then confirmed on the share of shingles it shares. The
hashing runs on blocks of texts at once (numpy): a text's words become numbers once, its
shingles and their 64 hashes are computed for the whole block.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from .text import words as text_words

SHINGLE = 3
HASHES = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.5 similarity become candidates
#: Shared shingles over the larger set's (both texts mostly the same: a short text quoted
#: inside longer ones links none of them): a word changed in 20 gives 0.85, a campaign letter
#: signed by each sender with name, address and phone about 0.65.
SIMILAR = 0.6
MIN_WORDS = 8  # shorter texts ("d'accord", "très bien") are no campaign
BLOCK = 1000  # texts hashed at once: about 30 MB of hashes at a time
_rng = np.random.default_rng(20261125)  # fixed: the same texts always give the same groups
#: The MinHash family: h(x) = (a·x + b) >> 32 on 64 bits, for 32-bit x (multiply-add-shift,
#: 2-universal): a multiplication and a shift, where a modulo would cost twice as much.
_A = _rng.integers(1, 1 << 63, HASHES, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 1 << 63, HASHES, dtype=np.uint64)
_32 = np.uint64(32)
_LOW = np.uint64(0xFFFFFFFF)
#: Odd multipliers that mix a shingle's three word numbers into one (by position).
_MIX = _rng.integers(1, 1 << 63, SHINGLE, dtype=np.uint64) | np.uint64(1)


class _Words(dict):
    """Each word's number (its CRC-32: the same in every process), computed once."""

    def __missing__(self, word: str) -> int:
        value = self[word] = zlib.crc32(word.encode())
        return value


class _Shingles:
    """The shingles of the texts hashed so far, each text's sorted and unique, in one array."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.bounds: list[np.ndarray] = []  # per block, each text's start and end in it
        self.offset = 0
        self.flat = np.empty(0, dtype=np.uint32)
        self.where = np.empty(0, dtype=np.int64)

    def add(self, values: np.ndarray, starts: np.ndarray) -> None:
        self.parts.append(values)
        self.bounds.append(starts + self.offset)
        self.offset += values.size

    def close(self) -> None:
        self.flat = np.concatenate(self.parts) if self.parts else self.flat
        self.where = np.concatenate([*self.bounds, [self.offset]]) if self.bounds else self.where
        self.parts, self.bounds = [], []

    def of(self, position: int) -> np.ndarray:
        return self.flat[self.where[position] : self.where[position + 1]]


def _hash_block(block: list[np.ndarray], shingles: _Shingles) -> np.ndarray:
    """The MinHash signatures (texts × HASHES) of a block of texts given as word numbers,
    their shingles added to ``shingles``."""
    lengths = np.fromiter((a.size for a in block), dtype=np.int64, count=len(block))
    words = np.concatenate(block)
    ends = np.cumsum(lengths)
    starts = np.ones(words.size, dtype=bool)  # where a shingle starts: not in a text's tail
    for k in range(1, SHINGLE):
        starts[ends - k] = False
    at = np.flatnonzero(starts)
    mixed = words[at] * _MIX[0]
    for k in range(1, SHINGLE):
        mixed += words[at + k] * _MIX[k]  # wraps on 64 bits: a hash, nothing is lost
    values = (mixed ^ (mixed >> _32)) & _LOW
    owner = np.repeat(np.arange(len(block), dtype=np.uint64), lengths - SHINGLE + 1)
    keyed = np.sort((owner << _32) | values)  # by text, then value
    unique = np.empty(keyed.size, dtype=bool)  # (np.unique hashes: 20 times slower here)
    unique[0] = True
    np.not_equal(keyed[1:], keyed[:-1], out=unique[1:])
    keyed = keyed[unique]
    values = keyed & _LOW
    first = np.searchsorted(keyed >> _32, np.arange(len(block), dtype=np.uint64))
    shingles.add(values.astype(np.uint32), first)
    hashed = (np.multiply.outer(_A, values) + _B[:, None]) >> _32
    return np.minimum.reduceat(hashed, first, axis=1).T  # each text's minimum, per hash


class Groups:
    """Texts joined into groups of copies (union-find), and the candidate pairs of a MinHash
    signature confirmed or not on the shingles they share."""

    def __init__(self, count: int) -> None:
        self.parent = list(range(count))

    def root(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.root(i), self.root(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)

    def compare(
        self,
        hashed: list[int],
        signatures: np.ndarray,
        shingles_of: Callable[[int], np.ndarray],
    ) -> None:
        """Join the texts ``hashed`` (their indexes, in order; ``signatures`` and
        ``shingles_of`` by position in it) that share a band's bucket and enough shingles:
        the buckets of one band at a time, each bucket's first text paired with the others."""
        rows = signatures.shape[1] // BANDS
        positions = np.arange(len(hashed))
        checked: set[tuple[int, int]] = set()
        for band in range(BANDS):
            block = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
            keys = block.view(np.dtype((np.void, block.dtype.itemsize * rows))).ravel()
            # Each text's bucket, and the bucket's first text (the smallest index).
            _, firsts, bucket = np.unique(keys, return_index=True, return_inverse=True)
            first_of = firsts[bucket.ravel()]
            others = np.flatnonzero(first_of != positions)
            for first_at, other_at in zip(first_of[others].tolist(), others.tolist(), strict=True):
                first, other = hashed[first_at], hashed[other_at]
                pair = (first, other)
                if pair in checked or self.root(first) == self.root(other):
                    continue
                checked.add(pair)
                a, b = shingles_of(first_at), shingles_of(other_at)
                shared = np.intersect1d(a, b, assume_unique=True).size
                if shared / max(a.size, b.size) >= SIMILAR:
                    self.join(first, other)

    def found(self) -> list[list[int]]:
        """The groups of two or more, largest first, each sorted."""
        groups: dict[int, list[int]] = defaultdict(list)
        for index in range(len(self.parent)):
            groups[self.root(index)].append(index)
        found = [sorted(g) for g in groups.values() if len(g) > 1]
        return sorted(found, key=lambda g: (-len(g), g[0]))


def find(texts: Sequence[str]) -> list[list[int]]:
    """Groups of indexes of ``texts`` that are copies of each other (two or more), largest
    first, each sorted; the first index of a group stands for it.

    Memory stays small whatever the number of texts: the shingles are kept as 4-byte hashes
    in one array, the signatures in another, the buckets of one band at a time."""
    groups = Groups(len(texts))
    numbers = _Words()
    hashed: list[int] = []  # the indexes of the texts hashed, in order
    shingles = _Shingles()
    signatures = np.empty((len(texts), HASHES), dtype=np.uint32)
    block: list[np.ndarray] = []
    exact: dict[str, int] = {}

    def hash_block() -> None:
        if block:
            signatures[len(hashed) - len(block) : len(hashed)] = _hash_block(block, shingles)
            block.clear()

    for index, text in enumerate(texts):
        words = text_words(text)
        if len(words) < MIN_WORDS:
            continue
        key = " ".join(words)
        if key in exact:  # the very same words: no need for hashing
            groups.join(exact[key], index)
            continue
        exact[key] = index
        block.append(np.fromiter(map(numbers.__getitem__, words), np.uint64, len(words)))
        hashed.append(index)
        if len(block) == BLOCK:
            hash_block()
    hash_block()
    shingles.close()
    del exact, numbers
    groups.compare(hashed, signatures[: len(hashed)], shingles.of)
    return groups.found()
