"""The coordinator of a grading run: plan the tasks, hand them to workers, write what comes back.

- Every submission is read once as the bytes of its regular files
  (:mod:`.files`) and inspected (:mod:`.inspect`); a student id that cannot be
  handled safely is refused with a reason.
- Each submission that changed since its recorded outcome (a fingerprint of its
  files) becomes one task (:mod:`.task`), run by a runner: this machine's cores
  (:mod:`.local`) or a Dask cluster (:mod:`.dask`).
- This process is the only writer: the gradebook, ``autograded/``,
  ``feedback/``, the logs and the outcome table (:mod:`.status`). A re-run grades
  only what changed, regenerates the feedback of submissions whose grades were
  changed since (manual grading), and an interrupted run resumes.
- A failure of the course's own set-up is never recorded against a student: the
  run stops with one line naming the cause and the fix.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from traitlets.config import Config

from ..config import load_course_config
from .bundle import build_bundle
from ..student_ids import student_id_problem
from .files import read_output_tree, read_submission, real_folder, remove_entry, replace_folder
from .inspect import Inspection, graded_cells, inspect_submission
from .status import FAILED, GRADED, MISSING, StatusStore
from .task import CourseProblem, GradingTask, TaskResult, read_snapshot, snapshot_digest, write_result, zero_submission

__all__ = ["BatchGrader", "CourseProblem", "Outcome"]


@dataclass
class Outcome:
    """What happened to one submission in this run."""

    assignment: str
    student: str
    state: str
    reason: str = ""
    skipped: bool = False  # unchanged since the recorded outcome


def release_cells(course: Path, assignment: str) -> dict[str, dict[str, str]]:
    """Notebook name -> {grade_id: cell type} of the released notebooks."""
    folder = course / "release" / assignment
    if not folder.is_dir():
        raise CourseProblem(f"no release for {assignment!r}: run `nbgrader generate_assignment {assignment}`")
    return {
        path.stem: dict(graded_cells(nbformat.read(path, as_version=4)))
        for path in sorted(folder.glob("*.ipynb"))
    }


def submitted_students(course: Path, assignment: str) -> list[str]:
    """Student folders that hold a submission of ``assignment`` (real folders, never links)."""
    root = course / "submitted"
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir()
        if not p.is_symlink() and p.is_dir() and (p / assignment).is_dir() and not (p / assignment).is_symlink()
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
        Runs the tasks: :class:`~gradebook_tools.batch.local.LocalRunner` (default) or
        :class:`~gradebook_tools.batch.dask.DaskRunner`.
    force
        Grade again even what is unchanged since its recorded outcome.
    feedback
        Write each graded submission's feedback pages.
    overrides
        Configuration on top of the course's, e.g. ``Config({"Execute": {"timeout": 60}})``.
    progress
        ``progress(done, total)`` after each task; None for quiet runs.
    """

    def __init__(self, course: Path, db_url: str, *, runner=None, force: bool = False, feedback: bool = True,
                 overrides: Config | None = None, progress: Callable[[int, int], None] | None = None):
        if runner is None:
            from .local import LocalRunner

            runner = LocalRunner()
        self.course, self.db_url, self.runner = Path(course).resolve(), db_url, runner
        self.force, self.feedback = force, feedback
        self.overrides = overrides or Config()
        self.progress = progress
        self.store = StatusStore(db_url)
        self.course_id = load_course_config(self.course).get("CourseDirectory", {}).get("course_id", "default_course")

    def run(self, assignments: list[str]) -> list[Outcome]:
        """Grade ``assignments``; return one outcome per submission (and per missing student)."""
        with self._gradebook() as gradebook:
            self._check_assignments(gradebook, assignments)
            tasks, outcomes, notes = self._plan(gradebook, assignments)
            bundle = build_bundle(self.course, self.db_url, assignments) if tasks else None
            done = 0
            if self.progress:
                self.progress(0, len(tasks))
            for result in self.runner.run(tasks, bundle) if tasks else []:
                if result.course_problem:
                    raise CourseProblem(result.course_problem)
                outcomes.append(self._record(gradebook, result, notes.get((result.assignment, result.student), [])))
                done += 1
                if self.progress:
                    self.progress(done, len(tasks))
            for assignment in assignments:
                outcomes += self._record_missing(gradebook, assignment)
        return outcomes

    # ------------------------------------------------------------ plan

    def _gradebook(self) -> Gradebook:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            return Gradebook(self.db_url, self.course_id)

    def _check_assignments(self, gradebook: Gradebook, assignments: list[str]) -> None:
        for assignment in assignments:
            release_cells(self.course, assignment)
            try:
                if not gradebook.find_assignment(assignment).notebooks:
                    raise MissingEntry()
            except MissingEntry:
                raise CourseProblem(
                    f"the gradebook has no notebooks for {assignment!r} yet: run "
                    f"`nbgrader generate_assignment {assignment}` in the course folder, then grade again"
                ) from None

    def _plan(self, gradebook: Gradebook, assignments: list[str]):
        tasks: list[GradingTask] = []
        outcomes: list[Outcome] = []
        notes: dict[tuple[str, str], list[str]] = {}
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
                if recorded and recorded.fingerprint == inspection.fingerprint and not self.force:
                    task = self._feedback_task(gradebook, assignment, student, recorded)
                    if task:
                        tasks.append(task)
                        notes[task.key] = [recorded.reason] if recorded.reason else []
                    else:
                        outcomes.append(Outcome(assignment, student, recorded.state, recorded.reason, skipped=True))
                    continue
                if inspection.fatal:
                    outcomes.append(self._fail_unreadable(gradebook, assignment, student, inspection))
                    continue
                tasks.append(GradingTask(
                    assignment, student, submitted.files, inspection.fingerprint,
                    snapshot=read_snapshot(gradebook, assignment, student), feedback=self.feedback,
                    overrides=self.overrides,
                ))
                notes[(assignment, student)] = inspection.notes
        return tasks, outcomes, notes

    def _feedback_task(self, gradebook: Gradebook, assignment: str, student: str, recorded) -> GradingTask | None:
        """A task regenerating the feedback of an unchanged submission whose grades changed, or None."""
        if not self.feedback or recorded.state != GRADED:
            return None
        snapshot = read_snapshot(gradebook, assignment, student)
        if snapshot is None or snapshot_digest(snapshot) == recorded.feedback_digest:
            return None
        autograded = read_output_tree(self.course / "autograded" / student / assignment)
        if not autograded:
            return None
        return GradingTask(assignment, student, autograded, recorded.fingerprint, snapshot=snapshot,
                           feedback_only=True, overrides=self.overrides)

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
            recorded = self.store.get(assignment, student)
            digest = snapshot_digest(read_snapshot(gradebook, assignment, student))
            self.store.record(assignment, student, recorded.state, recorded.reason, recorded.fingerprint, digest)
            return Outcome(assignment, student, recorded.state, recorded.reason, skipped=True)
        self._write_log(result)
        reasons = ([result.reason] if result.reason else []) + notes + result.notes
        if result.state == GRADED:
            write_result(gradebook, result)
            self._write(assignment, student, "autograded", result.autograded, mode=0o444)
            if result.feedback:
                self._write(assignment, student, "feedback", result.feedback)
            digest = snapshot_digest(read_snapshot(gradebook, assignment, student)) if result.feedback else ""
        else:
            zero_submission(gradebook, assignment, student)
            self._remove_outputs(assignment, student)
            digest = ""
        reason = "; ".join(dict.fromkeys(reasons))
        self.store.record(assignment, student, result.state, reason, result.fingerprint, digest)
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
        for student in sorted({s.id for s in gradebook.students} - submitted):
            reason = "nothing was submitted: it scores 0"
            self.store.record(assignment, student, MISSING, reason)
            outcomes.append(Outcome(assignment, student, MISSING, reason))
        return outcomes
