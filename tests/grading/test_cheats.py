"""Cheating code in a submission earns nothing for the function it targets.

Each fictional student submits the correct solution of ex01 except for one
function (or the answer), whose cell is wrong and tries to cheat. The whole
class is graded in one real `nbgrader autograde` run.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.support.course import fill_answers, grade_id, solution_code

# one real autograde run of the whole class: slow, and on one xdist worker (--dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cheats")]

EXERCISE = "ex01_response_only_sft"
LOSS_CELLS = ("test_response_only_loss_values", "test_response_only_loss_edge_cases")
WRONG_LOSS = """
def response_only_loss(logits, targets, response_mask):
    return 0.430108  # the worked example's value, whatever the input
"""


@dataclass(frozen=True)
class Cheat:
    name: str
    answers: dict[str, str]
    must_fail: tuple[str, ...]
    edit: Callable | None = None  # changes the notebook's cells after the answers are filled in


def _cell(code: str) -> str:
    return textwrap.dedent(code).strip() + "\n"


def _remove_cells(ids):
    return lambda cells: [cell for cell in cells if grade_id(cell) not in ids]


def _duplicate_cells(ids):
    def edit(cells):
        out = []
        for cell in cells:
            out.append(cell)
            if grade_id(cell) in ids:
                duplicate = copy.deepcopy(cell)
                duplicate.id = f"{cell.id[:50]}-copy"  # as JupyterLab's copy and paste does
                out.append(duplicate)
        return out

    return edit


def _rewrite_cells(ids, source):
    def edit(cells):
        for cell in cells:
            if grade_id(cell) in ids:
                cell.source = source
                cell.metadata.nbgrader["points"] = 100
        return cells

    return edit


# A table: one cheat, its code and the cells it must fail, per entry.
# fmt: off
CHEATS = [
    Cheat("patches numpy.testing, np.isclose and math.isclose", {"response_only_loss": _cell("""
        import math, numpy as np, numpy.testing
        np.testing.assert_allclose = np.testing.assert_array_almost_equal = lambda *a, **k: None
        np.isclose = np.allclose = math.isclose = lambda *a, **k: True
    """) + WRONG_LOSS}, LOSS_CELLS),
    Cheat("replaces AssertionError and print in builtins", {"response_only_loss": _cell("""
        import builtins
        builtins.AssertionError = type("AssertionError", (Exception,), {})
        builtins.print = lambda *a, **k: None
    """) + WRONG_LOSS}, LOSS_CELLS),
    Cheat("an input transformer turns every later cell into `pass`", {"response_only_loss": WRONG_LOSS + _cell("""
        get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
    """)}, LOSS_CELLS + ("test_answer",)),
    Cheat("a pre-run hook forges the grader's reply", {"response_only_loss": WRONG_LOSS + _cell("""
        import json, re, sys
        def _forge(info):
            marker = re.search(r"@@course-probe-[0-9a-f]+@@", info.raw_cell or "")
            if marker:
                cases = info.raw_cell.count('"args"')
                reply = {"replies": [{"returned": {"float": 0.430108}}] * max(cases, 1)}
                sys.stdout.write(marker.group(0) + json.dumps(reply) + "\\n")
        get_ipython().events.register("pre_run_cell", _forge)
    """)}, LOSS_CELLS),
    Cheat("an input transformer swaps the probe for a forged reply", {"response_only_loss": WRONG_LOSS + _cell("""
        import re
        def _swap(lines):
            source = "".join(lines)
            marker = re.search(r"@@course-probe-[0-9a-f]+@@", source)
            if not marker:
                return lines
            cases = source.count('\\\\"args\\\\"')
            reply = '{"replies": [' + ", ".join(['{"returned": {"float": 0.430108}}'] * cases) + ']}'
            return ["print(%r)\\n" % (marker.group(0) + reply)]
        get_ipython().input_transformers_cleanup.append(_swap)
    """)}, LOSS_CELLS),
    Cheat("returns an object whose __eq__, __float__ and __array__ agree with anything", {"response_only_loss": _cell("""
        import numpy as np
        class Anything(float):
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __float__(self): return 0.430108
            def __array__(self, *args, **kwargs): return np.array(0.430108)
            __hash__ = float.__hash__
        def response_only_loss(logits, targets, response_mask):
            return Anything(0.0)
    """)}, LOSS_CELLS),
    Cheat("answer is an object equal to everything", {"answer": _cell("""
        class Anything:
            def __eq__(self, other): return True
            def __float__(self): return 0.430108
        answer = Anything()
    """)}, ("test_answer",)),
    Cheat("prints and displays text shaped like a pass verdict", {"response_only_loss": _cell("""
        from IPython.display import display
        def response_only_loss(logits, targets, response_mask):
            print("Hidden checks: all passed\\n  \\u2713 every case")
            display(8.0)
            return 0.0
        print("\\u2713 test_response_only_loss_values passed (2/2 points)")
    """)}, LOSS_CELLS),
    Cheat("hard-codes the visible values whatever the input", {
        "log_softmax": _cell("""
            import numpy as np
            def log_softmax(z, axis=-1):
                return np.array([-2.40760596, -1.40760596, -0.40760596])
        """),
        "response_only_loss": WRONG_LOSS,
    }, ("test_log_softmax_values", "test_log_softmax_stability") + LOSS_CELLS),
    Cheat("sys.exit in the cell and inside the function", {"response_only_loss": _cell("""
        import sys
        def response_only_loss(logits, targets, response_mask):
            sys.exit(0)
        sys.exit(0)
    """)}, LOSS_CELLS),
    Cheat("os._exit kills the kernel when the grader calls the function", {"response_only_loss": _cell("""
        import os
        def response_only_loss(logits, targets, response_mask):
            os._exit(0)
    """)}, LOSS_CELLS + ("test_answer",)),
    Cheat("SIGKILL to its own kernel in the answer cell", {"response_only_loss": WRONG_LOSS + _cell("""
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    """)}, LOSS_CELLS + ("test_answer",)),
    Cheat("interrupts its own kernel when called", {"response_only_loss": _cell("""
        import os, signal, time
        def response_only_loss(logits, targets, response_mask):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
            return 0.430108
    """)}, LOSS_CELLS),
    Cheat("deletes the loss's test cells", {"response_only_loss": WRONG_LOSS}, LOSS_CELLS, _remove_cells(LOSS_CELLS)),
    Cheat("edits the loss's test cells and their points", {"response_only_loss": WRONG_LOSS}, LOSS_CELLS,
          _rewrite_cells(LOSS_CELLS, "pass")),
    Cheat("duplicates the loss's test cells", {"response_only_loss": WRONG_LOSS}, LOSS_CELLS, _duplicate_cells(LOSS_CELLS)),
]
# fmt: on

# fmt: off
HONEST = {
    "warnings": {"log_softmax": _cell("""
        import warnings
        import numpy as np
        def log_softmax(z, axis=-1):
            warnings.warn("a harmless warning", UserWarning)
            with np.errstate(divide="ignore"):
                np.log(np.zeros(1))  # the function silences its own RuntimeWarning: its choice
            print("printing costs nothing")
            z = np.asarray(z, dtype=float)
            shifted = z - z.max(axis=axis, keepdims=True)
            return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    """)},
    "shadowed-names": {"answer": "answer = 0.430108\njson = sys = warnings = numpy = None\nnp = 'not numpy'\n"},
}
# fmt: on
#: A RuntimeWarning where numerical stability is the point of the cell costs that cell only.
# fmt: off
STABILITY_WARNING = {"log_softmax": _cell("""
    import numpy as np
    def log_softmax(z, axis=-1):
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero, on every call
        z = np.asarray(z, dtype=float)
        shifted = z - z.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
""")}
# fmt: on


@pytest.fixture(scope="module")
def cheats_course(make_course):
    course = make_course([EXERCISE])
    release, solution = course.release(EXERCISE), solution_code(course.source(EXERCISE))
    for number, cheat in enumerate(CHEATS):
        notebook = fill_answers(release, dict(solution, **cheat.answers))
        if cheat.edit:
            notebook.cells = cheat.edit(notebook.cells)
        course.submit(f"cheat-{number:02d}", EXERCISE, notebook)
    for student, answers in HONEST.items():
        course.submit(student, EXERCISE, fill_answers(release, dict(solution, **answers)))
    course.submit("stability-warning", EXERCISE, fill_answers(release, dict(solution, **STABILITY_WARNING)))
    course.autograde(EXERCISE)
    return course


@pytest.mark.parametrize("number", range(len(CHEATS)), ids=[cheat.name for cheat in CHEATS])
def test_cheat_earns_nothing_for_its_target(cheats_course, number):
    cheat = CHEATS[number]
    scores = cheats_course.auto_scores(EXERCISE, f"cheat-{number:02d}")
    assert {cell: scores[cell] for cell in cheat.must_fail} == {cell: 0 for cell in cheat.must_fail}
    assert set(scores) == set(cheats_course.max_scores(EXERCISE)), "every test cell is graded"


@pytest.mark.parametrize("student", HONEST)
def test_honest_quirks_keep_full_credit(cheats_course, student):
    assert cheats_course.auto_scores(EXERCISE, student) == cheats_course.max_scores(EXERCISE)


def test_a_runtime_warning_costs_the_stability_cell_only(cheats_course):
    expected = dict(cheats_course.max_scores(EXERCISE), test_log_softmax_stability=0)
    assert cheats_course.auto_scores(EXERCISE, "stability-warning") == expected
