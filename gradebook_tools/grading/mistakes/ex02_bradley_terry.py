"""Catalogued mistakes and correct alternatives of ex02_bradley_terry.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "preference_probability",
        "compute sigma(r_l - r_w): the margin has the wrong sign",
        """import numpy as np

def preference_probability(r_w, r_l):
    margin = np.asarray(r_l, dtype=float) - np.asarray(r_w, dtype=float)
    e = np.exp(-np.abs(margin))
    prob = np.where(margin >= 0, 1 / (1 + e), e / (1 + e))
    return float(prob) if prob.ndim == 0 else prob
""",
        loses=("test_preference_probability_values", "test_preference_probability_stability", "test_answer"),
        review="which reward is subtracted from which in the margin",
    ),
    Variant(
        "preference_probability",
        "compute sigma as e^m / (1 + e^m), which gives inf / inf = NaN for large margins",
        """import numpy as np

def preference_probability(r_w, r_l):
    e = np.exp(np.asarray(r_w, dtype=float) - np.asarray(r_l, dtype=float))
    prob = e / (1 + e)
    return float(prob) if prob.ndim == 0 else prob
""",
        loses=("test_preference_probability_stability",),
        review="the stable sigmoid: use exp(-|m|) on both branches",
    ),
    Variant(
        "preference_probability",
        "compute 1 / (1 + exp(-m)) directly, which overflows (a RuntimeWarning) for large negative margins",
        """import numpy as np

def preference_probability(r_w, r_l):
    r_w, r_l = np.asarray(r_w, dtype=np.float64), np.asarray(r_l, dtype=np.float64)
    margin = r_w - r_l
    prob = 1.0 / (1.0 + np.exp(-margin))
    return float(prob) if prob.ndim == 0 else prob
""",
        loses=("test_preference_probability_stability",),
        review="the stable sigmoid: exp(-|m|) never overflows",
    ),
    Variant(
        "reward_model_loss",
        "average -log sigma(r_rejected - r_chosen): the margin has the wrong sign",
        """import numpy as np

def reward_model_loss(r_chosen, r_rejected):
    chosen = np.atleast_1d(np.asarray(r_chosen, dtype=float))
    rejected = np.atleast_1d(np.asarray(r_rejected, dtype=float))
    if chosen.ndim != 1 or chosen.shape != rejected.shape or chosen.size == 0:
        raise ValueError("need two non-empty 1-D arrays of the same length")
    return float(np.mean(np.logaddexp(0.0, chosen - rejected)))
""",
        review="which reward is subtracted from which in the loss",
    ),
    Variant(
        "reward_model_loss",
        "take -log of a computed sigmoid, which underflows to 0 and gives an infinite loss for large negative margins",
        """import numpy as np

def reward_model_loss(r_chosen, r_rejected):
    chosen = np.atleast_1d(np.asarray(r_chosen, dtype=float))
    rejected = np.atleast_1d(np.asarray(r_rejected, dtype=float))
    if chosen.ndim != 1 or chosen.shape != rejected.shape or chosen.size == 0:
        raise ValueError("need two non-empty 1-D arrays of the same length")
    sigma = 1 / (1 + np.exp(-(chosen - rejected)))
    return float(np.mean(-np.log(sigma)))
""",
        loses=("test_reward_model_loss_edge_cases",),
        review="softplus: -log sigma(m) = log(1 + exp(-m)), e.g. np.logaddexp(0, -m)",
    ),
    Variant(
        "reward_model_loss",
        "sum the per-pair losses instead of averaging them",
        """import numpy as np

def reward_model_loss(r_chosen, r_rejected):
    chosen = np.atleast_1d(np.asarray(r_chosen, dtype=np.float64))
    rejected = np.atleast_1d(np.asarray(r_rejected, dtype=np.float64))
    if chosen.ndim != 1 or chosen.shape != rejected.shape or chosen.size == 0:
        raise ValueError("need two non-empty 1-D arrays of the same length")
    return float(np.sum(np.logaddexp(0.0, -(chosen - rejected))))
""",
        review="the loss is the mean over the pairs of the batch",
    ),
    Variant(
        "preference_accuracy",
        "count a tie as 0 instead of 1/2",
        """import numpy as np

def preference_accuracy(r_chosen, r_rejected):
    chosen = np.atleast_1d(np.asarray(r_chosen, dtype=float))
    rejected = np.atleast_1d(np.asarray(r_rejected, dtype=float))
    if chosen.ndim != 1 or chosen.shape != rejected.shape or chosen.size == 0:
        raise ValueError("need two non-empty 1-D arrays of the same length")
    return float(np.mean(chosen > rejected))
""",
        review="how ties are scored: a tie counts 1/2",
    ),
    Variant(
        "preference_accuracy",
        "use >= instead of >, so a tie counts as a correctly ranked pair",
        """import numpy as np

def preference_accuracy(r_chosen, r_rejected):
    chosen = np.atleast_1d(np.asarray(r_chosen, dtype=float))
    rejected = np.atleast_1d(np.asarray(r_rejected, dtype=float))
    if chosen.ndim != 1 or chosen.shape != rejected.shape or chosen.size == 0:
        raise ValueError("need two non-empty 1-D arrays of the same length")
    return float(np.mean(chosen >= rejected))
""",
        review="how ties are scored: a tie counts 1/2, not 1",
    ),
    Variant(
        "preference_accuracy",
        "return the number of correctly ranked pairs instead of the fraction",
        """import numpy as np

def preference_accuracy(r_chosen, r_rejected):
    chosen = np.atleast_1d(np.asarray(r_chosen, dtype=np.float64))
    rejected = np.atleast_1d(np.asarray(r_rejected, dtype=np.float64))
    if chosen.ndim != 1 or chosen.shape != rejected.shape or chosen.size == 0:
        raise ValueError("need two non-empty 1-D arrays of the same length")
    wins = np.where(chosen > rejected, 1.0, np.where(chosen == rejected, 0.5, 0.0))
    return float(wins.sum())
""",
        review="accuracy is a fraction: divide by the number of pairs",
    ),
    Variant(
        "answer",
        "hold the right probability, but as a string",
        """answer = "0.689974"
""",
        review="assign the number itself (a float), not its text",
    ),
    Variant(
        "answer",
        "compute sigma(0.4 - 1.2): the margin has the wrong sign",
        """import math

answer = 1 / (1 + math.exp(-(0.4 - 1.2)))
""",
        review="which reward is subtracted from which in the margin",
    ),
]

ALTERNATIVES = [
    Variant(
        "preference_probability",
        "sigma(x) = (1 + tanh(x / 2)) / 2, which cannot overflow",
        """import numpy as np

def preference_probability(r_w, r_l):
    r_w, r_l = np.asarray(r_w, dtype=np.float64), np.asarray(r_l, dtype=np.float64)
    prob = 0.5 * (1.0 + np.tanh((r_w - r_l) / 2.0))
    return prob.item() if prob.ndim == 0 else prob
""",
    ),
    Variant(
        "reward_model_loss",
        "a loop with the stable softplus max(-m, 0) + log1p(exp(-|m|))",
        """import math
import numpy as np

def reward_model_loss(r_chosen, r_rejected):
    chosen = np.atleast_1d(np.asarray(r_chosen, dtype=np.float64))
    rejected = np.atleast_1d(np.asarray(r_rejected, dtype=np.float64))
    if chosen.ndim != 1 or chosen.shape != rejected.shape:
        raise ValueError("r_chosen and r_rejected must be 1-D and of the same length")
    if chosen.size == 0:
        raise ValueError("no preference pair")
    total = 0.0
    for c, r in zip(chosen, rejected):
        m = float(c - r)
        total += max(-m, 0.0) + math.log1p(math.exp(-abs(m)))
    return total / chosen.size
""",
    ),
    Variant(
        "preference_accuracy",
        "a loop adding 1 per win and 0.5 per tie",
        """import numpy as np

def preference_accuracy(r_chosen, r_rejected):
    chosen = np.atleast_1d(np.asarray(r_chosen, dtype=np.float64))
    rejected = np.atleast_1d(np.asarray(r_rejected, dtype=np.float64))
    if chosen.ndim != 1 or chosen.shape != rejected.shape:
        raise ValueError("r_chosen and r_rejected must be 1-D and of the same length")
    if chosen.size == 0:
        raise ValueError("no preference pair")
    score = 0.0
    for c, r in zip(chosen, rejected):
        if c > r:
            score += 1.0
        elif c == r:
            score += 0.5
    return score / len(chosen)
""",
    ),
    Variant(
        "answer",
        "the sigmoid of the margin 0.8 with math.exp",
        """import math

answer = 1 / (1 + math.exp(-(1.2 - 0.4)))
""",
    ),
]
