"""Catalogued mistakes and correct alternatives of ex10_regression_gate.

Each mistake's ``about`` completes "Your function (or answer) seems to ...".
"""

from . import Variant

WRONG = [
    Variant(
        "release_gate",
        "forget the minus: test capability_delta > max_capability_drop",
        """def release_gate(safety_delta, capability_delta, min_safety_gain=0.02, max_capability_drop=0.02):
    return bool(safety_delta > min_safety_gain and capability_delta > max_capability_drop)
""",
        loses=("test_release_gate_values", "test_release_gate_boundaries", "test_answer"),
        review="a drop is a negative delta: capability_delta > -max_capability_drop",
    ),
    Variant(
        "release_gate",
        "use >= instead of >, so a delta exactly at a threshold ships",
        """def release_gate(safety_delta, capability_delta, min_safety_gain=0.02, max_capability_drop=0.02):
    return bool(safety_delta >= min_safety_gain and capability_delta >= -max_capability_drop)
""",
        loses=("test_release_gate_boundaries",),
        review="the gate is strict: the delta must beat the threshold",
    ),
    Variant(
        "release_gate",
        "test for failure with <= and negate it, so a NaN delta ships",
        """def release_gate(safety_delta, capability_delta, min_safety_gain=0.02, max_capability_drop=0.02):
    return not (safety_delta <= min_safety_gain or capability_delta <= -max_capability_drop)
""",
        loses=("test_release_gate_boundaries",),
        review="a NaN comparison is False: test for success, so NaN keeps the gate shut",
    ),
    Variant(
        "release_gate",
        "return a numpy bool (numpy.bool_) instead of a Python bool",
        """import numpy as np

def release_gate(safety_delta, capability_delta, min_safety_gain=0.02, max_capability_drop=0.02):
    return np.logical_and(
        np.float64(safety_delta) > min_safety_gain, np.float64(capability_delta) > -max_capability_drop
    )
""",
        loses=("test_release_gate_values", "test_release_gate_boundaries", "test_answer"),
        review="return a Python bool, e.g. bool(...)",
    ),
    Variant(
        "multi_metric_gate",
        "return (failing, ship) instead of (ship, failing)",
        """def multi_metric_gate(deltas, floors):
    missing = [name for name in floors if name not in deltas]
    if missing:
        raise ValueError(f"no delta for {missing}")
    failing = sorted(name for name in floors if not deltas[name] > floors[name])
    return failing, not failing
""",
        review="the order of the returned pair: (ship, failing)",
    ),
    Variant(
        "multi_metric_gate",
        "list the failing metrics in the order of floors instead of sorted",
        """def multi_metric_gate(deltas, floors):
    missing = [name for name in floors if name not in deltas]
    if missing:
        raise ValueError(f"no delta for {missing}")
    failing = [name for name in floors if not deltas[name] > floors[name]]
    return len(failing) == 0, failing
""",
        loses=("test_multi_metric_gate_values",),
        review="the failing names are sorted",
    ),
    Variant(
        "multi_metric_gate",
        "loop over deltas instead of floors: an ungated metric raises KeyError and a missing one no ValueError",
        """def multi_metric_gate(deltas, floors):
    failing = sorted(name for name in deltas if not deltas[name] > floors[name])
    return len(failing) == 0, failing
""",
        loses=("test_multi_metric_gate_metric_coverage",),
        review="the floors decide what is gated; a gated metric without a delta is invalid",
    ),
    Variant(
        "multi_metric_gate",
        "test for failure with <=, so a metric with a NaN delta is not counted as failing",
        """def multi_metric_gate(deltas, floors):
    missing = sorted(set(floors) - set(deltas))
    if missing:
        raise ValueError(f"no delta for gated metric(s): {', '.join(missing)}")
    failing = sorted(name for name, floor in floors.items() if deltas[name] <= floor)
    return (not failing, failing)
""",
        loses=("test_multi_metric_gate_values",),
        review="a NaN comparison is False: test for success (delta > floor), so a NaN delta fails",
    ),
    Variant(
        "best_validation_step",
        "return the 0-based index from np.argmin instead of the 1-based step",
        """import numpy as np

def best_validation_step(val_losses):
    losses = np.asarray(val_losses, dtype=float)
    if losses.ndim != 1 or losses.size == 0 or np.isnan(losses).any():
        raise ValueError("val_losses must be a non-empty 1-D list of numbers")
    return int(np.argmin(losses))
""",
        review="steps are numbered from 1",
    ),
    Variant(
        "best_validation_step",
        "skip the NaN check, so the step of a NaN loss is returned",
        """import numpy as np

def best_validation_step(val_losses):
    losses = np.atleast_1d(np.asarray(val_losses, dtype=float))
    if losses.ndim != 1 or losses.size == 0:
        raise ValueError("val_losses must be a non-empty 1-D list of numbers")
    return int(np.argmin(losses)) + 1
""",
        loses=("test_best_validation_step_edge_cases",),
        review="a NaN loss is invalid input: raise ValueError",
    ),
    Variant(
        "best_validation_step",
        "return the step of the highest loss (argmax) instead of the lowest",
        """import numpy as np

def best_validation_step(val_losses):
    losses = np.atleast_1d(np.asarray(val_losses, dtype=np.float64))
    if losses.ndim != 1 or losses.size == 0 or np.isnan(losses).any():
        raise ValueError("val_losses must be a non-empty 1-D list without NaN")
    return int(np.argmax(losses)) + 1
""",
        review="the best step has the lowest validation loss",
    ),
    Variant(
        "answer",
        "hold the right decision, but as a string",
        """answer = "True"
""",
        review="assign the decision itself (a bool), not its text",
    ),
    Variant(
        "answer",
        "read the capability drop as a failure",
        """answer = False
""",
        review="a drop of 0.01 is within the 0.02 budget",
    ),
]

ALTERNATIVES = [
    Variant(
        "release_gate",
        "the comparisons written from the thresholds' side, converted with float()",
        """def release_gate(safety_delta, capability_delta, min_safety_gain=0.02, max_capability_drop=0.02):
    safety_ok = float(min_safety_gain) < float(safety_delta)
    capability_ok = -float(max_capability_drop) < float(capability_delta)
    return safety_ok and capability_ok
""",
    ),
    Variant(
        "multi_metric_gate",
        "a loop over the sorted gated metrics collecting missing and failing names",
        """def multi_metric_gate(deltas, floors):
    missing, failing = [], []
    for name in sorted(floors):
        if name not in deltas:
            missing.append(name)
        elif not deltas[name] > floors[name]:
            failing.append(name)
    if missing:
        raise ValueError("no delta for gated metric(s): " + ", ".join(missing))
    return (len(failing) == 0, failing)
""",
    ),
    Variant(
        "best_validation_step",
        "a loop keeping the first strictly lower loss, with math.isnan",
        """import math
import numpy as np

def best_validation_step(val_losses):
    losses = np.atleast_1d(np.asarray(val_losses, dtype=np.float64))
    if losses.ndim != 1:
        raise ValueError("val_losses must be one-dimensional")
    if losses.size == 0:
        raise ValueError("val_losses is empty")
    best_step, best_loss = None, None
    for step, loss in enumerate(losses.tolist(), start=1):
        if math.isnan(loss):
            raise ValueError(f"the loss at step {step} is NaN")
        if best_loss is None or loss < best_loss:
            best_step, best_loss = step, loss
    return best_step
""",
    ),
    Variant(
        "answer",
        "both conditions written out",
        """answer = 0.04 > 0.02 and -0.01 > -0.02
""",
    ),
]
