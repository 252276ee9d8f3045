"""Wrong answers and correct alternatives for ex08_reviewer_agreement."""

from . import Variant

WRONG = [
    Variant(
        "raw_agreement",
        "returns the number of agreeing items, not the fraction",
        """def raw_agreement(a, b):
    a, b = list(a), list(b)
    if not a or len(a) != len(b):
        raise ValueError("need two non-empty label lists of the same length")
    return float(sum(x == y for x, y in zip(a, b)))
""",
        loses=(
            "test_raw_agreement_values",
            "test_raw_agreement_invalid",
            "test_cohens_kappa_values",
            "test_cohens_kappa_degenerate",
            "test_answer",
        ),
    ),
    Variant(
        "raw_agreement",
        "no length check: zip silently drops the extra labels",
        """def raw_agreement(a, b):
    a, b = list(a), list(b)
    if not a:
        raise ValueError("the label lists are empty")
    return sum(x == y for x, y in zip(a, b)) / len(a)
""",
        loses=("test_raw_agreement_invalid", "test_cohens_kappa_degenerate"),
    ),
    Variant(
        "cohens_kappa",
        "kappa without chance correction: returns the raw agreement",
        """def cohens_kappa(a, b):
    a, b = list(a), list(b)
    if not a or len(a) != len(b):
        raise ValueError("need two non-empty label lists of the same length")
    return sum(x == y for x, y in zip(a, b)) / len(a)
""",
    ),
    Variant(
        "cohens_kappa",
        "no special case for an expected agreement of 1: divides 0 by 0",
        """from collections import Counter

def cohens_kappa(a, b):
    a, b = list(a), list(b)
    if not a or len(a) != len(b):
        raise ValueError("need two non-empty label lists of the same length")
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in count_a) / n**2
    return (observed - expected) / (1 - expected)
""",
        loses=("test_cohens_kappa_degenerate",),
    ),
    Variant(
        "disagreements",
        "1-based item numbers instead of 0-based indices",
        """import numpy as np

def disagreements(a, b):
    a, b = list(a), list(b)
    if not a or len(a) != len(b):
        raise ValueError("need two non-empty label lists of the same length")
    return np.array([i for i, (x, y) in enumerate(zip(a, b), start=1) if x != y], dtype=int)
""",
    ),
    Variant(
        "disagreements",
        "returns the indices where the reviewers agree",
        """import numpy as np

def disagreements(a, b):
    a, b = list(a), list(b)
    if not a or len(a) != len(b):
        raise ValueError("need two non-empty label lists of the same length")
    return np.array([i for i, (x, y) in enumerate(zip(a, b)) if x == y], dtype=int)
""",
    ),
    Variant("answer", "the right fraction, but as a string", 'answer = "0.8"\n'),
    Variant("answer", "Cohen's kappa of the pair instead of the raw agreement", "answer = 0.615385\n"),
]

ALTERNATIVES = [
    Variant(
        "raw_agreement",
        "counts the agreeing positions with a generator and divides",
        """def raw_agreement(a, b):
    a, b = list(a), list(b)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("the label lists are empty")
    if len(a) != len(b):
        raise ValueError(f"{len(a)} labels against {len(b)}")
    agreeing = sum(1 for i in range(len(a)) if a[i] == b[i])
    return agreeing / len(a)
""",
    ),
    Variant(
        "cohens_kappa",
        "marginal proportions over the union of labels with list.count",
        """def cohens_kappa(a, b):
    a, b = list(a), list(b)
    if not a or not b:
        raise ValueError("the label lists are empty")
    if len(a) != len(b):
        raise ValueError(f"{len(a)} labels against {len(b)}")
    n = len(a)
    p_observed = sum(x == y for x, y in zip(a, b)) / n
    p_expected = sum((a.count(label) / n) * (b.count(label) / n) for label in set(a) | set(b))
    if abs(1.0 - p_expected) < 1e-12:
        return 1.0
    return (p_observed - p_expected) / (1.0 - p_expected)
""",
    ),
    Variant(
        "disagreements",
        "np.flatnonzero of the elementwise inequality",
        """import numpy as np

def disagreements(a, b):
    a, b = list(a), list(b)
    if not a or not b:
        raise ValueError("the label lists are empty")
    if len(a) != len(b):
        raise ValueError(f"{len(a)} labels against {len(b)}")
    return np.flatnonzero([x != y for x, y in zip(a, b)]).astype(np.int64)
""",
    ),
    Variant("answer", "four agreeing items out of five", "answer = 4 / 5\n"),
]
