"""Hidden checks of ex02_bradley_terry: Bradley-Terry preferences and the reward-model loss."""

import numpy as np
from numpy.typing import DTypeLike, NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer

WORKED_CHOSEN = [1.2, 0.3, -0.5, 2.0]
WORKED_REJECTED = [0.4, 0.9, -0.5, -1.0]


def random_pairs(
    rng: np.random.Generator, n: int, scale: float = 2.0, dtype: DTypeLike = np.float64
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """``n`` random (chosen, rejected) reward pairs."""
    return rng.normal(0.0, scale, n).astype(dtype), rng.normal(0.0, scale, n).astype(dtype)


def invalid_pairs(rng: np.random.Generator) -> list[Case]:
    """Empty and mismatched inputs, which every pairwise function rejects."""
    chosen, rejected = random_pairs(rng, 5)
    return [
        Case("empty lists", ([], [])),
        Case("empty arrays", (np.array([]), np.array([]))),
        Case("arrays of different lengths", (chosen, rejected[:3])),
        Case("lists of different lengths", (chosen[:2].tolist(), rejected.tolist())),
    ]


@check(
    "preference_probability",
    rules=("ex02.probability", "ex02.probability.broadcast", "common.value-error", "common.python-scalars"),
)
def test_preference_probability_values(rng: np.random.Generator) -> list[Case]:
    """preference_probability is sigma(r_w - r_l), elementwise, a float for scalars"""
    chosen, rejected = random_pairs(rng, 8)
    chosen32, rejected32 = random_pairs(rng, 6, dtype=np.float32)
    return [
        Case("the notebook's three pairs", ([2.0, 0.0, -1.0], [0.0, 0.0, 1.0]), visible=True),
        Case("two equal scalar rewards", (0.7, 0.7), visible=True),
        Case("random float64 reward arrays", (chosen, rejected)),
        Case("random float32 reward arrays", (chosen32, rejected32)),
        Case("Python lists of rewards", (chosen[:5].round(3).tolist(), rejected[:5].round(3).tolist())),
        Case("two Python float rewards (a float is returned)", (float(chosen[0]), float(rejected[0]))),
        Case("a scalar rejected reward broadcast against an array", (chosen, float(rejected[0]))),
        Case("2-D arrays of rewards", (rng.normal(0, 3, (3, 4)), rng.normal(0, 3, (3, 4)))),
        Case("reward arrays whose shapes cannot be broadcast", (chosen[:3], rejected[:4])),
    ]


@check(
    "preference_probability",
    rules=("ex02.probability.stable", "common.python-scalars", "common.stability-warnings"),
    warnings_fail=True,
)
def test_preference_probability_stability(rng: np.random.Generator) -> list[Case]:
    """preference_probability saturates to 0 and 1 for margins of magnitude 1e4 without overflow"""
    return [
        Case("margins of magnitude 1e4 of both signs", ([1e4, -1e4, 0.0, 5e3], [0.0, 0.0, 1e4, -5e3])),
        Case("random margins of magnitude up to 1e4", (rng.uniform(-1e4, 1e4, 10), rng.uniform(-1e4, 1e4, 10))),
        Case("a large negative scalar margin", (-1e4, 0.0)),
        Case(
            "float32 rewards of magnitude 1e4", (np.array([1e4, -1e4], np.float32), np.array([-1e4, 1e4], np.float32))
        ),
    ]


@check("reward_model_loss", rules=("ex02.loss", "common.python-scalars"))
def test_reward_model_loss_values(rng: np.random.Generator) -> list[Case]:
    """reward_model_loss is the mean of -log sigma(r_chosen - r_rejected)"""
    chosen, rejected = random_pairs(rng, 10)
    chosen32, rejected32 = random_pairs(rng, 7, dtype=np.float32)
    ties = rng.integers(-2, 3, 8).astype(np.float64)
    other = ties.copy()
    other[::2] = rng.integers(-2, 3, 4)
    return [
        Case("the worked batch", (WORKED_CHOSEN, WORKED_REJECTED), visible=True),
        Case("a tied scalar pair", (0.3, 0.3), visible=True),
        Case("random float64 batches", (chosen, rejected)),
        Case("random float32 batches", (chosen32, rejected32)),
        Case("Python lists of rewards", (chosen[:6].round(3).tolist(), rejected[:6].round(3).tolist())),
        Case("a single pair given as scalars", (float(chosen[0]), float(rejected[0]))),
        Case("integer scores with several ties", (ties, other)),
    ]


@check(
    "reward_model_loss",
    rules=(
        "ex02.loss.stable",
        "ex02.pairs.invalid",
        "common.value-error",
        "common.python-scalars",
        "common.stability-warnings",
    ),
    warnings_fail=True,
)
def test_reward_model_loss_edge_cases(rng: np.random.Generator) -> list[Case]:
    """reward_model_loss is finite for margins of magnitude 1e4 and rejects empty or mismatched input"""
    return [
        Case("a margin of -1e4", ([0.0], [1e4]), visible=True),
        Case("a batch mixing margins of magnitude 1e4 of both signs", ([-5e3, 5e3, 0.0], [5e3, -5e3, 1e4])),
        Case("random large margins", (rng.uniform(-1e4, 1e4, 6), rng.uniform(-1e4, 1e4, 6))),
        *invalid_pairs(rng),
        Case("2-D reward arrays", (rng.normal(0, 1, (2, 3)), rng.normal(0, 1, (2, 3)))),
    ]


@check("preference_accuracy", rules=("ex02.accuracy", "common.python-scalars"))
def test_preference_accuracy_values(rng: np.random.Generator) -> list[Case]:
    """preference_accuracy is the fraction of correctly ranked pairs, a tie counting 1/2"""
    chosen, rejected = random_pairs(rng, 11)
    chosen32, rejected32 = random_pairs(rng, 9, dtype=np.float32)
    return [
        Case("the worked batch with a tie", (WORKED_CHOSEN, WORKED_REJECTED), visible=True),
        Case("random float64 batches without ties", (chosen, rejected)),
        Case("random float32 batches", (chosen32, rejected32)),
        Case("integer scores with many ties", (rng.integers(0, 3, 12), rng.integers(0, 3, 12))),
        Case("Python lists of rewards", (chosen[:7].round(2).tolist(), rejected[:7].round(2).tolist())),
        Case("a single pair given as scalars", (float(chosen[0]), float(rejected[0]))),
    ]


@check(
    "preference_accuracy",
    rules=("ex02.accuracy.ties", "ex02.pairs.invalid", "common.value-error", "common.python-scalars"),
)
def test_preference_accuracy_edge_cases(rng: np.random.Generator) -> list[Case]:
    """preference_accuracy scores ties 1/2 and rejects empty or mismatched input"""
    constant = float(rng.normal())
    return [
        Case("a constant reward model (all ties)", ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]), visible=True),
        Case("a single tied pair", (constant, constant)),
        Case("a batch ranked entirely the wrong way round", (np.arange(4.0), np.arange(4.0) + rng.uniform(0.1, 1.0))),
        *invalid_pairs(rng),
        Case("2-D reward arrays", (rng.normal(0, 1, (2, 3)), rng.normal(0, 1, (2, 3)))),
    ]


@worked_answer(rules=("ex02.answer", "common.python-scalars"))
def test_answer() -> float | NDArray[np.float64]:
    """answer is the Bradley-Terry probability of the worked pair"""
    return reference.preference_probability(1.2, 0.4)
