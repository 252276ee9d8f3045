"""Hidden checks of ex08_reviewer_agreement: raw agreement, Cohen's kappa, disagreements."""

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer

WORKED_A = [1, 0, 1, 0, 1]
WORKED_B = [1, 0, 0, 0, 1]
THREE_A = ["safe", "unsafe", "unclear", "safe", "unsafe", "safe"]
THREE_B = ["safe", "unsafe", "safe", "safe", "unclear", "safe"]
SEVERITIES = ["none", "low", "medium", "high"]


def reviewer_pair(
    rng: np.random.Generator, n: int, n_labels: int, accuracy: float = 0.75
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Integer labels of two reviewers who each copy a latent truth with probability ``accuracy``."""
    truth = rng.integers(0, n_labels, size=n)
    a = np.where(rng.random(n) < accuracy, truth, rng.integers(0, n_labels, size=n))
    b = np.where(rng.random(n) < accuracy, truth, rng.integers(0, n_labels, size=n))
    return a, b


def as_words(codes: Iterable[int]) -> list[str]:
    return [SEVERITIES[code] for code in codes]


@check("raw_agreement", rules=("ex08.agreement", "common.python-scalars"))
def test_raw_agreement_values(rng: np.random.Generator) -> list[Case]:
    """raw_agreement is the fraction of items with equal labels"""
    binary_a, binary_b = reviewer_pair(rng, int(rng.integers(10, 30)), 2)
    codes_a, codes_b = reviewer_pair(rng, 20, 3)
    words_a, words_b = reviewer_pair(rng, 15, 4)
    flags = rng.random(12) < 0.5
    same = rng.integers(0, 3, size=9)
    return [
        Case("the worked example", (WORKED_A, WORKED_B), visible=True),
        Case("string labels", (["safe", "unsafe", "safe"], ["safe", "safe", "safe"]), visible=True),
        Case("random binary labels as lists", (binary_a.tolist(), binary_b.tolist())),
        Case("an integer array against a list", (codes_a, codes_b.tolist())),
        Case("float32 category codes against integer labels", (codes_a.astype(np.float32), codes_b.tolist())),
        Case("random string labels", (as_words(words_a), as_words(words_b))),
        Case("boolean arrays", (flags, np.where(rng.random(12) < 0.7, flags, ~flags))),
        Case("perfect agreement", (same, same.tolist())),
        Case("total disagreement", (same.tolist(), (same + 1).tolist())),
        Case("a single item", (["unsafe"], ["unsafe"])),
    ]


@check("raw_agreement", rules=("ex08.labels.invalid", "common.value-error", "common.python-scalars"))
def test_raw_agreement_invalid(rng: np.random.Generator) -> list[Case]:
    """raw_agreement rejects empty and mismatched label lists"""
    a, b = reviewer_pair(rng, 10, 3)
    return [
        Case("empty label lists", ([], []), visible=True),
        Case("lists of different lengths", ([1, 0, 1], [1, 0]), visible=True),
        Case("one empty list and one non-empty list", ([], a.tolist())),
        Case("integer arrays of different lengths", (a, b[:-1])),
        Case("string lists of different lengths", (as_words(a[:4]), as_words(b[:5]))),
        Case("valid one-item lists that disagree", ([0], [1])),
        Case("valid random arrays", (a, b)),
        Case("a one-item list against a longer list", ([int(a[0])], b.tolist())),
        Case("a longer array against a one-item array", (a, b[:1])),
    ]


@check("cohens_kappa", rules=("ex08.kappa", "ex08.kappa.one-sided-labels", "common.python-scalars"))
def test_cohens_kappa_values(rng: np.random.Generator) -> list[Case]:
    """cohens_kappa is the agreement beyond chance for any labels"""
    binary_a, binary_b = reviewer_pair(rng, int(rng.integers(20, 40)), 2)
    codes_a, codes_b = reviewer_pair(rng, 30, 3)
    words_a, words_b = reviewer_pair(rng, 25, 4, accuracy=0.6)
    only_b = codes_b.copy()
    only_b[rng.choice(30, size=3, replace=False)] = 7  # a label reviewer A never uses
    only_a = codes_a.copy()
    only_a[rng.choice(30, size=3, replace=False)] = 9  # a label reviewer B never uses
    same = rng.integers(0, 2, size=11)
    same[:2] = [0, 1]  # two labels, so the expected agreement is below 1
    return [
        Case("the worked example", (WORKED_A, WORKED_B), visible=True),
        Case("three string labels", (THREE_A, THREE_B), visible=True),
        Case("random binary labels from correlated reviewers, as lists", (binary_a.tolist(), binary_b.tolist())),
        Case("random three-class integer arrays", (codes_a, codes_b)),
        Case("float32 category codes against a list", (codes_a.astype(np.float32), codes_b.tolist())),
        Case("random string labels with four categories", (as_words(words_a), as_words(words_b))),
        Case("a label used by reviewer B only", (codes_a.tolist(), only_b)),
        Case("a label used by reviewer A only", (only_a, codes_b.tolist())),
        Case("perfect agreement with two labels", (same, same.tolist())),
        Case("a long random audit", reviewer_pair(rng, 500, 2, accuracy=0.9)),
    ]


@check(
    "cohens_kappa",
    rules=(
        "ex08.kappa.degenerate",
        "ex08.labels.invalid",
        "common.value-error",
        "common.python-scalars",
        "common.stability-warnings",
    ),
    warnings_fail=True,
)
def test_cohens_kappa_degenerate(rng: np.random.Generator) -> list[Case]:
    """cohens_kappa handles constant reviewers, systematic disagreement and bad input"""
    n = int(rng.integers(5, 40))
    a, _ = reviewer_pair(rng, n, 2)
    a[:2] = [0, 1]
    constant = np.full(n, int(rng.integers(0, 5)))
    return [
        Case("both reviewers always give one shared label", (["safe"] * 4, ["safe"] * 4), visible=True),
        Case("one reviewer always gives the same label", ([1, 1, 1, 1], [1, 0, 1, 0]), visible=True),
        Case("systematic disagreement on four items", ([0, 1, 0, 1], [1, 0, 1, 0]), visible=True),
        Case("long constant integer arrays with the same label", (constant, constant.tolist())),
        Case(
            "long constant float32 arrays with the same label",
            (constant.astype(np.float32), constant.astype(np.float32)),
        ),
        Case("two reviewers with different constant labels", (["safe"] * n, ["unsafe"] * n)),
        Case("a single item with the same label", (["high"], ["high"])),
        Case("a single item with different labels", ([0], [1])),
        Case("random systematic disagreement", (a, (1 - a).tolist())),
        Case("one constant reviewer against random labels", (np.zeros(n, dtype=np.int64), a)),
        Case("empty label lists", ([], [])),
        Case("arrays of different lengths", (a, a[:-2])),
    ]


@check("disagreements", rules=("ex08.disagreements",))
def test_disagreements_values(rng: np.random.Generator) -> list[Case]:
    """disagreements lists the ascending indices of differing labels"""
    binary_a, binary_b = reviewer_pair(rng, int(rng.integers(10, 30)), 2)
    codes_a, codes_b = reviewer_pair(rng, 20, 3)
    words_a, words_b = reviewer_pair(rng, 15, 4, accuracy=0.6)
    return [
        Case("the worked example", (WORKED_A, WORKED_B), visible=True),
        Case(
            "a list of strings against a string array",
            (["a", "b", "c", "d"], np.array(["b", "b", "c", "a"])),
            visible=True,
        ),
        Case("random binary labels as lists", (binary_a.tolist(), binary_b.tolist())),
        Case("random three-class integer arrays", (codes_a, codes_b)),
        Case("float32 category codes against a list", (codes_a.astype(np.float32), codes_b.tolist())),
        Case("random string labels", (as_words(words_a), as_words(words_b))),
        Case("reviewers who disagree on every item", (codes_a, (codes_a + 1) % 3)),
    ]


@check("disagreements", rules=("ex08.disagreements.edges", "ex08.labels.invalid", "common.value-error"))
def test_disagreements_edge_cases(rng: np.random.Generator) -> list[Case]:
    """disagreements handles full agreement, single items and bad input"""
    same = rng.integers(0, 4, size=int(rng.integers(20, 60)))
    return [
        Case("reviewers who always agree", ([1, 0, 1], [1, 0, 1]), visible=True),
        Case("empty label lists", ([], []), visible=True),
        Case("lists of different lengths", ([1, 0], [1, 0, 1]), visible=True),
        Case("long identical label arrays", (same, same.copy())),
        Case("identical string labels", (as_words(same[:8]), as_words(same[:8]))),
        Case("a single item that differs", (["low"], ["high"])),
        Case("an empty array against a non-empty list", (np.array([], dtype=np.int64), [0])),
        Case("arrays of different lengths", (same, same[1:])),
    ]


@worked_answer(rules=("ex08.answer", "common.python-scalars"))
def test_answer() -> float:
    """answer is the raw agreement of the worked example"""
    return reference.raw_agreement(WORKED_A, WORKED_B)
