"""Wrong answers and correct alternatives for ex04_attack_success_rate."""

from . import Variant

WRONG = [
    Variant(
        "attack_success_rate",
        "returns the number of successful attacks, not the rate, and checks nothing",
        """def attack_success_rate(violations):
    return sum(int(v) for v in violations)
""",
        loses=("test_attack_success_rate_values", "test_attack_success_rate_invalid", "test_answer"),
    ),
    Variant(
        "attack_success_rate",
        "the right mean, but no ValueError for an empty run or an outcome other than 0/1",
        """import numpy as np

def attack_success_rate(violations):
    with np.errstate(all="ignore"):
        return float(np.mean(np.asarray(violations, dtype=float)))
""",
        loses=("test_attack_success_rate_invalid",),
    ),
    Variant(
        "wilson_interval",
        "normal-approximation (Wald) interval p ± z·sqrt(p(1-p)/n) instead of Wilson",
        """import math

def wilson_interval(successes, n, z=1.96):
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError("need n > 0 and 0 <= successes <= n")
    p = successes / n
    half = z * math.sqrt(p * (1 - p) / n)
    return (max(0.0, p - half), min(1.0, p + half))
""",
    ),
    Variant(
        "wilson_interval",
        "Wilson with z²/(4n) instead of z²/(4n²) under the square root",
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
    ),
    Variant(
        "trials_for_margin",
        "returns the float that np.ceil gives, not an int",
        """import numpy as np

def trials_for_margin(half_width, p=0.5, z=1.96):
    if half_width <= 0 or not 0 <= p <= 1:
        raise ValueError("need half_width > 0 and p in [0, 1]")
    return np.ceil(z**2 * p * (1 - p) / half_width**2)
""",
    ),
    Variant(
        "trials_for_margin",
        "truncates with int() instead of rounding up",
        """def trials_for_margin(half_width, p=0.5, z=1.96):
    if half_width <= 0 or not 0 <= p <= 1:
        raise ValueError("need half_width > 0 and p in [0, 1]")
    return int(z**2 * p * (1 - p) / half_width**2)
""",
    ),
    Variant("answer", "the right rate, but as a string", 'answer = "0.375"\n'),
    Variant("answer", "the number of successful attacks instead of the rate", "answer = 3\n"),
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
    Variant("answer", "the rate computed by hand: 3 successes in 8 attacks", "answer = 3 / 8\n"),
]
