"""Hidden checks of ex03_dpo: the DPO margin, loss and implicit reward."""

import numpy as np
from numpy.typing import DTypeLike, NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer

WORKED_PAIR = (-12.0, -15.5, -13.0, -15.0)
NOTEBOOK_BATCH = ([-10.0, -8.0], [-11.0, -7.0], [-10.5, -8.0], [-10.0, -7.5])


def random_logps(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: DTypeLike = np.float64
) -> tuple[NDArray[np.floating], ...]:
    """Four arrays of sequence log-probabilities: policy chosen/rejected, reference chosen/rejected."""
    ref = rng.normal(-30.0, 8.0, size=(2, *shape))
    policy = ref + rng.normal(0.0, 2.0, size=(2, *shape))
    return tuple(x.astype(dtype) for x in (policy[0], policy[1], ref[0], ref[1]))


def pair_value_cases(rng: np.random.Generator) -> list[Case]:
    """Valid inputs shared by the margin and the loss: batches, dtypes, scalars, broadcasting."""
    beta = float(rng.choice([0.05, 0.1, 0.3, 1.0]))
    batch = random_logps(rng, (8,))
    scalars = tuple(float(x) for x in random_logps(rng, ()))
    policy_chosen, policy_rejected, _, _ = random_logps(rng, (5,))
    return [
        Case("the worked pair", (*WORKED_PAIR, 0.2), visible=True),
        Case("the notebook's batch of two pairs", (*NOTEBOOK_BATCH, 0.5), visible=True),
        Case("random float64 batches of log-probabilities", (*batch, beta)),
        Case("random float32 batches", (*random_logps(rng, (6,), np.float32), 0.1)),
        Case("Python lists of log-probabilities", (*(x.round(2).tolist() for x in random_logps(rng, (4,))), 0.2)),
        Case("four Python float log-probabilities", (*scalars, 0.5)),
        Case("beta passed by keyword", batch, {"beta": 2.0}),
        Case(
            "scalar reference log-probabilities broadcast against arrays",
            (policy_chosen, policy_rejected, -25.0, -31.0, 0.1),
        ),
        Case("a 2-D batch of log-probabilities", (*random_logps(rng, (3, 4)), 0.25)),
    ]


@check("dpo_margin", rules=("ex03.margin", "common.python-scalars"))
def test_dpo_margin_values(rng: np.random.Generator) -> list[Case]:
    """dpo_margin is beta times the difference of the chosen and rejected log-ratios"""
    return pair_value_cases(rng)


def invalid_pair_cases(rng: np.random.Generator, visible_beta_zero: bool = False) -> list[Case]:
    """Inputs that dpo_margin and dpo_loss must both reject."""
    pc, pr, rc, rr = random_logps(rng, (4,))
    return [
        Case("a zero beta", (*WORKED_PAIR, 0.0), visible=visible_beta_zero),
        Case("a negative beta", (pc, pr, rc, rr, -float(rng.uniform(0.01, 1.0)))),
        Case("inputs whose shapes cannot be broadcast together", (pc, pr[:3], rc, rr, 0.1)),
    ]


@check("dpo_margin", rules=("ex03.margin.broadcast", "ex03.beta.positive", "common.value-error"))
def test_dpo_margin_edge_cases(rng: np.random.Generator) -> list[Case]:
    """dpo_margin broadcasts scalars and rejects a non-positive beta or incompatible shapes"""
    pc, pr, rc, rr = random_logps(rng, (5,))
    return [
        Case("a tiny positive beta", (pc, pr, rc, rr, 1e-3)),
        Case("the reference given once as scalars for a batch", (pc, pr, float(rc[0]), float(rr[0]), 0.3)),
        *invalid_pair_cases(rng, visible_beta_zero=True),
        Case("a beta given by keyword that is not positive", (pc, pr, rc, rr), {"beta": -0.5}),
    ]


@check("dpo_loss", rules=("ex03.loss", "common.python-scalars"))
def test_dpo_loss_values(rng: np.random.Generator) -> list[Case]:
    """dpo_loss is the mean of -log sigma(margin) over the pairs"""
    pc, pr, _, _ = random_logps(rng, (6,))
    return [
        *pair_value_cases(rng),
        Case("a policy equal to its reference", (pc, pr, pc.copy(), pr.copy(), 0.3)),
    ]


@check(
    "dpo_loss",
    rules=(
        "ex03.loss.stable",
        "ex03.beta.positive",
        "common.value-error",
        "common.python-scalars",
        "common.stability-warnings",
    ),
    warnings_fail=True,
)
def test_dpo_loss_edge_cases(rng: np.random.Generator) -> list[Case]:
    """dpo_loss is exact for margins of magnitude 1e4 and rejects a bad beta, bad shapes or no pair"""
    big = tuple(rng.uniform(-1e4, 0.0, 6) for _ in range(4))
    return [
        Case(
            "margins of magnitude 1e4 of both signs",
            ([0.0, -1e4], [-1e4, 0.0], [0.0, 0.0], [0.0, 0.0], 1.0),
            visible=True,
        ),
        Case("random log-probabilities of magnitude 1e4", (*big, 1.0)),
        Case("a single pair ranked wrong by a margin of magnitude 1e4", (-1e4, 0.0, 0.0, 0.0, 1.0)),
        Case("empty inputs (no pair)", ([], [], [], [], 0.2), visible=True),
        *invalid_pair_cases(rng),
    ]


@check(
    "implicit_reward",
    rules=("ex03.implicit-reward", "ex03.beta.positive", "common.value-error", "common.python-scalars"),
)
def test_implicit_reward(rng: np.random.Generator) -> list[Case]:
    """implicit_reward is beta times the log-ratio against the reference"""
    policy, _, ref, _ = random_logps(rng, (7,))
    policy32, _, ref32, _ = random_logps(rng, (5,), np.float32)
    return [
        Case("the worked chosen response", (-12.0, -13.0, 0.2), visible=True),
        Case("the worked pair as lists", ([-12.0, -15.5], [-13.0, -15.0], 0.2), visible=True),
        Case("random float64 log-probabilities", (policy, ref, float(rng.choice([0.1, 0.5, 2.0])))),
        Case("random float32 log-probabilities", (policy32, ref32, 0.2)),
        Case("Python lists of log-probabilities", (policy[:4].round(2).tolist(), ref[:4].round(2).tolist(), 0.3)),
        Case("beta passed by keyword", (float(policy[0]), float(ref[0])), {"beta": 0.7}),
        Case("a scalar reference broadcast against an array", (policy, -30.0, 0.1)),
        Case("a zero beta", (policy, ref, 0.0)),
        Case("a negative beta", (-12.0, -13.0, -0.2), visible=True),
        Case("inputs whose shapes cannot be broadcast together", (policy, ref[:3], 0.1)),
    ]


@worked_answer(rules=("ex03.answer", "common.python-scalars"))
def test_answer() -> float:
    """answer is the DPO loss of the worked pair"""
    return reference.dpo_loss(1.0, -0.5, 0.0, 0.0, 0.2)
