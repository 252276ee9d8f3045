"""Building submissions from a release, as a student would fill it in."""

from __future__ import annotations

import copy
import re

from gradebook_tools.course.cells import grade_id

_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def solution_code(source_notebook) -> dict[str, str]:
    """The source's answer cells, solution markers removed, keyed by ``grade_id``."""
    return {
        grade_id(cell): _SOLUTION_MARKERS.sub("", cell.source)
        for cell in source_notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def fill_answers(release_notebook, answers: dict[str, str]):
    """A copy of the release with the given answer cells' sources replaced."""
    notebook = copy.deepcopy(release_notebook)
    for cell in notebook.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return notebook
