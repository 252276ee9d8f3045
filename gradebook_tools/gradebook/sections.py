"""Per curriculum section scores of every student: points, maximum, percentage.

A missing submission counts 0 and is listed as missing; a submission with a
manual grade still to give is counted as nbgrader counts it (the ungraded cell
scores 0 so far) and is listed as pending, with the points still open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gradebook_tools.course.config import CourseSections
from gradebook_tools.course.errors import UnknownNameError
from gradebook_tools.gradebook.scores import ClassScores, StudentInfo

#: Pseudo-section of gradebook assignments that no curriculum section lists, so
#: that the sections always add up to the overall total.
UNSECTIONED = "other"


@dataclass(frozen=True)
class SectionScore:
    """A student's result on a group of assignments."""

    points: float
    max_points: float
    missing: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    pending_points: float = 0.0

    @property
    def percentage(self) -> float:
        """Points over maximum in percent; NaN for a group worth nothing yet (none released)."""
        return 100.0 * self.points / self.max_points if self.max_points else math.nan

    @property
    def status(self) -> str:
        """``"pending"``, ``"missing"`` (pending wins: it can still change) or ``""``."""
        if self.pending:
            return "pending"
        return "missing" if self.missing else ""


@dataclass(frozen=True)
class StudentSections:
    """One student's row of the per-section table."""

    student: StudentInfo
    sections: dict[str, SectionScore]
    overall: SectionScore
    #: Overall percentage, weighted by section where weights are configured.
    overall_percentage: float


@dataclass
class SectionTable:
    """The per-section table of a class."""

    section_names: list[str]
    assignments_by_section: dict[str, list[str]]
    rows: list[StudentSections]
    weights: dict[str, float] = field(default_factory=dict)
    #: Configured assignments that the gradebook does not have (yet).
    not_in_gradebook: list[str] = field(default_factory=list)
    #: What the totals count, e.g. "of 20 points assigned so far (...)"; "" when every exercise counts.
    scope_note: str = ""

    def row(self, student_id: str) -> StudentSections:
        for row in self.rows:
            if row.student.id == student_id:
                return row
        raise UnknownNameError(f"unknown student {student_id!r}")

    def max_points(self, section: str) -> float:
        """Maximum of a section (the same for every student)."""
        return self.rows[0].sections[section].max_points if self.rows else 0.0


def group_assignments(scores: ClassScores, course: CourseSections) -> tuple[dict[str, list[str]], list[str]]:
    """Assignments of the gradebook per section, and configured ones it lacks.

    Sections keep their configured order; gradebook assignments that no section
    lists go to :data:`UNSECTIONED`.
    """
    in_gradebook = scores.assignment_names
    by_section = {
        section: [name for name in assignments if name in in_gradebook]
        for section, assignments in course.sections.items()
    }
    configured = course.section_of()
    unsectioned = [name for name in in_gradebook if name not in configured]
    if unsectioned:
        by_section[UNSECTIONED] = unsectioned
    absent = [name for name in configured if name not in in_gradebook and name not in scores.not_assigned]
    return by_section, absent


def score_assignments(
    scores: ClassScores, student_id: str, assignments: list[str], max_scores: dict[str, float] | None = None
) -> SectionScore:
    """Sum a student's scores over some assignments (``max_scores``: each one's maximum, if known)."""
    if max_scores is None:
        max_scores = {assignment.name: assignment.max_score for assignment in scores.assignments}
    points = 0.0
    missing, pending = [], []
    pending_points = 0.0
    for name in assignments:
        submission = scores.submission(student_id, name)
        if submission is None:
            if (student_id, name) not in scores.not_due:  # missing only once the student's own due date passed
                missing.append(name)
            continue
        points += submission.score
        if submission.is_pending:
            pending.append(name)
            pending_points += submission.pending_points
    return SectionScore(
        points=points,
        max_points=sum(max_scores[name] for name in assignments),
        missing=tuple(missing),
        pending=tuple(pending),
        pending_points=pending_points,
    )


def weighted_percentage(sections: dict[str, SectionScore], weights: dict[str, float], overall: SectionScore) -> float:
    """Weighted mean of section percentages, or points over maximum without weights.

    A section worth nothing yet (no assignment of it in the gradebook) is left
    out and the other weights renormalized, rather than counted as 0 %.
    """
    weighted = {
        name: weight
        for name, weight in weights.items()
        if name in sections and weight > 0 and sections[name].max_points > 0
    }
    total_weight = sum(weighted.values())
    if not total_weight:
        return overall.percentage
    return sum(sections[name].percentage * weight for name, weight in weighted.items()) / total_weight


def section_table(scores: ClassScores, course: CourseSections, student_ids: list[str] | None = None) -> SectionTable:
    """Build the per-section table of the class.

    Parameters
    ----------
    scores
        What :func:`gradebook_tools.gradebook.scores.read_class_scores` read.
    course
        The curriculum sections (and optional weights).
    student_ids
        Only these students, in this order (all where None).

    Raises
    ------
    UnknownNameError
        For a requested student the gradebook does not have.
    """
    by_section, absent = group_assignments(scores, course)
    students = _select_students(scores, student_ids)
    max_scores = {assignment.name: assignment.max_score for assignment in scores.assignments}
    all_names = scores.assignment_names
    rows = []
    for student in students:
        sections = {
            name: score_assignments(scores, student.id, names, max_scores) for name, names in by_section.items()
        }
        overall = score_assignments(scores, student.id, all_names, max_scores)
        rows.append(
            StudentSections(
                student=student,
                sections=sections,
                overall=overall,
                overall_percentage=weighted_percentage(sections, dict(course.weights), overall),
            )
        )
    return SectionTable(
        section_names=list(by_section),
        assignments_by_section=by_section,
        rows=rows,
        weights=dict(course.weights),
        not_in_gradebook=absent,
        scope_note=scores.scope_note,
    )


def _select_students(scores: ClassScores, student_ids: list[str] | None) -> list[StudentInfo]:
    if student_ids is None:
        return list(scores.students)
    known = {student.id: student for student in scores.students}
    unknown = [student_id for student_id in student_ids if student_id not in known]
    if unknown:
        raise UnknownNameError(f"unknown student(s): {', '.join(unknown)}")
    return [known[student_id] for student_id in student_ids]


def only_section(table: SectionTable, section: str) -> SectionTable:
    """The table restricted to one curriculum section.

    Raises
    ------
    UnknownNameError
        Naming the sections that exist.
    """
    if section not in table.section_names:
        raise UnknownNameError(f"unknown section {section!r}; sections: {', '.join(table.section_names) or '(none)'}")
    return SectionTable(
        section_names=[section],
        assignments_by_section={section: table.assignments_by_section[section]},
        rows=[
            StudentSections(
                student=row.student,
                sections={section: row.sections[section]},
                overall=row.sections[section],
                overall_percentage=row.sections[section].percentage,
            )
            for row in table.rows
        ],
        not_in_gradebook=table.not_in_gradebook,
    )


#: Column of the summaries that holds the overall percentage.
OVERALL = "overall"
#: Group of the summaries that holds the whole class.
WHOLE_CLASS = "all students"


@dataclass(frozen=True)
class Summary:
    """Count, centre and spread of some percentages."""

    count: int
    mean: float
    median: float
    #: Sample standard deviation (n - 1); NaN for fewer than two students.
    sd: float
    minimum: float
    maximum: float


def summarize(percentages: list[float]) -> Summary:
    """Summarize percentages, leaving out undefined ones (NaN); none gives count 0 and NaN elsewhere."""
    import numpy as np

    values = np.asarray(percentages, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan, nan)
    sd = float(np.std(values, ddof=1)) if values.size > 1 else float("nan")
    return Summary(
        count=int(values.size),
        mean=float(values.mean()),
        median=float(np.median(values)),
        sd=sd,
        minimum=float(values.min()),
        maximum=float(values.max()),
    )


def percentages_by_column(rows: list[StudentSections], section_names: list[str]) -> dict[str, list[float]]:
    """Each curriculum section's percentages, and the overall one, over some rows."""
    columns = {name: [row.sections[name].percentage for row in rows] for name in section_names}
    columns[OVERALL] = [row.overall_percentage for row in rows]
    return columns


def group_summaries(table: SectionTable, class_section_of: dict[str, str]) -> dict[str, dict[str, Summary]]:
    """Summaries per class section (and the whole class) and per curriculum section.

    Parameters
    ----------
    table
        The per-section table.
    class_section_of
        Student id -> class section, e.g. from
        :func:`gradebook_tools.gradebook.roster.assign_class_sections`.

    Returns
    -------
    dict
        Class section -> column (curriculum section or :data:`OVERALL`) ->
        :class:`Summary`, class sections sorted, :data:`WHOLE_CLASS` last.
    """
    groups: dict[str, list[StudentSections]] = {}
    for row in table.rows:
        groups.setdefault(class_section_of.get(row.student.id, ""), []).append(row)
    groups = dict(sorted(groups.items()))
    groups[WHOLE_CLASS] = list(table.rows)
    return {
        group: {
            column: summarize(values) for column, values in percentages_by_column(rows, table.section_names).items()
        }
        for group, rows in groups.items()
    }
