"""Preprocessors of ``nbgrader generate_feedback`` for this course.

Configured in ``nbgrader_config.py`` (``c.GenerateFeedback.preprocessors``), so
that a plain ``nbgrader generate_feedback <id>`` writes the course's feedback.

The autograded notebook's graded test cells hold the instructor's version of
their source, hidden test regions included (nbgrader's ``OverwriteCells`` puts
it back from the gradebook), and upstream nbgrader shows that version in the
feedback (jupyter/nbgrader#917). :class:`ClearHiddenTestsInFeedback` removes
those regions again, as ``generate_assignment`` did for the release. What the
student then sees of a test cell is its visible tests, its score and the
grader's verdict (the cell's output).
"""
from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Unicode

from .cells import is_graded_test_cell


class ClearHiddenTestsInFeedback(ClearHiddenTests):
    """nbgrader's ``ClearHiddenTests``, for the feedback of an autograded notebook.

    Only graded test cells are cleared: their source comes from the gradebook.
    Any other cell is the student's own text, shown as written, even if it
    happens to contain the delimiters (nbgrader's class would abort the whole
    notebook on it). Where a region was removed, ``note`` takes its place.
    """

    note = Unicode(
        "# Hidden tests: the grader's verdict on them is the output below.",
        help="Comment line put where a hidden test region was removed; empty for none.",
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if not is_graded_test_cell(cell):
            return cell, resources
        if self._remove_hidden_test_region(cell) and self.note:
            cell.source = cell.source.rstrip("\n") + "\n" + self.note
        return cell, resources
