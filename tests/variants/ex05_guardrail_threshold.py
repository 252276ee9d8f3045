"""Wrong answers and correct alternatives for ex05_guardrail_threshold."""

from . import Variant

_SWEEP_HEAD = """import numpy as np

def threshold_sweep(scores_harmful, scores_benign, thresholds):
    harmful = np.asarray(scores_harmful, dtype=float)
    benign = np.asarray(scores_benign, dtype=float)
    if harmful.size == 0 or benign.size == 0:
        raise ValueError("empty score list")
    taus = np.asarray(thresholds, dtype=float)
"""

# The opening lines shared by the wrong cells of each function.
_CHOOSE_HEAD = """import numpy as np

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
"""

# choose_threshold calls threshold_sweep, so a wrong sweep loses its cells too
_SWEEP_AND_CHOOSE = (
    "test_threshold_sweep_values",
    "test_threshold_sweep_edge_cases",
    "test_choose_threshold_values",
    "test_choose_threshold_edge_cases",
)

WRONG = [
    Variant(
        "guardrail_action",
        "> instead of >=: a score equal to tau is let through",
        """import numpy as np

def guardrail_action(score, tau):
    if not 0 <= tau <= 1:
        raise ValueError("tau must lie in [0, 1]")
    blocked = np.asarray(score, dtype=float) > tau
    return bool(blocked) if blocked.ndim == 0 else blocked
""",
    ),
    Variant(
        "guardrail_action",
        "no ValueError for a threshold outside [0, 1]",
        """import numpy as np

def guardrail_action(score, tau):
    blocked = np.asarray(score, dtype=float) >= tau
    return bool(blocked) if blocked.ndim == 0 else blocked
""",
        loses=("test_guardrail_action_invalid_tau",),
    ),
    Variant(
        "threshold_sweep",
        "returns (fpr, tpr) instead of (tpr, fpr)",
        _SWEEP_HEAD
        + """    tpr = np.array([np.mean(harmful >= t) for t in taus])
    fpr = np.array([np.mean(benign >= t) for t in taus])
    return fpr, tpr
""",
        loses=_SWEEP_AND_CHOOSE,
    ),
    Variant(
        "threshold_sweep",
        "counts the scores above each threshold instead of the fraction",
        _SWEEP_HEAD
        + """    tpr = np.array([np.sum(harmful >= t) for t in taus], dtype=float)
    fpr = np.array([np.sum(benign >= t) for t in taus], dtype=float)
    return tpr, fpr
""",
        loses=_SWEEP_AND_CHOOSE,
    ),
    Variant(
        "choose_threshold",
        "FPR < max_fpr (strict) instead of <=",
        _CHOOSE_HEAD
        + """        if fpr < max_fpr and (best is None or tpr >= best[0]):
            best = (tpr, t)
    return float("inf") if best is None else float(best[1])
""",
        loses=("test_choose_threshold_values",),
    ),
    Variant(
        "choose_threshold",
        "breaks TPR ties downwards: the smallest candidate with the best TPR",
        _CHOOSE_HEAD
        + """        if fpr <= max_fpr and (best is None or tpr > best[0]):
            best = (tpr, t)
    return float("inf") if best is None else float(best[1])
""",
    ),
    Variant("answer", "the right decision, but as a string", 'answer = "True"\n'),
    Variant("answer", "an int instead of a bool", "answer = int(0.73 >= 0.60)\n"),
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
    Variant("answer", "the comparison written out", "answer = bool(0.73 >= 0.60)\n"),
]
