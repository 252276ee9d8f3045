"""Hidden checks of ex01_response_only_sft: the response-only SFT loss."""

import numpy as np
from numpy.typing import DTypeLike, NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer

WORKED_LOGITS = [[2.0, 0.2, -0.5], [0.1, 1.8, -0.2], [0.4, 0.0, 1.5], [1.1, 0.5, -0.4]]
WORKED_TARGETS = [0, 1, 2, 0]
WORKED_MASK = [0, 1, 1, 1]


def random_batch(
    rng: np.random.Generator, shape: tuple[int, ...], vocabulary: int, dtype: DTypeLike = np.float64
) -> tuple[NDArray[np.floating], NDArray[np.int64], NDArray[np.float64]]:
    logits = rng.normal(0.0, 3.0, size=(*shape, vocabulary)).astype(dtype)
    targets = rng.integers(0, vocabulary, size=shape)
    mask = (rng.random(shape) < 0.6).astype(np.float64)
    mask.flat[rng.integers(mask.size)] = 1.0  # at least one response token
    return logits, targets, mask


@check("log_softmax", rules=("ex01.log-softmax",))
def test_log_softmax_values(rng: np.random.Generator) -> list[Case]:
    """log_softmax matches the reference on random logits"""
    return [
        Case("the notebook's example row", ([1.0, 2.0, 3.0],), visible=True),
        Case("a matrix of random logits, softmax over the last axis", (rng.normal(0, 4, (5, 7)),)),
        Case("random float32 logits", (rng.normal(0, 2, (3, 6)).astype(np.float32),)),
        Case("a 3-D batch with axis=1", (rng.normal(0, 3, (2, 4, 3)),), {"axis": 1}),
        Case("a Python list of logits", (rng.normal(0, 1, 6).round(3).tolist(),)),
    ]


@check("log_softmax", rules=("ex01.log-softmax.stable", "common.stability-warnings"), warnings_fail=True)
def test_log_softmax_stability(rng: np.random.Generator) -> list[Case]:
    """log_softmax stays finite and exact for logits of magnitude 1e4"""
    return [
        Case("logits of magnitude 1e4", ([1e4, -1e4, 0.0, 5e3],)),
        Case("a batch with all logits near 1e4", (1e4 - rng.random((3, 4)),)),
        Case("a batch with all logits near -1e4", (-1e4 + rng.random((3, 4)),)),
    ]


@check("response_mask_from_roles", rules=("ex01.mask", "ex01.mask.unknown-role", "common.value-error"))
def test_response_mask_from_roles(rng: np.random.Generator) -> list[Case]:
    """response_mask_from_roles builds the loss mask and rejects unknown roles"""
    roles = rng.choice(["system", "user", "assistant"], size=12).tolist()
    return [
        Case("a short conversation", (["system", "user", "assistant"],), visible=True),
        Case("a random conversation of system, user and assistant turns", (roles,)),
        Case("an unknown role such as 'tool'", (["user", "tool", "assistant"],)),
        Case("a misspelt role ('Assistant')", (["user", "Assistant"],)),
    ]


@check("response_only_loss", rules=("ex01.loss", "common.python-scalars"))
def test_response_only_loss_values(rng: np.random.Generator) -> list[Case]:
    """response_only_loss is the token-level mean NLL over response tokens"""
    cases = [Case("the worked example", (WORKED_LOGITS, WORKED_TARGETS, WORKED_MASK), visible=True)]
    for shape in [(6,), (3, 5), (2, 3, 4)]:
        logits, targets, mask = random_batch(rng, shape, vocabulary=int(rng.integers(3, 9)))
        cases.append(
            Case(f"random batches of shape {shape} (token-level mean over masked tokens)", (logits, targets, mask))
        )
    logits, targets, mask = random_batch(rng, (4, 6), 5, dtype=np.float32)
    cases.append(Case("float32 logits", (logits, targets, mask)))
    logits, targets, mask = random_batch(rng, (2, 5), 4)
    cases.append(Case("Python lists as inputs", (logits.tolist(), targets.tolist(), mask.tolist())))
    uneven = np.zeros((2, 5))
    uneven[0, :1] = 1.0
    uneven[1, :] = 1.0
    logits, targets, _ = random_batch(rng, (2, 5), 6)
    cases.append(
        Case(
            "sequences with very different numbers of response tokens (pool tokens, not sequences)",
            (logits, targets, uneven),
        )
    )
    return cases


@check(
    "response_only_loss",
    rules=("ex01.loss.invalid", "ex01.loss.large-logits", "common.value-error", "common.python-scalars"),
)
def test_response_only_loss_edge_cases(rng: np.random.Generator) -> list[Case]:
    """response_only_loss rejects invalid batches and is stable"""
    logits, targets, mask = random_batch(rng, (3, 4), 5)
    out_of_range = targets.copy()
    out_of_range[1, 2] = 5
    negative = targets.copy()
    negative[0, 0] = -1
    return [
        Case("a mask with no response token", (logits, targets, np.zeros((3, 4)))),
        Case("targets whose shape does not match the logits", (logits, targets[:, :3], mask)),
        Case("a mask whose shape does not match the targets", (logits, targets, mask[:2])),
        Case("a target equal to the vocabulary size", (logits, out_of_range, mask)),
        Case("a negative target", (logits, negative, mask)),
        Case("logits of magnitude 1e4", (rng.choice([-1e4, 1e4], size=(3, 4, 5)), targets, mask)),
        Case("a single response token", (logits, targets, np.eye(3, 4))),
    ]


@worked_answer(rules=("ex01.answer", "common.python-scalars"))
def test_answer() -> float:
    """answer is the loss of the worked example"""
    return reference.response_only_loss(WORKED_LOGITS, WORKED_TARGETS, WORKED_MASK)
