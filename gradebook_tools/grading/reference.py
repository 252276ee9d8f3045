"""The reference alignment computations: the trusted side of every hidden check.

One function per graded function of ``docs/curriculum.md``, with the same name,
signature, edge cases and errors. The grader calls these in its own process;
they are never imported into a student's kernel, and nothing here appears in
the released notebooks.

Read this module as the specification when a grade is disputed: a hidden case
passes when the student's function returns what the function of the same name
here returns (within the case's tolerance, with the same type), or raises
``ValueError`` where this one raises ``ValueError``. Each docstring's *Raises*
section lists the inputs that count as invalid.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

# ---------------------------------------------------------------- helpers


def _float_array(x, name: str) -> np.ndarray:
    """Read ``x`` as a float64 array.

    Parameters
    ----------
    x
        A number, a (nested) sequence of numbers or bools, or an array.
    name
        The argument's name, used in the error message.

    Returns
    -------
    numpy.ndarray
        ``x`` as float64, of any shape (0-d for a scalar).

    Raises
    ------
    ValueError
        When ``x`` is not numeric (strings, ragged lists, dicts) or contains NaN.
    """
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric: {error}") from None
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN")
    return array


def _nonempty_1d(x, name: str) -> np.ndarray:
    """Read ``x`` as a non-empty one-dimensional float64 array.

    Parameters
    ----------
    x
        A sequence of numbers or a 1-D array.
    name
        The argument's name, used in the error message.

    Returns
    -------
    numpy.ndarray
        ``x`` as a 1-D float64 array with at least one entry.

    Raises
    ------
    ValueError
        When ``x`` is not numeric, contains NaN, is not one-dimensional or is empty.
    """
    array = _float_array(x, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    return array


def _same_length(a: np.ndarray, b: np.ndarray, names: str) -> None:
    """Require two arrays of the same shape.

    Parameters
    ----------
    a, b
        The arrays to compare.
    names
        The arguments' names, used in the error message ("x and y").

    Returns
    -------
    None

    Raises
    ------
    ValueError
        When the shapes differ.
    """
    if a.shape != b.shape:
        raise ValueError(f"{names} have different shapes: {a.shape} and {b.shape}")


def _in_unit_interval(array: np.ndarray, name: str) -> None:
    """Require every entry of ``array`` to lie in [0, 1].

    Parameters
    ----------
    array
        A float array of any shape.
    name
        The argument's name, used in the error message.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        When an entry is below 0 or above 1.
    """
    if np.any((array < 0) | (array > 1)):
        raise ValueError(f"{name} must lie in [0, 1]")


def _scalar_or_array(result: np.ndarray) -> float | NDArray[np.float64]:
    """Return a Python float for a 0-d result and the array itself otherwise.

    Parameters
    ----------
    result
        A float array.

    Returns
    -------
    float or numpy.ndarray
        A ``float`` when ``result`` is 0-d (all inputs were scalars), else ``result``.

    Raises
    ------
    Nothing
        For the float arrays its callers pass.
    """
    return float(result) if result.ndim == 0 else result


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """Compute the logistic function σ(x) = 1 / (1 + e^{-x}) without overflow.

    Parameters
    ----------
    x
        A float array.

    Returns
    -------
    numpy.ndarray
        σ(x) elementwise, in [0, 1]; exactly 0.0 or 1.0 where it saturates.

    Raises
    ------
    Nothing
        ``exp`` only ever sees a non-positive number, so no overflow warning either.
    """
    # exp of a non-positive number never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _neg_log_sigmoid(x: np.ndarray) -> np.ndarray:
    """Compute -log σ(x) = log(1 + e^{-x}), finite for any finite x.

    Parameters
    ----------
    x
        A float array.

    Returns
    -------
    numpy.ndarray
        -log σ(x) elementwise, ≈ -x for x far below 0 and ≈ 0 for x far above 0.

    Raises
    ------
    Nothing
        ``numpy.logaddexp`` neither overflows nor warns for finite input.
    """
    return np.logaddexp(0.0, -x)


# ---------------------------------------------- ex01 response-only SFT loss


def log_softmax(z: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    """Compute the log of the softmax of ``z`` along ``axis``, stably.

    Parameters
    ----------
    z
        Logits: a sequence or array with at least one axis.
    axis
        The axis the softmax normalises over (the last by default).

    Returns
    -------
    numpy.ndarray
        ``z - logsumexp(z, axis)``, float64, of the shape of ``z``; the
        maximum is subtracted first, so entries of magnitude 1e4 stay finite.

    Raises
    ------
    ValueError
        When ``z`` is not numeric, contains NaN, is a scalar, or is empty along ``axis``.
    IndexError
        When ``axis`` does not exist for ``z``.
    """
    z = _float_array(z, "z")
    if z.ndim == 0:
        raise ValueError("z must have at least one axis")
    if z.shape[axis] == 0:
        raise ValueError("z is empty along the softmax axis")
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


#: Which roles' tokens the response-only loss trains on (1.0) and which it masks (0.0).
ROLES_IN_LOSS = {"assistant": 1.0, "system": 0.0, "user": 0.0}


def response_mask_from_roles(roles: Sequence[str]) -> NDArray[np.float64]:
    """Build the loss mask of a conversation from its roles.

    Parameters
    ----------
    roles
        A sequence of role names, one per token (or turn).

    Returns
    -------
    numpy.ndarray
        float64, 1.0 where the role is ``"assistant"`` and 0.0 where it is
        ``"system"`` or ``"user"``; empty for an empty ``roles``.

    Raises
    ------
    ValueError
        When a role is anything else (``"tool"``, ``"Assistant"``): the message lists them.
    TypeError
        When ``roles`` is not iterable or a role is unhashable.
    """
    unknown = sorted({str(r) for r in roles if r not in ROLES_IN_LOSS})
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}")
    return np.array([ROLES_IN_LOSS[r] for r in roles], dtype=np.float64)


def response_only_loss(logits: ArrayLike, targets: ArrayLike, response_mask: ArrayLike) -> float:
    """Compute the token-level mean negative log-likelihood over the response tokens.

    All masked-in tokens of the batch are pooled: the result is the sum of
    ``-log softmax(logits)[target]`` over positions whose mask is 1, divided by
    the number of such positions (not a mean of per-sequence means).

    Parameters
    ----------
    logits
        Shape ``(..., V)``.
    targets
        Integers in ``[0, V)``, shape ``(...)`` (the leading shape of ``logits``).
    response_mask
        0/1 values, shape ``(...)``.

    Returns
    -------
    float
        The mean NLL of the response tokens.

    Raises
    ------
    ValueError
        When the shapes do not match, the mask holds anything but 0 and 1, a
        target is not an integer in ``[0, V)``, the mask is all zeros, or the
        logits or mask are not numeric or contain NaN.
    """
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
        not np.all(np.equal(np.mod(targets, 1), 0)) or np.any(targets < 0) or np.any(targets >= vocabulary)
    ):
        raise ValueError(f"targets must be integers in [0, {vocabulary})")
    if mask.sum() == 0:
        raise ValueError("no response token: the mask is all zeros")
    log_probs = log_softmax(logits, axis=-1)
    picked = np.take_along_axis(log_probs, targets.astype(np.int64)[..., None], axis=-1)[..., 0]
    return float(-(picked * mask).sum() / mask.sum())


# ----------------------------------------------- ex02 Bradley-Terry model


def preference_probability(r_w: ArrayLike, r_l: ArrayLike) -> float | NDArray[np.float64]:
    """Compute the Bradley-Terry probability σ(r_w - r_l) that the first response is preferred.

    Parameters
    ----------
    r_w, r_l
        Rewards of the preferred and the other response: scalars, sequences or
        arrays that broadcast together.

    Returns
    -------
    float or numpy.ndarray
        σ(r_w - r_l) elementwise: a ``float`` for two scalars, else a float64
        array of the broadcast shape; saturates to 0.0 and 1.0 for margins of
        magnitude 1e4 without an overflow warning.

    Raises
    ------
    ValueError
        When an input is not numeric, contains NaN, or the shapes cannot be broadcast.
    """
    r_w, r_l = _float_array(r_w, "r_w"), _float_array(r_l, "r_l")
    margin = np.subtract(r_w, r_l)
    return _scalar_or_array(_stable_sigmoid(margin))


def reward_model_loss(r_chosen: ArrayLike, r_rejected: ArrayLike) -> float:
    """Compute the Bradley-Terry reward-model loss, the mean of -log σ(r_chosen - r_rejected).

    Parameters
    ----------
    r_chosen, r_rejected
        Rewards of the chosen and rejected responses: two scalars (one pair) or
        two 1-D sequences of the same length.

    Returns
    -------
    float
        The mean loss; finite for margins of magnitude 1e4 (≈ 1e4 for a margin of -1e4).

    Raises
    ------
    ValueError
        When an input is empty, not one-dimensional, not numeric, contains NaN,
        or the two lengths differ.
    """
    chosen = _nonempty_1d(np.atleast_1d(r_chosen), "r_chosen")
    rejected = _nonempty_1d(np.atleast_1d(r_rejected), "r_rejected")
    _same_length(chosen, rejected, "r_chosen and r_rejected")
    return float(np.mean(_neg_log_sigmoid(chosen - rejected)))


def preference_accuracy(r_chosen: ArrayLike, r_rejected: ArrayLike) -> float:
    """Compute the fraction of pairs the reward model ranks correctly, a tie counting 1/2.

    Parameters
    ----------
    r_chosen, r_rejected
        Rewards of the chosen and rejected responses: two scalars or two 1-D
        sequences of the same length.

    Returns
    -------
    float
        The mean of 1 (``r_chosen > r_rejected``), 0.5 (equal) or 0 per pair.

    Raises
    ------
    ValueError
        When an input is empty, not one-dimensional, not numeric, contains NaN,
        or the two lengths differ.
    """
    chosen = _nonempty_1d(np.atleast_1d(r_chosen), "r_chosen")
    rejected = _nonempty_1d(np.atleast_1d(r_rejected), "r_rejected")
    _same_length(chosen, rejected, "r_chosen and r_rejected")
    wins = (chosen > rejected) + 0.5 * (chosen == rejected)
    return float(np.mean(wins))


# -------------------------------------------------------------- ex03 DPO


def dpo_margin(
    policy_chosen: ArrayLike, policy_rejected: ArrayLike, ref_chosen: ArrayLike, ref_rejected: ArrayLike, beta: float
) -> float | NDArray[np.float64]:
    """Compute the DPO margin β((log π(y_w) - log π_ref(y_w)) - (log π(y_l) - log π_ref(y_l))).

    Parameters
    ----------
    policy_chosen, policy_rejected
        Sequence log-probabilities of the chosen and rejected responses under the policy.
    ref_chosen, ref_rejected
        The same under the reference model. All four broadcast together.
    beta
        The DPO temperature, positive.

    Returns
    -------
    float or numpy.ndarray
        A ``float`` when all four inputs are scalars, else a float64 array of the broadcast shape.

    Raises
    ------
    ValueError
        When ``beta`` is not positive, an input is not numeric or contains NaN,
        or the four shapes cannot be broadcast together.
    TypeError
        When ``beta`` cannot be compared with 0 (a string, ``None``).
    """
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    names = ("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected")
    arrays = [
        _float_array(x, n)
        for x, n in zip((policy_chosen, policy_rejected, ref_chosen, ref_rejected), names, strict=True)
    ]
    try:
        np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        raise ValueError("the four log-probability inputs have incompatible shapes") from None
    pc, pr, rc, rr = arrays
    return _scalar_or_array(beta * ((pc - rc) - (pr - rr)))


def dpo_loss(
    policy_chosen: ArrayLike, policy_rejected: ArrayLike, ref_chosen: ArrayLike, ref_rejected: ArrayLike, beta: float
) -> float:
    """Compute the DPO loss, the mean of -log σ(margin) over the preference pairs.

    Parameters
    ----------
    policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta
        As for :func:`dpo_margin`.

    Returns
    -------
    float
        The mean loss; finite for margins of magnitude 1e4.

    Raises
    ------
    ValueError
        Where :func:`dpo_margin` raises it, and when there is no pair (empty inputs).
    TypeError
        When ``beta`` cannot be compared with 0.
    """
    margin = np.asarray(dpo_margin(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta))
    if margin.size == 0:
        raise ValueError("no preference pair")
    return float(np.mean(_neg_log_sigmoid(margin)))


def implicit_reward(policy_logp: ArrayLike, ref_logp: ArrayLike, beta: float) -> float | NDArray[np.float64]:
    """Compute DPO's implicit reward β(log π(y) - log π_ref(y)).

    Parameters
    ----------
    policy_logp, ref_logp
        Sequence log-probabilities under the policy and the reference; they broadcast together.
    beta
        The DPO temperature, positive.

    Returns
    -------
    float or numpy.ndarray
        A ``float`` for scalar inputs, else a float64 array of the broadcast shape.

    Raises
    ------
    ValueError
        When ``beta`` is not positive, an input is not numeric or contains NaN,
        or the shapes cannot be broadcast.
    TypeError
        When ``beta`` cannot be compared with 0.
    """
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    policy, ref = _float_array(policy_logp, "policy_logp"), _float_array(ref_logp, "ref_logp")
    try:
        return _scalar_or_array(beta * (policy - ref))
    except ValueError:
        raise ValueError(f"policy_logp {policy.shape} and ref_logp {ref.shape} do not match") from None


# ------------------------------------------------ ex04 attack success rate


def attack_success_rate(violations: ArrayLike) -> float:
    """Compute the fraction of attacks that succeeded.

    Parameters
    ----------
    violations
        0/1 (or bool) outcomes, one per attack: a scalar or a 1-D sequence.

    Returns
    -------
    float
        The mean of the outcomes.

    Raises
    ------
    ValueError
        When there is no outcome, the outcomes are not one-dimensional, not
        numeric, contain NaN, or hold anything but 0 and 1.
    """
    outcomes = _nonempty_1d(np.atleast_1d(violations), "violations")
    if not np.all((outcomes == 0) | (outcomes == 1)):
        raise ValueError("violations must be 0/1 (or bool) outcomes")
    return float(outcomes.mean())


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Compute the Wilson score interval of a success rate.

    Parameters
    ----------
    successes
        Number of successes, in ``[0, n]``.
    n
        Number of trials, positive.
    z
        The normal quantile of the confidence level (1.96 for 95 %), positive.

    Returns
    -------
    tuple of float
        ``(low, high)``: centre ± half-width of the Wilson interval, clipped to [0, 1].

    Raises
    ------
    ValueError
        When ``n`` is not positive, ``successes`` lies outside ``[0, n]``, or ``z`` is not positive.
    TypeError
        When an argument cannot be compared with a number.
    """
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


def trials_for_margin(half_width: float, p: float = 0.5, z: float = 1.96) -> int:
    """Compute the number of trials for a normal-approximation interval of a given half-width.

    Parameters
    ----------
    half_width
        The wanted half-width of the interval, positive.
    p
        The anticipated success rate, in [0, 1] (0.5 is the worst case).
    z
        The normal quantile of the confidence level.

    Returns
    -------
    int
        ``ceil(z² p (1 - p) / half_width²)``, rounded to 9 decimals before the
        ceiling so that float noise (900.0000000000001) does not add a trial.

    Raises
    ------
    ValueError
        When ``half_width`` is not positive or ``p`` lies outside [0, 1].
    TypeError
        When an argument cannot be compared with a number.
    """
    if not half_width > 0:
        raise ValueError(f"half_width must be positive, got {half_width}")
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    # round away float noise first: 0.09 / 0.0001 is 900.0000000000001, and 900 trials suffice
    return int(math.ceil(round(z * z * p * (1 - p) / (half_width * half_width), 9)))


# ----------------------------------------------- ex05 guardrail threshold


def guardrail_action(score: ArrayLike, tau: float) -> bool | NDArray[np.bool_]:
    """Decide whether the guardrail blocks: a score at or above the threshold is blocked.

    Parameters
    ----------
    score
        A harm score, or a sequence or array of them.
    tau
        The threshold, in [0, 1].

    Returns
    -------
    bool or numpy.ndarray
        ``score >= tau``: a ``bool`` for a scalar score, else a bool array of its shape.

    Raises
    ------
    ValueError
        When ``tau`` lies outside [0, 1] (NaN included), or ``score`` is not numeric or contains NaN.
    TypeError
        When ``tau`` cannot be compared with a number.
    """
    if not 0 <= tau <= 1:
        raise ValueError(f"tau must lie in [0, 1], got {tau}")
    scores = _float_array(score, "score")
    blocked = scores >= tau
    return bool(blocked) if blocked.ndim == 0 else blocked


def threshold_sweep(
    scores_harmful: ArrayLike, scores_benign: ArrayLike, thresholds: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Compute the true- and false-positive rates of the guardrail at each threshold.

    Parameters
    ----------
    scores_harmful
        Scores of harmful prompts: a scalar or a non-empty 1-D sequence.
    scores_benign
        Scores of benign prompts: a scalar or a non-empty 1-D sequence.
    thresholds
        The thresholds to try: a scalar or a 1-D sequence (may be empty).

    Returns
    -------
    tuple of numpy.ndarray
        ``(tpr, fpr)``, float64, one entry per threshold: the fraction of
        harmful (resp. benign) scores ``>= tau``.

    Raises
    ------
    ValueError
        When a score list is empty or not one-dimensional, the thresholds are
        not one-dimensional, or an input is not numeric or contains NaN.
    """
    harmful = _nonempty_1d(np.atleast_1d(scores_harmful), "scores_harmful")
    benign = _nonempty_1d(np.atleast_1d(scores_benign), "scores_benign")
    taus = _float_array(np.atleast_1d(thresholds), "thresholds")
    if taus.ndim != 1:
        raise ValueError("thresholds must be one-dimensional")
    tpr = (harmful[None, :] >= taus[:, None]).mean(axis=1)
    fpr = (benign[None, :] >= taus[:, None]).mean(axis=1)
    return tpr, fpr


def choose_threshold(scores_harmful: ArrayLike, scores_benign: ArrayLike, max_fpr: float) -> float:
    """Choose the threshold with the highest true-positive rate whose false-positive rate is at most ``max_fpr``.

    The candidates are the observed scores (harmful and benign). Among the
    allowed candidates with the best TPR, the largest is chosen (the one that
    blocks the fewest prompts).

    Parameters
    ----------
    scores_harmful, scores_benign
        Scores of harmful and benign prompts: scalars or non-empty 1-D sequences.
    max_fpr
        The largest acceptable false-positive rate, in [0, 1].

    Returns
    -------
    float
        The chosen threshold, or ``inf`` (block nothing) when no candidate is allowed.

    Raises
    ------
    ValueError
        When ``max_fpr`` lies outside [0, 1], or a score list is empty, not
        one-dimensional, not numeric, or contains NaN.
    TypeError
        When ``max_fpr`` cannot be compared with a number.
    """
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


def refusal_metrics(is_harmful: ArrayLike, refused: ArrayLike) -> dict[str, float]:
    """Compute safe compliance, benign refusal and harmful compliance of a model's refusals.

    Parameters
    ----------
    is_harmful
        Per prompt, whether it is harmful (bools or 0/1), 1-D.
    refused
        Per prompt, whether the model refused, of the same length.

    Returns
    -------
    dict
        ``{"safe_compliance": ..., "benign_refusal": ..., "harmful_compliance": ...}``,
        floats: the fraction of prompts handled correctly (harmful refused,
        benign answered), the fraction of benign prompts refused, and the
        fraction of harmful prompts answered.

    Raises
    ------
    ValueError
        When the inputs are not 1-D or differ in length, or there is not at
        least one harmful and one benign prompt.
    """
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


def refusal_adjusted_utility(safe_compliance: float, benign_refusal: float, penalty: float = 0.5) -> float:
    """Compute the utility ``safe_compliance - penalty * benign_refusal``.

    Parameters
    ----------
    safe_compliance
        A rate in [0, 1].
    benign_refusal
        A rate in [0, 1].
    penalty
        The cost of one benign refusal, non-negative.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When a rate lies outside [0, 1] (NaN included) or ``penalty`` is negative (or NaN).
    TypeError
        When an argument cannot be compared with a number.
    """
    for name, rate in (("safe_compliance", safe_compliance), ("benign_refusal", benign_refusal)):
        if not 0 <= rate <= 1:
            raise ValueError(f"{name} must lie in [0, 1], got {rate}")
    if not penalty >= 0:
        raise ValueError(f"penalty must be non-negative, got {penalty}")
    return float(safe_compliance - penalty * benign_refusal)


# ------------------------------------------------- ex07 review priority


def review_priority(
    risk: ArrayLike, uncertainty: ArrayLike, diversity: ArrayLike, weights: ArrayLike = (0.5, 0.35, 0.15)
) -> float | NDArray[np.float64]:
    """Compute the review priority, the weighted sum of risk, uncertainty and diversity.

    Parameters
    ----------
    risk, uncertainty, diversity
        Signals in [0, 1]: scalars, sequences or arrays that broadcast together.
    weights
        Three non-negative weights summing to 1 (within 1e-9).

    Returns
    -------
    float or numpy.ndarray
        ``w0 * risk + w1 * uncertainty + w2 * diversity``: a ``float`` for
        scalar signals, else a float64 array of the broadcast shape.

    Raises
    ------
    ValueError
        When ``weights`` are not three non-negative numbers summing to 1, a
        signal lies outside [0, 1], an input is not numeric or contains NaN,
        or the signals cannot be broadcast together.
    """
    w = _float_array(weights, "weights")
    if w.shape != (3,):
        raise ValueError("weights must hold three numbers")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    if abs(w.sum() - 1.0) > 1e-9:
        raise ValueError(f"weights must sum to 1, got {w.sum()}")
    signals = [_float_array(x, n) for x, n in ((risk, "risk"), (uncertainty, "uncertainty"), (diversity, "diversity"))]
    for signal, name in zip(signals, ("risk", "uncertainty", "diversity"), strict=True):
        _in_unit_interval(signal, name)
    risk, uncertainty, diversity = signals
    return _scalar_or_array(w[0] * risk + w[1] * uncertainty + w[2] * diversity)


def binary_entropy(p: ArrayLike) -> float | NDArray[np.float64]:
    """Compute the binary entropy H(p) = -p log2 p - (1 - p) log2 (1 - p), in bits.

    Parameters
    ----------
    p
        Probabilities in [0, 1]: a scalar, sequence or array.

    Returns
    -------
    float or numpy.ndarray
        H(p) elementwise, with 0 log 0 = 0 (so H(0) = H(1) = 0.0, never -0.0
        or NaN): a ``float`` for a scalar, else a float64 array.

    Raises
    ------
    ValueError
        When a probability lies outside [0, 1], or ``p`` is not numeric or contains NaN.
    """
    p = _float_array(p, "p")
    _in_unit_interval(p, "p")
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0) - np.where(
            q > 0, q * np.log2(np.where(q > 0, q, 1.0)), 0.0
        )
    return _scalar_or_array(terms + 0.0)  # + 0.0 turns -0.0 into 0.0


def select_for_review(priorities: ArrayLike, budget: float) -> NDArray[np.int64]:
    """Select the indices of the ``budget`` highest priorities, highest first.

    Parameters
    ----------
    priorities
        A scalar or 1-D sequence of priorities.
    budget
        How many items humans can review, non-negative (a float is truncated).

    Returns
    -------
    numpy.ndarray
        int64 indices in decreasing order of priority, the lower index first
        on ties; all of them when ``budget`` exceeds their number.

    Raises
    ------
    ValueError
        When ``budget`` is negative, or the priorities are not numeric or contain NaN.
    TypeError
        When ``budget`` cannot be compared with 0.
    """
    scores = _float_array(np.atleast_1d(priorities), "priorities")
    if budget < 0:
        raise ValueError(f"budget must be non-negative, got {budget}")
    # a stable sort of the negated scores keeps the lower index first on ties
    order = np.argsort(-scores, kind="stable")
    return order[: int(budget)].astype(np.int64)


# ---------------------------------------------- ex08 reviewer agreement


def _paired_labels(a, b) -> tuple[list, list]:
    """Read two reviewers' labels of the same items as lists.

    Parameters
    ----------
    a, b
        Labels of any hashable type (ints, strings), one per item.

    Returns
    -------
    tuple of list
        ``(list(a), list(b))``.

    Raises
    ------
    ValueError
        When either is empty or their lengths differ.
    TypeError
        When an input is not iterable.
    """
    a, b = list(a), list(b)
    if not a or not b:
        raise ValueError("label lists are empty")
    if len(a) != len(b):
        raise ValueError(f"reviewers labelled different numbers of items: {len(a)} and {len(b)}")
    return a, b


def raw_agreement(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """Compute the fraction of items on which two reviewers gave the same label.

    Parameters
    ----------
    a, b
        The two reviewers' labels, one per item, of the same length.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When a label list is empty or the lengths differ.
    TypeError
        When an input is not iterable.
    """
    a, b = _paired_labels(a, b)
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def cohens_kappa(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """Compute Cohen's kappa, the agreement of two reviewers beyond chance.

    ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement and
    ``p_e`` the agreement expected from each reviewer's label frequencies.

    Parameters
    ----------
    a, b
        The two reviewers' labels, one per item, of the same length.

    Returns
    -------
    float
        Kappa; 1.0 when ``p_e`` is 1 (both reviewers used one and the same label throughout).

    Raises
    ------
    ValueError
        When a label list is empty or the lengths differ.
    TypeError
        When an input is not iterable or a label is unhashable.
    """
    a, b = _paired_labels(a, b)
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    counts_a, counts_b = Counter(a), Counter(b)
    expected = sum(counts_a[label] * counts_b[label] for label in counts_a) / (n * n)
    if math.isclose(expected, 1.0):
        return 1.0
    return float((observed - expected) / (1.0 - expected))


def disagreements(a: Iterable[Hashable], b: Iterable[Hashable]) -> NDArray[np.int64]:
    """List the items on which two reviewers disagree, for adjudication.

    Parameters
    ----------
    a, b
        The two reviewers' labels, one per item, of the same length.

    Returns
    -------
    numpy.ndarray
        int64 indices of the items with different labels, in increasing order (empty if none).

    Raises
    ------
    ValueError
        When a label list is empty or the lengths differ.
    TypeError
        When an input is not iterable.
    """
    a, b = _paired_labels(a, b)
    return np.array([i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y], dtype=np.int64)


# ------------------------------------------------------ ex09 KL budget


def _probability_vector(x, name: str) -> np.ndarray:
    """Read ``x`` as a probability vector.

    Parameters
    ----------
    x
        A non-empty 1-D sequence.
    name
        The argument's name, used in the error message.

    Returns
    -------
    numpy.ndarray
        float64, non-negative, summing to 1 within 1e-6.

    Raises
    ------
    ValueError
        When ``x`` is empty, not one-dimensional, not numeric, contains NaN or
        negative entries, or does not sum to 1.
    """
    vector = _nonempty_1d(x, name)
    if np.any(vector < 0):
        raise ValueError(f"{name} has negative entries")
    if abs(vector.sum() - 1.0) > 1e-6:
        raise ValueError(f"{name} must sum to 1, sums to {vector.sum()}")
    return vector


def kl_divergence(p: ArrayLike, q: ArrayLike) -> float:
    """Compute the Kullback-Leibler divergence KL(p || q) = Σ p log(p / q), in nats.

    Parameters
    ----------
    p, q
        Probability vectors of the same length.

    Returns
    -------
    float
        The divergence, summed over the support of ``p`` (0 log 0 = 0); ``inf``
        when ``q`` is 0 where ``p`` is not.

    Raises
    ------
    ValueError
        When ``p`` or ``q`` is not a probability vector, or the lengths differ.
    """
    p, q = _probability_vector(p, "p"), _probability_vector(q, "q")
    _same_length(p, q, "p and q")
    support = p > 0
    if np.any(q[support] == 0):
        return float("inf")
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def kl_penalized_rewards(
    rewards: ArrayLike, logp_policy: ArrayLike, logp_ref: ArrayLike, beta: float
) -> float | NDArray[np.float64]:
    """Compute the KL-penalised rewards ``rewards - beta * (logp_policy - logp_ref)``.

    Parameters
    ----------
    rewards
        Rewards per sample: a scalar, sequence or array.
    logp_policy, logp_ref
        Log-probabilities of the samples under the policy and the reference;
        all three broadcast together.
    beta
        The KL coefficient, non-negative.

    Returns
    -------
    float or numpy.ndarray
        A ``float`` for scalar inputs, else a float64 array of the broadcast shape.

    Raises
    ------
    ValueError
        When ``beta`` is negative (or NaN), an input is not numeric or contains
        NaN, or the shapes cannot be broadcast together.
    TypeError
        When ``beta`` cannot be compared with 0.
    """
    if not beta >= 0:
        raise ValueError(f"beta must be non-negative, got {beta}")
    rewards = _float_array(rewards, "rewards")
    policy, ref = _float_array(logp_policy, "logp_policy"), _float_array(logp_ref, "logp_ref")
    try:
        return _scalar_or_array(rewards - beta * (policy - ref))
    except ValueError:
        raise ValueError("rewards, logp_policy and logp_ref have incompatible shapes") from None


def kl_regularized_objective(reward_gain: float, kl_cost: float, beta: float) -> float:
    """Compute the KL-regularised objective ``reward_gain - beta * kl_cost``.

    Parameters
    ----------
    reward_gain
        The gain in expected reward.
    kl_cost
        The KL divergence from the reference that the gain costs.
    beta
        The KL coefficient.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        When an argument is not a number; no value is rejected (NaN gives NaN).
    """
    return float(reward_gain - beta * kl_cost)


# ------------------------------------------------- ex10 regression gate


def release_gate(
    safety_delta: float, capability_delta: float, min_safety_gain: float = 0.02, max_capability_drop: float = 0.02
) -> bool:
    """Decide whether a model is released: a real safety gain without a real capability loss.

    Parameters
    ----------
    safety_delta
        Change of the safety metric against the current model.
    capability_delta
        Change of the capability metric.
    min_safety_gain
        The safety gain must be strictly above this.
    max_capability_drop
        The capability change must be strictly above minus this.

    Returns
    -------
    bool
        ``safety_delta > min_safety_gain and capability_delta > -max_capability_drop``;
        False on any NaN (a NaN never passes a comparison).

    Raises
    ------
    TypeError
        When an argument cannot be compared with a number; no value is rejected.
    """
    return bool(safety_delta > min_safety_gain and capability_delta > -max_capability_drop)


def multi_metric_gate(deltas: Mapping[str, float], floors: Mapping[str, float]) -> tuple[bool, list[str]]:
    """Gate a release on several metrics: every gated metric's delta must be strictly above its floor.

    Parameters
    ----------
    deltas
        Metric name -> change against the current model; metrics without a floor are ignored.
    floors
        Metric name -> the floor its delta must exceed.

    Returns
    -------
    tuple
        ``(passed, failing)``: ``passed`` a bool, ``failing`` the sorted list
        of metric names whose delta is not above its floor (NaN included).

    Raises
    ------
    ValueError
        When a gated metric (a key of ``floors``) has no delta; the message names them.
    TypeError
        When a delta cannot be compared with its floor.
    """
    missing = sorted(set(floors) - set(deltas))
    if missing:
        raise ValueError(f"no delta for gated metric(s): {', '.join(missing)}")
    failing = sorted(name for name, floor in floors.items() if not deltas[name] > floor)
    return (not failing, failing)


def best_validation_step(val_losses: Sequence[float]) -> int:
    """Find the step (counted from 1) with the lowest validation loss, the first on ties.

    Parameters
    ----------
    val_losses
        Validation losses, one per step: a scalar or a non-empty 1-D sequence.

    Returns
    -------
    int
        ``argmin + 1``.

    Raises
    ------
    ValueError
        When the losses are empty, not one-dimensional, not numeric, or contain NaN.
    """
    losses = _nonempty_1d(np.atleast_1d(val_losses), "val_losses")
    return int(np.argmin(losses)) + 1  # argmin returns the first minimum
