"""Catalogued mistakes and correct alternatives of ex08_reviewer_agreement.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "raw_agreement",
        "return the number of agreeing items instead of the fraction",
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
        review="agreement is a fraction of the items",
    ),
    Variant(
        "raw_agreement",
        "skip the length check, so zip silently drops the extra labels",
        """def raw_agreement(a, b):
    a, b = list(a), list(b)
    if not a:
        raise ValueError("the label lists are empty")
    return sum(x == y for x, y in zip(a, b)) / len(a)
""",
        loses=("test_raw_agreement_invalid", "test_cohens_kappa_degenerate"),
        review="the rule: label lists of different lengths are invalid",
    ),
    Variant(
        "raw_agreement",
        "let a one-item list be broadcast against a longer one instead of rejecting the length mismatch",
        """import numpy as np

def raw_agreement(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.size == 0 or b.size == 0:
        raise ValueError("the label lists are empty")
    return float(np.mean(a == b))
""",
        loses=("test_raw_agreement_invalid",),
        review="the rule: label lists of different lengths are invalid, whatever their lengths",
    ),
    Variant(
        "cohens_kappa",
        "return the raw agreement without the chance correction",
        """def cohens_kappa(a, b):
    a, b = list(a), list(b)
    if not a or len(a) != len(b):
        raise ValueError("need two non-empty label lists of the same length")
    return sum(x == y for x, y in zip(a, b)) / len(a)
""",
        review="kappa = (p_o - p_e) / (1 - p_e)",
    ),
    Variant(
        "cohens_kappa",
        "divide 0 by 0 where the expected agreement is 1",
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
        review="the special case p_e = 1: kappa is 1.0",
    ),
    Variant(
        "cohens_kappa",
        "build the table of labels from reviewer B's labels only, so a label only reviewer A uses fails",
        """from collections import Counter

def cohens_kappa(a, b):
    a, b = list(a), list(b)
    if len(a) != len(b) or not a:
        raise ValueError("need two non-empty label lists of the same length")
    index = {label: i for i, label in enumerate(sorted(set(b), key=repr))}
    table = [[0] * len(index) for _ in index]
    for x, y in zip(a, b):
        table[index[x]][index[y]] += 1
    n = len(a)
    observed = sum(table[i][i] for i in range(len(index))) / n
    expected = sum(sum(table[i]) * sum(row[i] for row in table) for i in range(len(index))) / (n * n)
    if expected == 1.0:
        return 1.0
    return float((observed - expected) / (1.0 - expected))
""",
        loses=("test_cohens_kappa_values", "test_cohens_kappa_degenerate"),
        review="the labels are those of both reviewers: a label may be used by only one of them",
    ),
    Variant(
        "disagreements",
        "return 1-based item numbers instead of 0-based indices",
        """import numpy as np

def disagreements(a, b):
    a, b = list(a), list(b)
    if not a or len(a) != len(b):
        raise ValueError("need two non-empty label lists of the same length")
    return np.array([i for i, (x, y) in enumerate(zip(a, b), start=1) if x != y], dtype=int)
""",
        review="Python indices start at 0",
    ),
    Variant(
        "disagreements",
        "return the indices where the reviewers agree",
        """import numpy as np

def disagreements(a, b):
    a, b = list(a), list(b)
    if not a or len(a) != len(b):
        raise ValueError("need two non-empty label lists of the same length")
    return np.array([i for i, (x, y) in enumerate(zip(a, b)) if x == y], dtype=int)
""",
        review="which items are disagreements: a[i] != b[i]",
    ),
    Variant(
        "disagreements",
        "return a mask of True/False per item instead of the indices",
        """import numpy as np

def disagreements(a, b):
    a, b = list(a), list(b)
    if len(a) != len(b) or not a:
        raise ValueError("need two non-empty label lists of the same length")
    return np.array([x != y for x, y in zip(a, b)])
""",
        review="return the indices i where a[i] != b[i], e.g. with np.flatnonzero",
    ),
    Variant(
        "answer",
        "hold the right fraction, but as a string",
        """answer = "0.8"
""",
        review="assign the number itself (a float), not its text",
    ),
    Variant(
        "answer",
        "hold Cohen's kappa of the pair instead of the raw agreement",
        """answer = 0.615385
""",
        review="the question asks for the raw agreement",
    ),
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
    Variant(
        "answer",
        "four agreeing items out of five",
        """answer = 4 / 5
""",
    ),
]
