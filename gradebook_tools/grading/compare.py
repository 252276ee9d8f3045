"""Judging one reply of the student's kernel against the reference.

The reference's result sets what is expected, including its type: a Python
float asks for a real number, a bool for a bool, an array for a numpy array of
the same shape and kind. Messages name what went wrong without showing hidden
inputs or expected values (those of visible cases excepted).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradebook_tools.grading.spec import Case

_NUMPY_KINDS: dict[object, str] = {"f": "float", "b": "bool", "i": "integer", "u": "integer"}  # looked up with replies


@dataclass(frozen=True)
class Verdict:
    """The outcome of one case."""

    about: str
    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class RaisesValueError:
    """What the reference does on invalid input."""


def expected_result(reference: Callable[..., Any], case: Case) -> Any:
    """The reference's result on the case, or :class:`RaisesValueError`."""
    try:
        return reference(*case.args, **case.kwargs)
    except ValueError:
        return RaisesValueError()


class ReferenceUnsupported(TypeError):
    """The reference returned a type the comparison does not know: a course bug, not the student's."""


def judge(case: Case, expected: Any, reply: dict) -> Verdict:
    """Compare one kernel reply with the expected result.

    A reply the grader cannot read, whatever its shape (a 400-digit integer
    where a float is expected, an array without its ``shape``, a list where a
    mapping belongs, an absurd size), fails this case alone, with a plain
    message: the reply is data from the student's kernel, and no exception of
    reading it may leave this function. Only :class:`ReferenceUnsupported` (a
    course bug) does.
    """
    try:
        reason = _mismatch(case, expected, reply) if isinstance(reply, dict) else "the reply could not be read"
    except ReferenceUnsupported:
        raise
    except Exception as error:  # noqa: BLE001 (any reading error of kernel data is this case's failure)
        reason = f"returned a value the grader could not read as the expected type ({type(error).__name__})"
    return Verdict(case.about, reason is None, reason or "")


def _mismatch(case: Case, expected: Any, reply: dict) -> str | None:
    if reply.get("missing"):
        return "not defined (run the cell that defines it, and keep its name)"
    if "raised" in reply:
        name = str(reply.get("raised"))[:80]
        if isinstance(expected, RaisesValueError):
            return None if reply.get("value_error") is True else f"raised {name}; invalid input should raise ValueError"
        return f"raised {name} on a valid input: {str(reply.get('message', ''))[:200]}"
    if isinstance(expected, RaisesValueError):
        return "returned a value; this input is invalid and should raise ValueError"
    returned = reply.get("returned")
    if not isinstance(returned, dict):
        return "the reply could not be read"
    problem = _compare(expected, returned, case.effective_tolerance())
    if problem and case.visible:
        problem += f" (expected {_show(expected)})"
    return problem


def _compare(expected: Any, returned: dict, tolerance: float) -> str | None:
    """None when ``returned`` (the encoded reply) matches ``expected``."""
    if "unsupported" in returned:
        return f"returned {str(returned['unsupported'])[:120]}, which is not plain data of the expected type"
    if isinstance(expected, (bool, np.bool_)):
        if "bool" not in returned:
            return f"returned {_describe(returned)}; expected a bool"
        return None if returned["bool"] == bool(expected) else "returned the wrong bool"
    if isinstance(expected, (int, np.integer)):
        if "int" not in returned:
            return f"returned {_describe(returned)}; expected an int"
        return None if returned["int"] == int(expected) else "returned the wrong integer"
    if isinstance(expected, (float, np.floating)):
        value = returned.get("float", returned.get("int"))
        if not isinstance(value, (int, float)) or isinstance(value, bool) or "bool" in returned:
            return f"returned {_describe(returned)}; expected a float"
        return _compare_numbers(np.array(float(expected)), np.array(float(value)), tolerance)
    if isinstance(expected, np.ndarray):
        return _compare_arrays(expected, returned, tolerance)
    if isinstance(expected, (tuple, list)):
        items = returned.get("tuple", returned.get("list"))
        if not isinstance(items, list):
            return f"returned {_describe(returned)}; expected a {type(expected).__name__} of {len(expected)}"
        if len(items) != len(expected):
            return f"returned {len(items)} items; expected {len(expected)}"
        for position, (want, got) in enumerate(zip(expected, items, strict=True)):
            problem = _compare(want, got, tolerance) if isinstance(got, dict) else "unreadable item"
            if problem:
                return f"item {position}: {problem}"
        return None
    if isinstance(expected, dict):
        items = returned.get("dict")
        if not isinstance(items, dict):
            return f"returned {_describe(returned)}; expected a dict"
        if set(items) != set(expected):
            return f"returned keys {sorted(items)[:10]}; expected {sorted(expected)}"
        for key in sorted(expected):
            problem = _compare(expected[key], items[key], tolerance) if isinstance(items[key], dict) else "unreadable"
            if problem:
                return f"{key!r}: {problem}"
        return None
    if isinstance(expected, str):
        return None if returned.get("str") == expected else "returned the wrong text"
    raise ReferenceUnsupported(f"the reference returned an unsupported {type(expected).__name__}")


def _compare_arrays(expected: np.ndarray, returned: dict, tolerance: float) -> str | None:
    if "ndarray" not in returned:
        return f"returned {_describe(returned)}; expected a numpy array"
    kind = returned.get("kind")
    wanted_kind = _NUMPY_KINDS[expected.dtype.kind]
    if _NUMPY_KINDS.get(kind) != wanted_kind:
        return f"returned an array of {_NUMPY_KINDS.get(kind, kind)} values; expected {wanted_kind} values"
    shape = returned.get("shape")
    if not isinstance(shape, list) or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        return "returned an array that could not be read"
    try:
        got = np.array(returned["ndarray"], dtype=expected.dtype).reshape(shape)
    except (TypeError, ValueError, OverflowError):
        return "returned an array that could not be read"
    if got.shape != expected.shape:
        return f"returned shape {got.shape}; expected shape {expected.shape}"
    if wanted_kind == "float":
        return _compare_numbers(expected, got, tolerance)
    return None if np.array_equal(got, expected) else f"{int(np.sum(got != expected))} of {got.size} entries are wrong"


def _compare_numbers(expected: np.ndarray, got: np.ndarray, tolerance: float) -> str | None:
    if np.any(np.isnan(got)) and not np.array_equal(np.isnan(got), np.isnan(expected)):
        return "returned NaN (a numerical overflow or 0/0?)"
    if not np.array_equal(np.isinf(got) & (got > 0), np.isinf(expected) & (expected > 0)) or not np.array_equal(
        np.isinf(got) & (got < 0), np.isinf(expected) & (expected < 0)
    ):
        return "infinite where the reference is finite, or the other way round"
    finite = np.isfinite(expected)
    close = np.isclose(got[finite], expected[finite], rtol=tolerance, atol=tolerance)
    if np.all(close):
        return None
    error = float(np.max(np.abs(got[finite] - expected[finite])))
    return f"differs from the reference by up to {error:.3g} (tolerance {tolerance:g})"


def _describe(returned: dict) -> str:
    kind = next(iter(returned), "nothing")
    return {"ndarray": "a numpy array", "none": "None", "list": "a list", "tuple": "a tuple", "dict": "a dict"}.get(
        kind, f"a {kind}"
    )


def _show(expected: Any) -> str:
    if isinstance(expected, np.ndarray):
        return np.array2string(expected, precision=6, threshold=20)
    if isinstance(expected, float) and math.isfinite(expected):
        return f"{expected:.6g}"
    return repr(expected)
