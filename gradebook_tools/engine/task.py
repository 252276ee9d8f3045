"""One grading task: one student's submission of one assignment, graded in a private course.

:func:`run_task` is what a worker runs, on this machine or on a Dask worker. It
lays out a private course from the course bundle and the submitted bytes, runs
nbgrader's own ``Autograde`` and ``GenerateFeedback`` converters in-process
with the course's configuration (so the grades are exactly those of a plain
``nbgrader autograde``: sanitizing, restored cells, trusted checks, late
penalties), against a private gradebook that holds the assignment's
definitions and the submission's current manual grades. It returns the
outcome, the grades, the autograded notebook and the feedback pages as data;
the coordinator is the only writer of the real gradebook and folders.

Nothing the student's kernel prints or writes decides the outcome: it comes
from exceptions raised in this process, from the private gradebook, and from
the notes TrustedExecute leaves in nbgrader's ``resources``.
"""

from __future__ import annotations

import errno
import io
import logging
import shutil
import sqlite3
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.converters.base import BaseConverter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors.execute import UnresponsiveKernelError
from sqlalchemy.exc import OperationalError, SAWarning
from traitlets.config import Config

from gradebook_tools.course.config import load_course_config
from gradebook_tools.course.errors import CourseProblem
from gradebook_tools.course.files import read_output_tree, write_files
from gradebook_tools.engine.bundle import GRADEBOOK_NAME, private_course
from gradebook_tools.engine.sql_engines import close_connections
from gradebook_tools.gradebook.calendar import CalendarRows, write_calendar_rows
from gradebook_tools.gradebook.ledger import paused
from gradebook_tools.gradebook.outcomes import FAILED, GRADED, SubmissionState
from gradebook_tools.gradebook.snapshot import (
    COMMENT_FIELDS,
    GRADE_FIELDS,
    NotebookSnapshot,
    Snapshot,
    apply_snapshot,
    read_snapshot,
)
from gradebook_tools.grading.execute import NOTES_KEY
from gradebook_tools.sandbox.bubblewrap import SandboxUnavailable, sandbox_problem
from gradebook_tools.sandbox.choice import worker_manager

#: Write errors of the grader's own disk: the machine's problem, never a submission's.
OUT_OF_SPACE = (errno.ENOSPC, errno.EDQUOT)
SQLITE_FULL = 13


def out_of_space(error: BaseException) -> BaseException | None:
    """The "no space" or "quota" error behind ``error`` (its causes and contexts included), if any.

    An ``OSError`` (``ENOSPC``, ``EDQUOT``) or SQLite's "database or disk is
    full". A kernel's own filesystems are private to it, so such an error
    reaching the grader comes from the grader's workspace or temporary folder.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in OUT_OF_SPACE:
            return current
        if isinstance(current, sqlite3.Error) and getattr(current, "sqlite_errorcode", None) == SQLITE_FULL:
            return current
        current = current.__cause__ or current.__context__
    return None


def disk_full_problem(error: BaseException) -> CourseProblem:
    """The :class:`CourseProblem` that stops a run whose grader ran out of disk (``error``: :func:`out_of_space`)."""
    if isinstance(error, OSError):
        detail = f"{error.strerror}: {error.filename or 'the workspace'}"
    else:
        detail = str(error)
    return CourseProblem(
        f"the grading machine's disk is full ({detail}); free space in {tempfile.gettempdir()} and grade "
        "again: no submission was recorded"
    )


@dataclass
class GradingTask:
    """What a worker needs to grade one submission (all plain, picklable data)."""

    assignment: str
    student: str
    #: Submitted regular files (relative path -> bytes); for ``feedback_only``, the autograded files.
    files: dict[str, bytes]
    fingerprint: str
    #: The submission's grades in the real gradebook now (:func:`read_snapshot`), or None.
    snapshot: Snapshot | None = None
    #: Regenerate the feedback from an autograded notebook whose grades changed; grade nothing.
    feedback_only: bool = False
    feedback: bool = True
    #: Configuration on top of the course's (e.g. ``{"Execute": {"timeout": 60}}``).
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The student's calendar rows (:func:`gradebook_tools.gradebook.calendar.rows_for`): the late
    #: penalty and the feedback page start from their own due date, not only the class's.
    calendar: CalendarRows = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.assignment, self.student


@dataclass
class TaskResult:
    """What grading one submission produced."""

    assignment: str
    student: str
    fingerprint: str
    state: SubmissionState
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    #: The submission's timestamp (ISO text) and per notebook its automatic grades:
    #: ``{notebook: {"late_submission_penalty": x, "grades": {cell: {...}}, "comments": {cell: {...}}}}``.
    timestamp: str | None = None
    notebooks: dict[str, NotebookSnapshot] = field(default_factory=dict)
    autograded: dict[str, bytes] = field(default_factory=dict)
    feedback: dict[str, bytes] = field(default_factory=dict)
    feedback_only: bool = False
    log: str = ""
    course_problem: str = ""


# ---------------------------------------------------------------- snapshots of grades


def write_result(gradebook: Gradebook, result: TaskResult) -> None:
    """Write a graded result's automatic grades into the real gradebook (the coordinator's job)."""
    snapshot: Snapshot = {"timestamp": result.timestamp, "notebooks": result.notebooks}
    apply_snapshot(
        gradebook,
        result.assignment,
        result.student,
        snapshot,
        grade_fields=("auto_score", "needs_manual_grade"),
        comment_fields=("auto_comment",),
    )


# ---------------------------------------------------------------- the worker's side


class _OneSubmission(BaseConverter):  # type: ignore[misc]  # nbgrader is untyped
    """nbgrader's converters, for exactly one submission, letting its exceptions through.

    nbgrader's own ``convert_notebooks`` logs a failed student and goes on; here
    the exception itself is the outcome's reason, so it must reach the caller.
    """

    notes: list[str]

    def convert_notebooks(self) -> None:
        self.notes = []
        for folder in sorted(self.assignments):
            self.notebooks = sorted(self.assignments[folder])
            assignment, student = self.coursedir.assignment_id, self.coursedir.student_id
            self.init_destination(assignment, student)
            self.run_pre_convert_hook()
            self.init_assignment(assignment, student)
            for notebook in self.notebooks:
                self.convert_single_notebook(notebook)
            self.set_permissions(assignment, student)
            self.run_post_convert_hook()

    def write_single_notebook(self, output: str, resources: dict[str, Any]) -> None:
        self.notes += resources.get(NOTES_KEY, [])
        super().write_single_notebook(output, resources)


class _Autograde(_OneSubmission, Autograde):  # type: ignore[misc]
    pass


class _GenerateFeedback(_OneSubmission, GenerateFeedback):  # type: ignore[misc]
    pass


def run_task(task: GradingTask, bundle_folder: Path) -> TaskResult:
    """Grade one submission in a private course; see the module docstring."""
    result = TaskResult(task.assignment, task.student, task.fingerprint, GRADED, feedback_only=task.feedback_only)
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logger = logging.getLogger("traitlets")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    course = _workspace() / "course"
    try:
        with warnings.catch_warnings():
            # nbgrader's own models warn under SQLAlchemy 2 on creating a submission
            warnings.simplefilter("ignore", SAWarning)
            course.mkdir()
            private_course(bundle_folder, course)
            with paused():  # the task's private gradebook: the coordinator's writes are the ledger's
                _grade_in(course, task, result)
    except CourseProblem as problem:
        result.state, result.course_problem = FAILED, str(problem)
    except OSError as error:
        full = out_of_space(error)
        if full is None:
            raise
        result.state, result.course_problem = FAILED, str(disk_full_problem(full))
    finally:
        close_connections()
        shutil.rmtree(course, ignore_errors=True)
        logger.removeHandler(handler)
        result.log = log.getvalue()
    return result


_WORKSPACES: dict[int, Path] = {}


def _workspace() -> Path:
    """This thread's private folder for its tasks' courses: one path, so the task's gradebook URL is too.

    The course in it is made for each task and removed after it (nothing of one
    submission is left for the next); the same path lets the worker keep one
    database engine, with its compiled statements, for every task (:mod:`.sql_engines`).
    """
    key = threading.get_ident()
    folder = _WORKSPACES.get(key)
    if folder is None or not folder.is_dir():
        folder = _WORKSPACES[key] = Path(tempfile.mkdtemp(prefix="grading-"))
    shutil.rmtree(folder / "course", ignore_errors=True)  # left by a task interrupted mid-way
    return folder


def _grade_in(course: Path, task: GradingTask, result: TaskResult) -> None:
    db_url = f"sqlite:///{course / GRADEBOOK_NAME}"
    config = _config(course, db_url, task)
    course_id = CourseDirectory(config=config).course_id
    try:
        with Gradebook(db_url, course_id) as gradebook:
            gradebook.find_assignment(task.assignment)
            if task.snapshot:
                fields = ("manual_score", "extra_credit") if not task.feedback_only else GRADE_FIELDS
                comments = ("manual_comment",) if not task.feedback_only else COMMENT_FIELDS
                apply_snapshot(
                    gradebook, task.assignment, task.student, task.snapshot, fields, comments, late=task.feedback_only
                )
            if task.calendar:
                write_calendar_rows(gradebook.db.connection(), task.calendar)
                gradebook.db.commit()
    except MissingEntry as error:
        raise CourseProblem(
            f"the gradebook has no assignment {task.assignment!r}: run "
            f"`nbgrader generate_assignment {task.assignment}` in the course folder"
        ) from error

    if task.feedback_only:
        write_files(_folder(course, "autograded", task), task.files)
    else:
        write_files(_folder(course, "submitted", task), task.files)
        if not _convert(_Autograde, course, config, result):
            return
        result.autograded = read_output_tree(course / "autograded" / task.student / task.assignment)
        with Gradebook(db_url, course_id) as gradebook:
            snapshot = read_snapshot(gradebook, task.assignment, task.student)
        assert snapshot is not None  # Autograde has just recorded the submission
        result.timestamp, result.notebooks = snapshot["timestamp"], snapshot["notebooks"]
        late = max((n["late_submission_penalty"] or 0 for n in result.notebooks.values()), default=0)
        if late > 0:
            result.notes.append("submitted after the due date: the course's late penalty applies")
    if task.feedback:
        feedback_result = TaskResult(task.assignment, task.student, task.fingerprint, GRADED)
        if _convert(_GenerateFeedback, course, config, feedback_result):
            result.feedback = read_output_tree(course / "feedback" / task.student / task.assignment)
        else:
            result.notes.append(f"no feedback page could be made ({feedback_result.reason})")


def _folder(course: Path, kind: str, task: GradingTask) -> Path:
    (course / kind / task.student).mkdir(parents=True)
    return course / kind / task.student / task.assignment


def _config(course: Path, db_url: str, task: GradingTask) -> Config:
    config = load_course_config(course)
    config.merge(Config(task.overrides))
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = db_url
    config.CourseDirectory.assignment_id = task.assignment
    config.CourseDirectory.student_id = task.student
    config.CourseDirectory.notebook_id = "*"
    # the private course is new each time: nothing is "unchanged" there
    config.Autograde.force = config.GenerateFeedback.force = True
    config.Autograde.create_student = True
    # a worker grades many submissions: each kernel is forked from one warm, sandboxed server
    # (far cheaper than a new bubblewrap per kernel); it needs root, as the per-kernel users do anyway
    manager = worker_manager(configured="sandbox_manager_class" in config.TrustedExecute)
    if manager:
        config.TrustedExecute.sandbox_manager_class = manager
    return config


def _convert(converter_class: type[_OneSubmission], course: Path, config: Config, result: TaskResult) -> bool:
    """Run one nbgrader converter; on failure set the result's state and reason."""
    converter = converter_class(coursedir=CourseDirectory(config=config), config=config)
    try:
        converter.start()
    except SandboxUnavailable as error:
        raise CourseProblem(str(error)) from error
    except (ImportError, OperationalError) as error:
        raise CourseProblem(f"grading could not run on this machine: {_describe(error)}") from error
    except UnresponsiveKernelError:
        result.state = FAILED
        result.reason = "the kernel stopped responding and could not be interrupted: it scores 0"
    except Exception as error:  # noqa: BLE001 - any other failure belongs to this submission alone
        full = out_of_space(error)
        if full is not None:
            raise disk_full_problem(full) from error
        sandboxed = config.get("TrustedExecute", {}).get("sandbox", True)
        problem = sandbox_problem() if sandboxed else ""  # ... unless no kernel can start here at all
        if problem:
            raise CourseProblem(problem) from error
        result.state = FAILED
        result.reason = f"nbgrader could not grade this submission ({_describe(error)}): it scores 0"
    result.notes += getattr(converter, "notes", [])
    return result.state == GRADED


def _describe(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__
