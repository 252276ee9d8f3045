"""Building submissions from a release, as a student would fill it in."""

from __future__ import annotations

import copy
import re

from nbformat import NotebookNode

from gradebook_tools.course.cells import grade_id

_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def solution_code(source_notebook: NotebookNode) -> dict[str, str]:
    """The source's answer cells, solution markers removed, keyed by ``grade_id``."""
    return {
        cell_id: _SOLUTION_MARKERS.sub("", cell.source)
        for cell in source_notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution") and (cell_id := grade_id(cell)) is not None
    }


def fill_answers(release_notebook: NotebookNode, answers: dict[str, str]) -> NotebookNode:
    """A copy of the release with the given answer cells' sources replaced."""
    notebook = copy.deepcopy(release_notebook)
    for cell in notebook.cells:
        cell_id = grade_id(cell)
        if cell_id is not None and cell_id in answers:
            cell.source = answers[cell_id]
    return notebook
