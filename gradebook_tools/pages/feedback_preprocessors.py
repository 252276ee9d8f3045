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

:class:`NoteUndrawnPlots` says, where a figure would be, that grading draws no
plots. What a student wrote is made safe by :mod:`gradebook_tools.pages.html_safety`,
configured for every ``HTMLExporter``.
"""

from __future__ import annotations

import re
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool, Unicode

from gradebook_tools.course.cells import is_graded_test_cell


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

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], cell_index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if not is_graded_test_cell(cell):
            return cell, resources
        if self._remove_hidden_test_region(cell) and self.note:
            cell.source = cell.source.rstrip("\n") + "\n" + self.note
        return cell, resources


#: Said where a figure would be: grading kernels draw no plots.
UNDRAWN_PLOTS = "Plots are not drawn during grading: run the notebook to see them."
#: A call that draws a figure (matplotlib's pyplot or an Axes/Figure object).
_DRAWS = re.compile(
    r"\b(?:plt|ax\w*|fig\w*)\.(?:show|subplots?|figure|plot|scatter|hist|barh?|imshow|"
    r"fill_between|step|errorbar|pie|contourf?|semilogy|loglog|savefig)\("
)
#: Text that a figure leaves behind when it is not drawn.
_FIGURE_LEFTOVER = re.compile(r"^\s*(?:\[?<(?:Figure size|matplotlib\.)|Text\(|\(.*<Axes)")
_NOT_SHOWN_WARNING = re.compile(r"non-interactive|cannot be shown|Matplotlib is currently using")


def _leftover(output) -> bool:
    if output.get("output_type") == "stream":
        return output.get("name") == "stderr" and bool(_NOT_SHOWN_WARNING.search(output.get("text", "")))
    data = output.get("data", {})
    return set(data) <= {"text/plain"} and bool(_FIGURE_LEFTOVER.match(str(data.get("text/plain", ""))))


class NoteUndrawnPlots(Preprocessor):
    """Where a cell draws a figure that grading did not render, one line says so.

    Grading kernels use a matplotlib backend that renders nothing (plots are
    not graded, and drawing them costs time). A code cell that draws but has no
    image output gets :data:`UNDRAWN_PLOTS` as its output, in place of what the
    undrawn figure left (``<Figure size ...>``, a backend's warning).
    """

    #: nbgrader registers its converters' preprocessors as they are; nbconvert's default is off.
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], cell_index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type != "code" or is_graded_test_cell(cell) or not _DRAWS.search(cell.source):
            return cell, resources
        outputs = cell.get("outputs", [])
        if any(key.startswith("image/") for output in outputs for key in output.get("data", {})):
            return cell, resources
        cell.outputs = [output for output in outputs if not _leftover(output)] + [
            new_output("display_data", data={"text/plain": UNDRAWN_PLOTS})
        ]
        return cell, resources
