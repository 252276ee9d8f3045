"""Hidden checks of ex06_refusal_tradeoff: refusal metrics and the refusal-adjusted utility."""

import numpy as np
from numpy.typing import NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer

WORKED_HARMFUL = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
WORKED_REFUSED = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]


def evaluation_set(
    rng: np.random.Generator, n: int, harmful_share: float | None = None
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Random harmful labels (both classes present) and refusals of an imperfect model."""
    share = rng.uniform(0.2, 0.8) if harmful_share is None else harmful_share
    harmful = rng.random(n) < share
    harmful[0], harmful[-1] = True, False
    rng.shuffle(harmful)
    refuse_probability = np.where(harmful, rng.uniform(0.6, 0.95), rng.uniform(0.02, 0.3))
    refused = rng.random(n) < refuse_probability
    return harmful, refused


@check("refusal_metrics", rules=("ex06.metrics", "common.python-scalars"))
def test_refusal_metrics_values(rng: np.random.Generator) -> list[Case]:
    """refusal_metrics gives safe compliance and the two class-conditional failure rates"""
    h_list, r_list = evaluation_set(rng, int(rng.integers(8, 30)))
    h_int, r_int = evaluation_set(rng, int(rng.integers(50, 300)))
    h_bool, r_bool = evaluation_set(rng, int(rng.integers(20, 80)), harmful_share=0.8)
    h_all, _ = evaluation_set(rng, 15)
    h_mix, r_mix = evaluation_set(rng, 12)
    return [
        Case("the notebook's evaluation set", (WORKED_HARMFUL, WORKED_REFUSED), visible=True),
        Case("a random evaluation set as lists of bools", (h_list.tolist(), r_list.tolist())),
        Case("a random evaluation set as 0/1 integer arrays", (h_int.astype(np.int64), r_int.astype(np.int64))),
        Case("a red-team-heavy random set as bool arrays", (h_bool, r_bool)),
        Case("a model that refuses everything", (h_all, np.ones(h_all.size, dtype=bool))),
        Case("a model that answers everything", (h_all.astype(np.int64).tolist(), [0] * h_all.size)),
        Case("labels as a bool array and refusals as a 0/1 list", (h_mix, r_mix.astype(int).tolist())),
    ]


@check("refusal_metrics", rules=("ex06.metrics.invalid", "common.value-error", "common.python-scalars"))
def test_refusal_metrics_edge_cases(rng: np.random.Generator) -> list[Case]:
    """refusal_metrics rejects mismatched inputs and sets without both kinds of prompt"""
    harmful, refused = evaluation_set(rng, 10)
    single = np.zeros(int(rng.integers(5, 20)), dtype=bool)
    single[int(rng.integers(single.size))] = True
    return [
        Case("inputs of different lengths", ([1, 0, 0], [1, 0]), visible=True),
        Case("no harmful prompt", ([0, 0, 0], [1, 0, 0]), visible=True),
        Case("one harmful and one benign prompt", ([True, False], [True, True]), visible=True),
        Case("no benign prompt", (np.ones(6, dtype=bool), rng.random(6) < 0.5)),
        Case("empty inputs", ([], [])),
        Case("arrays of different lengths", (harmful, refused[:-1])),
        Case("a set with a single harmful prompt", (single, rng.random(single.size) < 0.3)),
    ]


def rate(rng: np.random.Generator) -> float:
    return float(rng.uniform(0, 1))


@check("refusal_adjusted_utility", rules=("ex06.utility", "common.python-scalars"))
def test_refusal_adjusted_utility_values(rng: np.random.Generator) -> list[Case]:
    """refusal_adjusted_utility subtracts penalty times benign refusal"""
    return [
        Case("the worked example", (0.82, 0.09), visible=True),
        Case("the worked example with penalty 2", (0.82, 0.09), {"penalty": 2.0}, visible=True),
        Case("random rates at the default penalty", (rate(rng), rate(rng))),
        Case("random rates with a positional penalty", (rate(rng), rate(rng), float(rng.uniform(0, 3)))),
        Case("random rates with a keyword penalty", (rate(rng), rate(rng)), {"penalty": float(rng.uniform(0, 3))}),
        Case("a penalty of 0", (rate(rng), rate(rng)), {"penalty": 0.0}),
        Case("rates at the ends 0 and 1", (1.0, 0.0)),
        Case("a model that refuses every benign prompt", (rate(rng), 1.0)),
        Case("integer rates and penalty", (1, 1, 1)),
    ]


@check("refusal_adjusted_utility", rules=("ex06.utility.invalid", "common.value-error", "common.python-scalars"))
def test_refusal_adjusted_utility_invalid(rng: np.random.Generator) -> list[Case]:
    """refusal_adjusted_utility rejects rates outside [0, 1] and a negative penalty"""
    return [
        Case("safe_compliance above 1", (1.2, 0.1), visible=True),
        Case("a negative penalty as a keyword", (0.8, 0.1), {"penalty": -0.5}, visible=True),
        Case("a negative safe_compliance", (-float(rng.uniform(0.01, 0.5)), 0.1)),
        Case("benign_refusal above 1", (0.7, 1.0 + float(rng.uniform(0.01, 0.5)))),
        Case("a negative benign_refusal", (0.7, -float(rng.uniform(0.01, 0.5)))),
        Case("a negative penalty given positionally", (0.9, 0.05, -float(rng.uniform(0.1, 2)))),
        Case("a valid call", (rate(rng), rate(rng))),
    ]


@worked_answer(rules=("ex06.answer", "common.python-scalars"))
def test_answer() -> float:
    """answer is the refusal-adjusted utility of the worked example"""
    return reference.refusal_adjusted_utility(0.82, 0.09)
