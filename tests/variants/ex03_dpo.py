"""Wrong answers and correct alternatives for ex03_dpo."""

from . import Variant

# The opening lines shared by the wrong cells of each function.
_LOSS_HEAD = """import numpy as np

def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    pc, pr, rc, rr = (np.asarray(x, dtype=float) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    margin = beta * ((pc - rc) - (pr - rr))
    if margin.size == 0:
        raise ValueError("no preference pair")
"""

_MARGIN_HEAD = """import numpy as np

def dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    pc, pr, rc, rr = (np.asarray(x, dtype=float) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
"""

_MARGIN_AND_LOSS = (
    "test_dpo_margin_values",
    "test_dpo_margin_edge_cases",
    "test_dpo_loss_values",
    "test_dpo_loss_edge_cases",
    "test_answer",
)

WRONG = [
    Variant(
        "dpo_margin",
        "log-ratios taken the wrong way round: reference minus policy",
        _MARGIN_HEAD
        + """    margin = beta * ((rc - pc) - (rr - pr))
    return float(margin) if margin.ndim == 0 else margin
""",
        loses=_MARGIN_AND_LOSS,
    ),
    Variant(
        "dpo_margin",
        "forgets to multiply by beta",
        _MARGIN_HEAD
        + """    margin = (pc - rc) - (pr - rr)
    return float(margin) if margin.ndim == 0 else margin
""",
        # the loss's edge cases all use beta = 1, where forgetting beta does no harm
        loses=("test_dpo_margin_values", "test_dpo_margin_edge_cases", "test_dpo_loss_values", "test_answer"),
    ),
    Variant(
        "dpo_margin",
        "beta < 0 instead of beta <= 0: a zero beta is accepted",
        """import numpy as np

def dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if beta < 0:
        raise ValueError("beta must not be negative")
    pc, pr, rc, rr = (np.asarray(x, dtype=float) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    margin = beta * ((pc - rc) - (pr - rr))
    return float(margin) if margin.ndim == 0 else margin
""",
        loses=("test_dpo_margin_edge_cases", "test_dpo_loss_edge_cases"),
    ),
    Variant(
        "dpo_loss",
        "sigmoid of the wrong sign: the mean of -log sigma(-margin)",
        _LOSS_HEAD
        + """    return float(np.mean(np.logaddexp(0.0, margin)))
""",
        loses=("test_dpo_loss_values", "test_dpo_loss_edge_cases", "test_answer"),
    ),
    Variant(
        "dpo_loss",
        "-log of a computed sigmoid: inf instead of about 1e4 for a margin of -1e4",
        _LOSS_HEAD
        + """    return float(np.mean(-np.log(1 / (1 + np.exp(-margin)))))
""",
        loses=("test_dpo_loss_edge_cases",),
    ),
    Variant(
        "implicit_reward",
        "forgets beta: returns the plain log-ratio",
        """import numpy as np

def implicit_reward(policy_logp, ref_logp, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    reward = np.asarray(policy_logp, dtype=float) - np.asarray(ref_logp, dtype=float)
    return float(reward) if reward.ndim == 0 else reward
""",
    ),
    Variant(
        "implicit_reward",
        "log-ratio the wrong way round: beta * (ref_logp - policy_logp)",
        """import numpy as np

def implicit_reward(policy_logp, ref_logp, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    reward = beta * (np.asarray(ref_logp, dtype=float) - np.asarray(policy_logp, dtype=float))
    return float(reward) if reward.ndim == 0 else reward
""",
    ),
    Variant("answer", "the right loss, but as a string", 'answer = "0.554355"\n'),
    Variant(
        "answer",
        "forgets beta: -log sigma(1.5) instead of -log sigma(0.3)",
        """import math

answer = math.log(1 + math.exp(-(1.0 - (-0.5))))
""",
    ),
]

ALTERNATIVES = [
    Variant(
        "dpo_margin",
        "regrouped as beta * [(policy_chosen - policy_rejected) - (ref_chosen - ref_rejected)]",
        """import numpy as np

def dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    pc, pr, rc, rr = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    )
    margin = beta * ((pc - pr) - (rc - rr))
    return margin.item() if margin.ndim == 0 else margin
""",
    ),
    Variant(
        "dpo_loss",
        "a loop over the margins with the stable softplus max(-m, 0) + log1p(exp(-|m|))",
        """import math
import numpy as np

def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    pc, pr, rc, rr = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    )
    margins = (beta * ((pc - rc) - (pr - rr))).ravel()
    if margins.size == 0:
        raise ValueError("no preference pair")
    total = 0.0
    for m in margins:
        total += max(-m, 0.0) + math.log1p(math.exp(-abs(m)))
    return total / margins.size
""",
    ),
    Variant(
        "implicit_reward",
        "np.multiply and np.subtract, returning np.float64 for scalars",
        """import numpy as np

def implicit_reward(policy_logp, ref_logp, beta):
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    reward = np.multiply(beta, np.subtract(np.asarray(policy_logp, dtype=np.float64), np.asarray(ref_logp, dtype=np.float64)))
    return np.float64(reward) if reward.ndim == 0 else reward
""",
    ),
    Variant(
        "answer",
        "softplus of minus the margin 0.2 * (1.0 - (-0.5)), with math.log1p",
        """import math

answer = math.log1p(math.exp(-0.2 * (1.0 - (-0.5))))
""",
    ),
]
