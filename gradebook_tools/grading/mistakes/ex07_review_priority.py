"""Catalogued mistakes and correct alternatives of ex07_review_priority.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "review_priority",
        "apply the weights in the wrong order: 0.15 to risk and 0.5 to diversity",
        """import numpy as np

def review_priority(risk, uncertainty, diversity, weights=(0.5, 0.35, 0.15)):
    w_risk, w_uncertainty, w_diversity = weights[::-1]
    signals = [np.asarray(s, dtype=float) for s in (risk, uncertainty, diversity)]
    if min(weights) < 0 or abs(sum(weights) - 1) > 1e-9:
        raise ValueError("weights must be non-negative and sum to 1")
    if any(np.any((s < 0) | (s > 1)) for s in signals):
        raise ValueError("signals must lie in [0, 1]")
    priority = w_risk * signals[0] + w_uncertainty * signals[1] + w_diversity * signals[2]
    return float(priority) if priority.ndim == 0 else priority
""",
        loses=("test_review_priority_values", "test_review_priority_invalid", "test_answer"),
        review="the order of the weights: (risk, uncertainty, diversity)",
    ),
    Variant(
        "review_priority",
        "check that the weights sum to 1 but not that they are non-negative",
        """import numpy as np

def review_priority(risk, uncertainty, diversity, weights=(0.5, 0.35, 0.15)):
    w = np.asarray(weights, dtype=float)
    if abs(w.sum() - 1) > 1e-9:
        raise ValueError("weights must sum to 1")
    signals = [np.asarray(s, dtype=float) for s in (risk, uncertainty, diversity)]
    if any(np.any((s < 0) | (s > 1)) for s in signals):
        raise ValueError("signals must lie in [0, 1]")
    priority = w[0] * signals[0] + w[1] * signals[1] + w[2] * signals[2]
    return float(priority) if priority.ndim == 0 else priority
""",
        loses=("test_review_priority_invalid",),
        review="the rule on weights: non-negative and summing to 1",
    ),
    Variant(
        "review_priority",
        "check the sum of the weights with np.isclose (about 1e-5) instead of within 1e-9",
        """import numpy as np

def review_priority(risk, uncertainty, diversity, weights=(0.5, 0.35, 0.15)):
    w = np.asarray(weights, dtype=float)
    if w.shape != (3,) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
        raise ValueError("weights must be three non-negative numbers summing to 1")
    signals = [np.asarray(s, dtype=float) for s in (risk, uncertainty, diversity)]
    for signal in signals:
        if not np.all((signal >= 0) & (signal <= 1)):
            raise ValueError("signals must lie in [0, 1]")
    priority = w[0] * signals[0] + w[1] * signals[1] + w[2] * signals[2]
    return float(priority) if priority.ndim == 0 else priority
""",
        loses=("test_review_priority_invalid",),
        review="the rule: the weights sum to 1 within 1e-9, e.g. abs(sum - 1) <= 1e-9",
    ),
    Variant(
        "binary_entropy",
        "use the natural log instead of log base 2, giving the entropy in nats",
        """import numpy as np

def binary_entropy(p):
    p = np.asarray(p, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must lie in [0, 1]")
    safe_p = np.where(p > 0, p, 1.0)
    safe_q = np.where(p < 1, 1 - p, 1.0)
    h = -p * np.log(safe_p) - (1 - p) * np.log(safe_q) + 0.0
    return float(h) if h.ndim == 0 else h
""",
        review="entropy in bits: np.log2",
    ),
    Variant(
        "binary_entropy",
        "use the textbook formula without special-casing p = 0 and p = 1, which gives NaN there",
        """import numpy as np

def binary_entropy(p):
    p = np.asarray(p, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must lie in [0, 1]")
    h = -p * np.log2(p) - (1 - p) * np.log2(1 - p)
    return float(h) if h.ndim == 0 else h
""",
        loses=("test_binary_entropy_endpoints",),
        review="the convention 0 * log 0 = 0, computed without a warning",
    ),
    Variant(
        "binary_entropy",
        "forget the (1 - p) term: -p log2 p only",
        """import numpy as np

def binary_entropy(p):
    p = np.asarray(p, dtype=float)
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("p must lie in [0, 1]")
    entropy = -p * np.log2(np.where(p > 0, p, 1.0)) + 0.0
    return float(entropy) if entropy.ndim == 0 else entropy
""",
        review="H(p) = -p log2 p - (1 - p) log2 (1 - p)",
    ),
    Variant(
        "select_for_review",
        "sort ascending and pick the lowest priorities",
        """import numpy as np

def select_for_review(priorities, budget):
    return np.argsort(np.asarray(priorities, dtype=float), kind="stable")[:budget]
""",
        review="the order: highest priority first",
    ),
    Variant(
        "select_for_review",
        "reverse an ascending sort, so ties go to the higher index",
        """import numpy as np

def select_for_review(priorities, budget):
    if budget < 0:
        raise ValueError("budget must be non-negative")
    order = np.argsort(np.asarray(priorities, dtype=float), kind="stable")[::-1]
    return order[:budget]
""",
        loses=("test_select_for_review_edge_cases",),
        review="the tie rule: the lower index first (a stable sort of -priorities)",
    ),
    Variant(
        "select_for_review",
        "return the selected indices in increasing index order instead of highest priority first",
        """import numpy as np

def select_for_review(priorities, budget):
    if budget < 0:
        raise ValueError("budget must be non-negative")
    scores = np.atleast_1d(np.asarray(priorities, dtype=float))
    order = np.argsort(-scores, kind="stable")
    return np.sort(order[: int(budget)]).astype(np.int64)
""",
        review="the order of the result: highest priority first",
    ),
    Variant(
        "answer",
        "hold the right priority, but as a string",
        """answer = "0.655"
""",
        review="assign the number itself (a float), not its text",
    ),
    Variant(
        "answer",
        "apply the weights in the wrong order: 0.15 * 0.8 + 0.35 * 0.6 + 0.5 * 0.3",
        """answer = 0.15 * 0.8 + 0.35 * 0.6 + 0.5 * 0.3
""",
        review="the order of the weights: (risk, uncertainty, diversity)",
    ),
]

ALTERNATIVES = [
    Variant(
        "review_priority",
        "stacks the broadcast signals and takes a dot product with the weights",
        """import numpy as np

def review_priority(risk, uncertainty, diversity, weights=(0.5, 0.35, 0.15)):
    w = np.array(weights, dtype=np.float64)
    if w.shape != (3,) or np.any(w < 0):
        raise ValueError("weights must be three non-negative numbers")
    if abs(w.sum() - 1.0) > 1e-9:
        raise ValueError(f"weights sum to {w.sum()}, not 1")
    signals = np.broadcast_arrays(*(np.asarray(s, dtype=np.float64) for s in (risk, uncertainty, diversity)))
    stacked = np.stack(signals, axis=-1)
    if np.any(stacked < 0) or np.any(stacked > 1):
        raise ValueError("risk, uncertainty and diversity must lie in [0, 1]")
    priority = stacked @ w
    return float(priority) if priority.ndim == 0 else priority
""",
    ),
    Variant(
        "binary_entropy",
        "an elementwise loop with math.log2 and explicit endpoints",
        """import math
import numpy as np

def binary_entropy(p):
    values = np.asarray(p, dtype=np.float64)
    out = np.empty(values.shape)
    for index, x in np.ndenumerate(values):
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"p must lie in [0, 1], got {x}")
        q = 1.0 - x
        out[index] = (-x * math.log2(x) if x > 0 else 0.0) + (-q * math.log2(q) if q > 0 else 0.0)
    return float(out) if out.ndim == 0 else out
""",
    ),
    Variant(
        "select_for_review",
        "Python's sorted with the key (-priority, index)",
        """import numpy as np

def select_for_review(priorities, budget):
    if budget < 0:
        raise ValueError(f"budget must be non-negative, got {budget}")
    scores = [float(x) for x in np.atleast_1d(priorities)]
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return np.array(ranked[:budget], dtype=int)
""",
    ),
    Variant(
        "answer",
        "the weighted sum written out by hand",
        """answer = 0.5 * 0.8 + 0.35 * 0.6 + 0.15 * 0.3
""",
    ),
]
