"""The course's late policy, as traits of nbgrader's own late-penalty seam.

In ``nbgrader_config.py``::

    c.AssignLatePenalties.plugin_class = "gradebook_tools.gradebook.late_policy.CourseLatePenalty"
    c.CourseLatePenalty.percent_per_day = 10     # of the notebook's score, per day or part of a day late
    c.CourseLatePenalty.max_percent = 50         # the penalty never exceeds this
    c.CourseLatePenalty.cutoff_days = 7          # later than this: scores 0 (0: no cut-off)
    c.CourseLatePenalty.late_days = 3            # late days per student per term (0: none)
    c.CourseLatePenalty.late_days_spent = "auto" # or "on_request"

``nbgrader autograde`` calls the plugin through ``AssignLatePenalties``; the
grading engine's coordinator and the calendar and extension commands call
:func:`reapply`, which computes the same penalty from the student's own due
date (the class's, their accommodation, their extension, their late days) and
the submission's timestamp, without running anything. Each change goes
through nbgrader's models, so the ledger records it.

A day late is any part of 24 hours after the student's due date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from nbgrader.plugins import LateSubmissionPlugin
from sqlalchemy import func
from sqlalchemy.orm import Session
from traitlets import Enum, Float, Integer
from traitlets.config import Config

from gradebook_tools.gradebook.calendar import (
    Calendar,
    has_tables,
    late_days_spent,
    read_calendar,
    write_late_days,
)
from gradebook_tools.gradebook.schema import GRADE, grade_score

DAY = 86400.0


class CourseLatePenalty(LateSubmissionPlugin):  # type: ignore[misc]  # nbgrader is untyped
    """A percentage of the score per day late, up to a cap; zero after a final cut-off; late days."""

    percent_per_day = Float(0.0, help="Penalty per day (or part of a day) late, in % of the notebook's score.").tag(
        config=True
    )
    max_percent = Float(100.0, help="The penalty's cap, in % of the score.").tag(config=True)
    cutoff_days = Float(0.0, help="Later than this many days: the notebook scores 0 (0: no cut-off).").tag(config=True)
    late_days = Integer(0, help="Late days each student may spend in the term (0: none).").tag(config=True)
    late_days_spent = Enum(
        ("auto", "on_request"),
        default_value="auto",
        help="auto: spent where they save the student the most penalty; on_request: only where asked for.",
    ).tag(config=True)

    def fraction(self, seconds_late: float) -> float:
        """The share of the score lost ``seconds_late`` after the student's due date."""
        if seconds_late <= 0:
            return 0.0
        if self.penalty_method == "zero":  # nbgrader's own trait, honoured: late work scores 0
            return 1.0
        if self.cutoff_days and seconds_late > self.cutoff_days * DAY:
            return 1.0
        days = math.ceil(seconds_late / DAY)
        return min(self.max_percent, self.percent_per_day * days) / 100.0

    def describe(self) -> str:
        """The policy in one sentence."""
        parts = [f"{self.percent_per_day:g} % of the score per day late, at most {self.max_percent:g} %"]
        if self.cutoff_days:
            parts.append(f"0 after {self.cutoff_days:g} days")
        if self.late_days:
            parts.append(f"{self.late_days} late day(s) per term, spent {self.late_days_spent.replace('_', ' ')}")
        return "; ".join(parts)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        """nbgrader's call: the penalty from the student's own due date where the gradebook keeps a calendar.

        A grading worker's private gradebook holds only this student's calendar
        rows (the task carries them) and this submission: late days spread over
        other exercises are settled when the coordinator re-applies the policy
        as it writes the grades (:func:`reapply_after_grading`).
        """
        parent = self.parent
        gradebook = getattr(parent, "gradebook", None)
        assignment = getattr(parent, "assignment_id", None)
        if gradebook is not None and assignment and has_tables(gradebook.db.connection()):
            plan = plan_penalties(gradebook.db, self, students={student_id})
            apply_plan(gradebook.db, plan, why="late policy (nbgrader autograde)")
            submission = plan.submissions.get((student_id, assignment))
            if submission is not None:
                return self.fraction(submission.seconds_late) * score or None
        return self.fraction(total_seconds_late) * score or None


@dataclass
class SubmissionLateness:
    """One submission under the policy."""

    student: str
    assignment: str
    submission_id: str
    timestamp: datetime | None
    class_due: datetime | None
    due: datetime | None  # the student's, late days included
    late_days: int
    late_days_requested: bool
    score: float  # before any penalty
    old_penalty: float
    new_penalty: float
    #: notebook id -> (name, score, old penalty, new penalty)
    notebooks: dict[str, tuple[str, float, float, float]] = field(default_factory=dict)
    old_extension: timedelta | None = None

    @property
    def seconds_late(self) -> float:
        if self.timestamp is None or self.due is None:
            return 0.0
        return max(0.0, (self.timestamp - self.due).total_seconds())

    @property
    def new_extension(self) -> timedelta | None:
        if self.due is None or self.class_due is None or self.due == self.class_due:
            return None
        return self.due - self.class_due

    # One phrasing of each fact: the recorded reason (:meth:`describe`), the feedback page
    # (:mod:`gradebook_tools.pages.feedback_preprocessors`) and the previews compose these.

    def due_text(self) -> str:
        """The due date that applied, e.g. ``"2026-01-01 00:00 UTC"``."""
        return f"{self.due:%Y-%m-%d %H:%M} UTC" if self.due is not None else "no due date"

    def submitted_text(self) -> str:
        """When the submission was made (its ``timestamp.txt``)."""
        return f"{self.timestamp:%Y-%m-%d %H:%M} UTC" if self.timestamp is not None else "no time recorded"

    def lateness_text(self) -> str:
        """``"on time"`` or e.g. ``"30 h 00 min late (2 day(s))"``."""
        if not self.seconds_late:
            return "on time"
        return f"{_duration(self.seconds_late)} late ({math.ceil(self.seconds_late / DAY)} day(s))"

    def penalty_text(self, policy: CourseLatePenalty) -> str:
        """E.g. ``"1.6 of 8 (20 %)"``: points taken off the score earned."""
        return f"{self.new_penalty:g} of {self.score:g} ({policy.fraction(self.seconds_late) * 100:g} %)"

    def describe(self, policy: CourseLatePenalty) -> str:
        """Which due date applied, how late, the penalty."""
        if self.due is None:
            return "no due date"
        text = f"due {self.due_text()}"
        if self.late_days:
            text += f" ({late_days_spent(self.late_days)})"
        if not self.seconds_late:
            return text + ": on time"
        return f"{text}: {self.lateness_text()}, penalty {self.penalty_text(policy)}"


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours} h {rest // 60:02d} min"


@dataclass
class PenaltyPlan:
    """What the policy gives each submission now, beside what the gradebook holds."""

    submissions: dict[tuple[str, str], SubmissionLateness]
    calendar: Calendar

    def changed(self) -> list[SubmissionLateness]:
        """Submissions whose total penalty would change, by student and exercise."""
        return [
            s
            for key, s in sorted(self.submissions.items())
            if not math.isclose(s.old_penalty, s.new_penalty, abs_tol=1e-9)
        ]


def plan_penalties(
    session: Session,
    policy: CourseLatePenalty,
    students: set[str] | None = None,
    assignments: set[str] | None = None,
) -> PenaltyPlan:
    """The penalty of every graded submission (of these students / exercises) under the calendar now.

    Late days are allocated over all of a student's submissions (so every
    exercise of a student whose late days may move is planned).
    """
    calendar = read_calendar(session.connection())
    if assignments is not None and policy.late_days:
        assignments = None  # late days are spread over all of a student's exercises
    submissions = _read_submissions(session, calendar, students, assignments)
    by_student: dict[str, list[SubmissionLateness]] = {}
    for item in submissions.values():
        by_student.setdefault(item.student, []).append(item)
    for student, items in by_student.items():
        _allocate_late_days(policy, calendar, student, items)
    for item in submissions.values():
        fraction = policy.fraction(item.seconds_late)
        item.notebooks = {
            nb_id: (name, score, old, min(score, fraction * score))
            for nb_id, (name, score, old, _) in item.notebooks.items()
        }
        item.new_penalty = sum(new for _, _, _, new in item.notebooks.values())
    return PenaltyPlan(submissions, calendar)


def recorded_lateness(
    session: Session, student: str, assignment: str, notebook: str | None = None
) -> tuple[SubmissionLateness, Calendar] | None:
    """A graded submission's lateness as the gradebook holds it now, with the calendar; None if not submitted.

    The due date is the student's own with the late days recorded as spent on
    it (or the class's plus nbgrader's own ``extension`` where the calendar
    gives no reason); score and penalty are those recorded, of ``notebook``
    only where given. What the feedback page states (no policy is re-applied).
    """
    calendar = read_calendar(session.connection())
    item = _read_submissions(session, calendar, {student}, {assignment}).get((student, assignment))
    if item is None:
        return None
    item.late_days, item.late_days_requested = calendar.late_days.get((student, assignment), (0, False))
    item.due = calendar.due_for(student, assignment)
    if not calendar.why_due(student, assignment) and item.old_extension and item.class_due is not None:
        item.due = item.class_due + item.old_extension
    if notebook is not None:
        item.notebooks = {k: v for k, v in item.notebooks.items() if v[0] == notebook}
        item.score = sum(score for _, score, _, _ in item.notebooks.values())
        item.old_penalty = sum(old for _, _, old, _ in item.notebooks.values())
    item.new_penalty = item.old_penalty
    return item, calendar


def _read_submissions(
    session: Session, calendar: Calendar, students: set[str] | None, assignments: set[str] | None
) -> dict[tuple[str, str], SubmissionLateness]:
    """The graded submissions (of these students / exercises), each with its personal due date and scores."""
    from nbgrader.api import Assignment, Notebook, SubmittedAssignment, SubmittedNotebook

    query = (
        session.query(
            SubmittedNotebook.id,
            Notebook.name,
            SubmittedNotebook.late_submission_penalty,
            SubmittedAssignment.student_id,
            SubmittedAssignment.id,
            Assignment.name,
            Assignment.duedate,
            SubmittedAssignment.timestamp,
            SubmittedAssignment.extension,
        )
        .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
        .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
    )
    # the notebooks' scores in one grouped scan of ``grade`` (nbgrader's ``SubmittedNotebook.score``
    # is a correlated subquery per row: a scan of ``grade`` each in SQLite)
    score_query = (
        session.query(GRADE.c.notebook_id, func.sum(grade_score()))
        .join(SubmittedNotebook, SubmittedNotebook.id == GRADE.c.notebook_id)
        .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
    )
    if students is not None:
        query = query.filter(SubmittedAssignment.student_id.in_(students))
        score_query = score_query.filter(SubmittedAssignment.student_id.in_(students))
    if assignments is not None:
        query = query.filter(Assignment.name.in_(assignments))
        score_query = score_query.filter(Assignment.name.in_(assignments))
    scores = {nb_id: float(total or 0.0) for nb_id, total in score_query.group_by(GRADE.c.notebook_id)}
    submissions: dict[tuple[str, str], SubmissionLateness] = {}
    for nb_id, nb_name, penalty, student, submission_id, assignment, class_due, timestamp, extension in query:
        score = scores.get(nb_id, 0.0)
        key = (student, assignment)
        item = submissions.get(key)
        if item is None:
            item = submissions[key] = SubmissionLateness(
                student,
                assignment,
                submission_id,
                timestamp,
                class_due,
                calendar.personal_due(student, assignment),
                0,
                False,
                0.0,
                0.0,
                0.0,
                old_extension=extension,
            )
        item.score += score or 0.0
        item.old_penalty += penalty or 0.0
        item.notebooks[nb_id] = (nb_name, score or 0.0, penalty or 0.0, 0.0)
    return submissions


def _allocate_late_days(
    policy: CourseLatePenalty, calendar: Calendar, student: str, items: list[SubmissionLateness]
) -> None:
    """Spend the student's late days: as asked (on request), or where they save the most points (auto)."""
    requested = {name: days for (who, name), (days, asked) in calendar.late_days.items() if who == student and asked}
    budget = policy.late_days
    for item in items:
        days = min(requested.get(item.assignment, 0), budget) if budget else 0
        budget -= days
        item.late_days, item.late_days_requested = days, item.assignment in requested
    if policy.late_days_spent != "auto" or budget <= 0:
        _shift(items)
        return
    free = [item for item in items if item.assignment not in requested and item.due and item.timestamp]
    # best[k] = (points saved, allocation) with k days over the submissions seen so far (exact, small numbers)
    best: list[tuple[float, tuple[int, ...]]] = [(-1.0, ())] * (budget + 1)
    best[0] = (0.0, ())
    for item in free:
        assert item.timestamp and item.due  # kept by the filter above
        late = max(0.0, (item.timestamp - item.due).total_seconds())
        base = policy.fraction(late) * item.score
        options = [base - policy.fraction(late - d * DAY) * item.score for d in range(budget + 1)]
        new_best: list[tuple[float, tuple[int, ...]]] = [(-1.0, ())] * (budget + 1)
        for used, (saved, allocation) in enumerate(best):
            if saved < 0:
                continue
            for d in range(budget - used + 1):
                total = saved + options[d]
                current = new_best[used + d]
                if total > current[0] + 1e-9:
                    new_best[used + d] = (total, allocation + (d,))
        best = new_best
    # the most points saved, with the fewest days
    target = max(round(points, 9) for points, _ in best)
    allocation = next(chosen for points, chosen in best if points >= 0 and round(points, 9) == target)
    for item, days in zip(free, allocation, strict=False):
        item.late_days = days
    _shift(items)


def _shift(items: list[SubmissionLateness]) -> None:
    for item in items:
        if item.due is not None and item.late_days:
            item.due = item.due + timedelta(days=item.late_days)


def apply_plan(session: Session, plan: PenaltyPlan, why: str, skip_penalties: bool = False) -> int:
    """Write the plan through nbgrader's models (the ledger records each change); return the changed count.

    Sets each submission's ``extension`` (nbgrader's own due-date logic then
    sees the student's due date) and each notebook's ``late_submission_penalty``,
    and the late days spent. The caller commits.
    """
    from nbgrader.api import SubmittedAssignment, SubmittedNotebook

    from gradebook_tools.gradebook.ledger import acting

    items = list(plan.submissions.values())
    moved = {item.submission_id: item.new_extension for item in items if item.old_extension != item.new_extension}
    penalties = {
        nb_id: new
        for item in items
        for nb_id, (_, _, old, new) in item.notebooks.items()
        if not skip_penalties and not math.isclose(old, new, abs_tol=1e-9)
    }
    with acting(why=why):
        if moved:
            for submission in session.query(SubmittedAssignment).filter(SubmittedAssignment.id.in_(moved)):
                submission.extension = moved[submission.id]
        if penalties:
            for notebook in session.query(SubmittedNotebook).filter(SubmittedNotebook.id.in_(penalties)):
                notebook.late_submission_penalty = penalties[notebook.id] or None
        _write_late_days(session, plan, why)
        session.flush()  # the ledger's entries take this context's why
    return len(penalties)


def _write_late_days(session: Session, plan: PenaltyPlan, why: str) -> None:
    from gradebook_tools.gradebook.ledger import LedgerEntry, current_who, now, record

    connection = session.connection()
    students = {item.student for item in plan.submissions.values()}
    entries = []
    for student in sorted(students):
        before = {name: days for (who, name), (days, _) in plan.calendar.late_days.items() if who == student}
        after = {
            item.assignment: (item.late_days, item.late_days_requested)
            for item in plan.submissions.values()
            if item.student == student
        }
        # requests on exercises not submitted yet are kept
        for (who, name), (days, asked) in plan.calendar.late_days.items():
            if who == student and asked and name not in after:
                after[name] = (days, asked)
        if {n: d for n, (d, _) in after.items() if d} == {n: d for n, d in before.items() if d}:
            continue
        write_late_days(connection, student, after)
        for name in sorted(set(before) | set(after)):
            old, new = before.get(name, 0), after.get(name, (0, False))[0]
            if old != new:
                entries.append(
                    LedgerEntry(
                        now(), current_who(), student, name, "late days", float(old), float(new), why, kind="late days"
                    )
                )
    record(connection, entries)


def reapply(
    session: Session,
    policy: CourseLatePenalty,
    why: str,
    students: set[str] | None = None,
    assignments: set[str] | None = None,
) -> PenaltyPlan:
    """Plan and apply the policy to already graded submissions (no kernel runs); the caller commits."""
    plan = plan_penalties(session, policy, students, assignments)
    apply_plan(session, plan, why)
    return plan


def course_policy(config: Config) -> CourseLatePenalty:
    """The policy configured in a course's ``nbgrader_config.py``."""
    return CourseLatePenalty(config=config)


def policy_of(config: Config) -> CourseLatePenalty | None:
    """The course's policy when ``nbgrader_config.py`` makes it nbgrader's late-penalty plugin, else None."""
    plugin = config.get("AssignLatePenalties", {}).get("plugin_class")
    name = (
        plugin if isinstance(plugin, str) else f"{getattr(plugin, '__module__', '')}.{getattr(plugin, '__name__', '')}"
    )
    if not name.endswith("CourseLatePenalty"):
        return None
    return CourseLatePenalty(config=config)


def reapply_after_grading(session: Session, policy: CourseLatePenalty, student: str, assignment: str) -> str:
    """The grading engine's step once it wrote a submission's grades: the student's own due date applies.

    A grading worker's private gradebook knows only this submission; this
    re-applies the policy over all of the student's submissions (their late
    days; the ledger records any change). Returns the lateness in words when
    the submission is late, else ``""``. The caller commits.
    """
    plan = plan_penalties(session, policy, {student}, {assignment})
    apply_plan(session, plan, why="late policy (gradebook-tools grade)")
    item = plan.submissions.get((student, assignment))
    if item is None or not item.new_penalty:
        return ""
    return "submitted late: " + item.describe(policy)
