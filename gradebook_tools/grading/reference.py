"""The reference alignment computations: the trusted side of every hidden check.

One function per graded function of ``shared/CURRICULUM.md``, with the same
name, signature, edge cases and errors. The grader calls these in its own
process; they are never imported into a student's kernel, and nothing here
appears in the released notebooks.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Mapping, Sequence

import numpy as np

# ---------------------------------------------------------------- helpers


def _float_array(x, name: str) -> np.ndarray:
    """``x`` as a float64 array, or a ValueError naming ``name``."""
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric: {error}") from None
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN")
    return array


def _nonempty_1d(x, name: str) -> np.ndarray:
    array = _float_array(x, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    return array


def _same_length(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{names} have different shapes: {a.shape} and {b.shape}")


def _in_unit_interval(array: np.ndarray, name: str) -> None:
    if np.any((array < 0) | (array > 1)):
        raise ValueError(f"{name} must lie in [0, 1]")


def _scalar_or_array(result: np.ndarray):
    """A Python float for a 0-d result, the array otherwise."""
    return float(result) if result.ndim == 0 else result


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive number never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _neg_log_sigmoid(x: np.ndarray) -> np.ndarray:
    """-log σ(x) = log(1 + e^{-x}), finite for any finite x."""
    return np.logaddexp(0.0, -x)


# ---------------------------------------------- ex01 response-only SFT loss


def log_softmax(z, axis=-1):
    z = _float_array(z, "z")
    if z.ndim == 0:
        raise ValueError("z must have at least one axis")
    if z.shape[axis] == 0:
        raise ValueError("z is empty along the softmax axis")
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


ROLES_IN_LOSS = {"assistant": 1.0, "system": 0.0, "user": 0.0}


def response_mask_from_roles(roles):
    unknown = sorted({str(r) for r in roles if r not in ROLES_IN_LOSS})
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}")
    return np.array([ROLES_IN_LOSS[r] for r in roles], dtype=np.float64)


def response_only_loss(logits, targets, response_mask):
    logits = _float_array(logits, "logits")
    targets = np.asarray(targets)
    mask = _float_array(response_mask, "response_mask")
    if logits.ndim < 1 or logits.shape[:-1] != targets.shape or targets.shape != mask.shape:
        raise ValueError(
            f"shape mismatch: logits {logits.shape}, targets {targets.shape}, "
            f"response_mask {mask.shape}; expected (..., V), (...), (...)"
        )
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("response_mask must contain only 0 and 1")
    vocabulary = logits.shape[-1]
    if targets.size and (
        not np.all(np.equal(np.mod(targets, 1), 0))
        or np.any(targets < 0)
        or np.any(targets >= vocabulary)
    ):
        raise ValueError(f"targets must be integers in [0, {vocabulary})")
    if mask.sum() == 0:
        raise ValueError("no response token: the mask is all zeros")
    log_probs = log_softmax(logits, axis=-1)
    picked = np.take_along_axis(log_probs, targets.astype(np.int64)[..., None], axis=-1)[..., 0]
    return float(-(picked * mask).sum() / mask.sum())


# ----------------------------------------------- ex02 Bradley-Terry model


def preference_probability(r_w, r_l):
    r_w, r_l = _float_array(r_w, "r_w"), _float_array(r_l, "r_l")
    margin = np.subtract(r_w, r_l)
    return _scalar_or_array(_stable_sigmoid(margin))


def reward_model_loss(r_chosen, r_rejected):
    chosen = _nonempty_1d(np.atleast_1d(r_chosen), "r_chosen")
    rejected = _nonempty_1d(np.atleast_1d(r_rejected), "r_rejected")
    _same_length(chosen, rejected, "r_chosen and r_rejected")
    return float(np.mean(_neg_log_sigmoid(chosen - rejected)))


def preference_accuracy(r_chosen, r_rejected):
    chosen = _nonempty_1d(np.atleast_1d(r_chosen), "r_chosen")
    rejected = _nonempty_1d(np.atleast_1d(r_rejected), "r_rejected")
    _same_length(chosen, rejected, "r_chosen and r_rejected")
    wins = (chosen > rejected) + 0.5 * (chosen == rejected)
    return float(np.mean(wins))


# -------------------------------------------------------------- ex03 DPO


def dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    names = ("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected")
    arrays = [_float_array(x, n) for x, n in zip((policy_chosen, policy_rejected, ref_chosen, ref_rejected), names)]
    try:
        np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        raise ValueError("the four log-probability inputs have incompatible shapes") from None
    pc, pr, rc, rr = arrays
    return _scalar_or_array(beta * ((pc - rc) - (pr - rr)))


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    margin = np.asarray(dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta))
    if margin.size == 0:
        raise ValueError("no preference pair")
    return float(np.mean(_neg_log_sigmoid(margin)))


def implicit_reward(policy_logp, ref_logp, beta):
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    policy, ref = _float_array(policy_logp, "policy_logp"), _float_array(ref_logp, "ref_logp")
    try:
        return _scalar_or_array(beta * (policy - ref))
    except ValueError:
        raise ValueError(f"policy_logp {policy.shape} and ref_logp {ref.shape} do not match") from None


# ------------------------------------------------ ex04 attack success rate


def attack_success_rate(violations):
    outcomes = _nonempty_1d(np.atleast_1d(violations), "violations")
    if not np.all((outcomes == 0) | (outcomes == 1)):
        raise ValueError("violations must be 0/1 (or bool) outcomes")
    return float(outcomes.mean())


def wilson_interval(successes, n, z=1.96):
    if not n > 0:
        raise ValueError(f"n must be positive, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n], got {successes} of {n}")
    if not z > 0:
        raise ValueError(f"z must be positive, got {z}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def trials_for_margin(half_width, p=0.5, z=1.96):
    if not half_width > 0:
        raise ValueError(f"half_width must be positive, got {half_width}")
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    # round away float noise first: 0.09 / 0.0001 is 900.0000000000001, and 900 trials suffice
    return int(math.ceil(round(z * z * p * (1 - p) / (half_width * half_width), 9)))


# ----------------------------------------------- ex05 guardrail threshold


def guardrail_action(score, tau):
    if not 0 <= tau <= 1:
        raise ValueError(f"tau must lie in [0, 1], got {tau}")
    scores = _float_array(score, "score")
    blocked = scores >= tau
    return bool(blocked) if blocked.ndim == 0 else blocked


def threshold_sweep(scores_harmful, scores_benign, thresholds):
    harmful = _nonempty_1d(np.atleast_1d(scores_harmful), "scores_harmful")
    benign = _nonempty_1d(np.atleast_1d(scores_benign), "scores_benign")
    taus = _float_array(np.atleast_1d(thresholds), "thresholds")
    if taus.ndim != 1:
        raise ValueError("thresholds must be one-dimensional")
    tpr = (harmful[None, :] >= taus[:, None]).mean(axis=1)
    fpr = (benign[None, :] >= taus[:, None]).mean(axis=1)
    return tpr, fpr


def choose_threshold(scores_harmful, scores_benign, max_fpr):
    if not 0 <= max_fpr <= 1:
        raise ValueError(f"max_fpr must lie in [0, 1], got {max_fpr}")
    harmful = _nonempty_1d(np.atleast_1d(scores_harmful), "scores_harmful")
    benign = _nonempty_1d(np.atleast_1d(scores_benign), "scores_benign")
    candidates = np.unique(np.concatenate([harmful, benign]))
    tpr, fpr = threshold_sweep(harmful, benign, candidates)
    allowed = fpr <= max_fpr
    if not allowed.any():
        return float("inf")
    best_tpr = tpr[allowed].max()
    return float(candidates[allowed & (tpr == best_tpr)].max())


# ------------------------------------------------- ex06 refusal trade-off


def refusal_metrics(is_harmful, refused):
    harmful = np.asarray(is_harmful, dtype=bool)
    refusals = np.asarray(refused, dtype=bool)
    if harmful.ndim != 1 or harmful.shape != refusals.shape:
        raise ValueError("is_harmful and refused must be 1-D and of the same length")
    if harmful.all() or not harmful.any():
        raise ValueError("need at least one harmful and one benign prompt")
    correct = np.where(harmful, refusals, ~refusals)
    return {
        "safe_compliance": float(correct.mean()),
        "benign_refusal": float(refusals[~harmful].mean()),
        "harmful_compliance": float((~refusals[harmful]).mean()),
    }


def refusal_adjusted_utility(safe_compliance, benign_refusal, penalty=0.5):
    for name, rate in (("safe_compliance", safe_compliance), ("benign_refusal", benign_refusal)):
        if not 0 <= rate <= 1:
            raise ValueError(f"{name} must lie in [0, 1], got {rate}")
    if not penalty >= 0:
        raise ValueError(f"penalty must be non-negative, got {penalty}")
    return float(safe_compliance - penalty * benign_refusal)


# ------------------------------------------------- ex07 review priority


def review_priority(risk, uncertainty, diversity, weights=(0.5, 0.35, 0.15)):
    w = _float_array(weights, "weights")
    if w.shape != (3,):
        raise ValueError("weights must hold three numbers")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    if abs(w.sum() - 1.0) > 1e-9:
        raise ValueError(f"weights must sum to 1, got {w.sum()}")
    signals = [_float_array(x, n) for x, n in ((risk, "risk"), (uncertainty, "uncertainty"), (diversity, "diversity"))]
    for signal, name in zip(signals, ("risk", "uncertainty", "diversity")):
        _in_unit_interval(signal, name)
    risk, uncertainty, diversity = signals
    return _scalar_or_array(w[0] * risk + w[1] * uncertainty + w[2] * diversity)


def binary_entropy(p):
    p = _float_array(p, "p")
    _in_unit_interval(p, "p")
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0) - np.where(
            q > 0, q * np.log2(np.where(q > 0, q, 1.0)), 0.0
        )
    return _scalar_or_array(terms + 0.0)  # + 0.0 turns -0.0 into 0.0


def select_for_review(priorities, budget):
    scores = _float_array(np.atleast_1d(priorities), "priorities")
    if budget < 0:
        raise ValueError(f"budget must be non-negative, got {budget}")
    # a stable sort of the negated scores keeps the lower index first on ties
    order = np.argsort(-scores, kind="stable")
    return order[: int(budget)].astype(np.int64)


# ---------------------------------------------- ex08 reviewer agreement


def _paired_labels(a, b) -> tuple[list, list]:
    a, b = list(a), list(b)
    if not a or not b:
        raise ValueError("label lists are empty")
    if len(a) != len(b):
        raise ValueError(f"reviewers labelled different numbers of items: {len(a)} and {len(b)}")
    return a, b


def raw_agreement(a, b):
    a, b = _paired_labels(a, b)
    return sum(x == y for x, y in zip(a, b)) / len(a)


def cohens_kappa(a, b):
    a, b = _paired_labels(a, b)
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    counts_a, counts_b = Counter(a), Counter(b)
    expected = sum(counts_a[label] * counts_b[label] for label in counts_a) / (n * n)
    if math.isclose(expected, 1.0):
        return 1.0
    return float((observed - expected) / (1.0 - expected))


def disagreements(a, b):
    a, b = _paired_labels(a, b)
    return np.array([i for i, (x, y) in enumerate(zip(a, b)) if x != y], dtype=np.int64)


# ------------------------------------------------------ ex09 KL budget


def _probability_vector(x, name: str) -> np.ndarray:
    vector = _nonempty_1d(x, name)
    if np.any(vector < 0):
        raise ValueError(f"{name} has negative entries")
    if abs(vector.sum() - 1.0) > 1e-6:
        raise ValueError(f"{name} must sum to 1, sums to {vector.sum()}")
    return vector


def kl_divergence(p, q):
    p, q = _probability_vector(p, "p"), _probability_vector(q, "q")
    _same_length(p, q, "p and q")
    support = p > 0
    if np.any(q[support] == 0):
        return float("inf")
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def kl_penalized_rewards(rewards, logp_policy, logp_ref, beta):
    if not beta >= 0:
        raise ValueError(f"beta must be non-negative, got {beta}")
    rewards = _float_array(rewards, "rewards")
    policy, ref = _float_array(logp_policy, "logp_policy"), _float_array(logp_ref, "logp_ref")
    try:
        return _scalar_or_array(rewards - beta * (policy - ref))
    except ValueError:
        raise ValueError("rewards, logp_policy and logp_ref have incompatible shapes") from None


def kl_regularized_objective(reward_gain, kl_cost, beta):
    return float(reward_gain - beta * kl_cost)


# ------------------------------------------------- ex10 regression gate


def release_gate(safety_delta, capability_delta, min_safety_gain=0.02, max_capability_drop=0.02):
    return bool(safety_delta > min_safety_gain and capability_delta > -max_capability_drop)


def multi_metric_gate(deltas: Mapping[str, float], floors: Mapping[str, float]):
    missing = sorted(set(floors) - set(deltas))
    if missing:
        raise ValueError(f"no delta for gated metric(s): {', '.join(missing)}")
    failing = sorted(name for name, floor in floors.items() if not deltas[name] > floor)
    return (not failing, failing)


def best_validation_step(val_losses: Sequence[float]):
    losses = _nonempty_1d(np.atleast_1d(val_losses), "val_losses")
    return int(np.argmin(losses)) + 1  # argmin returns the first minimum


# ------------------------------------------------------ worked answers
# The ``answer`` of each notebook, computed from its worked example.

ANSWERS = {
    "ex01_response_only_sft": lambda: response_only_loss(
        [[2.0, 0.2, -0.5], [0.1, 1.8, -0.2], [0.4, 0.0, 1.5], [1.1, 0.5, -0.4]], [0, 1, 2, 0], [0, 1, 1, 1]
    ),
    "ex02_bradley_terry": lambda: preference_probability(1.2, 0.4),
    "ex03_dpo": lambda: dpo_loss(1.0, -0.5, 0.0, 0.0, 0.2),
    "ex04_attack_success_rate": lambda: attack_success_rate([0, 1, 0, 0, 1, 1, 0, 0]),
    "ex05_guardrail_threshold": lambda: guardrail_action(0.73, 0.60),
    "ex06_refusal_tradeoff": lambda: refusal_adjusted_utility(0.82, 0.09),
    "ex07_review_priority": lambda: review_priority(0.8, 0.6, 0.3),
    "ex08_reviewer_agreement": lambda: raw_agreement([1, 0, 1, 0, 1], [1, 0, 0, 0, 1]),
    "ex09_kl_budget": lambda: kl_regularized_objective(0.12, 0.04, 2.0),
    "ex10_regression_gate": lambda: release_gate(0.04, -0.01),
}

