"""One summary page per student, next to nbgrader's per-exercise feedback.

``feedback/<student>/index.html`` shows the student's score per exercise (with
links to ``nbgrader generate_feedback``'s reports), per curriculum section and
overall, what to review next, and why a submission is missing or could not be
graded. It is one self-contained HTML file.

What it tells about a failed check comes from the grader's verdict in the
autograded notebook (the kinds of input that failed), never from the hidden
checks themselves: no hidden input, expected value or test code is read here.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from gradebook_tools.course.cells import is_graded_test_cell
from gradebook_tools.course.config import CourseSections, open_course
from gradebook_tools.course.files import real_folder, replace_file
from gradebook_tools.gradebook.calendar import Calendar, late_days_left_text, read_calendar
from gradebook_tools.gradebook.outcomes import FAILED, GRADED, MISSING, Status, SubmissionState
from gradebook_tools.gradebook.scores import CellGrade, ClassScores, open_gradebook, read_cell_grades, read_class_scores
from gradebook_tools.gradebook.sections import SectionTable, section_table
from gradebook_tools.pages.report import _environment

TEMPLATE = "student_summary.html.j2"
SUMMARY_FILE = "index.html"
#: State of a submission that was graded (see :mod:`gradebook_tools.gradebook.outcomes` for the others).
#: What a student is told about a missing submission when nothing was recorded.
NOT_SUBMITTED = "nothing was submitted"
#: "What to review next" names at most this many cells, those that cost the most points.
REVIEW_CELLS = 5


@dataclass(frozen=True)
class CheckResult:
    """One graded cell of a submission, as the student may see it."""

    notebook: str
    grade_id: str
    score: float
    max_score: float
    pending: bool
    #: Kinds of input that failed, as the verdict names them.
    failed_inputs: tuple[str, ...] = ()

    @property
    def lost(self) -> float:
        return 0.0 if self.pending else max(0.0, self.max_score - self.score)


@dataclass(frozen=True)
class ExerciseResult:
    """A student's result on one exercise (assignment)."""

    assignment: str
    section: str
    state: SubmissionState
    score: float
    max_score: float
    #: What the student is told: why it failed or is missing, or notes on a graded one.
    reason: str
    pending_points: float
    #: (notebook, link relative to the summary page) of existing feedback reports.
    feedback: tuple[tuple[str, str], ...]
    checks: tuple[CheckResult, ...]

    @property
    def share(self) -> float:
        """Score over maximum (0 to 1); 1 for an exercise worth nothing."""
        return self.score / self.max_score if self.max_score else 1.0


@dataclass(frozen=True)
class CalendarRow:
    """One exercise on a student's own calendar."""

    assignment: str
    class_due: str  # "" where none
    own_due: str  # the student's: accommodation, extension and late days included
    because: str  # what moved it, e.g. "extension +48 h; 1 late day"
    penalty: float  # the late penalty applied to the submission, in points


@dataclass(frozen=True)
class StudentSummary:
    """Everything one student's summary page shows."""

    student_id: str
    name: str
    exercises: list[ExerciseResult]
    table: SectionTable  # this student's row only
    #: The exercises assigned so far, with the student's own due dates (docs/calendar.md).
    calendar: list[CalendarRow] = field(default_factory=list)
    #: e.g. "2 of 3 late days left"; "" where the course gives none.
    late_days: str = ""

    @property
    def review(self) -> list[tuple[ExerciseResult, CheckResult]]:
        """The few graded cells that cost the most points (at most :data:`REVIEW_CELLS`).

        Most points lost first; among equal losses, the exercise with the lower
        share of points, then the course's order. Pending cells cost nothing yet.
        """
        order = {exercise.assignment: index for index, exercise in enumerate(self.exercises)}
        lost = [
            (exercise, check)
            for exercise in self.exercises
            if exercise.state == GRADED
            for check in exercise.checks
            if check.lost
        ]
        lost.sort(key=lambda pair: (-pair[1].lost, pair[0].share, order[pair[0].assignment]))
        return lost[:REVIEW_CELLS]

    @property
    def not_graded(self) -> list[ExerciseResult]:
        """Exercises that could not be graded or were not submitted."""
        return [exercise for exercise in self.exercises if exercise.state != GRADED]


# ---------------------------------------------------------------- reading


def failed_inputs(cell: nbformat.NotebookNode) -> tuple[str, ...]:
    """The kinds of input that a graded test cell's verdict lists as failed, each once.

    The verdict is read as data, through :func:`gradebook_tools.grading.verdict.read_verdict`
    (the one reader of the grader's verdict), never from the text the cell shows.
    """
    from gradebook_tools.grading.verdict import read_verdict

    kinds: dict[str, None] = {}
    for verdict in read_verdict(cell) or ():
        if not verdict.passed:
            kinds.setdefault(verdict.about)
    return tuple(kinds)


def read_verdicts(notebook_path: Path) -> dict[str, tuple[str, ...]]:
    """Failed kinds of input per graded test cell of an autograded notebook ({} if none)."""
    if not notebook_path.is_file():
        return {}
    notebook = nbformat.read(notebook_path, as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: failed_inputs(cell) for cell in notebook.cells if is_graded_test_cell(cell)
    }


def read_statuses(engine: Engine) -> dict[tuple[str, str], Status]:
    """Recorded outcomes (:class:`gradebook_tools.gradebook.outcomes.Status`) by (student, assignment).

    None when batch grading never ran.
    """
    from gradebook_tools.gradebook.outcomes import STATUS, StatusStore

    if not inspect(engine).has_table(STATUS.name):
        return {}
    return {(status.student, status.assignment): status for status in StatusStore(engine).all()}


def _exercise(
    coursedir: CourseDirectory,
    summary_dir: Path,
    scores: ClassScores,
    student: str,
    assignment: str,
    section: str,
    cells: list[CellGrade],
    status,
) -> ExerciseResult:
    submission = scores.submission(student, assignment)
    max_score = next(a.max_score for a in scores.assignments if a.name == assignment)
    if status is not None and status.state == FAILED:
        state, reason = FAILED, status.reason or "the submission could not be graded"
    elif submission is None:
        state = MISSING
        reason = (status.reason if status is not None and status.state == MISSING else "") or NOT_SUBMITTED
        if (student, assignment) in scores.not_due:
            reason = "not submitted yet: your due date has not passed (see your calendar below)"
    else:
        state, reason = GRADED, status.reason if status is not None else ""
    feedback, checks = [], []
    if state == GRADED:
        autograded = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
        folder = Path(coursedir.format_path(coursedir.feedback_directory, student, assignment))
        for notebook in sorted({cell.notebook for cell in cells}):
            html = folder / f"{notebook}.html"
            if html.is_file():
                feedback.append((notebook, Path(os.path.relpath(html, summary_dir)).as_posix()))
            verdicts = read_verdicts(autograded / f"{notebook}.ipynb")
            checks += [
                CheckResult(
                    notebook,
                    cell.cell,
                    cell.score,
                    cell.max_score,
                    cell.needs_manual_grade,
                    verdicts.get(cell.cell, ()),
                )
                for cell in cells
                if cell.notebook == notebook
            ]
    return ExerciseResult(
        assignment=assignment,
        section=section,
        state=state,
        score=submission.score if submission else 0.0,
        max_score=max_score,
        reason=reason,
        pending_points=submission.pending_points if submission else 0.0,
        feedback=tuple(feedback),
        checks=tuple(checks),
    )


def summarize_students(
    engine: Engine, course: CourseSections, coursedir: CourseDirectory, students: Collection[str] | None = None
) -> list[StudentSummary]:
    """The summary of every student in the gradebook, or of ``students`` and those who have no page yet."""
    scores = read_class_scores(engine)
    table = section_table(scores, course)
    calendar = read_calendar(engine)
    late_days_budget = int(course.config.get("CourseLatePenalty", {}).get("late_days", 0) or 0)
    statuses = read_statuses(engine)
    cells: dict[tuple[str, str], list[CellGrade]] = {}
    for cell in read_cell_grades(engine):
        cells.setdefault((cell.student_id, cell.assignment), []).append(cell)
    section_of = {name: section for section, names in table.assignments_by_section.items() for name in names}
    summaries = []
    for row in table.rows:
        student = row.student.id
        page = summary_path(coursedir, student)
        if students is not None and student not in students and page.is_file():
            continue
        summary_dir = page.parent
        exercises = [
            _exercise(
                coursedir,
                summary_dir,
                scores,
                student,
                name,
                section_of[name],
                cells.get((student, name), []),
                statuses.get((student, name)),
            )
            for name in scores.assignment_names
        ]
        own = SectionTable(
            table.section_names, table.assignments_by_section, [row], table.weights, table.not_in_gradebook
        )
        own.scope_note = table.scope_note
        rows = own_calendar(calendar, scores, student)
        days = late_days_left_text(late_days_budget, calendar.late_days_used(student))
        summaries.append(StudentSummary(student, row.student.display_name, exercises, own, rows, days))
    return summaries


def own_calendar(calendar: Calendar, scores: ClassScores, student: str) -> list[CalendarRow]:
    """A student's calendar: each exercise assigned so far, their own due date and what moved it."""
    rows = []
    for assignment in scores.assignment_names:
        entry = calendar.entries.get(assignment)
        own = calendar.due_for(student, assignment)
        because = calendar.why_due(student, assignment)
        submission = scores.submission(student, assignment)
        rows.append(
            CalendarRow(
                assignment,
                f"{entry.due:%Y-%m-%d %H:%M} UTC" if entry is not None and entry.due else "",
                f"{own:%Y-%m-%d %H:%M} UTC" if own is not None else "no due date",
                "; ".join(because),
                submission.late_penalty if submission is not None else 0.0,
            )
        )
    return rows


# ---------------------------------------------------------------- writing


def summary_path(coursedir: CourseDirectory, student: str) -> Path:
    """``<course>/feedback/<student>/index.html``."""
    return Path(coursedir.root) / coursedir.feedback_directory / student / SUMMARY_FILE


def render_summary(summary: StudentSummary, generated: datetime.datetime | None = None) -> str:
    """The summary page of one student as HTML text."""
    table = summary.table
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            summary=summary,
            table=table,
            row=table.rows[0],
            total_max=sum(table.max_points(name) for name in table.section_names),
            graded=GRADED,
            failed=FAILED,
            missing=MISSING,
            generated=(generated or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M"),
        )
    )


def write_student_summaries(
    course_root: Path | str, db_url: str | None = None, students: Collection[str] | None = None
) -> list[Path]:
    """Write ``feedback/<student>/index.html`` for every student in the gradebook (or ``students`` only).

    Run it after ``nbgrader autograde`` and ``nbgrader generate_feedback`` so that
    the pages link to the per-exercise feedback. Pages are written through the
    link-safe writer (:func:`gradebook_tools.course.files.replace_file`): a link
    a student left in ``feedback/`` is replaced, never written through.

    Parameters
    ----------
    course_root
        Folder holding ``nbgrader_config.py``.
    db_url
        Gradebook URL or SQLite path; nbgrader's (``CourseDirectory.db_url`` or
        ``<course>/gradebook.db``) when None.
    students
        Only these students' pages (those whose results changed) and those missing; None for all.

    Returns
    -------
    list of Path
        The pages written, one per student.
    """
    course = open_course(course_root, db_url)
    engine = open_gradebook(course.db_url)
    try:
        coursedir = CourseDirectory(config=course.config, root=str(course.root))
        summaries = summarize_students(engine, course.sections, coursedir, students)
    finally:
        engine.dispose()
    feedback_parts = Path(coursedir.feedback_directory).parts
    written = []
    for summary in summaries:
        folder = real_folder(Path(coursedir.root), *feedback_parts, summary.student_id)
        written.append(replace_file(folder, SUMMARY_FILE, render_summary(summary).encode("utf-8")))
    return written
