"""Catalogued mistakes and correct alternatives of ex09_kl_budget.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "kl_divergence",
        "swap the arguments and compute KL(q || p)",
        """import numpy as np

def kl_divergence(p, q):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    for v in (p, q):
        if v.ndim != 1 or v.size == 0 or not np.all(v >= 0) or abs(v.sum() - 1) > 1e-6:
            raise ValueError("p and q must be probability vectors")
    if p.shape != q.shape:
        raise ValueError("p and q have different lengths")
    support = q > 0
    if np.any(p[support] == 0):
        return float("inf")
    return float(np.sum(q[support] * np.log(q[support] / p[support])))
""",
        review="the order of KL(p || q): the expectation is under p",
    ),
    Variant(
        "kl_divergence",
        "use log base 2, giving KL in bits instead of nats",
        """import numpy as np

def kl_divergence(p, q):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    for v in (p, q):
        if v.ndim != 1 or v.size == 0 or not np.all(v >= 0) or abs(v.sum() - 1) > 1e-6:
            raise ValueError("p and q must be probability vectors")
    if p.shape != q.shape:
        raise ValueError("p and q have different lengths")
    support = p > 0
    if np.any(q[support] == 0):
        return float("inf")
    return float(np.sum(p[support] * np.log2(p[support] / q[support])))
""",
        review="nats: the natural log",
    ),
    Variant(
        "kl_divergence",
        "sum p * log(p / q) over every entry, so 0 * log 0 gives NaN where p has zeros",
        """import numpy as np

def kl_divergence(p, q):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    for v in (p, q):
        if v.ndim != 1 or v.size == 0 or not np.all(v >= 0) or abs(v.sum() - 1) > 1e-6:
            raise ValueError("p and q must be probability vectors")
    if p.shape != q.shape:
        raise ValueError("p and q have different lengths")
    return float(np.sum(p * np.log(p / q)))
""",
        loses=("test_kl_divergence_support",),
        review="the convention 0 * log 0 = 0: sum over the support of p only",
    ),
    Variant(
        "kl_penalized_rewards",
        "add beta times the log-ratio instead of subtracting it",
        """import numpy as np

def kl_penalized_rewards(rewards, logp_policy, logp_ref, beta):
    if beta < 0:
        raise ValueError("beta must be non-negative")
    rewards, policy, ref = (np.asarray(x, dtype=float) for x in (rewards, logp_policy, logp_ref))
    if np.isnan(rewards).any() or np.isnan(policy).any() or np.isnan(ref).any():
        raise ValueError("NaN input")
    out = rewards + beta * (policy - ref)
    return float(out) if out.ndim == 0 else out
""",
        review="the penalized reward r - beta * (log pi - log pi_ref)",
    ),
    Variant(
        "kl_penalized_rewards",
        "compute the right formula but accept a negative beta or a NaN log-probability",
        """import numpy as np

def kl_penalized_rewards(rewards, logp_policy, logp_ref, beta):
    out = np.asarray(rewards, dtype=float) - beta * (np.asarray(logp_policy, dtype=float) - np.asarray(logp_ref, dtype=float))
    return float(out) if out.ndim == 0 else out
""",
        loses=("test_kl_penalized_rewards_invalid_and_large",),
        review="the invalid inputs: raise ValueError for them",
    ),
    Variant(
        "kl_penalized_rewards",
        "forget beta and subtract the plain log-ratio",
        """import numpy as np

def kl_penalized_rewards(rewards, logp_policy, logp_ref, beta):
    if not beta >= 0:
        raise ValueError("beta must be non-negative")
    arrays = [np.asarray(v, dtype=np.float64) for v in (rewards, logp_policy, logp_ref)]
    if any(np.isnan(a).any() for a in arrays):
        raise ValueError("NaN input")
    r, log_policy, log_ref = arrays
    penalized = r - (log_policy - log_ref)
    return float(penalized) if penalized.ndim == 0 else penalized
""",
        review="the penalty is beta times the log-ratio",
    ),
    Variant(
        "kl_regularized_objective",
        "add the KL cost instead of subtracting it",
        """def kl_regularized_objective(reward_gain, kl_cost, beta):
    return float(reward_gain + beta * kl_cost)
""",
        loses=("test_kl_regularized_objective", "test_answer"),
        review="the objective: reward gain minus beta times the KL cost",
    ),
    Variant(
        "kl_regularized_objective",
        "forget beta and subtract the plain KL cost",
        """def kl_regularized_objective(reward_gain, kl_cost, beta):
    return float(reward_gain - kl_cost)
""",
        loses=("test_kl_regularized_objective", "test_answer"),
        review="the objective: reward gain minus beta times the KL cost",
    ),
    Variant(
        "kl_regularized_objective",
        "divide the KL cost by beta instead of multiplying it",
        """def kl_regularized_objective(reward_gain, kl_cost, beta):
    return float(reward_gain - kl_cost / beta)
""",
        loses=("test_kl_regularized_objective", "test_answer"),
        review="the objective: reward gain minus beta times the KL cost",
    ),
    Variant(
        "answer",
        "hold the right value, but as a string",
        """answer = "0.04"
""",
        review="assign the number itself (a float), not its text",
    ),
    Variant(
        "answer",
        "forget beta: 0.12 - 0.04",
        """answer = 0.12 - 0.04
""",
        review="where beta enters the objective",
    ),
]

ALTERNATIVES = [
    Variant(
        "kl_divergence",
        "a loop with math.log over the support, validating with math.fsum",
        """import math
import numpy as np

def kl_divergence(p, q):
    vectors = []
    for name, values in (("p", p), ("q", q)):
        vector = np.asarray(values, dtype=np.float64)
        if vector.ndim != 1 or vector.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D vector")
        if not all(x >= 0 for x in vector):  # NaN fails x >= 0 too
            raise ValueError(f"{name} has a negative or NaN entry")
        if abs(math.fsum(vector) - 1.0) > 1e-6:
            raise ValueError(f"{name} does not sum to 1")
        vectors.append([float(x) for x in vector])
    p, q = vectors
    if len(p) != len(q):
        raise ValueError("p and q have different lengths")
    total = 0.0
    for p_i, q_i in zip(p, q):
        if p_i == 0:
            continue
        if q_i == 0:
            return math.inf
        total += p_i * math.log(p_i / q_i)
    return total
""",
    ),
    Variant(
        "kl_penalized_rewards",
        "distributes beta: rewards - beta·logp_policy + beta·logp_ref, with explicit float64 conversion",
        """import numpy as np

def kl_penalized_rewards(rewards, logp_policy, logp_ref, beta):
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got {beta}")
    r, policy, ref = (np.array(x, dtype=np.float64) for x in (rewards, logp_policy, logp_ref))
    if np.isnan(r).any() or np.isnan(policy).any() or np.isnan(ref).any():
        raise ValueError("the inputs contain NaN")
    try:
        out = r - beta * policy + beta * ref
    except ValueError:
        raise ValueError("the inputs cannot be broadcast together") from None
    return out.item() if out.ndim == 0 else out
""",
    ),
    Variant(
        "kl_regularized_objective",
        "converts each input with float() and returns np.float64",
        """import numpy as np

def kl_regularized_objective(reward_gain, kl_cost, beta):
    return np.float64(float(reward_gain) - float(beta) * float(kl_cost))
""",
    ),
    Variant(
        "answer",
        "the objective written out by hand",
        """answer = 0.12 - 2.0 * 0.04
""",
    ),
]
