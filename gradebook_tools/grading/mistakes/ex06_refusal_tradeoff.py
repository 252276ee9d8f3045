"""Catalogued mistakes and correct alternatives of ex06_refusal_tradeoff.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "refusal_metrics",
        "compute joint rates over all prompts instead of rates among the benign and among the harmful prompts",
        """import numpy as np

def refusal_metrics(is_harmful, refused):
    harmful = np.asarray(is_harmful, dtype=bool)
    refusals = np.asarray(refused, dtype=bool)
    if harmful.shape != refusals.shape or harmful.all() or not harmful.any():
        raise ValueError("need same-length inputs with harmful and benign prompts")
    n = harmful.size
    return {
        "safe_compliance": float(np.mean(refusals == harmful)),
        "benign_refusal": float(np.sum(refusals & ~harmful) / n),
        "harmful_compliance": float(np.sum(~refusals & harmful) / n),
    }
""",
        review="conditional rates: divide by the number of benign (or harmful) prompts",
    ),
    Variant(
        "refusal_metrics",
        "compute harmful_compliance as the refusal rate among harmful prompts",
        """import numpy as np

def refusal_metrics(is_harmful, refused):
    harmful = np.asarray(is_harmful, dtype=bool)
    refusals = np.asarray(refused, dtype=bool)
    if harmful.shape != refusals.shape or harmful.all() or not harmful.any():
        raise ValueError("need same-length inputs with harmful and benign prompts")
    return {
        "safe_compliance": float(np.mean(refusals == harmful)),
        "benign_refusal": float(np.mean(refusals[~harmful])),
        "harmful_compliance": float(np.mean(refusals[harmful])),
    }
""",
        review="harmful compliance: the share of harmful prompts that were answered",
    ),
    Variant(
        "refusal_metrics",
        "compute benign_refusal as the share of refusals that were benign instead of the share of benign prompts refused",
        """import numpy as np

def refusal_metrics(is_harmful, refused):
    harmful = np.asarray(is_harmful, dtype=bool)
    refusals = np.asarray(refused, dtype=bool)
    if harmful.ndim != 1 or harmful.shape != refusals.shape:
        raise ValueError("is_harmful and refused must be 1-D of the same length")
    if harmful.all() or not harmful.any():
        raise ValueError("need at least one harmful and one benign prompt")
    benign_refusal = float(np.mean(~harmful[refusals])) if refusals.any() else 0.0
    return {
        "safe_compliance": float(np.mean(refusals == harmful)),
        "benign_refusal": benign_refusal,
        "harmful_compliance": float(np.mean(~refusals[harmful])),
    }
""",
        review="benign refusal is a rate among the benign prompts: refused benign / all benign",
    ),
    Variant(
        "refusal_adjusted_utility",
        "add the benign-refusal penalty instead of subtracting it",
        """def refusal_adjusted_utility(safe_compliance, benign_refusal, penalty=0.5):
    if not (0 <= safe_compliance <= 1 and 0 <= benign_refusal <= 1) or penalty < 0:
        raise ValueError("rates must lie in [0, 1] and the penalty must be non-negative")
    return float(safe_compliance + penalty * benign_refusal)
""",
        loses=("test_refusal_adjusted_utility_values", "test_refusal_adjusted_utility_invalid", "test_answer"),
        review="the utility: safe compliance minus the penalty",
    ),
    Variant(
        "refusal_adjusted_utility",
        "compute the right formula but accept rates outside [0, 1] or a negative penalty",
        """def refusal_adjusted_utility(safe_compliance, benign_refusal, penalty=0.5):
    return float(safe_compliance - penalty * benign_refusal)
""",
        loses=("test_refusal_adjusted_utility_invalid",),
        review="the invalid inputs: raise ValueError for them",
    ),
    Variant(
        "refusal_adjusted_utility",
        "always use a penalty of 0.5, ignoring the penalty argument",
        """def refusal_adjusted_utility(safe_compliance, benign_refusal, penalty=0.5):
    for rate in (safe_compliance, benign_refusal):
        if not 0 <= rate <= 1:
            raise ValueError("rates must lie in [0, 1]")
    if not penalty >= 0:
        raise ValueError("penalty must be non-negative")
    return float(safe_compliance - 0.5 * benign_refusal)
""",
        loses=("test_refusal_adjusted_utility_values",),
        review="use the penalty argument; 0.5 is only its default",
    ),
    Variant(
        "answer",
        "hold the right utility, but as a string",
        """answer = "0.775"
""",
        review="assign the number itself (a float), not its text",
    ),
    Variant(
        "answer",
        "forget the penalty weight: 0.82 - 0.09",
        """answer = 0.82 - 0.09
""",
        review="the default penalty of 0.5",
    ),
]

ALTERNATIVES = [
    Variant(
        "refusal_metrics",
        "a loop counting the four outcomes of a confusion table",
        """import numpy as np

def refusal_metrics(is_harmful, refused):
    harmful = np.asarray(is_harmful)
    refusals = np.asarray(refused)
    if harmful.ndim != 1 or harmful.shape != refusals.shape:
        raise ValueError("is_harmful and refused must be 1-D and of the same length")
    refused_harmful = answered_harmful = refused_benign = answered_benign = 0
    for h, r in zip(harmful.tolist(), refusals.tolist()):
        if h and r:
            refused_harmful += 1
        elif h:
            answered_harmful += 1
        elif r:
            refused_benign += 1
        else:
            answered_benign += 1
    n_harmful = refused_harmful + answered_harmful
    n_benign = refused_benign + answered_benign
    if n_harmful == 0 or n_benign == 0:
        raise ValueError("need at least one harmful and one benign prompt")
    return {
        "safe_compliance": (refused_harmful + answered_benign) / (n_harmful + n_benign),
        "benign_refusal": refused_benign / n_benign,
        "harmful_compliance": answered_harmful / n_harmful,
    }
""",
    ),
    Variant(
        "refusal_adjusted_utility",
        "validates with a loop over named rates and returns np.float64",
        """import numpy as np

def refusal_adjusted_utility(safe_compliance, benign_refusal, penalty=0.5):
    for name, value in {"safe_compliance": safe_compliance, "benign_refusal": benign_refusal}.items():
        if value < 0 or value > 1:
            raise ValueError(f"{name} must lie in [0, 1], got {value}")
    if penalty < 0:
        raise ValueError(f"penalty must be non-negative, got {penalty}")
    return np.float64(safe_compliance) - np.float64(penalty) * np.float64(benign_refusal)
""",
    ),
    Variant(
        "answer",
        "the utility written out by hand",
        """answer = 0.82 - 0.5 * 0.09
""",
    ),
]
