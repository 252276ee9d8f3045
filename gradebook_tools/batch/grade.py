"""Grade everything submitted: autograde, then feedback, then an outcome per submission.

The work is done by plain ``nbgrader autograde`` and ``nbgrader generate_feedback``
runs (one process per assignment and worker), so nbgrader's configuration, late
penalties and sandbox all apply. Around them:

- each submission is inspected first, and every problem gets a plain sentence;
- a submission that cannot be graded is recorded as failed (0 points), never
  stopping the others; nbgrader's own per-student failures are read from its log;
- outcomes are stored with a fingerprint of the submitted files, so a re-run
  skips what is unchanged and resumes after an interruption;
- ``submitted/`` is only read.
"""
from __future__ import annotations

import re
import subprocess
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from ..nbgrader_run import nbgrader_command, nbgrader_env
from .inspect import Inspection, graded_cells, inspect_submission
from .status import FAILED, GRADED, MISSING, StatusStore

_STUDENT_STARTS = re.compile(r"Sanitizing .*[/\\]submitted[/\\](?P<student>[^/\\]+)[/\\]")
_STUDENT_FAILED = re.compile(r"There was an error processing assignment '[^']*' for student '(?P<student>[^']+)'")
_EXCEPTION = re.compile(r"^\s*(?P<line>[A-Za-z_.]*(Error|Exception|Unavailable)\b.*)$")
#: nbgrader and TrustedExecute log lines worth a sentence to the student.
_LOG_NOTES = [
    (re.compile(r"the kernel died while ([^\n]+)"), "the kernel died while {0}; what came after it scored 0"),
    (re.compile(r"Timeout waiting for execute reply \((\d+)s\)"), "a cell ran longer than {0} s and was interrupted"),
    (re.compile(r"is ([\d.]+) seconds late"), "submitted {0} seconds late: the course's late penalty applies"),
]
RETRYABLE = ("database is locked",)


@dataclass
class Outcome:
    """What happened to one submission in this run."""

    assignment: str
    student: str
    state: str
    reason: str = ""
    skipped: bool = False  # unchanged since the recorded outcome


@dataclass
class StudentLog:
    lines: list[str] = field(default_factory=list)
    failed: bool = False


def release_cells(course: Path, assignment: str) -> dict[str, dict[str, str]]:
    """Notebook name -> {grade_id: cell type} of the released notebooks."""
    folder = course / "release" / assignment
    if not folder.is_dir():
        raise LookupError(f"no release for {assignment!r}: run nbgrader generate_assignment {assignment}")
    return {
        path.stem: dict(graded_cells(nbformat.read(path, as_version=4)))
        for path in sorted(folder.glob("*.ipynb"))
    }


def submitted_students(course: Path, assignment: str) -> list[str]:
    return sorted(p.parent.name for p in (course / "submitted").glob(f"*/{assignment}") if p.is_dir())


def split_log(text: str) -> dict[str, StudentLog]:
    """nbgrader's log of one run, cut into the part about each student."""
    logs: dict[str, StudentLog] = {}
    current = None
    for line in text.splitlines():
        started = _STUDENT_STARTS.search(line)
        if started:
            current = logs.setdefault(started["student"], StudentLog())
        failed = _STUDENT_FAILED.search(line)
        if failed:
            logs.setdefault(failed["student"], StudentLog()).failed = True
        if current is not None:
            current.lines.append(line)
    return logs


def failure_reason(log: StudentLog) -> str:
    exceptions = [m["line"] for m in map(_EXCEPTION.match, log.lines) if m]
    detail = exceptions[-1] if exceptions else "see nbgrader's log"
    return f"nbgrader could not grade this submission ({detail[:300]}): it scores 0"


def log_notes(log: StudentLog) -> list[str]:
    text = "\n".join(log.lines)
    return [note.format(*match.groups()) for pattern, note in _LOG_NOTES for match in [pattern.search(text)] if match]


class BatchGrader:
    """Grade a course's submissions; see the module docstring.

    Parameters
    ----------
    course
        The course root (with ``nbgrader_config.py``).
    db_url
        The gradebook's URL.
    jobs
        nbgrader processes run at once, each on its share of the students.
    force
        Grade again even what is unchanged since its recorded outcome.
    feedback
        Generate each exercise's feedback after grading, and every student's summary page.
    nbgrader_args
        Extra arguments for ``nbgrader autograde`` (e.g. ``--Execute.timeout=60``).
    progress
        ``progress(done, total)`` after each student; None for quiet runs.
    """

    def __init__(self, course: Path, db_url: str, *, jobs: int = 1, force: bool = False, feedback: bool = True,
                 nbgrader_args: tuple[str, ...] = (), progress=None):
        self.course, self.db_url = course, db_url
        self.jobs, self.force, self.feedback = max(1, jobs), force, feedback
        self.nbgrader_args = tuple(nbgrader_args)
        self.progress = progress
        self.store = StatusStore(db_url)
        self._done = 0
        self._total = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------ plan

    def plan(self, assignments: list[str]) -> dict[str, dict[str, Inspection]]:
        """Per assignment, the inspections of the submissions that need grading."""
        work = {}
        for assignment in assignments:
            expected = release_cells(self.course, assignment)
            work[assignment] = {}
            for student in submitted_students(self.course, assignment):
                inspection = inspect_submission(self.course / "submitted" / student / assignment, expected)
                recorded = self.store.get(assignment, student)
                if self.force or recorded is None or recorded.fingerprint != inspection.fingerprint:
                    work[assignment][student] = inspection
        return work

    # ------------------------------------------------------------ run

    def run(self, assignments: list[str]) -> list[Outcome]:
        work = self.plan(assignments)
        self._total = sum(len(students) for students in work.values())
        outcomes = []
        for assignment in assignments:
            outcomes += self._grade_assignment(assignment, work[assignment])
            outcomes += self._record_missing(assignment)
        if self.feedback:
            from ..feedback_summary import write_student_summaries

            write_student_summaries(self.course, self.db_url)
        return outcomes

    def _grade_assignment(self, assignment: str, inspections: dict[str, Inspection]) -> list[Outcome]:
        outcomes = [self._skipped(assignment, student) for student in submitted_students(self.course, assignment)
                    if student not in inspections]
        unreadable = {s: i for s, i in inspections.items() if i.fatal}
        gradable = [s for s in inspections if s not in unreadable]
        logs = self._autograde(assignment, gradable)
        retry = [s for s in gradable if logs.get(s, StudentLog()).failed
                 and any(r in "\n".join(logs[s].lines) for r in RETRYABLE)]
        if retry:  # parallel workers may collide on SQLite's lock: once more, alone
            logs.update(self._autograde(assignment, retry, parallel=False, count=False))
        graded = []
        for student in inspections:
            inspection, log = inspections[student], logs.get(student, StudentLog())
            if student in unreadable:
                self._zero_submission(assignment, student)
                outcome = Outcome(assignment, student, FAILED, "; ".join(inspection.fatal + inspection.notes))
            elif log.failed or not self._autograded(assignment, student):
                outcome = Outcome(assignment, student, FAILED, "; ".join([failure_reason(log)] + inspection.notes))
            else:
                outcome = Outcome(assignment, student, GRADED, "; ".join(inspection.notes + log_notes(log)))
                graded.append(student)
            self.store.record(assignment, student, outcome.state, outcome.reason, inspection.fingerprint)
            outcomes.append(outcome)
        if self.feedback and graded:
            self._nbgrader("generate_feedback", assignment, "--force", *self._only(assignment, graded))
        return outcomes

    def _autograde(self, assignment: str, students: list[str], parallel: bool = True, count: bool = True):
        if not students:
            return {}
        shares = [students[i:: self.jobs] for i in range(self.jobs)] if parallel else [students]
        shares = [share for share in shares if share]
        with ThreadPoolExecutor(len(shares)) as pool:
            texts = pool.map(lambda share: self._nbgrader(
                "autograde", assignment, "--force", *self._only(assignment, share), *self.nbgrader_args,
                count=count), shares)
            logs = {}
            for text in texts:
                logs.update(split_log(text))
        return logs

    def _only(self, assignment: str, students: list[str]) -> list[str]:
        """nbgrader arguments restricting a run to ``students``."""
        others = sorted(set(submitted_students(self.course, assignment)) - set(students))
        return [f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []

    def _nbgrader(self, *args: str, count: bool = False) -> str:
        """Run nbgrader, following its log for progress; return the log."""
        process = subprocess.Popen(
            nbgrader_command(*args), cwd=self.course, env=nbgrader_env(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
        )
        lines = []
        for line in process.stdout:
            lines.append(line)
            if count and _STUDENT_STARTS.search(line):
                self._advance()
        process.wait()
        return "".join(lines)

    def _advance(self) -> None:
        with self._lock:
            self._done += 1
            if self.progress:
                self.progress(min(self._done, self._total), self._total)

    # ------------------------------------------------------------ outcomes

    def _autograded(self, assignment: str, student: str) -> bool:
        return (self.course / "autograded" / student / assignment).is_dir()

    def _skipped(self, assignment: str, student: str) -> Outcome:
        recorded = self.store.get(assignment, student)
        return Outcome(assignment, student, recorded.state, recorded.reason, skipped=True)

    def _zero_submission(self, assignment: str, student: str) -> None:
        """Give an ungradable submission its 0 in the gradebook, as nbgrader does for a missing notebook."""
        with Gradebook(self.db_url) as gradebook, warnings.catch_warnings():
            # nbgrader's own models warn under SQLAlchemy 2 on creating a submission
            warnings.simplefilter("ignore", SAWarning)
            gradebook.update_or_create_student(student)
            submission = gradebook.update_or_create_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
            gradebook.db.commit()

    def _record_missing(self, assignment: str) -> list[Outcome]:
        submitted = set(submitted_students(self.course, assignment))
        with Gradebook(self.db_url) as gradebook:
            students = [student.id for student in gradebook.students]
            try:
                gradebook.find_assignment(assignment)
            except MissingEntry:
                return []
        outcomes = []
        for student in sorted(set(students) - submitted):
            self.store.record(assignment, student, MISSING, "nothing was submitted: it scores 0")
            outcomes.append(Outcome(assignment, student, MISSING, "nothing was submitted: it scores 0"))
        return outcomes
