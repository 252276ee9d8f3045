"""Hidden checks of ex04_attack_success_rate: the attack success rate and its uncertainty."""

import numpy as np
from numpy.typing import NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer

WORKED_OUTCOMES = [0, 1, 0, 0, 1, 1, 0, 0]


def random_outcomes(rng: np.random.Generator, n: int, rate: float | None = None) -> NDArray[np.int64]:
    """``n`` random 0/1 outcomes with a random (or given) success rate."""
    rate = rng.uniform(0.05, 0.95) if rate is None else rate
    return (rng.random(n) < rate).astype(np.int64)


@check("attack_success_rate", rules=("ex04.asr", "common.python-scalars"))
def test_attack_success_rate_values(rng: np.random.Generator) -> list[Case]:
    """attack_success_rate is the mean of 0/1 or bool outcomes"""
    return [
        Case("the worked example", (WORKED_OUTCOMES,), visible=True),
        Case("the notebook's bool example", (np.array([True, False, False, False]),), visible=True),
        Case(
            "a random run of 0/1 outcomes as a Python list", (random_outcomes(rng, int(rng.integers(5, 40))).tolist(),)
        ),
        Case("a random run as an integer array", (random_outcomes(rng, int(rng.integers(50, 500))),)),
        Case("a random run as a bool array", (random_outcomes(rng, int(rng.integers(10, 60))).astype(bool),)),
        Case("a random run as a float32 array", (random_outcomes(rng, int(rng.integers(10, 60))).astype(np.float32),)),
        Case("a list of bools", (random_outcomes(rng, 9).astype(bool).tolist(),)),
        Case("a run in which no attack succeeded", (np.zeros(int(rng.integers(3, 30)), dtype=np.int64),)),
        Case("a run in which every attack succeeded", ([1] * int(rng.integers(3, 30)),)),
        Case("a single attack", ([int(rng.integers(0, 2))],)),
    ]


@check("attack_success_rate", rules=("ex04.asr.invalid", "common.value-error", "common.python-scalars"))
def test_attack_success_rate_invalid(rng: np.random.Generator) -> list[Case]:
    """attack_success_rate rejects empty runs and outcomes other than 0/1"""
    bad_fraction = random_outcomes(rng, 8).astype(np.float64)
    bad_fraction[int(rng.integers(8))] = 0.5
    bad_negative = random_outcomes(rng, 6).tolist()
    bad_negative[int(rng.integers(6))] = -1
    return [
        Case("an empty list", ([],), visible=True),
        Case("an outcome of 2", ([0, 1, 2],), visible=True),
        Case("an empty array", (np.array([], dtype=np.float64),)),
        Case("a fractional outcome in a float array", (bad_fraction,)),
        Case("a negative outcome in a list", (bad_negative,)),
        Case("a valid run of 0/1 outcomes", (random_outcomes(rng, 12).tolist(),)),
    ]


@check("wilson_interval", rules=("ex04.wilson", "common.python-scalars"), returns=("low", "high"))
def test_wilson_interval_values(rng: np.random.Generator) -> list[Case]:
    """wilson_interval matches the Wilson score interval"""
    cases = [
        Case("the worked example", (3, 8), visible=True),
        Case("the worked example at z = 2.576", (3, 8), {"z": 2.576}, visible=True),
    ]
    for low, high in [(5, 30), (30, 300), (300, 10_000)]:
        n = int(rng.integers(low, high))
        k = int(rng.integers(1, n))
        cases.append(Case(f"random counts with n between {low} and {high}", (k, n)))
    n = int(rng.integers(20, 200))
    cases.append(
        Case("random counts with z given positionally", (int(rng.integers(0, n + 1)), n, float(rng.uniform(1.0, 3.0))))
    )
    n = int(rng.integers(20, 200))
    cases.append(
        Case(
            "random counts with z given as a keyword",
            (int(rng.integers(0, n + 1)), n),
            {"z": float(rng.uniform(0.5, 3.0))},
        )
    )
    cases.append(Case("counts of a million trials", (int(rng.integers(1, 50_000)), 1_000_000)))
    return cases


@check(
    "wilson_interval",
    rules=(
        "ex04.wilson.ends",
        "ex04.wilson.invalid",
        "ex04.wilson.z-positive",
        "common.value-error",
        "common.python-scalars",
        "common.stability-warnings",
    ),
    warnings_fail=True,
    returns=("low", "high"),
)
def test_wilson_interval_edge_cases(rng: np.random.Generator) -> list[Case]:
    """wilson_interval handles 0 and n successes and rejects invalid counts"""
    n = int(rng.integers(5, 500))
    return [
        Case("zero successes", (0, 20), visible=True),
        Case("n = 0", (0, 0), visible=True),
        Case("more successes than trials", (9, 8), visible=True),
        Case("zero successes in a random number of trials", (0, n)),
        Case("every trial a success", (n, n)),
        Case("a single trial", (int(rng.integers(0, 2)), 1)),
        Case("zero successes in ten thousand trials", (0, 10_000)),
        Case("a negative number of trials", (0, -int(rng.integers(1, 10)))),
        Case("a negative number of successes", (-1, n)),
        Case("one success more than the trials", (n + 1, n)),
        Case("z = 0", (int(rng.integers(0, n + 1)), n), {"z": 0.0}),
        Case("a negative z given positionally", (int(rng.integers(0, n + 1)), n, -float(rng.uniform(0.5, 3.0)))),
    ]


def random_margin_inputs(rng: np.random.Generator) -> tuple[float, float, float]:
    """A half-width, a rate and a z whose n = z²p(1-p)/h² is not within 1e-6 of an integer."""
    while True:
        half_width = float(rng.uniform(0.005, 0.15))
        p = float(rng.uniform(0.02, 0.98))
        z = float(rng.choice([1.645, 1.96, 2.326, 2.576]))
        exact = z * z * p * (1 - p) / (half_width * half_width)
        if abs(exact - round(exact)) > 1e-6 * max(1.0, exact):
            return half_width, p, z


@check("trials_for_margin", rules=("ex04.trials", "common.python-scalars"))
def test_trials_for_margin_values(rng: np.random.Generator) -> list[Case]:
    """trials_for_margin is ceil(z² p(1-p) / h²)"""
    h1, _, _ = random_margin_inputs(rng)
    h2, p2, _ = random_margin_inputs(rng)
    h3, p3, z3 = random_margin_inputs(rng)
    h4, p4, z4 = random_margin_inputs(rng)
    return [
        Case("a half-width of 0.05 at the default rate", (0.05,), visible=True),
        Case("a half-width of 0.02 at p = 0.1", (0.02,), {"p": 0.1}, visible=True),
        Case("a random half-width at the default rate and z", (h1,)),
        Case("a random half-width and rate given positionally", (h2, p2)),
        Case("a random half-width, rate and z given positionally", (h3, p3, z3)),
        Case("a random half-width with rate and z as keywords", (h4,), {"p": p4, "z": z4}),
        Case("a tight half-width of 0.01", (0.01,)),
    ]


@check("trials_for_margin", rules=("ex04.trials.invalid", "common.value-error", "common.python-scalars"))
def test_trials_for_margin_invalid(rng: np.random.Generator) -> list[Case]:
    """trials_for_margin rejects a non-positive half-width and a rate outside [0, 1]"""
    return [
        Case("a half-width of 0", (0.0,), visible=True),
        Case("a rate above 1", (0.05,), {"p": 1.5}, visible=True),
        Case("a negative half-width", (-float(rng.uniform(0.01, 0.1)),)),
        Case("a negative rate", (0.05, -float(rng.uniform(0.01, 0.5)))),
        Case("the valid end p = 0", (0.05,), {"p": 0.0}),
        Case("the valid end p = 1", (0.03,), {"p": 1.0}),
        Case("a valid half-width and rate", random_margin_inputs(rng)[:2]),
    ]


@worked_answer(rules=("ex04.answer", "common.python-scalars"))
def test_answer() -> float:
    """answer is the attack success rate of the worked example"""
    return reference.attack_success_rate(WORKED_OUTCOMES)
