"""The coordinator of a grading run: plan the tasks, hand them to workers, write what comes back.

- Every submission is read once as the bytes of its regular files
  (:mod:`gradebook_tools.course.files`) and inspected (:mod:`.inspect`); a student id that cannot be
  handled safely is refused with a reason.
- Each submission that changed since its recorded outcome (a fingerprint of its
  files) becomes one task (:mod:`.task`), run by a runner: this machine's cores
  (:mod:`.local`) or a Dask cluster (:mod:`.dask`).
- This process is the only writer: the gradebook, ``autograded/``,
  ``feedback/``, the logs and the outcome table (:mod:`gradebook_tools.gradebook.outcomes`). A re-run grades
  only what changed, regenerates the feedback of submissions whose grades were
  changed since (manual grading), and an interrupted run resumes.
- A failure of the course's own set-up is never recorded against a student: the
  run stops with one line naming the cause and the fix.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, cast

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from traitlets.config import Config

from gradebook_tools.course.config import load_course_config, open_course
from gradebook_tools.course.errors import CourseProblem
from gradebook_tools.course.files import read_output_tree, read_submission, real_folder, remove_entry, replace_folder
from gradebook_tools.course.nbgrader_run import put_tools_on_path
from gradebook_tools.course.student_ids import student_id_problem
from gradebook_tools.engine.bundle import build_bundle
from gradebook_tools.engine.inspect import Inspection, graded_cells, inspect_submission
from gradebook_tools.engine.task import (
    GradingTask,
    TaskResult,
    disk_full_problem,
    out_of_space,
    write_result,
)
from gradebook_tools.gradebook import ledger
from gradebook_tools.gradebook.calendar import CalendarRows, read_calendar, read_calendar_rows, rows_for
from gradebook_tools.gradebook.late_policy import policy_of, reapply_after_grading
from gradebook_tools.gradebook.outcomes import FAILED, GRADED, MISSING, Status, StatusStore, SubmissionState
from gradebook_tools.gradebook.snapshot import read_snapshot, zero_submission
from gradebook_tools.pages.freshness import pages_show

if TYPE_CHECKING:
    from gradebook_tools.engine.runner import Runner

__all__ = ["BatchGrader", "CourseProblem", "Outcome"]


@dataclass
class Outcome:
    """What happened to one submission in this run."""

    assignment: str
    student: str
    state: SubmissionState
    reason: str = ""
    skipped: bool = False  # unchanged since the recorded outcome
    changed: bool = True  # what the gradebook records for it changed in this run (not when skipped)

    def __post_init__(self) -> None:
        self.changed = self.changed and not self.skipped


def release_cells(course: Path, assignment: str) -> dict[str, dict[str, str]]:
    """Notebook name -> {grade_id: cell type} of the released notebooks."""
    folder = course / "release" / assignment
    if not folder.is_dir():
        raise CourseProblem(f"no release for {assignment!r}: run `nbgrader generate_assignment {assignment}`")
    return {path.stem: dict(graded_cells(nbformat.read(path, as_version=4))) for path in sorted(folder.glob("*.ipynb"))}


def submitted_students(course: Path, assignment: str) -> list[str]:
    """Student folders that hold a submission of ``assignment`` (real folders, never links)."""
    root = course / "submitted"
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if not p.is_symlink() and p.is_dir() and (p / assignment).is_dir() and not (p / assignment).is_symlink()
    )


def add_assignment_from_release(course: Path, db_url: str, assignment: str) -> None:
    """Put an assignment missing from the gradebook into it, as ``nbgrader generate_assignment`` does.

    nbgrader generates it from ``source/`` into a scratch folder (the committed
    ``release/`` is not touched); the generated notebooks must be the released
    ones byte for byte, or the students' cells would not match the gradebook's.
    """
    import tempfile

    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    command = f"nbgrader generate_assignment {assignment}"
    if not (course / "source" / assignment).is_dir():
        raise CourseProblem(
            f"the gradebook has no assignment {assignment!r} and there is no source/{assignment}/ "
            f"to add it from: run `{command}` where the source is, with this gradebook"
        )
    with tempfile.TemporaryDirectory(prefix="release-check-") as scratch:
        config = load_course_config(course)
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.db_url = db_url
        config.CourseDirectory.release_directory = scratch
        config.CourseDirectory.assignment_id = assignment
        try:
            GenerateAssignment(coursedir=CourseDirectory(config=config), config=config).start()
        except Exception as error:  # noqa: BLE001 - nbgrader's many failure kinds, all the course's
            raise CourseProblem(
                f"the gradebook has no assignment {assignment!r} and `{command}` failed "
                f"({type(error).__name__}: {error}): fix source/{assignment}/ and run it"
            ) from error
        generated = read_output_tree(Path(scratch) / assignment)
        released = read_output_tree(course / "release" / assignment)
        differing = sorted(
            n
            for n in generated.keys() | released.keys()
            if n.endswith(".ipynb") and generated.get(n) != released.get(n)
        )
    if differing:
        raise CourseProblem(
            f"release/{assignment}/{differing[0]} is not what source/{assignment}/ generates, so the "
            f"gradebook cannot be set up from it: run `{command} --force`, then hand out the new "
            "release"
        )


class BatchGrader:
    """Grade a course's submissions; see the module docstring.

    Parameters
    ----------
    course
        The course root (with ``nbgrader_config.py``).
    db_url
        The gradebook's URL.
    runner
        Runs the tasks (:class:`~gradebook_tools.engine.runner.Runner`):
        :class:`~gradebook_tools.engine.local.LocalRunner` (default) or
        :class:`~gradebook_tools.engine.dask.DaskRunner`.
    force
        Grade again even what is unchanged since its recorded outcome.
    regrade
        Grade what changed; False only regenerates the feedback of submissions whose grades changed.
    feedback
        Write each graded submission's feedback pages.
    overrides
        Configuration on top of the course's, e.g. ``Config({"Execute": {"timeout": 60}})``.
    progress
        ``progress(done, total)`` after each task; None for quiet runs.
    """

    def __init__(
        self,
        course: Path,
        db_url: str,
        *,
        runner: Runner | None = None,
        force: bool = False,
        feedback: bool = True,
        regrade: bool = True,
        overrides: Config | None = None,
        progress: Callable[[int, int], None] | None = None,
    ):
        if runner is None:
            from gradebook_tools.engine.local import LocalRunner

            runner = LocalRunner()
        self.course, self.db_url, self.runner = Path(course).resolve(), db_url, runner
        self.force, self.feedback, self.regrade = force, feedback, regrade
        self.overrides = overrides or Config()
        self.progress = progress
        opened = open_course(self.course)
        self.course_id = opened.course_id
        # the student's own due date (extension, accommodation, late days) is applied where the grades are written
        self.late_policy = policy_of(opened.config)
        ledger.install()  # this process writes the grades: every change goes to the ledger
        put_tools_on_path()
        with self._gradebook():  # nbgrader's tables and alembic stamp first, then the outcome table
            pass
        self.store = StatusStore(db_url)
        self.added: list[str] = []  # assignments this run added to the gradebook
        self.feedback_refreshed = 0  # submissions whose feedback was regenerated for changed grades
        self.refreshed_students: set[str] = set()  # ... and their students
        self._calendar_rows: CalendarRows | None = None

    def run(self, assignments: list[str]) -> list[Outcome]:
        """Grade ``assignments``; return one outcome per submission (and per missing student)."""
        with warnings.catch_warnings():
            # nbgrader's own models warn under SQLAlchemy 2 when a submission is created
            warnings.simplefilter("ignore", SAWarning)
            return self._run(assignments)

    def _run(self, assignments: list[str]) -> list[Outcome]:
        with self._gradebook() as gradebook:
            self._check_assignments(gradebook, assignments)
            outcomes: list[Outcome] = []
            notes: dict[tuple[str, str], list[str]] = {}
            # planned as the workers ask for tasks: they start grading while the rest is planned
            plan = _Counted(self._plan(gradebook, assignments, outcomes, notes))
            first = next(plan, None)  # nothing to grade: no bundle, no workers, no cluster to reach
            done = 0
            if self.progress:
                self.progress(0, plan.count)
            if first:
                try:
                    bundle = build_bundle(self.course, self.db_url, assignments)
                except Exception as error:
                    full = out_of_space(error)  # the grader's own disk: the run stops, nobody is recorded
                    if full is None:
                        raise
                    raise disk_full_problem(full) from error
                results = self.runner.run(chain([first], plan), bundle)
            else:
                results = iter(())
            for result in results:
                if result.course_problem:
                    raise CourseProblem(result.course_problem)
                outcomes.append(self._record(gradebook, result, notes.get((result.assignment, result.student), [])))
                done += 1
                if self.progress:
                    self.progress(done, plan.count)
            for assignment in assignments if self.regrade else []:
                outcomes += self._record_missing(gradebook, assignment)
        return sorted(outcomes, key=lambda outcome: (outcome.assignment, outcome.student))

    # ------------------------------------------------------------ plan

    def _gradebook(self) -> Gradebook:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            return Gradebook(self.db_url, self.course_id)

    def _check_assignments(self, gradebook: Gradebook, assignments: list[str]) -> None:
        """Every assignment has a release and is in the gradebook (added from source/ where missing)."""
        for assignment in assignments:
            release_cells(self.course, assignment)
            try:
                known = bool(gradebook.find_assignment(assignment).notebooks)
            except MissingEntry:
                known = False
            if not known:
                add_assignment_from_release(self.course, self.db_url, assignment)
                self.added.append(assignment)

    def _plan(
        self,
        gradebook: Gradebook,
        assignments: list[str],
        outcomes: list[Outcome],
        notes: dict[tuple[str, str], list[str]],
    ) -> Iterator[GradingTask]:
        """Yield the tasks to run; add to ``outcomes`` what needs none, to ``notes`` what inspection found."""
        for assignment in assignments:
            expected = release_cells(self.course, assignment)
            for student in submitted_students(self.course, assignment):
                problem = student_id_problem(student)
                if problem:
                    outcomes.append(self._refuse(assignment, student, problem))
                    continue
                submitted = read_submission(self.course / "submitted" / student / assignment)
                inspection = inspect_submission(submitted, expected)
                recorded = self.store.get(assignment, student)
                unchanged = recorded and recorded.fingerprint == inspection.fingerprint and not self.force
                if recorded and (unchanged or not self.regrade):
                    task = self._feedback_task(gradebook, assignment, student, recorded)
                    if task:
                        notes[task.key] = [recorded.reason] if recorded.reason else []
                        yield task
                    else:
                        outcomes.append(Outcome(assignment, student, recorded.state, recorded.reason, skipped=True))
                    continue
                if not self.regrade:
                    continue
                if inspection.fatal:
                    outcomes.append(self._fail_unreadable(gradebook, assignment, student, inspection))
                    continue
                notes[(assignment, student)] = inspection.notes
                yield GradingTask(
                    assignment,
                    student,
                    submitted.files,
                    inspection.fingerprint,
                    snapshot=read_snapshot(gradebook, assignment, student),
                    feedback=self.feedback,
                    overrides=self.overrides,
                    calendar=self._calendar_of(gradebook, student, assignment),
                )

    def _feedback_task(
        self, gradebook: Gradebook, assignment: str, student: str, recorded: Status
    ) -> GradingTask | None:
        """A task regenerating the feedback of an unchanged submission whose grades changed, or None."""
        if not self.feedback or recorded.state != GRADED:
            return None
        snapshot = read_snapshot(gradebook, assignment, student)
        if pages_show(self.course / "feedback" / student / assignment, snapshot):
            return None
        autograded = read_output_tree(self.course / "autograded" / student / assignment)
        if not autograded:
            return None
        return GradingTask(
            assignment,
            student,
            autograded,
            recorded.fingerprint,
            snapshot=snapshot,
            feedback_only=True,
            overrides=self.overrides,
            calendar=self._calendar_of(gradebook, student, assignment),
        )

    def _calendar_of(self, gradebook: Gradebook, student: str, assignment: str) -> CalendarRows:
        """The student's calendar rows for a task (the calendar is read once a run: nothing changes it meanwhile)."""
        if self._calendar_rows is None:
            self._calendar_rows = read_calendar_rows(gradebook.db.connection())
        return rows_for(self._calendar_rows, student, assignment)

    def _refuse(self, assignment: str, student: str, problem: str) -> Outcome:
        reason = f"the student id {student!r} {problem}: it cannot be graded safely; rename its folder in submitted/"
        if len(student) <= 128:
            self.store.record(assignment, student, FAILED, reason)
        return Outcome(assignment, student, FAILED, reason)

    def _fail_unreadable(self, gradebook: Gradebook, assignment: str, student: str, inspection: Inspection) -> Outcome:
        zero_submission(gradebook, assignment, student)
        self._remove_outputs(assignment, student)
        reason = "; ".join(inspection.fatal + inspection.notes)
        self.store.record(assignment, student, FAILED, reason, inspection.fingerprint)
        return Outcome(assignment, student, FAILED, reason)

    # ------------------------------------------------------------ results

    def _record(self, gradebook: Gradebook, result: TaskResult, notes: list[str]) -> Outcome:
        assignment, student = result.assignment, result.student
        if result.feedback_only:
            if result.feedback:
                self._write(assignment, student, "feedback", result.feedback)
                self.feedback_refreshed += 1
                self.refreshed_students.add(student)
            recorded = cast(Status, self.store.get(assignment, student))  # planned from this record
            return Outcome(assignment, student, recorded.state, recorded.reason, skipped=True)
        self._write_log(result)
        reasons = ([result.reason] if result.reason else []) + notes + result.notes
        if result.state == GRADED:
            with ledger.acting(why="autograde (gradebook-tools grade)"):
                write_result(gradebook, result)
            if self.late_policy is not None:
                late = reapply_after_grading(gradebook.db, self.late_policy, student, assignment)
                gradebook.db.commit()
                reasons = [r for r in reasons if not r.startswith("submitted after the due date")] + [late] * bool(late)
            self._write(assignment, student, "autograded", result.autograded, mode=0o444)
            if result.feedback:
                self._write(assignment, student, "feedback", result.feedback)
        else:
            zero_submission(gradebook, assignment, student)
            self._remove_outputs(assignment, student)
        reason = "; ".join(dict.fromkeys(reasons))
        self.store.record(assignment, student, result.state, reason, result.fingerprint)
        return Outcome(assignment, student, result.state, reason)

    def _write(self, assignment: str, student: str, kind: str, files: dict[str, bytes], mode: int = 0o644) -> None:
        replace_folder(real_folder(self.course, kind, student), assignment, files, mode)

    def _remove_outputs(self, assignment: str, student: str) -> None:
        for kind in ("autograded", "feedback"):
            remove_entry(self.course / kind / student / assignment)

    def _write_log(self, result: TaskResult) -> None:
        """nbgrader's log of the task, for the instructor to read (nothing ever parses it)."""
        if result.log:
            folder = real_folder(self.course, "logs", "grading", result.assignment)
            replace_folder(folder, result.student, {"nbgrader.log": result.log.encode("utf-8", "replace")})

    def _record_missing(self, gradebook: Gradebook, assignment: str) -> list[Outcome]:
        submitted = set(submitted_students(self.course, assignment))
        outcomes = []
        reason = "nothing was submitted: it scores 0"
        calendar = read_calendar(gradebook.db.connection())
        for student in sorted({s.id for s in gradebook.students} - submitted):
            if not calendar.missing_counts(student, assignment):
                continue  # not assigned yet, or the student's own due date has not passed: not missing
            recorded = self.store.get(assignment, student)
            unchanged = recorded is not None and recorded.state == MISSING and recorded.reason == reason
            if not unchanged:
                self.store.record(assignment, student, MISSING, reason)
            outcomes.append(Outcome(assignment, student, MISSING, reason, changed=not unchanged))
        return outcomes


class _Counted:
    """An iterator that counts what it has given (the progress bar's total grows as tasks are planned)."""

    def __init__(self, items: Iterator[GradingTask]):
        self._items, self.count = items, 0

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> GradingTask:
        item = next(self._items)
        self.count += 1
        return item
