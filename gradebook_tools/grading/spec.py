"""How a hidden check is described: the inputs to try and what they are about.

A check module (``checks/<notebook id>.py``) lists one :class:`Check` per graded
test cell. Expected results are never written down: the grader computes them by
calling the reference function of the same name on the same inputs, so a case
whose inputs are invalid expects the ``ValueError`` the reference raises.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

#: Tolerance of the curriculum for floating-point results.
DEFAULT_TOLERANCE = 1e-6
#: Tolerance where an input is float32: the student's arithmetic may stay in float32.
FLOAT32_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Case:
    """One call of the student's function (or one read of ``answer``).

    Parameters
    ----------
    about
        The kind of input, shown to the student when the case fails. Never put
        the hidden values themselves here.
    args, kwargs
        Plain data or numpy arrays; arrays keep their dtype in the kernel.
    visible
        True for a case the notebook shows; its expected value may be printed.
    tolerance
        Relative and absolute tolerance for floating-point results; ``None``
        picks the curriculum's 1e-6, or 1e-5 when an input is float32.
    """

    about: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    visible: bool = False
    tolerance: float | None = None

    def effective_tolerance(self) -> float:
        if self.tolerance is not None:
            return self.tolerance
        values = list(self.args) + list(self.kwargs.values())
        if any(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in values):
            return FLOAT32_TOLERANCE
        return DEFAULT_TOLERANCE


@dataclass(frozen=True)
class Check:
    """The hidden check behind one graded test cell.

    Parameters
    ----------
    grade_id
        The test cell's nbgrader ``grade_id`` (``test_<target>_...``).
    target
        The student's function name, or ``"answer"`` for the answer variable.
    summary
        One line saying what is checked, shown in feedback.
    make_cases
        ``rng -> list[Case]``; the generator is seeded per student and cell.
    reference
        The trusted computation; by default the reference function named
        ``target``. For ``answer`` it takes no argument.
    """

    grade_id: str
    target: str
    summary: str
    make_cases: Callable[[np.random.Generator], list[Case]]
    reference: Callable[..., Any] | None = None

    @property
    def reads_variable(self) -> bool:
        return self.target == "answer"
