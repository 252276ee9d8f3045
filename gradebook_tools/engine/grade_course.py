"""One call grades a course: plan, grade, record, then the feedback pages and the student summary pages.

``gradebook-tools grade``, ``gradebook-tools feedback`` and the demo call :func:`grade_course`; the
command line only parses its options and prints what comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gradebook_tools.course.errors import CourseProblem, UnknownNameError
from gradebook_tools.gradebook.outcomes import SubmissionState

if TYPE_CHECKING:
    from traitlets.config import Config

    from gradebook_tools.engine.coordinator import Outcome
    from gradebook_tools.engine.preview import ScoreChange
    from gradebook_tools.engine.runner import Runner

__all__ = ["CourseProblem", "GradingRun", "course_root", "grade_course", "make_runner", "released_assignments"]


@dataclass
class GradingRun:
    """What one run of :func:`grade_course` did."""

    outcomes: list[Outcome] = field(default_factory=list)
    #: Assignments this run added to the gradebook from ``source/`` (their release matched).
    added: list[str] = field(default_factory=list)
    #: Submissions whose exercise feedback pages were remade because their grades changed.
    feedback_refreshed: int = 0
    #: Student summary pages written (only for students whose results changed, or who had none).
    summaries: list[Path] = field(default_factory=list)
    #: A dry run's preview: the submissions whose score the run would change (None: not a dry run).
    changes: list[ScoreChange] | None = None

    @property
    def any_failed(self) -> bool:
        return any(outcome.state == SubmissionState.FAILED for outcome in self.outcomes)


def course_root(course: Path | str) -> Path:
    """The course's root folder, resolved; :class:`CourseProblem` if it is not one."""
    root = Path(course).resolve()
    if not ((root / "nbgrader_config.py").is_file() and (root / "release").is_dir()):
        raise CourseProblem(
            f"{root} is not a course folder (it needs nbgrader_config.py and release/): "
            "run this in the course root, or pass --course"
        )
    return root


def released_assignments(course: Path, wanted: list[str] | None = None) -> list[str]:
    """``wanted``, each checked to have a release, or every assignment in ``release/``."""
    if not wanted:
        return sorted(path.name for path in (course / "release").iterdir() if path.is_dir())
    unknown = [name for name in wanted if not (course / "release" / name).is_dir()]
    if unknown:
        raise UnknownNameError(f"no release for: {', '.join(unknown)} (run nbgrader generate_assignment first)")
    return list(wanted)


def make_runner(jobs: int | None = None, scheduler: str | None = None, task_timeout: float = 3600) -> Runner:
    """This machine's cores (``jobs`` at once; default cores + 1), or the Dask cluster at ``scheduler``.

    Make it before importing nbgrader: local workers start getting ready at once.
    """
    if scheduler:
        from gradebook_tools.engine.dask import DaskRunner

        return DaskRunner(scheduler, task_timeout=task_timeout)
    from gradebook_tools.engine.local import LocalRunner

    return LocalRunner(jobs or None, task_timeout=task_timeout)


def grade_course(
    course: Path | str,
    db_url: str | None = None,
    assignments: list[str] | None = None,
    *,
    runner: Runner | None = None,
    force: bool = False,
    feedback: bool = True,
    regrade: bool = True,
    overrides: Config | None = None,
    progress: Callable[[int, int], None] | None = None,
    dry_run: bool = False,
) -> GradingRun:
    """Grade a course's submissions and write what students read.

    Parameters
    ----------
    course
        The course root (``nbgrader_config.py`` and ``release/``).
    db_url
        The gradebook's URL or SQLite path; nbgrader's when None.
    assignments
        What to grade; every assignment in ``release/`` when None or empty.
    runner
        Where tasks run (:func:`make_runner`); this machine's cores when None.
    force
        Grade again what is unchanged since its recorded outcome.
    feedback
        Write the exercise feedback pages and the student summary pages (those of the students
        whose results changed, and any missing; every one when ``regrade`` is False).
    regrade
        False: grade nothing, only remake the feedback of submissions whose grades changed since.
    overrides
        Configuration on top of the course's.
    progress
        ``progress(done, total)`` after each task.
    dry_run
        Grade in a scratch copy of the course and its gradebook (:mod:`.preview`) and change
        nothing; the run's ``changes`` list the scores that grading for real would change.

    Returns
    -------
    GradingRun
        One outcome per submission (and per student who submitted nothing), and the pages written.

    Raises
    ------
    CourseProblem
        The course's set-up stopped grading; nothing was recorded against a student.
    UnknownNameError
        An assignment has no release.
    """
    from gradebook_tools.course.config import open_course
    from gradebook_tools.engine.coordinator import BatchGrader
    from gradebook_tools.pages.student_summary import write_student_summaries

    root = course_root(course)
    names = released_assignments(root, assignments)
    db_url = open_course(root, db_url).db_url
    if not assignments:  # no names given: what the calendar has handed out (gradebook.calendar)
        from gradebook_tools.gradebook.calendar import assigned_of

        names = assigned_of(names, db_url)

    def grade(folder: Path, url: str, write_pages: bool) -> GradingRun:
        grader = BatchGrader(
            folder,
            url,
            runner=runner,
            force=force,
            feedback=write_pages,
            regrade=regrade,
            overrides=overrides,
            progress=progress,
        )
        run = GradingRun(grader.run(names))
        run.added, run.feedback_refreshed = grader.added, grader.feedback_refreshed
        if write_pages:
            # a grading run rewrites the summaries of the students whose results changed; remaking
            # the feedback (regrade=False) rewrites every one: a summary also shows what changes
            # outside grading (names, class sections, the calendar)
            changed = {outcome.student for outcome in run.outcomes if outcome.changed} | grader.refreshed_students
            run.summaries = write_student_summaries(folder, url, changed if regrade else None)
        return run

    if dry_run:
        from gradebook_tools.engine.preview import preview_grading

        run, changes = preview_grading(lambda folder, url: grade(folder, url, write_pages=False), root, db_url)
        run.changes = changes
        return run
    return grade(root, db_url, feedback)
