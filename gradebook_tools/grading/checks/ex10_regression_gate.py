"""Hidden checks of ex10_regression_gate: the release gate, the multi-metric gate, the best validation step."""

import numpy as np
from numpy.typing import NDArray

from gradebook_tools.grading import reference
from gradebook_tools.grading.spec import Case, check, worked_answer

METRICS = [
    "benign_refusal",
    "harmful_compliance",
    "harmlessness",
    "helpfulness",
    "honesty",
    "jailbreak_resistance",
    "math",
    "coding",
    "toxicity",
    "calibration",
]
FLOORS = [-0.02, -0.01, 0.0, 0.01, 0.02]


def away_from(threshold: float, rng: np.random.Generator, above: bool) -> float:
    """A value at least 0.002 above (or below) ``threshold``, safe to compare in float32."""
    step = float(rng.uniform(0.002, 0.05))
    return threshold + step if above else threshold - step


@check("release_gate", rules=("ex10.gate", "ex10.gate.python-bool", "common.python-scalars"))
def test_release_gate_values(rng: np.random.Generator) -> list[Case]:
    """release_gate ships only with enough safety gain and a tolerable capability drop"""
    cases = [
        Case("the worked example", (0.04, -0.01), visible=True),
        Case("a safety gain below the bar", (0.01, 0.03), visible=True),
        Case("a capability drop beyond the tolerance", (0.05, -0.05), visible=True),
        Case("a custom min_safety_gain", (0.04, -0.01), {"min_safety_gain": 0.05}, visible=True),
        Case("a custom max_capability_drop", (0.04, -0.03), {"max_capability_drop": 0.05}, visible=True),
    ]
    for above_safety, above_capability in [(True, True), (True, False), (False, True)]:
        cases.append(
            Case(
                "random deltas with the default thresholds",
                (away_from(0.02, rng, above_safety), away_from(-0.02, rng, above_capability)),
            )
        )
    gain, drop = float(rng.uniform(0.0, 0.1)), float(rng.uniform(0.0, 0.1))
    safety, capability = away_from(gain, rng, True), away_from(-drop, rng, bool(rng.integers(2)))
    cases += [
        Case(
            "random deltas and thresholds passed by keyword",
            (safety, capability),
            {"min_safety_gain": gain, "max_capability_drop": drop},
        ),
        Case("random deltas and thresholds passed by position", (safety, away_from(-drop, rng, True), gain, drop)),
        Case(
            "numpy float64 scalars", (np.float64(away_from(0.02, rng, True)), np.float64(away_from(-0.02, rng, True)))
        ),
        Case(
            "0-d float32 arrays",
            (
                np.array(away_from(0.02, rng, True), dtype=np.float32),
                np.array(away_from(-0.02, rng, True), dtype=np.float32),
            ),
        ),
        Case("deltas of magnitude 1e4", (1e4, float(-1e4 * rng.uniform(0.5, 1.0)))),
        Case(
            "deltas and thresholds of magnitude 1e4", (2e4, -5e3), {"min_safety_gain": 1e4, "max_capability_drop": 1e4}
        ),
    ]
    return cases


@check("release_gate", rules=("ex10.gate.strict", "ex10.gate.nan", "common.python-scalars"))
def test_release_gate_boundaries(rng: np.random.Generator) -> list[Case]:
    """release_gate is strict at its thresholds and fails closed on NaN"""
    gain, drop = float(rng.uniform(0.01, 0.1)), float(rng.uniform(0.01, 0.1))
    return [
        Case("a safety delta equal to the default gain", (0.02, 0.0), visible=True),
        Case("a capability delta equal to the default drop", (0.03, -0.02), visible=True),
        Case("a NaN safety delta", (float("nan"), 0.0), visible=True),
        Case("a NaN capability delta", (0.05, float("nan")), visible=True),
        Case("a safety delta equal to a random min_safety_gain", (gain, 0.0), {"min_safety_gain": gain}),
        Case(
            "a capability delta equal to minus a random max_capability_drop",
            (0.1, -drop),
            {"max_capability_drop": drop},
        ),
        Case("no tolerated drop and an unchanged capability", (0.05, 0.0), {"max_capability_drop": 0.0}),
        Case("no tolerated drop and a tiny capability gain", (0.05, 1e-9), {"max_capability_drop": 0.0}),
        Case("deltas just above both default thresholds", (0.02 + 1e-9, -0.02 + 1e-9)),
        Case("both deltas NaN", (float("nan"), float("nan"))),
        Case("a NaN capability delta next to a large safety gain", (float(rng.uniform(0.1, 1.0)), float("nan"))),
    ]


def random_gate(
    rng: np.random.Generator, size: int, at_floor: int = 0, nan: bool = False
) -> tuple[dict[str, float], dict[str, float]]:
    names = list(rng.choice(METRICS, size=size, replace=False))
    floors = {str(name): float(rng.choice(FLOORS)) for name in names}
    deltas = {str(name): float(np.round(rng.normal(0.0, 0.03), 3)) for name in rng.permutation(names)}
    for name in list(floors)[:at_floor]:
        deltas[name] = floors[name]
    if nan:
        deltas[names[-1]] = float("nan")
    return deltas, floors


@check("multi_metric_gate", rules=("ex10.multi", "common.python-scalars"), returns=("ship", "failing"))
def test_multi_metric_gate_values(rng: np.random.Generator) -> list[Case]:
    """multi_metric_gate decides on every gated metric and lists the failing ones sorted"""
    passing_floors = {str(name): float(rng.choice(FLOORS)) for name in rng.choice(METRICS, size=5, replace=False)}
    passing_deltas = {name: floor + float(rng.uniform(0.001, 0.05)) for name, floor in passing_floors.items()}
    float64_deltas, float64_floors = random_gate(rng, 4)
    return [
        Case(
            "a delta equal to its floor",
            (
                {"harmlessness": 0.03, "helpfulness": -0.01, "honesty": 0.0},
                {"harmlessness": 0.02, "helpfulness": -0.02, "honesty": 0.0},
            ),
            visible=True,
        ),
        Case(
            "every metric above its floor",
            (
                {"harmlessness": 0.03, "helpfulness": -0.01, "honesty": 0.0},
                {"harmlessness": 0.02, "helpfulness": -0.02, "honesty": -0.01},
            ),
            visible=True,
        ),
        Case(
            "several failing metrics",
            (
                {"toxicity": -0.05, "jailbreak_resistance": 0.0, "helpfulness": 0.01},
                {"toxicity": 0.0, "jailbreak_resistance": 0.01, "helpfulness": 0.0},
            ),
            visible=True,
        ),
        Case("random metric sets (the failing list must be sorted)", random_gate(rng, int(rng.integers(5, 9)))),
        Case("random metric sets (the failing list must be sorted)", random_gate(rng, int(rng.integers(5, 9)))),
        Case("a random metric set where every metric passes", (passing_deltas, passing_floors)),
        Case("random metric sets with deltas equal to their floor", random_gate(rng, 6, at_floor=2)),
        Case("a random metric set with a NaN delta", random_gate(rng, 5, nan=True)),
        Case(
            "numpy float64 deltas and floors",
            (
                {k: np.float64(v) for k, v in float64_deltas.items()},
                {k: np.float64(v) for k, v in float64_floors.items()},
            ),
        ),
    ]


@check(
    "multi_metric_gate",
    rules=("ex10.multi.coverage", "common.value-error", "common.python-scalars"),
    returns=("ship", "failing"),
)
def test_multi_metric_gate_metric_coverage(rng: np.random.Generator) -> list[Case]:
    """multi_metric_gate rejects a missing delta and ignores metrics without a floor"""
    deltas, floors = random_gate(rng, 6)
    one_missing = dict(deltas)
    del one_missing[str(rng.choice(list(floors)))]
    several_missing = {name: delta for name, delta in list(deltas.items())[:2]}
    gated = {name: floor + 0.01 for name, floor in floors.items()}
    ungated = {"latency_ms": float(-1e4 * rng.uniform(0.5, 1.0)), "response_tokens": float(1e4 * rng.uniform(0.5, 1.0))}
    failing_gated = dict(gated)
    failing_gated[str(rng.choice(list(floors)))] = -1.0
    return [
        Case(
            "a gated metric without a delta",
            ({"harmlessness": 0.05}, {"harmlessness": 0.02, "honesty": 0.0}),
            visible=True,
        ),
        Case(
            "a metric without a floor",
            ({"harmlessness": 0.05, "latency_ms": -300.0}, {"harmlessness": 0.02}),
            visible=True,
        ),
        Case("a random gated metric without a delta", (one_missing, floors)),
        Case("several gated metrics without a delta", (several_missing, floors)),
        Case("no floors at all", (deltas, {})),
        Case("no deltas and no floors", ({}, {})),
        Case("ungated metrics of magnitude 1e4 next to passing gated ones", ({**gated, **ungated}, floors)),
        Case("ungated metrics next to a failing gated one", ({**failing_gated, **ungated}, floors)),
    ]


def validation_curve(rng: np.random.Generator, steps: int) -> NDArray[np.float64]:
    t = np.arange(1, steps + 1)
    scale = rng.uniform(3.0, 10.0)
    return 0.5 + 0.5 * np.exp(-t / scale) + rng.uniform(0.002, 0.01) * t + rng.normal(0.0, 0.01, steps)


@check("best_validation_step", rules=("ex10.best-step", "common.python-scalars"))
def test_best_validation_step_values(rng: np.random.Generator) -> list[Case]:
    """best_validation_step returns the 1-based step of the lowest validation loss"""
    return [
        Case("a short validation curve", ([0.9, 0.7, 0.65, 0.66, 0.8],), visible=True),
        Case("the best step first", (np.array([0.3, 0.5, 0.9]),), visible=True),
        Case("the best step last, float32", (np.array([2.0, 1.5, 1.2, 1.1], dtype=np.float32),), visible=True),
        Case("a random noisy validation curve as a Python list", (validation_curve(rng, 30).tolist(),)),
        Case("a random noisy validation curve", (validation_curve(rng, int(rng.integers(10, 60))),)),
        Case("a random float32 validation curve", (validation_curve(rng, 25).astype(np.float32),)),
        Case("a random decreasing curve (best step last)", (np.sort(rng.random(12))[::-1].copy(),)),
        Case("integer losses", (rng.integers(0, 100, 15),)),
        Case("losses of magnitude 1e4", (1e4 + 100.0 * validation_curve(rng, 20),)),
        Case("negative losses", ((validation_curve(rng, 15) - 2.0).tolist(),)),
    ]


@check(
    "best_validation_step",
    rules=("ex10.best-step.ties", "ex10.best-step.invalid", "common.value-error", "common.python-scalars"),
)
def test_best_validation_step_edge_cases(rng: np.random.Generator) -> list[Case]:
    """best_validation_step takes the first step on ties and rejects invalid input"""
    curve = validation_curve(rng, 20)
    tied = curve.copy()
    first = int(np.argmin(tied))
    tied[rng.integers(first + 1, 20) if first < 19 else 0] = tied[first]
    with_nan = validation_curve(rng, 10)
    with_nan[int(rng.integers(10))] = np.nan
    return [
        Case("a tie between two steps", ([0.5, 0.4, 0.4, 0.6],), visible=True),
        Case("a single loss", ([0.7],), visible=True),
        Case("an empty list", ([],), visible=True),
        Case("a NaN loss", ([0.5, float("nan"), 0.4],), visible=True),
        Case("a 2-D list", ([[0.5, 0.4], [0.3, 0.6]],), visible=True),
        Case("a random curve whose minimum is reached twice", (tied,)),
        Case("a constant curve", (np.full(int(rng.integers(2, 10)), float(rng.uniform(0.1, 2.0))),)),
        Case("a tie at magnitude 1e4", ([1e4 + 1.0, 1e4 - 0.5, 1e4, 1e4 - 0.5],)),
        Case("a scalar loss", (float(rng.uniform(0.1, 2.0)),)),
        Case("an empty numpy array", (np.array([], dtype=np.float64),)),
        Case("a NaN at a random step", (with_nan,)),
        Case("a 2-D array of losses", (rng.random((3, 4)),)),
    ]


@worked_answer(rules=("ex10.answer", "common.python-scalars"))
def test_answer() -> bool:
    """answer is the gate's decision for the worked example"""
    return reference.release_gate(0.04, -0.01)
