"""``nbgrader validate`` (the *Validate* button) says when a notebook is another exercise's.

Grading refuses such a notebook whole (``gradebook_tools.grading.sanitize.RefuseOtherExercise``);
the student should learn it before submitting. nbgrader's ``Validator`` runs
its ``Execute`` preprocessor, whose ``on_notebook_start`` hook is a
configuration trait: :func:`other_exercise_check` makes that hook. It compares
the notebook's graded cells with the releases on the exchange
(``<root>/<course>/outbound/<id>/*.ipynb``, readable to every student) and, for
another exercise's notebook, puts one failing graded cell first, so that
*Validate* fails with the sentence "This is ex02_bradley_terry's notebook,
submitted as ex04_attack_success_rate ...". The notebook on disk is not changed.

Students' environments may not have this package: the file is self-contained
(the standard library and nbformat only), so that docs/course_workflow.md can
have it copied next to the students' ``/etc/jupyter/nbgrader_config.py``.
"""

from __future__ import annotations

import glob
import json
import os
import textwrap
from collections.abc import Callable
from typing import Any

_CHECK_ID = "course_validate_other_exercise"


def _graded_ids(cells: list) -> set[str]:
    """``grade_id``s of graded and answer cells (the cells that name an exercise's work)."""
    ids = set()
    for cell in cells if isinstance(cells, list) else []:
        nbgrader = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
        if isinstance(nbgrader, dict) and (nbgrader.get("grade") or nbgrader.get("solution")):
            if isinstance(nbgrader.get("grade_id"), str):
                ids.add(nbgrader["grade_id"])
    return ids


def _released_ids(outbound: str) -> dict[str, set[str]]:
    """Assignment id -> graded cell ids of its released notebooks."""
    releases: dict[str, set[str]] = {}
    for path in glob.glob(os.path.join(glob.escape(outbound), "*", "*.ipynb")):
        try:
            with open(path, encoding="utf-8") as file:
                cells = json.load(file).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        releases.setdefault(os.path.basename(os.path.dirname(path)), set()).update(_graded_ids(cells))
    return releases


def other_exercise(assignment: str, submitted: set[str], releases: dict[str, set[str]]) -> str | None:
    """The released exercise whose notebook this is when it is not ``assignment``'s, else None.

    Only the cells no other release shares decide (every exercise has ``answer``
    and ``explanation``): the notebook is another exercise's when it holds more
    of that one's own cells than of ``assignment``'s.
    """
    if assignment not in releases:
        return None
    exclusive = {
        name: ids - set().union(*(other for other_name, other in releases.items() if other_name != name))
        for name, ids in releases.items()
    }
    own = len(submitted & exclusive[assignment])
    best = max(((len(submitted & ids), name) for name, ids in exclusive.items() if name != assignment), default=None)
    return best[1] if best is not None and best[0] > own else None


def other_exercise_check(config: Any) -> Callable[..., None]:
    """The ``Execute.on_notebook_start`` hook; ``config`` is the ``c`` of an nbgrader_config.py.

    The exchange root and course id are read from ``config`` when the hook runs
    (so lines later in the same file count). Only during ``nbgrader validate``
    (nbgrader sets ``NBGRADER_EXECUTION=validate``) does it do anything; the
    assignment is the folder the notebook is validated in (``Validator`` runs
    its preprocessors there), as nbgrader's ``fetch_assignment`` lays it out.
    """
    return OtherExerciseCheck(config)


class OtherExerciseCheck:
    """The hook of :func:`other_exercise_check` (a class: configuration holding it can be copied and pickled)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def __call__(self, notebook: Any = None, **_: Any) -> None:
        if os.environ.get("NBGRADER_EXECUTION") != "validate" or notebook is None:
            return
        try:
            root, course = str(self.config.Exchange.root), str(self.config.CourseDirectory.course_id)
        except AttributeError:
            return
        assignment = os.path.basename(os.getcwd())
        releases = _released_ids(os.path.join(root, course, "outbound"))
        other = other_exercise(assignment, _graded_ids(notebook.cells), releases)
        if other is None:
            return
        from nbformat.v4 import new_code_cell

        message = (
            f"This is {other}'s notebook, in {assignment}'s folder: submitted as {assignment} it would not be "
            f"graded (every graded cell of {assignment} would score 0). Do this exercise's work in its own notebook "
            f"({assignment}/{assignment}.ipynb, as fetched), or submit this one as {other}."
        )
        metadata = {
            "grade": True,
            "grade_id": _CHECK_ID,
            "locked": True,
            "points": 0,
            "schema_version": 3,
            "solution": False,
        }
        # nbgrader prints a failed cell's source line by line, each cut at 87 characters: the sentence in
        # short comment lines, then a short error
        lines = ["# " + line for line in textwrap.wrap(message, width=76)]
        short = f"not {assignment}'s notebook: {other}"
        source = "\n".join([*lines, f"raise RuntimeError({short!r})"])
        notebook.cells.insert(0, new_code_cell(source, metadata={"nbgrader": metadata}))
