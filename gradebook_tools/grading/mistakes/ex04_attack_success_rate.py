"""Catalogued mistakes and correct alternatives of ex04_attack_success_rate.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "attack_success_rate",
        "return the number of successful attacks instead of the rate, and check nothing",
        """def attack_success_rate(violations):
    return sum(int(v) for v in violations)
""",
        loses=("test_attack_success_rate_values", "test_attack_success_rate_invalid", "test_answer"),
        review="the rate is a mean, and empty or non-0/1 runs are invalid",
    ),
    Variant(
        "attack_success_rate",
        "compute the right mean but accept an empty run or an outcome other than 0/1",
        """import numpy as np

def attack_success_rate(violations):
    with np.errstate(all="ignore"):
        return float(np.mean(np.asarray(violations, dtype=float)))
""",
        loses=("test_attack_success_rate_invalid",),
        review="the invalid inputs: raise ValueError for them",
    ),
    Variant(
        "attack_success_rate",
        "return the share of failed attacks (the mean of 1 - outcome)",
        """import numpy as np

def attack_success_rate(violations):
    outcomes = np.atleast_1d(np.asarray(violations, dtype=np.float64))
    if outcomes.ndim != 1 or outcomes.size == 0:
        raise ValueError("need a non-empty 1-D run")
    if not np.all((outcomes == 0) | (outcomes == 1)):
        raise ValueError("outcomes must be 0/1")
    return float(np.mean(1 - outcomes))
""",
        loses=("test_attack_success_rate_values", "test_attack_success_rate_invalid", "test_answer"),
        review="a success is an outcome of 1: the rate is the mean of the outcomes",
    ),
    Variant(
        "wilson_interval",
        "compute the normal-approximation (Wald) interval instead of the Wilson interval",
        """import math

def wilson_interval(successes, n, z=1.96):
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError("need n > 0 and 0 <= successes <= n")
    p = successes / n
    half = z * math.sqrt(p * (1 - p) / n)
    return (max(0.0, p - half), min(1.0, p + half))
""",
        review="the Wilson score interval's centre and half-width",
    ),
    Variant(
        "wilson_interval",
        "use z^2/(4n) instead of z^2/(4n^2) under the square root",
        """import math

def wilson_interval(successes, n, z=1.96):
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError("need n > 0 and 0 <= successes <= n")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))
""",
        review="the Wilson half-width term z^2/(4n^2)",
    ),
    Variant(
        "wilson_interval",
        "accept z <= 0 instead of rejecting it",
        """import numpy as np

def wilson_interval(successes, n, z=1.96):
    if not n > 0:
        raise ValueError("n must be positive")
    if not 0 <= successes <= n:
        raise ValueError("successes must lie in [0, n]")
    p_hat = successes / n
    denominator = 1.0 + z * z / n
    centre = (p_hat + z * z / (2 * n)) / denominator
    half_width = z * np.sqrt(p_hat * (1 - p_hat) / n + z * z / (4 * n * n)) / denominator
    return float(max(0.0, centre - half_width)), float(min(1.0, centre + half_width))
""",
        loses=("test_wilson_interval_edge_cases",),
        review="the valid inputs: z must be positive, raise ValueError otherwise",
    ),
    Variant(
        "trials_for_margin",
        "return the float np.ceil gives instead of an int",
        """import numpy as np

def trials_for_margin(half_width, p=0.5, z=1.96):
    if half_width <= 0 or not 0 <= p <= 1:
        raise ValueError("need half_width > 0 and p in [0, 1]")
    return np.ceil(z**2 * p * (1 - p) / half_width**2)
""",
        review="return a Python int, e.g. int(np.ceil(...))",
    ),
    Variant(
        "trials_for_margin",
        "truncate with int() instead of rounding up",
        """def trials_for_margin(half_width, p=0.5, z=1.96):
    if half_width <= 0 or not 0 <= p <= 1:
        raise ValueError("need half_width > 0 and p in [0, 1]")
    return int(z**2 * p * (1 - p) / half_width**2)
""",
        review="round up with ceil: fewer trials do not reach the half-width",
    ),
    Variant(
        "trials_for_margin",
        "use z instead of z squared",
        """import numpy as np

def trials_for_margin(half_width, p=0.5, z=1.96):
    if not half_width > 0:
        raise ValueError("half_width must be positive")
    if not 0 <= p <= 1:
        raise ValueError("p must lie in [0, 1]")
    return int(np.ceil(z * p * (1 - p) / (half_width * half_width)))
""",
        review="solve z * sqrt(p(1-p)/n) <= h for n: n >= z^2 p(1-p) / h^2",
    ),
    Variant(
        "answer",
        "hold the right rate, but as a string",
        """answer = "0.375"
""",
        review="assign the number itself (a float), not its text",
    ),
    Variant(
        "answer",
        "hold the number of successful attacks instead of the rate",
        """answer = 3
""",
        review="the rate is successes over attempts",
    ),
]

ALTERNATIVES = [
    Variant(
        "attack_success_rate",
        "a loop counting successes, checking each outcome against (0, 1)",
        """import numpy as np

def attack_success_rate(violations):
    outcomes = np.atleast_1d(np.asarray(violations, dtype=np.float64))
    if outcomes.ndim != 1 or outcomes.size == 0:
        raise ValueError("violations must be a non-empty 1-D sequence")
    successes = 0
    for outcome in outcomes:
        if outcome not in (0.0, 1.0):
            raise ValueError(f"outcome {outcome} is not 0 or 1")
        successes += int(outcome)
    return successes / len(outcomes)
""",
    ),
    Variant(
        "wilson_interval",
        "the count form: (k + z²/2 ± z·sqrt(k(n-k)/n + z²/4)) / (n + z²), returning np.float64",
        """import numpy as np

def wilson_interval(successes, n, z=1.96):
    if not n > 0:
        raise ValueError(f"n must be positive, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, {n}], got {successes}")
    if not z > 0:
        raise ValueError(f"z must be positive, got {z}")
    k = float(successes)
    denominator = n + z**2
    centre = (k + z**2 / 2) / denominator
    half = z * np.sqrt(k * (n - k) / n + z**2 / 4) / denominator
    return (np.float64(max(0.0, centre - half)), np.float64(min(1.0, centre + half)))
""",
    ),
    Variant(
        "trials_for_margin",
        "math.ceil of (z/h)² p(1-p)",
        """import math

def trials_for_margin(half_width, p=0.5, z=1.96):
    if not half_width > 0:
        raise ValueError(f"half_width must be positive, got {half_width}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    return math.ceil((z / half_width) ** 2 * p * (1 - p))
""",
    ),
    Variant(
        "answer",
        "the rate computed by hand: 3 successes in 8 attacks",
        """answer = 3 / 8
""",
    ),
]
