"""Wrong answers and correct alternatives for ex10_regression_gate."""

from . import Variant

WRONG = [
    Variant(
        "release_gate",
        "forgets the minus: capability_delta > max_capability_drop",
        """def release_gate(safety_delta, capability_delta, min_safety_gain=0.02, max_capability_drop=0.02):
    return bool(safety_delta > min_safety_gain and capability_delta > max_capability_drop)
""",
        loses=("test_release_gate_values", "test_release_gate_boundaries", "test_answer"),
    ),
    Variant(
        "release_gate",
        ">= instead of >: a delta exactly at a threshold ships",
        """def release_gate(safety_delta, capability_delta, min_safety_gain=0.02, max_capability_drop=0.02):
    return bool(safety_delta >= min_safety_gain and capability_delta >= -max_capability_drop)
""",
        loses=("test_release_gate_boundaries",),
    ),
    Variant(
        "release_gate",
        "tests for failure with <= and negates: a NaN delta ships",
        """def release_gate(safety_delta, capability_delta, min_safety_gain=0.02, max_capability_drop=0.02):
    return not (safety_delta <= min_safety_gain or capability_delta <= -max_capability_drop)
""",
        loses=("test_release_gate_boundaries",),
    ),
    Variant(
        "multi_metric_gate",
        "returns (failing, ship) instead of (ship, failing)",
        """def multi_metric_gate(deltas, floors):
    missing = [name for name in floors if name not in deltas]
    if missing:
        raise ValueError(f"no delta for {missing}")
    failing = sorted(name for name in floors if not deltas[name] > floors[name])
    return failing, not failing
""",
    ),
    Variant(
        "multi_metric_gate",
        "failing metrics listed in the order of floors, not sorted",
        """def multi_metric_gate(deltas, floors):
    missing = [name for name in floors if name not in deltas]
    if missing:
        raise ValueError(f"no delta for {missing}")
    failing = [name for name in floors if not deltas[name] > floors[name]]
    return len(failing) == 0, failing
""",
        loses=("test_multi_metric_gate_values",),
    ),
    Variant(
        "multi_metric_gate",
        "loops over deltas instead of floors: KeyError for an ungated metric, no ValueError for a missing one",
        """def multi_metric_gate(deltas, floors):
    failing = sorted(name for name in deltas if not deltas[name] > floors[name])
    return len(failing) == 0, failing
""",
        loses=("test_multi_metric_gate_metric_coverage",),
    ),
    Variant(
        "best_validation_step",
        "0-based step: returns np.argmin directly",
        """import numpy as np

def best_validation_step(val_losses):
    losses = np.asarray(val_losses, dtype=float)
    if losses.ndim != 1 or losses.size == 0 or np.isnan(losses).any():
        raise ValueError("val_losses must be a non-empty 1-D list of numbers")
    return int(np.argmin(losses))
""",
    ),
    Variant(
        "best_validation_step",
        "no NaN check: np.argmin returns the step of the NaN",
        """import numpy as np

def best_validation_step(val_losses):
    losses = np.atleast_1d(np.asarray(val_losses, dtype=float))
    if losses.ndim != 1 or losses.size == 0:
        raise ValueError("val_losses must be a non-empty 1-D list of numbers")
    return int(np.argmin(losses)) + 1
""",
        loses=("test_best_validation_step_edge_cases",),
    ),
    Variant("answer", "the right decision, but as a string", 'answer = "True"\n'),
    Variant("answer", "reads the capability drop as a failure", "answer = False\n"),
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
    Variant("answer", "both conditions written out", "answer = 0.04 > 0.02 and -0.01 > -0.02\n"),
]
