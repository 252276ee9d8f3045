"""Wrong answers and correct alternatives for ex02_bradley_terry."""

from . import Variant

# The validation shared by the wrong cells of both pairwise functions; format with the name.
_PAIR_CHECKS = """import numpy as np

def {}(r_chosen, r_rejected):
    chosen = np.atleast_1d(np.asarray(r_chosen, dtype=float))
    rejected = np.atleast_1d(np.asarray(r_rejected, dtype=float))
    if chosen.ndim != 1 or chosen.shape != rejected.shape or chosen.size == 0:
        raise ValueError("need two non-empty 1-D arrays of the same length")
"""

WRONG = [
    Variant(
        "preference_probability",
        "sigmoid of the wrong sign: sigma(r_l - r_w)",
        """import numpy as np

def preference_probability(r_w, r_l):
    margin = np.asarray(r_l, dtype=float) - np.asarray(r_w, dtype=float)
    e = np.exp(-np.abs(margin))
    prob = np.where(margin >= 0, 1 / (1 + e), e / (1 + e))
    return float(prob) if prob.ndim == 0 else prob
""",
        loses=("test_preference_probability_values", "test_preference_probability_stability", "test_answer"),
    ),
    Variant(
        "preference_probability",
        "sigma written as e^m / (1 + e^m): inf / inf = NaN for large margins",
        """import numpy as np

def preference_probability(r_w, r_l):
    e = np.exp(np.asarray(r_w, dtype=float) - np.asarray(r_l, dtype=float))
    prob = e / (1 + e)
    return float(prob) if prob.ndim == 0 else prob
""",
        loses=("test_preference_probability_stability",),
    ),
    Variant(
        "reward_model_loss",
        "sign flipped: the mean of -log sigma(r_rejected - r_chosen)",
        _PAIR_CHECKS.format("reward_model_loss")
        + """    return float(np.mean(np.logaddexp(0.0, chosen - rejected)))
""",
    ),
    Variant(
        "reward_model_loss",
        "-log of a computed sigmoid: sigma underflows to 0 and the loss is inf at a margin of -1e4",
        _PAIR_CHECKS.format("reward_model_loss")
        + """    sigma = 1 / (1 + np.exp(-(chosen - rejected)))
    return float(np.mean(-np.log(sigma)))
""",
        loses=("test_reward_model_loss_edge_cases",),
    ),
    Variant(
        "preference_accuracy",
        "ties counted as 0 instead of 1/2",
        _PAIR_CHECKS.format("preference_accuracy")
        + """    return float(np.mean(chosen > rejected))
""",
    ),
    Variant(
        "preference_accuracy",
        ">= instead of >: ties counted as correct",
        _PAIR_CHECKS.format("preference_accuracy")
        + """    return float(np.mean(chosen >= rejected))
""",
    ),
    Variant("answer", "the right probability, but as a string", 'answer = "0.689974"\n'),
    Variant(
        "answer",
        "sigmoid of the wrong sign: sigma(0.4 - 1.2)",
        """import math

answer = 1 / (1 + math.exp(-(0.4 - 1.2)))
""",
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
