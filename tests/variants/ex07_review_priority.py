"""Wrong answers and correct alternatives for ex07_review_priority."""

from . import Variant

WRONG = [
    Variant(
        "review_priority",
        "weights applied in the wrong order: the 0.15 goes to risk and the 0.5 to diversity",
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
    ),
    Variant(
        "review_priority",
        "checks that the weights sum to 1 but not that they are non-negative",
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
    ),
    Variant(
        "binary_entropy",
        "natural log instead of log base 2: entropy in nats",
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
    ),
    Variant(
        "binary_entropy",
        "the textbook formula without special-casing p = 0 and p = 1: NaN there",
        """import numpy as np

def binary_entropy(p):
    p = np.asarray(p, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must lie in [0, 1]")
    h = -p * np.log2(p) - (1 - p) * np.log2(1 - p)
    return float(h) if h.ndim == 0 else h
""",
        loses=("test_binary_entropy_endpoints",),
    ),
    Variant(
        "select_for_review",
        "sorts ascending: picks the lowest priorities",
        """import numpy as np

def select_for_review(priorities, budget):
    return np.argsort(np.asarray(priorities, dtype=float), kind="stable")[:budget]
""",
    ),
    Variant(
        "select_for_review",
        "reverses an ascending sort, so ties go to the higher index",
        """import numpy as np

def select_for_review(priorities, budget):
    if budget < 0:
        raise ValueError("budget must be non-negative")
    order = np.argsort(np.asarray(priorities, dtype=float), kind="stable")[::-1]
    return order[:budget]
""",
        loses=("test_select_for_review_edge_cases",),
    ),
    Variant("answer", "the right priority, but as a string", 'answer = "0.655"\n'),
    Variant(
        "answer",
        "weights in the wrong order: 0.15·0.8 + 0.35·0.6 + 0.5·0.3",
        "answer = 0.15 * 0.8 + 0.35 * 0.6 + 0.5 * 0.3\n",
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
    Variant("answer", "the weighted sum written out by hand", "answer = 0.5 * 0.8 + 0.35 * 0.6 + 0.15 * 0.3\n"),
]
