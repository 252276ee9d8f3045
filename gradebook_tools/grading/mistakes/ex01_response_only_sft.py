"""Catalogued mistakes and correct alternatives of ex01_response_only_sft.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "log_softmax",
        "compute exp of the raw logits without subtracting their maximum first, so exp overflows for large logits",
        """import numpy as np

def log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
""",
        loses=("test_log_softmax_stability", "test_response_only_loss_edge_cases"),
        review="the log-sum-exp trick: subtract the maximum before exponentiating",
    ),
    Variant(
        "log_softmax",
        "normalise over the first axis (the batch) instead of the last axis",
        """import numpy as np

def log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    shifted = z - z.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
""",
        loses=(
            "test_log_softmax_values",
            "test_log_softmax_stability",
            "test_response_only_loss_values",
            "test_response_only_loss_edge_cases",
            "test_answer",
        ),
        review="which axis the softmax sums over, and use the axis argument",
    ),
    Variant(
        "log_softmax",
        "return the softmax probabilities instead of their logarithm",
        """import numpy as np

def log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 0:
        raise ValueError("z must have at least one axis")
    if z.shape[axis] == 0:
        raise ValueError("z is empty along the softmax axis")
    shifted = z - z.max(axis=axis, keepdims=True)
    return np.exp(shifted) / np.exp(shifted).sum(axis=axis, keepdims=True)
""",
        loses=(
            "test_log_softmax_values",
            "test_log_softmax_stability",
            "test_response_only_loss_values",
            "test_response_only_loss_edge_cases",
            "test_answer",
        ),
        review="log-softmax is the logarithm of the softmax: z - logsumexp(z)",
    ),
    Variant(
        "response_mask_from_roles",
        "turn every role other than 'assistant' into 0.0 instead of rejecting an unknown role",
        """import numpy as np

def response_mask_from_roles(roles):
    return np.array([1.0 if role == "assistant" else 0.0 for role in roles])
""",
        review="which roles are valid, and raise ValueError for any other",
    ),
    Variant(
        "response_mask_from_roles",
        "mask out only the system turns, so user tokens are trained on too",
        """import numpy as np

def response_mask_from_roles(roles):
    for role in roles:
        if role not in ("system", "user", "assistant"):
            raise ValueError(f"unknown role {role!r}")
    return np.array([0.0 if role == "system" else 1.0 for role in roles])
""",
        review="which tokens belong to the response: only the assistant's",
    ),
    Variant(
        "response_mask_from_roles",
        "invert the mask: 1.0 for the prompt's tokens and 0.0 for the assistant's",
        """import numpy as np

def response_mask_from_roles(roles):
    in_loss = {"assistant": 0.0, "system": 1.0, "user": 1.0}
    for role in roles:
        if role not in in_loss:
            raise ValueError(f"unknown role {role!r}")
    return np.array([in_loss[role] for role in roles], dtype=np.float64)
""",
        review="the loss is computed on the response: 1.0 where the role is 'assistant'",
    ),
    Variant(
        "response_only_loss",
        "ignore the mask and average the loss over every token, the prompt included",
        """import numpy as np

def response_only_loss(logits, targets, response_mask):
    logits = np.asarray(logits, dtype=float)
    targets = np.asarray(targets, dtype=int)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    return float(-picked.mean())
""",
        loses=("test_response_only_loss_values", "test_response_only_loss_edge_cases", "test_answer"),
        review="how the response mask selects the tokens that enter the mean",
    ),
    Variant(
        "response_only_loss",
        "average the probabilities of the targets instead of their negative log-probabilities",
        """import numpy as np

def response_only_loss(logits, targets, response_mask):
    logits = np.asarray(logits, dtype=float)
    targets = np.asarray(targets)
    mask = np.asarray(response_mask, dtype=float)
    if logits.shape[:-1] != targets.shape or mask.shape != targets.shape:
        raise ValueError("shape mismatch")
    if np.any(targets < 0) or np.any(targets >= logits.shape[-1]):
        raise ValueError("target out of range")
    if mask.sum() == 0:
        raise ValueError("no response token")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    picked = np.take_along_axis(probs, targets.astype(int)[..., None], axis=-1)[..., 0]
    return float(-(picked * mask).sum() / mask.sum())
""",
        loses=("test_response_only_loss_values", "test_response_only_loss_edge_cases", "test_answer"),
        review="the definition of the negative log-likelihood: -log p(target)",
    ),
    Variant(
        "response_only_loss",
        "average the per-sequence means instead of pooling every response token of the batch",
        """import numpy as np

def response_only_loss(logits, targets, response_mask):
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    mask = np.asarray(response_mask, dtype=np.float64)
    if logits.ndim < 1 or logits.shape[:-1] != targets.shape or mask.shape != targets.shape:
        raise ValueError("shape mismatch")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("response_mask must contain only 0 and 1")
    if np.any(targets != np.floor(targets)) or np.any((targets < 0) | (targets >= logits.shape[-1])):
        raise ValueError("target out of range")
    if mask.sum() == 0:
        raise ValueError("no response token")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets.astype(np.int64)[..., None], axis=-1)[..., 0]
    if picked.ndim < 2:
        return float(-(picked * mask).sum() / mask.sum())
    nll, counts = -(picked * mask).reshape(-1, picked.shape[-1]), mask.reshape(-1, mask.shape[-1])
    per_sequence = [row.sum() / count.sum() for row, count in zip(nll, counts) if count.sum() > 0]
    return float(np.mean(per_sequence))
""",
        review="the token-level mean: all response tokens of the batch pooled, then averaged once",
    ),
    Variant(
        "answer",
        "hold the right number, but as a string",
        """answer = "0.430108"
""",
        review="assign the number itself (a float), not its text",
    ),
    Variant(
        "answer",
        "average the loss over all four tokens, the system token included",
        """import numpy as np

logits = np.array([[2.0, 0.2, -0.5], [0.1, 1.8, -0.2], [0.4, 0.0, 1.5], [1.1, 0.5, -0.4]])
log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
answer = float(-log_probs[np.arange(4), [0, 1, 2, 0]].mean())
""",
        review="the worked example's mask: the system token is not part of the response",
    ),
]

ALTERNATIVES = [
    Variant(
        "log_softmax",
        "z minus a stable logsumexp written as m + log(sum(exp(z - m)))",
        """import numpy as np

def log_softmax(z, axis=-1):
    z = np.array(z, dtype=np.float64)
    if z.ndim == 0 or z.shape[axis] == 0:
        raise ValueError("z needs a non-empty softmax axis")
    m = np.max(z, axis=axis, keepdims=True)
    logsumexp = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return z - logsumexp
""",
    ),
    Variant(
        "response_mask_from_roles",
        "a loop with if/elif that raises on the first unknown role",
        """import numpy as np

def response_mask_from_roles(roles):
    mask = []
    for role in roles:
        if role == "assistant":
            mask.append(1.0)
        elif role in ("system", "user"):
            mask.append(0.0)
        else:
            raise ValueError(f"unknown role: {role!r}")
    return np.array(mask, dtype=float)
""",
    ),
    Variant(
        "response_only_loss",
        "a loop over the flattened tokens with math.log, pooling the response tokens",
        """import math
import numpy as np

def response_only_loss(logits, targets, response_mask):
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    mask = np.asarray(response_mask, dtype=np.float64)
    if logits.ndim < 1 or logits.shape[:-1] != targets.shape or mask.shape != targets.shape:
        raise ValueError("logits, targets and response_mask do not have matching shapes")
    vocabulary = logits.shape[-1]
    total, count = 0.0, 0
    for row, target, weight in zip(logits.reshape(-1, vocabulary), targets.ravel(), mask.ravel()):
        if target != int(target) or not 0 <= target < vocabulary:
            raise ValueError(f"target {target} is not an integer in [0, {vocabulary})")
        if weight not in (0.0, 1.0):
            raise ValueError("response_mask must be 0 or 1")
        if weight == 1.0:
            top = max(row)
            log_norm = top + math.log(sum(math.exp(x - top) for x in row))
            total += log_norm - row[int(target)]
            count += 1
    if count == 0:
        raise ValueError("no response token in the batch")
    return total / count
""",
    ),
    Variant(
        "answer",
        "computes the worked example inline with numpy, only the last three tokens",
        """import numpy as np

logits = np.array([[2.0, 0.2, -0.5], [0.1, 1.8, -0.2], [0.4, 0.0, 1.5], [1.1, 0.5, -0.4]])
log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
answer = float(-log_probs[[1, 2, 3], [1, 2, 0]].mean())
""",
    ),
]
