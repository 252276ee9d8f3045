"""What decides one case: the comparison with the reference, then the rules the notebooks add to it.

:func:`gradebook_tools.grading.compare.judge` compares values. The notebooks
also promise two things a value alone does not show, and this module holds them:

- scalars are Python ``bool``/``int``/``float`` (the notebooks' visible tests use
  ``isinstance``): a numpy bool or integer, or a float32, fails where the
  reference returns a Python scalar (``np.float64`` is a ``float`` and passes);
- where numerical stability is the point of a cell (``Check.warnings_fail``), a
  ``RuntimeWarning`` raised during the student's call fails the case. The kernel
  reports the warnings' categories; a function that silences its own warnings
  (``np.errstate``, ``warnings.catch_warnings``) made that choice and raises none.

Messages are in the student's words and name no hidden input or expected value.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from gradebook_tools.grading.compare import RaisesValueError, Verdict, judge
from gradebook_tools.grading.spec import Case, Check

#: Warning categories that cost a case of a stability cell.
STABILITY_WARNINGS = frozenset({"RuntimeWarning"})
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
_ITEM = re.compile(r"^item (\d+): ")


def decide(check: Check, case: Case, expected: Any, reply: Any) -> Verdict:
    """The verdict on one case: :func:`judge`, then the Python-scalar and the warnings rules."""
    verdict = judge(case, expected, reply)
    if not verdict.passed:
        return Verdict(verdict.about, False, _in_students_words(check, verdict.reason))
    returned = reply.get("returned") if isinstance(reply, dict) else None
    if isinstance(returned, dict) and not isinstance(expected, RaisesValueError):
        problem = python_scalar_problem(expected, returned)
        if problem:
            return Verdict(case.about, False, _in_students_words(check, problem))
    if check.warnings_fail and STABILITY_WARNINGS & set(reply_warnings(reply)):
        return Verdict(
            case.about,
            False,
            "raised a RuntimeWarning (an overflow or an invalid operation): the value may be right, "
            "but this cell asks for a computation that stays stable without warnings",
        )
    return verdict


def reply_warnings(reply: Any) -> list[str]:
    """The warning categories a kernel reply reports (plain strings only; anything else is ignored)."""
    names = reply.get("warnings") if isinstance(reply, dict) else None
    if not isinstance(names, list):
        return []
    return [name[:80] for name in names[:20] if isinstance(name, str)]


def python_scalar_problem(expected: Any, returned: Any) -> str | None:
    """Where the reference returns a Python scalar and the reply a numpy one: what to change."""
    if not isinstance(returned, dict):
        return None
    numpy_type = returned.get("numpy")
    numpy_name = numpy_type[:40] if isinstance(numpy_type, str) else "scalar"
    if type(expected) is bool:
        if numpy_type is not None:
            return f"returned a numpy bool (numpy.{numpy_name}_); return a Python bool, e.g. bool(...)"
        return None
    if type(expected) is int:
        if numpy_type is not None:
            return f"returned a numpy integer (numpy.{numpy_name}); return a Python int, e.g. int(...)"
        return None
    if isinstance(expected, float) and not isinstance(expected, np.floating) or type(expected) is np.float64:
        if numpy_type is not None:
            return f"returned a numpy scalar (numpy.{numpy_name}); return a Python float, e.g. float(...)"
        if "int" in returned and "float" not in returned:
            return "returned an int; return a Python float, e.g. float(...)"
        return None
    if isinstance(expected, (tuple, list)):
        items = returned.get("tuple", returned.get("list"))
        if isinstance(items, list) and len(items) == len(expected):
            for position, (want, got) in enumerate(zip(expected, items, strict=True)):
                problem = python_scalar_problem(want, got)
                if problem:
                    return f"item {position}: {problem}"
        return None
    if isinstance(expected, dict):
        items = returned.get("dict")
        if isinstance(items, dict):
            for key in sorted(expected):
                problem = python_scalar_problem(expected[key], items.get(key))
                if problem:
                    return f"{key!r}: {problem}"
    return None


def _in_students_words(check: Check, reason: str) -> str:
    """``item 1: ...`` becomes ``the second returned value (failing): ...`` where the check names its items."""
    match = _ITEM.match(reason)
    if not match:
        return reason
    position = int(match.group(1))
    ordinal = _ORDINALS[position] if position < len(_ORDINALS) else f"#{position + 1}"
    name = f" ({check.returns[position]})" if position < len(check.returns) else ""
    rest = reason[match.end() :]
    rest = re.sub(r"^returned (\d+) items; expected (\d+)$", r"has \1 items where \2 were expected", rest)
    rest = "is " + rest.removeprefix("returned ") if rest.startswith("returned ") else rest
    return f"the {ordinal} returned value{name}: {rest}"
