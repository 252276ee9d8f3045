"""Wrong answers and correct alternatives for ex01_response_only_sft."""

from . import Variant

WRONG = [
    Variant(
        "log_softmax",
        "no max-shift: exp overflows for logits of magnitude 1e4",
        """import numpy as np

def log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
""",
        loses=("test_log_softmax_stability", "test_response_only_loss_edge_cases"),
    ),
    Variant(
        "log_softmax",
        "ignores axis and normalises over axis 0 (the batch) instead of the last axis",
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
    ),
    Variant(
        "response_mask_from_roles",
        "no ValueError for an unknown role: anything but 'assistant' becomes 0.0",
        """import numpy as np

def response_mask_from_roles(roles):
    return np.array([1.0 if role == "assistant" else 0.0 for role in roles])
""",
    ),
    Variant(
        "response_mask_from_roles",
        "masks out only system turns: user tokens are trained on too",
        """import numpy as np

def response_mask_from_roles(roles):
    for role in roles:
        if role not in ("system", "user", "assistant"):
            raise ValueError(f"unknown role {role!r}")
    return np.array([0.0 if role == "system" else 1.0 for role in roles])
""",
    ),
    Variant(
        "response_only_loss",
        "ignores the mask: mean NLL over every token, prompt included",
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
    ),
    Variant(
        "response_only_loss",
        "forgets the log: averages -p(target) instead of -log p(target)",
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
    ),
    Variant("answer", "the right number, but as a string", 'answer = "0.430108"\n'),
    Variant(
        "answer",
        "averages the NLL over all four tokens, the system token included",
        """import numpy as np

logits = np.array([[2.0, 0.2, -0.5], [0.1, 1.8, -0.2], [0.4, 0.0, 1.5], [1.1, 0.5, -0.4]])
log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
answer = float(-log_probs[np.arange(4), [0, 1, 2, 0]].mean())
""",
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
