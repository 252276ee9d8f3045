"""What nbgrader's metadata says about a notebook cell."""

from __future__ import annotations

from nbformat import NotebookNode
from nbgrader import utils


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader ``grade_id``, or None for a plain cell."""
    found: str | None = cell.metadata.get("nbgrader", {}).get("grade_id")
    return found


def is_graded_test_cell(cell: NotebookNode) -> bool:
    """A code cell that carries points and is not the student's answer."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)
