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
plots. :class:`NoteDueDate` states the student's own due date, when they
submitted, how late and the penalty (docs/calendar.md). What a student wrote is
made safe by :mod:`gradebook_tools.pages.html_safety`, configured for every ``HTMLExporter``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool, Unicode

from gradebook_tools.course.cells import is_graded_test_cell
from gradebook_tools.gradebook.calendar import late_days_left_text

if TYPE_CHECKING:
    from gradebook_tools.gradebook.calendar import Calendar
    from gradebook_tools.gradebook.late_policy import CourseLatePenalty, SubmissionLateness


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


#: Where :class:`NoteDueDate` leaves the page's facts for the template: ``resources["nbgrader"][DUE_DATE_KEY]``.
DUE_DATE_KEY = "due_date"


def due_date_facts(
    lateness: SubmissionLateness, calendar: Calendar, policy: CourseLatePenalty
) -> list[tuple[str, str]]:
    """What a student's feedback page says of their due date, as (label, text) rows.

    Each fact is phrased where the recorded reason and the summary page phrase
    it (:class:`gradebook_tools.gradebook.late_policy.SubmissionLateness`,
    :meth:`gradebook_tools.gradebook.calendar.Calendar.why_due`).
    """
    student, assignment = lateness.student, lateness.assignment
    if lateness.due is None:
        return [("Your due date", "this exercise has no due date"), ("Submitted", lateness.submitted_text())]
    because = calendar.why_due(student, assignment)
    class_due = f"{lateness.class_due:%Y-%m-%d %H:%M} UTC" if lateness.class_due is not None else "none"
    whose = f"the class's due date is {class_due}; yours: {'; '.join(because)}" if because else "the class's due date"
    if not because and lateness.due != lateness.class_due:
        whose = f"the class's due date is {class_due}; yours was moved in the gradebook"
    rows = [
        ("Your due date", f"{lateness.due_text()} ({whose})"),
        ("Submitted", lateness.submitted_text()),
        ("Lateness", lateness.lateness_text()),
        ("Late penalty", lateness.penalty_text(policy) if lateness.new_penalty else "none"),
    ]
    left = late_days_left_text(policy.late_days, calendar.late_days_used(student))
    if left:
        rows.append(("Late days", left))
    return rows


class NoteDueDate(Preprocessor):
    """The feedback page states which due date applied to this student, when they submitted, how late, the penalty.

    Read from the gradebook the page is made from (``resources["nbgrader"]["db_url"]``,
    as nbgrader's ``GetGrades`` does) with the course's late policy; the rows go
    to ``resources["nbgrader"][DUE_DATE_KEY]``, where the course's feedback template
    (``feedback_accessible.html.j2``) shows them under the page's heading.
    """

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session
        from sqlalchemy.pool import NullPool

        from gradebook_tools.gradebook.late_policy import course_policy, recorded_lateness

        info = resources.get("nbgrader", {})
        if not info.get("db_url"):
            return nb, resources
        engine = create_engine(info["db_url"], poolclass=NullPool)
        try:
            with Session(engine) as session:
                found = recorded_lateness(session, info["student"], info["assignment"], info.get("notebook"))
        finally:
            engine.dispose()
        if found is not None:
            lateness, calendar = found
            info[DUE_DATE_KEY] = due_date_facts(lateness, calendar, course_policy(self.config))
        return nb, resources
