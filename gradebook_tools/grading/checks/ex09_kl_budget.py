"""Hidden checks of ex09_kl_budget: KL divergence, KL-penalised rewards, the KL-regularised objective."""

import numpy as np
from numpy.typing import NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer

WORKED_P = [0.5, 0.3, 0.2]
WORKED_Q = [0.4, 0.4, 0.2]


def random_distribution(rng: np.random.Generator, size: int, concentration: float = 1.0) -> NDArray[np.float64]:
    return rng.dirichlet(np.full(size, concentration))


def softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = logits - logits.max()
    weights = np.exp(shifted)  # entries far below the maximum underflow to exactly 0
    return weights / weights.sum()


@check("kl_divergence", rules=("ex09.kl", "common.python-scalars"))
def test_kl_divergence_values(rng: np.random.Generator) -> list[Case]:
    """kl_divergence matches the reference on random distributions"""
    peaked = softmax(rng.normal(0.0, 8.0, 7))  # entries down to ~1e-20
    close = random_distribution(rng, 6, 5.0)
    nudged = close * (1.0 + 0.01 * rng.normal(size=6))
    return [
        Case("the worked example", (np.array(WORKED_P), np.array(WORKED_Q)), visible=True),
        Case("the worked example reversed", (np.array(WORKED_Q), np.array(WORKED_P)), visible=True),
        Case("identical distributions as Python lists", ([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), visible=True),
        *(
            Case(f"random distributions of length {n}", (random_distribution(rng, n), random_distribution(rng, n)))
            for n in (2, 5, 12)
        ),
        Case(
            "random float32 distributions",
            (random_distribution(rng, 8, 2.0).astype(np.float32), random_distribution(rng, 8, 2.0).astype(np.float32)),
        ),
        Case(
            "random distributions as Python lists",
            (random_distribution(rng, 4).tolist(), random_distribution(rng, 4).tolist()),
        ),
        Case("a sharply peaked p with tiny entries against a flat q", (peaked, random_distribution(rng, 7, 20.0))),
        Case("a flat p against a sharply peaked q with tiny entries", (random_distribution(rng, 7, 20.0), peaked)),
        Case("two distributions very close to each other", (close, nudged / nudged.sum())),
    ]


@check(
    "kl_divergence", rules=("ex09.kl.support", "common.python-scalars", "common.stability-warnings"), warnings_fail=True
)
def test_kl_divergence_support(rng: np.random.Generator) -> list[Case]:
    """kl_divergence skips terms with p_i = 0 and is inf where q rules out an outcome of p"""
    p_zeros = random_distribution(rng, 6)
    p_zeros[rng.choice(6, size=2, replace=False)] = 0.0
    p_zeros /= p_zeros.sum()
    q_zero_off_support = random_distribution(rng, 6)
    q_zero_off_support[p_zeros == 0] = 0.0
    q_zero_off_support /= q_zero_off_support.sum()
    q_zero_on_support = random_distribution(rng, 6)
    q_zero_on_support[np.flatnonzero(p_zeros)[0]] = 0.0
    q_zero_on_support /= q_zero_on_support.sum()
    hot = int(rng.integers(5))
    one_hot = np.eye(5)[hot]
    q_positive = random_distribution(rng, 5)
    q_missing_hot = random_distribution(rng, 5)
    q_missing_hot[hot] = 0.0
    q_missing_hot /= q_missing_hot.sum()
    huge_logits = rng.choice([-1e4, 0.0, 1e4], size=8) + rng.normal(0.0, 1.0, 8)
    p_huge = softmax(huge_logits)
    return [
        Case("zeros in both p and q at the same places", ([0.0, 0.5, 0.5], [0.0, 0.25, 0.75]), visible=True),
        Case("a one-hot p against a uniform q", ([1.0, 0.0], [0.5, 0.5]), visible=True),
        Case("q = 0 where p > 0", ([0.5, 0.5], [1.0, 0.0]), visible=True),
        Case("random p with zeros against a positive q", (p_zeros, random_distribution(rng, 6))),
        Case("random p and q with zeros at the same places", (p_zeros, q_zero_off_support)),
        Case("random q with a zero where p > 0", (p_zeros, q_zero_on_support)),
        Case("a positive p against a q with a zero", (random_distribution(rng, 6), q_zero_on_support)),
        Case("a one-hot p as a float32 array", (one_hot.astype(np.float32), q_positive.astype(np.float32))),
        Case("a one-hot p whose outcome q rules out", (one_hot.tolist(), q_missing_hot.tolist())),
        Case(
            "softmax of logits of magnitude 1e4 (entries underflow to 0) against a positive q",
            (p_huge, 0.5 * p_huge + 0.5 * random_distribution(rng, 8)),
        ),
        Case("softmax of logits of magnitude 1e4 on both sides", (p_huge, softmax(rng.permutation(huge_logits)))),
    ]


@check("kl_divergence", rules=("ex09.kl.invalid", "common.value-error", "common.python-scalars"))
def test_kl_divergence_invalid(rng: np.random.Generator) -> list[Case]:
    """kl_divergence rejects vectors that are not probability distributions"""
    p = random_distribution(rng, 5)
    q = random_distribution(rng, 5)
    negative = p.copy()
    below_zero = int(rng.integers(5))
    negative[below_zero] = -float(rng.uniform(0.01, 0.2))
    others = np.arange(5) != below_zero
    negative[others] *= (1.0 - negative[below_zero]) / negative[others].sum()  # still sums to 1
    with_nan = q.copy()
    with_nan[int(rng.integers(5))] = np.nan
    return [
        Case("a negative entry in p", ([0.6, 0.6, -0.2], [0.3, 0.3, 0.4]), visible=True),
        Case("p and q of different lengths", ([0.5, 0.5], [0.2, 0.2, 0.6]), visible=True),
        Case("p not summing to 1", ([0.5, 0.4], [0.5, 0.5]), visible=True),
        Case("q not summing to 1", ([0.5, 0.5], [0.7, 0.7]), visible=True),
        Case("empty vectors", ([], []), visible=True),
        Case("a random p with a negative entry that still sums to 1", (negative, q)),
        Case("a random q with a negative entry", (p, negative)),
        Case("random vectors of different lengths", (p, random_distribution(rng, 4))),
        Case("a q whose sum is off by slightly more than 1e-6", (p, q * (1.0 + 1e-5))),
        Case("a p whose sum is off by less than 1e-6 (accepted)", (p * (1.0 + 5e-7), q)),
        Case("a 2-D array of distributions", (np.stack([p, q]), np.stack([q, p]))),
        Case("a NaN entry", (p, with_nan)),
    ]


@check("kl_penalized_rewards", rules=("ex09.penalized", "common.python-scalars"))
def test_kl_penalized_rewards_values(rng: np.random.Generator) -> list[Case]:
    """kl_penalized_rewards subtracts beta times the log-ratio, elementwise"""
    batch = int(rng.integers(4, 9))
    rewards = rng.normal(0.0, 1.0, batch)
    policy = -rng.gamma(2.0, 20.0, batch)
    ref = policy + rng.normal(0.0, 2.0, batch)
    tokens = rng.normal(0.0, 0.5, (3, 6)), -rng.gamma(1.0, 2.0, (3, 6)), -rng.gamma(1.0, 2.0, (3, 6))
    return [
        Case("scalar inputs", (1.0, -1.2, -1.5, 0.5), visible=True),
        Case(
            "a small batch",
            (np.array([1.0, 0.5, -0.2]), np.array([-2.0, -3.5, -1.0]), np.array([-2.5, -3.0, -1.0]), 0.1),
            visible=True,
        ),
        Case("beta = 0 on lists", ([1.0, 0.5], [-2.0, -3.5], [-2.5, -3.0], 0.0), visible=True),
        Case("a random batch of response log-probabilities", (rewards, policy, ref, float(rng.uniform(0.01, 1.0)))),
        Case(
            "a random batch as Python lists",
            (rewards.tolist(), policy.tolist(), ref.tolist(), float(rng.uniform(0.01, 1.0))),
        ),
        Case(
            "a random float32 batch",
            (
                rewards.astype(np.float32),
                policy.astype(np.float32),
                ref.astype(np.float32),
                float(rng.uniform(0.01, 1.0)),
            ),
        ),
        Case("a scalar reference log-probability broadcast against a batch", (rewards, policy, float(ref[0]), 0.2)),
        Case(
            "per-token rewards and log-probabilities of shape (sequences, tokens)",
            (*tokens, float(rng.uniform(0.05, 0.5))),
        ),
        Case("an integer beta", (rewards, policy, ref, 1)),
        Case("random scalars", (float(rewards[0]), float(policy[0]), float(ref[0]), float(rng.uniform(0.0, 2.0)))),
    ]


@check("kl_penalized_rewards", rules=("ex09.penalized.invalid", "ex09.penalized.large", "common.value-error"))
def test_kl_penalized_rewards_invalid_and_large(rng: np.random.Generator) -> list[Case]:
    """kl_penalized_rewards rejects a negative beta and bad shapes and is exact at magnitude 1e4"""
    rewards = rng.normal(0.0, 1.0, 5)
    policy = -1e4 + rng.uniform(0.0, 1e3, 5)
    ref = policy + rng.normal(0.0, 3.0, 5)
    with_nan = policy.copy()
    with_nan[int(rng.integers(5))] = np.nan
    return [
        Case("a negative beta", (1.0, -1.0, -1.0, -0.1), visible=True),
        Case(
            "log-probabilities of a different length", ([1.0, 2.0], [-1.0, -2.0, -3.0], [-1.0, -2.0], 0.1), visible=True
        ),
        Case("log-probabilities near -1e4", ([0.3, 0.3], [-10000.0, -9999.5], [-10000.5, -10000.0], 0.2), visible=True),
        Case("a random negative beta", (rewards, policy, ref, -float(rng.uniform(0.01, 2.0)))),
        Case("shapes that cannot be broadcast together", (np.zeros((3, 4)), np.zeros((4, 3)), np.zeros((3, 4)), 0.1)),
        Case("a NaN log-probability", (rewards, with_nan, ref, 0.1)),
        Case("random log-probabilities of magnitude up to 1e4", (rewards, policy, ref, float(rng.uniform(0.05, 1.0)))),
        Case(
            "random float32 log-probabilities of magnitude up to 1e4",
            (rewards.astype(np.float32), policy.astype(np.float32), ref.astype(np.float32), 0.1),
        ),
    ]


@check("kl_regularized_objective", rules=("ex09.objective", "common.python-scalars"))
def test_kl_regularized_objective(rng: np.random.Generator) -> list[Case]:
    """kl_regularized_objective is the reward gain minus beta times the KL cost"""
    gain, cost, beta = rng.uniform(-0.2, 0.5), rng.uniform(0.0, 0.3), rng.uniform(0.1, 5.0)
    return [
        Case("simple values", (0.3, 0.1, 0.5), visible=True),
        Case("beta = 0", (0.3, 0.1, 0.0), visible=True),
        Case("a cost that outweighs the gain", (0.05, 0.1, 1.0), visible=True),
        Case("random gain, cost and beta", (float(gain), float(cost), float(beta))),
        Case("numpy float64 scalars", (np.float64(gain), np.float64(cost), np.float64(beta))),
        Case("random values with beta = 0", (float(rng.uniform(-1.0, 1.0)), float(rng.uniform(0.0, 1.0)), 0.0)),
        Case("integer inputs", (int(rng.integers(1, 10)), int(rng.integers(0, 5)), int(rng.integers(1, 4)))),
        Case("values of magnitude 1e4", (float(1e4 * rng.uniform(0.5, 1.0)), float(1e4 * rng.uniform(0.0, 1.0)), 0.5)),
    ]


@worked_answer(rules=("ex09.answer", "common.python-scalars"))
def test_answer() -> float:
    """answer is the KL-regularised objective of the worked example"""
    return reference.kl_regularized_objective(0.12, 0.04, 2.0)
