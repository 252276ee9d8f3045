"""How a hidden check is written: the inputs to try and what they are about.

A check module (``checks/<notebook id>.py``) holds one check per graded test
cell of its notebook, in the notebook's order, each written the same way::

    @check("log_softmax")
    def test_log_softmax_values(rng):
        \"\"\"log_softmax matches the reference on random logits\"\"\"
        return [Case("the notebook's example row", ([1.0, 2.0, 3.0],), visible=True), ...]

The function's name is the test cell's ``grade_id``, its docstring the one-line
summary the student reads in the feedback, and it returns the cases for a
generator seeded per student and cell. The notebook's ``answer`` is checked by
its worked example, computed with the reference functions::

    @worked_answer
    def test_answer():
        \"\"\"answer is the loss of the worked example\"\"\"
        return reference.response_only_loss(WORKED_LOGITS, WORKED_TARGETS, WORKED_MASK)

Expected results are never written down: the grader computes them by calling
the check's reference function on the same inputs, so a case whose inputs are
invalid expects the ``ValueError`` the reference raises. Which reference
function that is, is decided in one place, :meth:`Check.__post_init__`: the
function of ``reference.py`` named like the target.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradebook_tools.grading import reference as _reference

#: Tolerance of the curriculum for floating-point results.
DEFAULT_TOLERANCE = 1e-6
#: Tolerance where an input is float32: the student's arithmetic may stay in float32.
FLOAT32_TOLERANCE = 1e-5
#: The target of the check of a notebook's ``answer`` variable.
ANSWER = "answer"


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
        """The tolerance of this case: its own, or the curriculum's for its inputs' dtypes."""
        if self.tolerance is not None:
            return self.tolerance
        values = list(self.args) + list(self.kwargs.values())
        if any(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in values):
            return FLOAT32_TOLERANCE
        return DEFAULT_TOLERANCE


@dataclass(frozen=True)
class Check:
    """The hidden check behind one graded test cell.

    Written with :func:`check` or :func:`worked_answer` rather than built by hand.

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
        The trusted computation. ``None`` means the function of
        ``reference.py`` named ``target``; for ``answer`` it takes no argument
        and must be given.
    rules
        Ids of the rules of ``docs/curriculum.md`` (its table of stated rules)
        that this check holds.
    warnings_fail
        True where numerical stability is the point of the cell: a
        ``RuntimeWarning`` raised during the student's call fails the case.
    returns
        Names of the items of a returned tuple, for messages in the student's words.

    Raises
    ------
    LookupError
        When ``reference.py`` has no function named ``target``, or an
        ``answer`` check has no reference.
    """

    grade_id: str
    target: str
    summary: str
    make_cases: Callable[[np.random.Generator], list[Case]]
    # None is replaced in __post_init__: a made Check always has its reference
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    rules: tuple[str, ...] = ()
    warnings_fail: bool = False
    returns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.reference is not None:
            return
        trusted = None if self.target == ANSWER else getattr(_reference, self.target, None)
        if not callable(trusted):
            raise LookupError(
                f"check {self.grade_id}: gradebook_tools/grading/reference.py has no function {self.target!r}"
            )
        object.__setattr__(self, "reference", trusted)

    @property
    def reads_variable(self) -> bool:
        """True when the check reads the notebook's ``answer`` instead of calling a function."""
        return self.target == ANSWER


def _summary(function: Callable) -> str:
    """The one-line docstring of a check function, which becomes its summary."""
    doc = inspect.getdoc(function)
    if not doc or "\n" in doc:
        raise ValueError(f"check {function.__name__}: give it a one-line docstring, the summary students read")
    return doc


def check(
    target: str, *, rules: tuple[str, ...] = (), warnings_fail: bool = False, returns: tuple[str, ...] = ()
) -> Callable[[Callable[[np.random.Generator], list[Case]]], Check]:
    """Make the decorated case generator the hidden check of the test cell named like it.

    Parameters
    ----------
    target
        The student's function that the cell checks; the reference function of
        the same name computes what is expected.
    rules, warnings_fail, returns
        As in :class:`Check`.

    Returns
    -------
    callable
        A decorator turning ``def <grade_id>(rng): \"\"\"<summary>\"\"\"`` into a :class:`Check`.
    """

    def decorate(make_cases: Callable[[np.random.Generator], list[Case]]) -> Check:
        return Check(
            make_cases.__name__,
            target,
            _summary(make_cases),
            make_cases,
            rules=tuple(rules),
            warnings_fail=warnings_fail,
            returns=tuple(returns),
        )

    return decorate


def worked_answer(compute: Callable[[], Any] | None = None, *, rules: tuple[str, ...] = ()) -> Any:
    """Make ``compute`` (the worked example, with the reference functions) the check of ``answer``.

    Parameters
    ----------
    compute
        ``def test_answer(): \"\"\"<summary>\"\"\"`` returning the value ``answer``
        must hold; its name is the test cell's ``grade_id``.

    Returns
    -------
    Check
    """
    if compute is None:
        return lambda function: worked_answer(function, rules=rules)
    return Check(compute.__name__, ANSWER, _summary(compute), _read_answer, compute, rules=tuple(rules))


def _read_answer(rng: np.random.Generator) -> list[Case]:
    """The one case of an ``answer`` check: read the variable."""
    return [Case("the value of answer")]
