"""Changes of the calendar that move scores: a due date, an extension, an accommodation, late days.

Each operation changes the calendar's tables and re-applies the late policy to the
submissions already graded (:func:`~gradebook_tools.gradebook.late_policy.reapply`: from
the submission's timestamp and the student's due date, no kernel runs), in one
transaction of nbgrader's ``Gradebook``: the ledger records every changed penalty.
With ``dry_run`` the same transaction is rolled back: the changes listed are
exactly the ones the same operation then applies.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning

from gradebook_tools.course.errors import UnknownNameError
from gradebook_tools.gradebook.late_policy import CourseLatePenalty, PenaltyPlan, apply_plan, plan_penalties


@dataclass(frozen=True)
class ScoreChange:
    """A submission whose score after the late penalty changes."""

    student: str
    assignment: str
    old: float  # score after penalty, before
    new: float
    due: str  # the student's due date and lateness now, in words

    @property
    def delta(self) -> float:
        return self.new - self.old

    def line(self) -> str:
        return f"{self.student} {self.assignment}: {self.old:g} -> {self.new:g} ({self.delta:+g}); {self.due}"


def score_changes(plan: PenaltyPlan, policy: CourseLatePenalty) -> list[ScoreChange]:
    """The submissions of a plan whose score changes, by student and exercise."""
    return [
        ScoreChange(
            item.student,
            item.assignment,
            item.score - item.old_penalty,
            item.score - item.new_penalty,
            item.describe(policy),
        )
        for item in plan.changed()
    ]


def change_calendar(
    db_url: str,
    course_id: str,
    policy: CourseLatePenalty,
    change: Callable[[Connection], None],
    why: str,
    students: set[str] | None = None,
    assignments: set[str] | None = None,
    dry_run: bool = False,
) -> list[ScoreChange]:
    """Make ``change`` to the calendar's tables and re-apply the late policy; return the score changes.

    Parameters
    ----------
    change
        Writes the calendar's tables on the transaction's connection
        (:mod:`gradebook_tools.gradebook.calendar`'s functions).
    why
        The ledger's reason for each re-applied penalty.
    students, assignments
        The submissions the change can affect (None: all).
    dry_run
        Change nothing: only report. On SQLite the operation runs on a copy of the
        gradebook (SQLite commits ``CREATE TABLE`` outside the transaction, so the
        calendar's and the ledger's tables made on first use would outlive a
        rollback); elsewhere its transaction is rolled back.
    """
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if dry_run and url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        import sqlite3
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory(prefix="calendar-preview-") as tmp:
            copy = Path(tmp) / "gradebook.db"
            original = Path(url.database).resolve().as_uri() + "?mode=ro"  # read only: not a byte of it changes
            with sqlite3.connect(original, uri=True) as source, sqlite3.connect(copy) as target:
                source.backup(target)
            source.close()
            target.close()
            return _change_calendar(
                f"sqlite:///{copy}", course_id, policy, change, why, students, assignments, dry_run=True
            )
    return _change_calendar(db_url, course_id, policy, change, why, students, assignments, dry_run)


def _change_calendar(
    db_url: str,
    course_id: str,
    policy: CourseLatePenalty,
    change: Callable[[Connection], None],
    why: str,
    students: set[str] | None,
    assignments: set[str] | None,
    dry_run: bool,
) -> list[ScoreChange]:
    from nbgrader.api import Gradebook

    from gradebook_tools.gradebook import ledger

    ledger.install()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(db_url, course_id) as gradebook:
            session = gradebook.db
            try:
                change(session.connection())
                plan = plan_penalties(session, policy, students, assignments)
                changes = score_changes(plan, policy)
                if dry_run:
                    session.rollback()
                else:
                    apply_plan(session, plan, why)
                    session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                gradebook.close()
                gradebook.engine.dispose()  # nbgrader leaves its engine's pool open
    return changes


def check_names(db_url: str, students: Iterable[str] = frozenset(), assignments: Iterable[str] = frozenset()) -> None:
    """Raise :class:`UnknownNameError` for a student or exercise the gradebook does not know."""
    from nbgrader.api import Assignment, Student
    from sqlalchemy import create_engine, select

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            known_students = set(connection.execute(select(Student.id)).scalars())
            known_assignments = set(connection.execute(select(Assignment.name)).scalars())
    finally:
        engine.dispose()
    for name in sorted(set(assignments) - known_assignments):
        raise UnknownNameError(
            f"no assignment {name!r} in the gradebook (known: {', '.join(sorted(known_assignments)) or 'none'}); "
            f"`nbgrader generate_assignment {name}` adds it"
        )
    for name in sorted(set(students) - known_students):
        raise UnknownNameError(f"no student {name!r} in the gradebook (gradebook-tools roster import adds students)")


def late_days_left(policy: CourseLatePenalty, used: int) -> int | None:
    """Late days a student has left; None where the course gives none."""
    return max(0, policy.late_days - used) if policy.late_days else None


def rounded(value: float) -> float:
    return 0.0 if math.isclose(value, 0.0, abs_tol=1e-9) else round(value, 6)
