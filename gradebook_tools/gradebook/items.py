"""Item analysis: which exercises and which graded test cells students fail, and
which of them separate strong students from weak ones.

For every exercise (assignment) and every graded cell, over the students who
submitted it and whose grade on it is decided (pending manual grades are left
out and counted apart):

- ``mean``: mean score in points, and ``mean_fraction``: the same over the maximum;
- ``full_marks``: share of students with the maximum score;
- ``discrimination``: the upper-lower index D, the mean fraction of the
  strongest 27 % of those students minus that of the weakest 27 %, ranked by
  their course total (Kelley's groups). D runs from -1 to 1; below
  :data:`WEAK_DISCRIMINATION` an item barely tells strong from weak students.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from gradebook_tools.gradebook.scores import CellGrade

#: Share of the class in each of the upper and lower groups (Kelley, 1939).
GROUP_SHARE = 0.27
#: Below this D an item separates strong and weak students poorly (Ebel's rule of thumb).
WEAK_DISCRIMINATION = 0.2
#: Scores within this of the maximum count as full marks (floating-point sums).
FULL_MARKS_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ItemStats:
    """Statistics of one exercise (``cell`` is None) or one graded cell."""

    assignment: str
    cell: str | None
    cell_type: str
    max_score: float
    count: int
    mean: float
    full_marks: float
    discrimination: float
    pending: int

    @property
    def label(self) -> str:
        return self.assignment if self.cell is None else f"{self.assignment}/{self.cell}"

    @property
    def mean_fraction(self) -> float:
        return self.mean / self.max_score if self.max_score else float("nan")

    @property
    def weak(self) -> bool:
        """Whether the item separates strong from weak students poorly (False when D is undefined)."""
        return self.discrimination < WEAK_DISCRIMINATION


def discrimination_index(fractions: dict[str, float], totals: dict[str, float]) -> float:
    """Upper-lower discrimination index of one item.

    Parameters
    ----------
    fractions
        Student id -> score on the item over its maximum.
    totals
        Student id -> course total used to rank students (ties by student id).

    Returns
    -------
    float
        NaN for fewer than two students.

    Examples
    --------
    >>> discrimination_index({"a": 1.0, "b": 0.0}, {"a": 9.0, "b": 1.0})
    1.0
    """
    if len(fractions) < 2:
        return float("nan")
    ranked = sorted(fractions, key=lambda student: (-totals.get(student, 0.0), student))
    size = max(1, round(GROUP_SHARE * len(ranked)))
    upper, lower = ranked[:size], ranked[-size:]
    return (sum(fractions[s] for s in upper) - sum(fractions[s] for s in lower)) / size


def _item_stats(
    assignment: str,
    cell: str | None,
    cell_type: str,
    max_score: float,
    scores: dict[str, float],
    pending: int,
    totals: dict[str, float],
) -> ItemStats:
    count = len(scores)
    fractions = {student: score / max_score if max_score else 0.0 for student, score in scores.items()}
    return ItemStats(
        assignment=assignment,
        cell=cell,
        cell_type=cell_type,
        max_score=max_score,
        count=count,
        mean=sum(scores.values()) / count if count else float("nan"),
        full_marks=(
            sum(score >= max_score - FULL_MARKS_TOLERANCE for score in scores.values()) / count
            if count
            else float("nan")
        ),
        discrimination=discrimination_index(fractions, totals),
        pending=pending,
    )


def analyse_items(grades: list[CellGrade], totals: dict[str, float], assignments: list[str]) -> list[ItemStats]:
    """Item statistics per exercise and per graded cell.

    Parameters
    ----------
    grades
        Every cell grade, from :func:`gradebook_tools.gradebook.scores.read_cell_grades`.
    totals
        Student id -> course total, to rank students.
    assignments
        Assignments to analyse, in the order of the result.

    Returns
    -------
    list of ItemStats
        For each assignment, its exercise-level row, then its cells by name.
        An exercise's score leaves out submissions with a pending cell.
    """
    by_assignment: dict[str, list[CellGrade]] = {name: [] for name in assignments}
    for grade in grades:
        if grade.assignment in by_assignment:
            by_assignment[grade.assignment].append(grade)
    items = []
    for assignment, cell_grades in by_assignment.items():
        items.append(_exercise_stats(assignment, cell_grades, totals))
        items.extend(_cell_stats(assignment, cell_grades, totals))
    return items


def _exercise_stats(assignment: str, grades: list[CellGrade], totals: dict[str, float]) -> ItemStats:
    sums: dict[str, float] = {}
    pending_students = set()
    cells_max: dict[tuple[str, str], float] = {}
    for grade in grades:
        cells_max[(grade.notebook, grade.cell)] = grade.max_score
        sums[grade.student_id] = sums.get(grade.student_id, 0.0) + grade.score
        if grade.needs_manual_grade:
            pending_students.add(grade.student_id)
    decided = {student: total for student, total in sums.items() if student not in pending_students}
    return _item_stats(assignment, None, "exercise", sum(cells_max.values()), decided, len(pending_students), totals)


def _cell_stats(assignment: str, grades: list[CellGrade], totals: dict[str, float]) -> list[ItemStats]:
    cells: dict[tuple[str, str], list[CellGrade]] = {}
    for grade in grades:
        cells.setdefault((grade.notebook, grade.cell), []).append(grade)
    items = []
    for (_, cell), cell_grades in sorted(cells.items()):
        decided = {grade.student_id: grade.score for grade in cell_grades if not grade.needs_manual_grade}
        first = cell_grades[0]
        items.append(
            _item_stats(
                assignment, cell, first.cell_type, first.max_score, decided, len(cell_grades) - len(decided), totals
            )
        )
    return items


def decided_cells(items: list[ItemStats]) -> list[ItemStats]:
    """Graded cells whose every grade is decided: the ones the report ranks and plots.

    A cell with grades still pending is left out until it is graded (see
    :func:`pending_cells`): its decided grades alone are not a fair sample
    (an answer left blank is scored 0 at once, a written one waits for a
    human), so it would top "most failed" for no reason.
    """
    return [item for item in items if item.cell is not None and item.count and not item.pending]


def pending_cells(items: list[ItemStats]) -> list[ItemStats]:
    """Graded cells with at least one grade awaiting a manual grade."""
    return [item for item in items if item.cell is not None and item.pending]


# ---------------------------------------------------------------- named mistakes


@dataclass(frozen=True)
class MistakeCount:
    """How many students of a class section the grader found making one catalogued mistake."""

    assignment: str
    mistake: str
    about: str
    section: str
    students: int


def named_mistakes_in(notebook_path: str | os.PathLike[str]) -> dict[str, str]:
    """Id -> description of the catalogued mistakes the grader named in an autograded notebook ({} if none).

    Read from the verdicts' metadata (written by the grader alone), through
    :func:`gradebook_tools.grading.verdict.read_mistakes`.
    """
    from pathlib import Path

    import nbformat

    from gradebook_tools.course.cells import is_graded_test_cell
    from gradebook_tools.grading.verdict import read_mistakes

    path = Path(notebook_path)
    if not path.is_file():
        return {}
    notebook = nbformat.read(path, as_version=4)
    named: dict[str, str] = {}
    for cell in notebook.cells:
        if is_graded_test_cell(cell):
            for mistake in read_mistakes(cell):
                named.setdefault(mistake.id, mistake.about)
    return named


def count_named_mistakes(
    named: dict[tuple[str, str], dict[str, str]], class_section_of: dict[str, str] | None = None
) -> list[MistakeCount]:
    """Students per exercise, named mistake and class section, and for the whole class.

    Parameters
    ----------
    named
        (student, assignment) -> the mistakes named in that submission (id -> description),
        e.g. from :func:`named_mistakes_in`.
    class_section_of
        Student -> class section; students without one count in the whole class only.

    Returns
    -------
    list of MistakeCount
        Per assignment, most frequent mistake first; the whole class
        (:data:`gradebook_tools.gradebook.sections.WHOLE_CLASS`) before the sections.
    """
    from gradebook_tools.gradebook.sections import WHOLE_CLASS

    counts: dict[tuple[str, str, str], int] = {}
    about: dict[tuple[str, str], str] = {}
    for (student, assignment), mistakes in named.items():
        groups = [WHOLE_CLASS] + (
            [class_section_of[student]] if class_section_of and student in class_section_of else []
        )
        for mistake, description in mistakes.items():
            about[(assignment, mistake)] = description
            for group in groups:
                counts[(assignment, mistake, group)] = counts.get((assignment, mistake, group), 0) + 1

    def order(key: tuple[str, str, str]) -> tuple[str, int, str, bool, str]:
        assignment, mistake, group = key
        return (assignment, -counts[(assignment, mistake, WHOLE_CLASS)], mistake, group != WHOLE_CLASS, group)

    return [
        MistakeCount(assignment, mistake, about[(assignment, mistake)], group, counts[(assignment, mistake, group)])
        for assignment, mistake, group in sorted(counts, key=order)
    ]
