"""The grader's side of the exchange with a student's kernel.

Outgoing: the probe cell, i.e. the source of :mod:`kernel_probe` and one call
with the cases' inputs as a JSON string literal. Incoming: the reply line,
parsed with size limits into plain data. Nothing from the kernel is unpickled
or evaluated.
"""

from __future__ import annotations

import inspect
import json
import secrets
from typing import Any

import numpy as np

from gradebook_tools.grading import kernel_probe
from gradebook_tools.grading.spec import Case

#: The longest stdout a probe may produce before its reply is refused.
MAX_REPLY_CHARS = 8_000_000

_PROBE_SOURCE = inspect.getsource(kernel_probe)


class ProbeError(Exception):
    """The kernel's reply could not be read; the message is shown to the student."""


def encode_input(value: Any) -> Any:
    """Plain-JSON form of a case input; arrays keep their dtype and shape."""
    if isinstance(value, np.ndarray):
        return {"ndarray": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"tuple": [encode_input(item) for item in value]}
    if isinstance(value, list):
        return [encode_input(item) for item in value]
    if isinstance(value, dict):
        return {"dict": {str(key): encode_input(item) for key, item in value.items()}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a case input must be plain data or a numpy array, not {type(value).__name__}")


def probe_cell_source(target: str, reads_variable: bool, cases: list[Case]) -> tuple[str, str]:
    """The code of the probe cell and the marker that will precede its reply."""
    marker = f"@@course-probe-{secrets.token_hex(8)}@@"
    request = {
        "marker": marker,
        "target": target,
        "reads_variable": reads_variable,
        "cases": [{"args": encode_input(list(case.args)), "kwargs": encode_input(dict(case.kwargs))} for case in cases],
    }
    call = f"course_probe({json.dumps(json.dumps(request, allow_nan=True))}, globals())\ndel course_probe\n"
    # One line with one string literal: IPython tokenizes a cell's source in Python before running it
    # (the probe's ~100 lines, once per graded test cell); ``exec`` compiles the literal in C, at the
    # cell's top level, so ``globals()`` and ``del`` act on the student's namespace as before.
    program = _PROBE_SOURCE + "\n\n" + call
    return f"exec({program!r})\n", marker


def parse_reply(stdout: str, marker: str, expected_replies: int) -> list[dict]:
    """The kernel's replies, one per case, or :class:`ProbeError`."""
    if len(stdout) > MAX_REPLY_CHARS:
        raise ProbeError("the kernel printed too much output while being checked")
    pieces = stdout.split(marker)
    if len(pieces) == 1:
        raise ProbeError("the kernel gave no reply (it may have been interrupted or its output redirected)")
    if len(pieces) > 2:
        raise ProbeError("the kernel gave more than one reply; output that imitates the grader is not accepted")
    line = pieces[1].split("\n", 1)[0]
    try:
        reply = json.loads(line)
    except (ValueError, RecursionError):
        raise ProbeError("the kernel's reply was not readable") from None
    replies = reply.get("replies") if isinstance(reply, dict) else None
    if (
        not isinstance(replies, list)
        or len(replies) != expected_replies
        or not all(isinstance(r, dict) for r in replies)
    ):
        raise ProbeError("the kernel's reply did not match the cases sent")
    return replies
