"""Hidden checks of ex07_review_priority: active-learning priority for human review."""

import numpy as np
from numpy.typing import NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer


def random_weights(rng: np.random.Generator) -> NDArray[np.float64]:
    """Three non-negative weights summing to 1 up to rounding."""
    return rng.dirichlet(np.ones(3))


@check("review_priority", rules=("ex07.priority", "common.python-scalars"))
def test_review_priority_values(rng: np.random.Generator) -> list[Case]:
    """review_priority is the weighted sum of the three signals, elementwise"""
    size = int(rng.integers(5, 12))
    risk, uncertainty, diversity = rng.random((3, size))
    signals32 = rng.random((3, 6)).astype(np.float32)
    grid = rng.random((3, 2, 4))
    return [
        Case("the worked example", (0.8, 0.6, 0.3), visible=True),
        Case(
            "lists and an array of signals", ([1.0, 0.0, 0.2], [0.0, 1.0, 0.4], np.array([0.0, 0.0, 1.0])), visible=True
        ),
        Case("custom weights", (0.8, 0.6, 0.3), {"weights": (0.2, 0.2, 0.6)}, visible=True),
        Case("random float64 arrays of signals", (risk, uncertainty, diversity)),
        Case("random float32 arrays of signals", tuple(signals32)),
        Case(
            "random signals as Python lists",
            (risk.round(3).tolist(), uncertainty.round(3).tolist(), diversity.round(3).tolist()),
        ),
        Case("a scalar diversity broadcast against arrays", (risk, uncertainty, float(rng.random()))),
        Case("2-D arrays of signals", tuple(grid)),
        Case("signals at exactly 0 and 1", (np.array([0.0, 1.0, 1.0]), [1, 0, 1], np.array([0.0, 0.0, 1.0]))),
        Case("random valid weights as an array", (risk, uncertainty, diversity), {"weights": random_weights(rng)}),
        Case(
            "random valid weights as a list, scalar signals",
            tuple(rng.random(3)),
            {"weights": random_weights(rng).tolist()},
        ),
    ]


@check("review_priority", rules=("ex07.priority.weights", "ex07.priority.signals", "common.value-error"))
def test_review_priority_invalid(rng: np.random.Generator) -> list[Case]:
    """review_priority rejects bad weights and signals outside [0, 1]"""
    risk, uncertainty, diversity = rng.random((3, 8))
    too_high = risk.copy()
    too_high[rng.integers(8)] = 1.0 + 1e-6
    negative = diversity.copy()
    negative[rng.integers(8)] = -1e-6
    return [
        Case(
            "a negative weight with weights summing to 1", (0.5, 0.5, 0.5), {"weights": (0.6, 0.5, -0.1)}, visible=True
        ),
        Case("weights summing to less than 1", (0.5, 0.5, 0.5), {"weights": (0.5, 0.3, 0.1)}, visible=True),
        Case("a scalar risk above 1", (1.2, 0.5, 0.5), visible=True),
        Case("a negative uncertainty in a list", ([0.2, 0.4], [0.5, -0.1], [0.0, 0.0]), visible=True),
        Case("weights summing to more than 1", (risk, uncertainty, diversity), {"weights": [0.5, 0.35, 0.25]}),
        Case("a negative weight in an array", (risk, uncertainty, diversity), {"weights": np.array([1.2, -0.1, -0.1])}),
        Case("a random array with one risk slightly above 1", (too_high, uncertainty, diversity)),
        Case("a random array with one diversity slightly below 0", (risk, uncertainty, negative)),
        Case("a float32 uncertainty above 1", (0.5, np.array([0.3, 1.5], dtype=np.float32), 0.5)),
        Case(
            "valid weights summing to 1 only up to rounding",
            (risk, uncertainty, diversity),
            {"weights": (0.1, 0.2, 0.7)},
        ),
        Case("valid weights putting everything on risk", (risk, uncertainty, diversity), {"weights": (1.0, 0.0, 0.0)}),
        Case(
            "weights whose sum misses 1 by more than 1e-9 (but by less than 1e-6)",
            (risk, uncertainty, diversity),
            {"weights": (0.5, 0.35, 0.15 + float(rng.uniform(2e-8, 5e-7)))},
        ),
    ]


@check("binary_entropy", rules=("ex07.entropy", "common.python-scalars"))
def test_binary_entropy_values(rng: np.random.Generator) -> list[Case]:
    """binary_entropy is the entropy in bits, elementwise"""
    return [
        Case("p = 0.5", (0.5,), visible=True),
        Case("a short list of probabilities", ([0.11, 0.25, 0.75],), visible=True),
        Case("random float64 probabilities", (rng.random(10),)),
        Case("random float32 probabilities", (rng.random(8).astype(np.float32),)),
        Case("random probabilities as a Python list", (rng.random(6).round(4).tolist(),)),
        Case("a 2-D array of probabilities", (rng.random((3, 4)),)),
        Case("a random scalar probability", (float(rng.random()),)),
        Case("probabilities very close to 0 and 1", (np.array([1e-12, 1e-300, 1.0 - 1e-12, 1.0 - 1e-9]),)),
    ]


@check(
    "binary_entropy",
    rules=(
        "ex07.entropy.ends",
        "ex07.entropy.invalid",
        "common.value-error",
        "common.python-scalars",
        "common.stability-warnings",
    ),
    warnings_fail=True,
)
def test_binary_entropy_endpoints(rng: np.random.Generator) -> list[Case]:
    """binary_entropy is 0 at p = 0 and 1 without warnings and rejects p outside [0, 1]"""
    mixed = rng.random(9)
    mixed[rng.choice(9, size=4, replace=False)] = [0.0, 1.0, 0.0, 1.0]
    out_of_range = rng.random(6)
    out_of_range[rng.integers(6)] = 1.0 + rng.random()
    return [
        Case("an array of 0, 1 and 0.5", (np.array([0.0, 1.0, 0.5]),), visible=True),
        Case("a negative scalar", (-0.1,), visible=True),
        Case("a scalar above 1", (1.5,), visible=True),
        Case("a list with one entry above 1", ([0.2, 1.01],), visible=True),
        Case("a random array mixing exact 0s and 1s with interior values", (mixed,)),
        Case("an integer 0", (0,)),
        Case("an integer 1", (1,)),
        Case("a float32 array of endpoints", (np.array([1.0, 0.0, 1.0], dtype=np.float32),)),
        Case("a random array with one entry above 1", (out_of_range,)),
        Case("a list with a negative entry", ([0.5, -1e-9],)),
    ]


@check("select_for_review", rules=("ex07.select",))
def test_select_for_review_order(rng: np.random.Generator) -> list[Case]:
    """select_for_review returns the top-budget indices, highest first"""
    size = int(rng.integers(8, 20))
    scores = rng.random(size)
    return [
        Case("four priorities, budget 2", ([0.2, 0.9, 0.5, 0.7], 2), visible=True),
        Case("an array of three priorities, budget 3", (np.array([0.1, 0.4, 0.3]), 3), visible=True),
        Case("random float64 priorities, random budget", (scores, int(rng.integers(1, size)))),
        Case("random float32 priorities, random budget", (rng.random(12).astype(np.float32), int(rng.integers(1, 12)))),
        Case("random priorities as a Python list", (rng.random(9).round(4).tolist(), int(rng.integers(1, 9)))),
        Case("random priorities, budget 1", (rng.random(7), 1)),
    ]


@check("select_for_review", rules=("ex07.select.ties", "ex07.select.budget", "common.value-error"))
def test_select_for_review_edge_cases(rng: np.random.Generator) -> list[Case]:
    """select_for_review breaks ties by index and handles small, large and negative budgets"""
    tied = rng.integers(0, 4, size=15) / 4.0  # only four distinct values: many ties
    return [
        Case("ties broken by the lower index", ([0.5, 0.8, 0.5, 0.8], 3), visible=True),
        Case("a budget larger than the queue", ([0.3, 0.6], 10), visible=True),
        Case("a budget of zero", ([0.3, 0.6], 0), visible=True),
        Case("a budget of -1", ([0.3, 0.6], -1), visible=True),
        Case("random priorities with many ties", (tied, int(rng.integers(3, 12)))),
        Case("float32 priorities with many ties, whole queue", (tied.astype(np.float32), 15)),
        Case("all priorities equal", (np.full(6, 0.4), 4)),
        Case("a budget equal to the queue length", (rng.random(5), 5)),
        Case("a single item", ([0.7], 1)),
        Case("another negative budget", (rng.random(5), -int(rng.integers(2, 10)))),
    ]


@worked_answer(rules=("ex07.answer", "common.python-scalars"))
def test_answer() -> float | NDArray[np.float64]:
    """answer is the priority of the worked example"""
    return reference.review_priority(0.8, 0.6, 0.3)
