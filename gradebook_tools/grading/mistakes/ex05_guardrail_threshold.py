"""Catalogued mistakes and correct alternatives of ex05_guardrail_threshold.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "guardrail_action",
        "use > instead of >=, so a score equal to tau is let through",
        """import numpy as np

def guardrail_action(score, tau):
    if not 0 <= tau <= 1:
        raise ValueError("tau must lie in [0, 1]")
    blocked = np.asarray(score, dtype=float) > tau
    return bool(blocked) if blocked.ndim == 0 else blocked
""",
        review="the rule: block where score >= tau",
    ),
    Variant(
        "guardrail_action",
        "accept a threshold outside [0, 1]",
        """import numpy as np

def guardrail_action(score, tau):
    blocked = np.asarray(score, dtype=float) >= tau
    return bool(blocked) if blocked.ndim == 0 else blocked
""",
        loses=("test_guardrail_action_invalid_tau",),
        review="the valid range of tau, and raise ValueError outside it",
    ),
    Variant(
        "guardrail_action",
        "return a numpy bool (numpy.bool_) for a scalar score instead of a Python bool",
        """import numpy as np

def guardrail_action(score, tau):
    if not 0 <= tau <= 1:
        raise ValueError("tau must lie in [0, 1]")
    return np.asarray(score, dtype=np.float64) >= tau
""",
        loses=("test_guardrail_action_values", "test_guardrail_action_invalid_tau", "test_answer"),
        review="for a scalar score return a Python bool, e.g. bool(score >= tau)",
    ),
    Variant(
        "threshold_sweep",
        "return (fpr, tpr) instead of (tpr, fpr)",
        """import numpy as np

def threshold_sweep(scores_harmful, scores_benign, thresholds):
    harmful = np.asarray(scores_harmful, dtype=float)
    benign = np.asarray(scores_benign, dtype=float)
    if harmful.size == 0 or benign.size == 0:
        raise ValueError("empty score list")
    taus = np.asarray(thresholds, dtype=float)
    tpr = np.array([np.mean(harmful >= t) for t in taus])
    fpr = np.array([np.mean(benign >= t) for t in taus])
    return fpr, tpr
""",
        loses=(
            "test_threshold_sweep_values",
            "test_threshold_sweep_edge_cases",
            "test_choose_threshold_values",
            "test_choose_threshold_edge_cases",
        ),
        review="the order of the returned pair: (tpr, fpr)",
    ),
    Variant(
        "threshold_sweep",
        "return the number of scores at or above each threshold instead of the fraction",
        """import numpy as np

def threshold_sweep(scores_harmful, scores_benign, thresholds):
    harmful = np.asarray(scores_harmful, dtype=float)
    benign = np.asarray(scores_benign, dtype=float)
    if harmful.size == 0 or benign.size == 0:
        raise ValueError("empty score list")
    taus = np.asarray(thresholds, dtype=float)
    tpr = np.array([np.sum(harmful >= t) for t in taus], dtype=float)
    fpr = np.array([np.sum(benign >= t) for t in taus], dtype=float)
    return tpr, fpr
""",
        loses=(
            "test_threshold_sweep_values",
            "test_threshold_sweep_edge_cases",
            "test_choose_threshold_values",
            "test_choose_threshold_edge_cases",
        ),
        review="a rate is a count divided by the number of scores",
    ),
    Variant(
        "threshold_sweep",
        "use > instead of >=, so a score equal to a threshold is not counted",
        """import numpy as np

def threshold_sweep(scores_harmful, scores_benign, thresholds):
    taus = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))

    def rate(scores):
        values = np.atleast_1d(np.asarray(scores, dtype=np.float64))
        if values.ndim != 1 or values.size == 0:
            raise ValueError("scores must be a non-empty 1-D list")
        return (values[None, :] > taus[:, None]).mean(axis=1)

    return rate(scores_harmful), rate(scores_benign)
""",
        loses=(
            "test_threshold_sweep_values",
            "test_threshold_sweep_edge_cases",
            "test_choose_threshold_values",
            "test_choose_threshold_edge_cases",
        ),
        review="the guardrail blocks a score >= tau, so a score equal to tau counts",
    ),
    Variant(
        "choose_threshold",
        "keep only candidates with FPR < max_fpr (strict) instead of <=",
        """import numpy as np

def choose_threshold(scores_harmful, scores_benign, max_fpr):
    if not 0 <= max_fpr <= 1:
        raise ValueError("max_fpr must lie in [0, 1]")
    harmful = np.asarray(scores_harmful, dtype=float)
    benign = np.asarray(scores_benign, dtype=float)
    if harmful.size == 0 or benign.size == 0:
        raise ValueError("empty score list")
    best = None
    for t in np.unique(np.concatenate([harmful, benign])):
        tpr, fpr = np.mean(harmful >= t), np.mean(benign >= t)
        if fpr < max_fpr and (best is None or tpr >= best[0]):
            best = (tpr, t)
    return float("inf") if best is None else float(best[1])
""",
        loses=("test_choose_threshold_values",),
        review="the budget: FPR <= max_fpr is within it",
    ),
    Variant(
        "choose_threshold",
        "break ties in TPR downwards, returning the smallest of the best thresholds",
        """import numpy as np

def choose_threshold(scores_harmful, scores_benign, max_fpr):
    if not 0 <= max_fpr <= 1:
        raise ValueError("max_fpr must lie in [0, 1]")
    harmful = np.asarray(scores_harmful, dtype=float)
    benign = np.asarray(scores_benign, dtype=float)
    if harmful.size == 0 or benign.size == 0:
        raise ValueError("empty score list")
    best = None
    for t in np.unique(np.concatenate([harmful, benign])):
        tpr, fpr = np.mean(harmful >= t), np.mean(benign >= t)
        if fpr <= max_fpr and (best is None or tpr > best[0]):
            best = (tpr, t)
    return float("inf") if best is None else float(best[1])
""",
        review="the tie rule: the largest of the equally good thresholds",
    ),
    Variant(
        "choose_threshold",
        "ignore the budget and return the threshold of the highest TPR overall",
        """import numpy as np

def choose_threshold(scores_harmful, scores_benign, max_fpr):
    if not 0 <= max_fpr <= 1:
        raise ValueError("max_fpr must lie in [0, 1]")
    harmful = np.asarray(scores_harmful, dtype=np.float64)
    benign = np.asarray(scores_benign, dtype=np.float64)
    candidates = np.unique(np.concatenate([harmful.ravel(), benign.ravel()]))
    tpr, fpr = threshold_sweep(harmful, benign, candidates)
    return float(candidates[tpr == tpr.max()].max())
""",
        review="only thresholds whose FPR is within max_fpr are candidates",
    ),
    Variant(
        "answer",
        "hold the right decision, but as a string",
        """answer = "True"
""",
        review="assign the decision itself (a bool), not its text",
    ),
    Variant(
        "answer",
        "hold an int instead of a bool",
        """answer = int(0.73 >= 0.60)
""",
        review="assign a Python bool (True or False)",
    ),
]

ALTERNATIVES = [
    Variant(
        "guardrail_action",
        "np.greater_equal, with .item() for a scalar",
        """import numpy as np

def guardrail_action(score, tau):
    if tau < 0 or tau > 1:
        raise ValueError(f"tau must lie in [0, 1], got {tau}")
    blocked = np.greater_equal(np.asarray(score, dtype=np.float64), tau)
    return blocked.item() if blocked.ndim == 0 else blocked
""",
    ),
    Variant(
        "threshold_sweep",
        "a loop over the thresholds counting scores with sum()",
        """import numpy as np

def threshold_sweep(scores_harmful, scores_benign, thresholds):
    harmful = [float(s) for s in np.atleast_1d(np.asarray(scores_harmful, dtype=np.float64))]
    benign = [float(s) for s in np.atleast_1d(np.asarray(scores_benign, dtype=np.float64))]
    if not harmful or not benign:
        raise ValueError("both score lists must be non-empty")
    taus = [float(t) for t in np.atleast_1d(np.asarray(thresholds, dtype=np.float64))]
    tpr = [sum(s >= t for s in harmful) / len(harmful) for t in taus]
    fpr = [sum(s >= t for s in benign) / len(benign) for t in taus]
    return np.array(tpr, dtype=float), np.array(fpr, dtype=float)
""",
    ),
    Variant(
        "choose_threshold",
        "scans the sorted candidates, keeping the best (TPR, candidate) pair",
        """import numpy as np

def choose_threshold(scores_harmful, scores_benign, max_fpr):
    if not 0 <= max_fpr <= 1:
        raise ValueError(f"max_fpr must lie in [0, 1], got {max_fpr}")
    harmful = np.atleast_1d(np.asarray(scores_harmful, dtype=np.float64))
    benign = np.atleast_1d(np.asarray(scores_benign, dtype=np.float64))
    if harmful.size == 0 or benign.size == 0:
        raise ValueError("both score lists must be non-empty")
    best = None
    for t in sorted(set(harmful.tolist()) | set(benign.tolist())):
        fpr = np.count_nonzero(benign >= t) / benign.size
        tpr = np.count_nonzero(harmful >= t) / harmful.size
        if fpr <= max_fpr and (best is None or (tpr, t) > best):
            best = (tpr, t)
    return float("inf") if best is None else float(best[1])
""",
    ),
    Variant(
        "answer",
        "the comparison written out",
        """answer = bool(0.73 >= 0.60)
""",
    ),
]
