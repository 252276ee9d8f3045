"""Winnowing fingerprints (the MOSS algorithm, through ``copydetect``) and the ranked pairs they give.

Each submission's code is tokenized by pygments (names become ``V``/``F``,
strings ``S``; comments and whitespace vanish), cut into k-grams whose hashes
are winnowed (copydetect's tokenizer and winnowing, with a k-gram hash that
is the same in every process, so a report is reproducible); every k-gram of
the released notebook's code is removed as boilerplate. Two submissions are
compared with :func:`copydetect.compare_files` when they share a fingerprint
at all (found through a sparse submissions-by-fingerprints matrix, so 1,000
students do not make 500,000 comparisons). Renaming variables, reordering functions and changing comments
or whitespace leave the fingerprints of the copied code as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from copydetect import compare_files
from copydetect.utils import filter_code, get_token_coverage, winnow

from gradebook_tools.similarity.code import Submission

#: copydetect's defaults: a match must span at least ``NOISE`` characters of filtered code
#: (k-grams of that length) and any match of ``GUARANTEE`` characters is always found.
NOISE = 25
GUARANTEE = 30


@dataclass(frozen=True, slots=True)
class Region:
    """A matching stretch of raw code: ``code[start:end]``."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Match:
    """Two authors whose code shares fingerprints.

    ``score`` is the larger of the two shares (the part of one author's own code,
    after boilerplate, that is found in the other's): 0 to 1, higher is more similar.
    """

    a: str
    b: str
    score: float
    share_a: float
    share_b: float
    #: The matching code (empty beyond the pairs a report shows side by side).
    regions_a: tuple[Region, ...] = ()
    regions_b: tuple[Region, ...] = ()


#: Base of the k-gram hash (odd, 64-bit): arithmetic modulo 2**64.
_BASE = np.uint64(0x100000001B3)


@dataclass(frozen=True)
class Fingerprint:
    """What :func:`copydetect.compare_files` reads of a :class:`copydetect.CodeFingerprint`."""

    filtered_code: str
    offsets: np.ndarray
    hashes: set[int]
    hash_idx: dict[int, list[int]]
    k: int
    token_coverage: float


def kgram_hashes(filtered: str, k: int) -> np.ndarray:
    """A hash of every k-gram of ``filtered``, the same in every process.

    copydetect hashes k-grams with Python's ``hash()``, which changes from one
    process to the next (``PYTHONHASHSEED``): the winnowed fingerprints, and so
    the scores, would differ between two runs of the report. This is its
    polynomial hash over the characters' code points instead, modulo 2**64.
    """
    if len(filtered) < k:
        return np.array([], dtype=np.int64)
    codes = np.frombuffer(filtered.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - k + 1
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(k):
            hashes = hashes * _BASE + codes[offset : offset + count]
    return hashes.view(np.int64)


def fingerprint(code: str, boilerplate: np.ndarray, noise: int = NOISE, guarantee: int = GUARANTEE) -> Fingerprint:
    """copydetect's fingerprint of Python ``code`` (its tokenizer and winnowing), without ``boilerplate``."""
    filtered, offsets = filter_code(code, "solution.py", "python")
    hashes, index = winnow(kgram_hashes(filtered, noise), guarantee - noise + 1, remove_duplicates=False)
    if len(boilerplate) > 0:
        keep = ~np.isin(hashes, boilerplate)
        hashes, index = hashes[keep], index[keep]
    positions: dict[int, list[int]] = {}
    for value, position in zip(hashes.tolist(), index.tolist(), strict=True):
        positions.setdefault(value, []).append(position)
    return Fingerprint(
        filtered, offsets, set(positions), positions, noise, float(get_token_coverage(positions, noise, len(filtered)))
    )


def boilerplate_hashes(release_code: str, noise: int = NOISE, guarantee: int = GUARANTEE) -> np.ndarray:
    """The hashes of every k-gram of the released code (what every student was given).

    Every k-gram, not only the winnowed ones: winnowing picks different k-grams
    of the same text in a student's notebook, where other code surrounds it.
    """
    if not release_code.strip():
        return np.array([], dtype=np.int64)
    filtered, _ = filter_code(release_code, "release.py", "python")
    return np.unique(kgram_hashes(filtered, noise))


def candidate_pairs(hash_sets: list[set[int]], comparable: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Index pairs (i < j) that share at least one fingerprint and ``comparable(i, j)`` allows."""
    from scipy.sparse import csr_matrix

    columns: dict[int, int] = {}
    rows, cols = [], []
    for row, hashes in enumerate(hash_sets):
        for value in hashes:
            rows.append(row)
            cols.append(columns.setdefault(value, len(columns)))
    if not rows:
        return []
    incidence = csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(hash_sets), len(columns)))
    shared = (incidence @ incidence.T).tocoo()
    pairs = [(int(i), int(j)) for i, j in zip(shared.row, shared.col, strict=True) if i < j]
    return sorted(pair for pair in pairs if comparable(*pair))


def _regions(slices) -> tuple[Region, ...]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return ()
    return tuple(Region(int(start), int(end)) for start, end in zip(slices[0], slices[1], strict=True))


def rank_pairs(
    submissions: list[Submission],
    release_code: str = "",
    noise: int = NOISE,
    guarantee: int = GUARANTEE,
    regions_for: int = 100,
) -> list[Match]:
    """Every pair of authors sharing code beyond the release, most similar first.

    Past terms' submissions are compared with this class only, never with each
    other. Ties keep a stable order (the authors' ids). The matching regions are
    kept for the ``regions_for`` most similar pairs only (the page shows those):
    a class of 1,000 has hundreds of thousands of pairs.
    """
    boilerplate = boilerplate_hashes(release_code, noise, guarantee)
    prints = [fingerprint(submission.code, boilerplate, noise, guarantee) for submission in submissions]

    def comparable(i: int, j: int) -> bool:
        return not (submissions[i].past and submissions[j].past) and submissions[i].author != submissions[j].author

    scored = []
    for i, j in candidate_pairs([p.hashes for p in prints], comparable):
        # a past term's author is always b: the class's student comes first
        first, second = (j, i) if submissions[i].past else (i, j)
        tokens, (share_first, share_second), _ = compare_files(prints[first], prints[second])
        if tokens == 0:
            continue
        share_first, share_second = round(min(1.0, float(share_first)), 6), round(min(1.0, float(share_second)), 6)
        scored.append((max(share_first, share_second), share_first, share_second, first, second))
    scored.sort(
        key=lambda pair: (-pair[0], -(pair[1] + pair[2]), submissions[pair[3]].author, submissions[pair[4]].author)
    )
    matches = []
    for rank, (score, share_first, share_second, first, second) in enumerate(scored):
        regions: tuple = ((), ())
        if rank < regions_for:
            slices = compare_files(prints[first], prints[second])[2]
            regions = (_regions(slices[0]), _regions(slices[1]))
        matches.append(
            Match(
                submissions[first].author,
                submissions[second].author,
                score,
                share_first,
                share_second,
                regions[0],
                regions[1],
            )
        )
    return matches
