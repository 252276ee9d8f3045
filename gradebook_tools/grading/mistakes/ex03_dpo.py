"""Catalogued mistakes and correct alternatives of ex03_dpo.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "dpo_margin",
        "take the log-ratios the wrong way round: reference minus policy",
        """import numpy as np

def dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    pc, pr, rc, rr = (np.asarray(x, dtype=float) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    margin = beta * ((rc - pc) - (rr - pr))
    return float(margin) if margin.ndim == 0 else margin
""",
        loses=(
            "test_dpo_margin_values",
            "test_dpo_margin_edge_cases",
            "test_dpo_loss_values",
            "test_dpo_loss_edge_cases",
            "test_answer",
        ),
        review="the log-ratio log pi(y|x) - log pi_ref(y|x): policy minus reference",
    ),
    Variant(
        "dpo_margin",
        "forget to multiply the margin by beta",
        """import numpy as np

def dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    pc, pr, rc, rr = (np.asarray(x, dtype=float) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    margin = (pc - rc) - (pr - rr)
    return float(margin) if margin.ndim == 0 else margin
""",
        loses=("test_dpo_margin_values", "test_dpo_margin_edge_cases", "test_dpo_loss_values", "test_answer"),
        review="where beta enters the DPO margin",
    ),
    Variant(
        "dpo_margin",
        "accept beta = 0 (a test beta < 0 instead of beta <= 0)",
        """import numpy as np

def dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if beta < 0:
        raise ValueError("beta must not be negative")
    pc, pr, rc, rr = (np.asarray(x, dtype=float) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    margin = beta * ((pc - rc) - (pr - rr))
    return float(margin) if margin.ndim == 0 else margin
""",
        loses=("test_dpo_margin_edge_cases", "test_dpo_loss_edge_cases"),
        review="the valid range of beta: strictly positive",
    ),
    Variant(
        "dpo_loss",
        "average -log sigma(-margin): the sigmoid has the wrong sign",
        """import numpy as np

def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    pc, pr, rc, rr = (np.asarray(x, dtype=float) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    margin = beta * ((pc - rc) - (pr - rr))
    if margin.size == 0:
        raise ValueError("no preference pair")
    return float(np.mean(np.logaddexp(0.0, margin)))
""",
        loses=("test_dpo_loss_values", "test_dpo_loss_edge_cases", "test_answer"),
        review="the DPO loss -log sigma(margin)",
    ),
    Variant(
        "dpo_loss",
        "take -log of a computed sigmoid, which gives inf instead of about 1e4 for a margin of -1e4",
        """import numpy as np

def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    pc, pr, rc, rr = (np.asarray(x, dtype=float) for x in (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    margin = beta * ((pc - rc) - (pr - rr))
    if margin.size == 0:
        raise ValueError("no preference pair")
    return float(np.mean(-np.log(1 / (1 + np.exp(-margin)))))
""",
        loses=("test_dpo_loss_edge_cases",),
        review="softplus: -log sigma(m) = log(1 + exp(-m)), e.g. np.logaddexp(0, -m)",
    ),
    Variant(
        "dpo_loss",
        "sum the per-pair losses instead of averaging them",
        """import numpy as np

def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    margin = np.asarray(dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta))
    if margin.size == 0:
        raise ValueError("no preference pair")
    return float(np.sum(np.logaddexp(0.0, -margin)))
""",
        review="the DPO loss is the mean over the preference pairs",
    ),
    Variant(
        "implicit_reward",
        "forget beta and return the plain log-ratio",
        """import numpy as np

def implicit_reward(policy_logp, ref_logp, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    reward = np.asarray(policy_logp, dtype=float) - np.asarray(ref_logp, dtype=float)
    return float(reward) if reward.ndim == 0 else reward
""",
        review="the implicit reward beta * (log pi - log pi_ref)",
    ),
    Variant(
        "implicit_reward",
        "take the log-ratio the wrong way round: beta * (ref_logp - policy_logp)",
        """import numpy as np

def implicit_reward(policy_logp, ref_logp, beta):
    if beta <= 0:
        raise ValueError("beta must be positive")
    reward = beta * (np.asarray(ref_logp, dtype=float) - np.asarray(policy_logp, dtype=float))
    return float(reward) if reward.ndim == 0 else reward
""",
        review="the log-ratio: policy minus reference",
    ),
    Variant(
        "implicit_reward",
        "accept a beta that is not positive",
        """import numpy as np

def implicit_reward(policy_logp, ref_logp, beta):
    reward = beta * (np.asarray(policy_logp, dtype=np.float64) - np.asarray(ref_logp, dtype=np.float64))
    return float(reward) if reward.ndim == 0 else reward
""",
        review="the valid range of beta: strictly positive, raise ValueError otherwise",
    ),
    Variant(
        "answer",
        "hold the right loss, but as a string",
        """answer = "0.554355"
""",
        review="assign the number itself (a float), not its text",
    ),
    Variant(
        "answer",
        "forget beta: -log sigma(1.5) instead of -log sigma(0.3)",
        """import math

answer = math.log(1 + math.exp(-(1.0 - (-0.5))))
""",
        review="where beta enters the DPO margin",
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
