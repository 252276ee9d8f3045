"""Hidden checks of ex05_guardrail_threshold: guardrail decisions and threshold choice."""

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer

WORKED_HARMFUL = [0.9, 0.8, 0.65, 0.4]
WORKED_BENIGN = [0.1, 0.3, 0.5, 0.7, 0.2]


def away_from(
    rng: np.random.Generator, size: int, avoid: ArrayLike, dtype: DTypeLike = np.float64
) -> NDArray[np.floating]:
    """Random scores in [0, 1) at least 1e-6 from every value in ``avoid``.

    A Python float compared with a float32 array is rounded to float32 first; keeping the
    scores clear of the thresholds makes float32 and float64 arithmetic agree.
    """
    avoid = np.atleast_1d(np.asarray(avoid, dtype=np.float64))
    scores = rng.random(size).astype(dtype)
    while True:
        near = np.abs(scores.astype(np.float64)[..., None] - avoid).min(axis=-1) < 1e-6
        if not near.any():
            return scores
        scores[near] = rng.random(int(near.sum())).astype(dtype)


def score_sets(
    rng: np.random.Generator, n_harmful: int, n_benign: int, separation: float = 0.25
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Overlapping harmful and benign scores in [0, 1], harmful ones higher on average."""
    harmful = np.clip(rng.normal(0.5 + separation, 0.2, n_harmful), 0, 1)
    benign = np.clip(rng.normal(0.5 - separation, 0.2, n_benign), 0, 1)
    return harmful, benign


@check("guardrail_action", rules=("ex05.action", "ex05.action.python-bool", "common.python-scalars"))
def test_guardrail_action_values(rng: np.random.Generator) -> list[Case]:
    """guardrail_action blocks scores >= tau, for scalars and arrays"""
    tau = float(rng.uniform(0.2, 0.8))
    tau32 = round(float(rng.uniform(0.2, 0.8)), 2)
    on_tau = rng.random(6)
    on_tau[[1, 4]] = tau
    return [
        Case("a scalar score above the threshold", (0.73, 0.60), visible=True),
        Case("the notebook's array with a score equal to tau", (np.array([0.2, 0.6, 0.95]), 0.6), visible=True),
        Case("a scalar score below the threshold", (float(rng.uniform(0.0, 0.45)), 0.5)),
        Case("a scalar score equal to the threshold", (tau, tau)),
        Case("a random float64 array", (rng.random(20), tau)),
        Case("a random float32 array", (away_from(rng, 15, tau32, np.float32), tau32)),
        Case("a random 2-D array of scores", (rng.random((4, 5)), tau)),
        Case("a Python list of scores", (rng.random(7).round(3).tolist(), float(rng.uniform(0.1, 0.9)))),
        Case("an array with scores equal to tau", (on_tau, tau)),
        Case("a threshold of 0 (block everything)", (rng.random(5), 0.0)),
    ]


@check("guardrail_action", rules=("ex05.action.tau-range", "common.value-error", "common.python-scalars"))
def test_guardrail_action_invalid_tau(rng: np.random.Generator) -> list[Case]:
    """guardrail_action rejects a threshold outside [0, 1]"""
    return [
        Case("a threshold above 1", (0.5, 1.5), visible=True),
        Case("a negative threshold", ([0.1, 0.9], -0.1), visible=True),
        Case("a threshold just above 1", (rng.random(4), 1.0 + float(rng.uniform(1e-6, 1e-3)))),
        Case("a threshold just below 0", (float(rng.random()), -float(rng.uniform(1e-6, 1e-3)))),
        Case("the valid end tau = 1", (np.array([0.3, 1.0, 0.999]), 1.0)),
        Case("the valid end tau = 0", (float(rng.random()), 0.0)),
        Case("a valid threshold", (rng.random(6), float(rng.uniform(0, 1)))),
    ]


@check("threshold_sweep", rules=("ex05.sweep",), returns=("tpr", "fpr"))
def test_threshold_sweep_values(rng: np.random.Generator) -> list[Case]:
    """threshold_sweep gives the TPR and FPR of every threshold"""
    harmful, benign = score_sets(rng, int(rng.integers(5, 30)), int(rng.integers(5, 40)))
    taus = rng.random(int(rng.integers(3, 12)))
    taus32 = rng.random(6).round(2)
    h32 = away_from(rng, 12, taus32, np.float32)
    b32 = away_from(rng, 15, taus32, np.float32)
    h_list, b_list = score_sets(rng, 8, 9)
    return [
        Case(
            "the worked example's scores",
            (WORKED_HARMFUL, WORKED_BENIGN, [0.25, 0.6, 0.85]),
            visible=True,
        ),
        Case("random score sets and unsorted random thresholds", (harmful, benign, taus)),
        Case("random float32 scores with thresholds as a list", (h32, b32, taus32.tolist())),
        Case(
            "Python lists of scores and thresholds",
            (h_list.round(3).tolist(), b_list.round(3).tolist(), [0.9, 0.1, 0.5, 0.3]),
        ),
        Case("many thresholds on a grid", (harmful, benign, np.linspace(0, 1, 101))),
        Case("classes of very different sizes", (*score_sets(rng, 3, 200), rng.random(5))),
    ]


@check("threshold_sweep", rules=("ex05.sweep.ties", "ex05.sweep.invalid", "common.value-error"), returns=("tpr", "fpr"))
def test_threshold_sweep_edge_cases(rng: np.random.Generator) -> list[Case]:
    """threshold_sweep counts scores equal to a threshold and rejects empty score lists"""
    harmful, benign = score_sets(rng, 10, 12)
    repeated = np.repeat(rng.random(3).round(2), 3)
    return [
        Case("thresholds equal to the scores", ([0.5, 0.7], [0.5, 0.1], [0.5, 0.7]), visible=True),
        Case("an empty list of harmful scores", ([], [0.1, 0.2], [0.5]), visible=True),
        Case(
            "thresholds equal to random scores of both classes",
            (harmful, benign, np.concatenate([harmful[:3], benign[:3]])),
        ),
        Case("thresholds above and below every score", (harmful, benign, [-0.5, 1.5, 0.0, 1.0])),
        Case("a single score per class", ([float(rng.random())], [float(rng.random())], rng.random(4))),
        Case("repeated scores", (repeated, repeated[::-1].copy(), np.unique(repeated))),
        Case("an empty list of benign scores", (harmful, [], [0.5])),
    ]


@check("choose_threshold", rules=("ex05.choose", "common.python-scalars"))
def test_choose_threshold_values(rng: np.random.Generator) -> list[Case]:
    """choose_threshold maximises TPR within the FPR budget"""
    cases = [
        Case("the worked example at max_fpr = 0.2", (WORKED_HARMFUL, WORKED_BENIGN, 0.2), visible=True),
        Case("the worked example at max_fpr = 0", (WORKED_HARMFUL, WORKED_BENIGN, 0.0), visible=True),
    ]
    for n_harmful, n_benign in [(10, 15), (40, 60)]:
        harmful, benign = score_sets(rng, n_harmful, n_benign)
        cases.append(
            Case("random overlapping score sets with a random budget", (harmful, benign, float(rng.uniform(0.01, 0.4))))
        )
    harmful, benign = score_sets(rng, 12, 20)
    cases.append(
        Case(
            "random float32 scores",
            (harmful.astype(np.float32), benign.astype(np.float32), float(rng.uniform(0.05, 0.3))),
        )
    )
    harmful, benign = score_sets(rng, 8, 8)
    cases.append(
        Case(
            "Python lists of scores",
            (harmful.round(2).tolist(), benign.round(2).tolist(), float(rng.uniform(0.1, 0.5))),
        )
    )
    harmful, benign = score_sets(rng, 10, 10, separation=0.45)
    cases.append(Case("well-separated classes", (harmful, benign, 0.0)))
    return cases


@check(
    "choose_threshold",
    rules=(
        "ex05.choose.ties",
        "ex05.choose.none",
        "ex05.choose.invalid",
        "common.value-error",
        "common.python-scalars",
    ),
)
def test_choose_threshold_edge_cases(rng: np.random.Generator) -> list[Case]:
    """choose_threshold breaks ties upwards, returns inf when nothing fits, rejects bad budgets"""
    harmful, benign = score_sets(rng, 10, 10)
    same = rng.random(6).round(2)
    # harmful scores far apart with benign ones in between: many candidates tie in TPR
    tie_harmful = np.array([0.95, 0.35])
    tie_benign = np.sort(rng.uniform(0.4, 0.9, 5))
    return [
        Case("a tie in TPR between candidates", ([0.8, 0.6], [0.7, 0.65, 0.3], 0.5), visible=True),
        Case("no candidate within the budget", ([0.2, 0.4], [0.9, 0.1], 0.0), visible=True),
        Case("a budget above 1", ([0.9], [0.1], 1.5), visible=True),
        Case("several candidates tying in TPR within the budget", (tie_harmful, tie_benign, 0.2)),
        Case("a budget of 1", (harmful, benign, 1.0)),
        Case("identical harmful and benign scores", (same, same.copy(), float(rng.uniform(0.2, 0.6)))),
        Case(
            "no candidate within a small budget",
            (rng.uniform(0, 0.5, 4), np.append(rng.uniform(0, 0.5, 9), 0.99), 0.05),
        ),
        Case("repeated scores", (np.repeat([0.9, 0.6], 3), np.repeat([0.6, 0.2], 2), 0.3)),
        Case("a negative budget", (harmful, benign, -0.1)),
        Case("an empty list of benign scores", (harmful, [], 0.1)),
    ]


@worked_answer(rules=("ex05.answer", "common.python-scalars"))
def test_answer() -> bool | NDArray[np.bool_]:
    """answer is the guardrail decision of the worked example"""
    return reference.guardrail_action(0.73, 0.60)
