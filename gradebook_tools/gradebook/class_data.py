"""Loading a class: the course's curriculum sections, the gradebook's scores and the roster, in one place.

The command line's reading commands, the report and nbgrader's export plugin all read a class
through :func:`read_class` (or :func:`load_class`, which opens the course first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.engine import Engine

from gradebook_tools.course.config import CourseSections, open_course
from gradebook_tools.course.errors import EmptyClassError
from gradebook_tools.gradebook.roster import NOT_ON_ROSTER, assign_class_sections, read_roster
from gradebook_tools.gradebook.roster_store import read_class_sections
from gradebook_tools.gradebook.scores import ClassScores, StudentInfo, open_gradebook, read_class_scores
from gradebook_tools.gradebook.sections import UNSECTIONED

#: Where messages for the instructor go (the command line prints them as warnings).
Warn = Callable[[str], None]


def _ignore(message: str) -> None:
    """Drop a message (callers that log elsewhere)."""


@dataclass
class ClassData:
    """A class as the reading commands see it: the course's sections, the gradebook and its scores."""

    course: CourseSections
    engine: Engine
    scores: ClassScores
    #: Student id -> class section, from the imported roster or ``--roster``; None when there is none.
    class_section_of: dict[str, str] | None = None


def read_class(
    engine: Engine,
    course: CourseSections,
    roster_file: Path | None = None,
    warn: Warn = _ignore,
    whole_term: bool = False,
) -> ClassData:
    """The gradebook's scores and class sections.

    The roster is the one imported into the gradebook (``roster import``), or
    ``roster_file`` read as if it were: its names fill in the ones the
    gradebook lacks, and its students not in the gradebook are shown with 0
    and ``missing``. Only the exercises handed out so far count, unless ``whole_term``.
    """
    data = ClassData(course, engine, read_class_scores(engine, whole_term))
    if roster_file:
        _apply_roster_file(data, roster_file, warn)
    else:
        stored = read_class_sections(engine)
        if stored is not None:
            data.class_section_of = {s.id: stored.get(s.id, NOT_ON_ROSTER) for s in data.scores.students}
    return data


def load_class(
    course_root: Path | str,
    db_url: str | None = None,
    roster_file: Path | None = None,
    warn: Warn = _ignore,
    whole_term: bool = False,
) -> ClassData:
    """Open the course at ``course_root`` and read its class (:func:`read_class`).

    Raises
    ------
    GradebookError
        No gradebook, or not nbgrader's.
    EmptyClassError
        The gradebook has no students or no assignments yet.
    """
    opened = open_course(course_root, db_url)
    course = opened.sections
    for problem in course.problems():
        warn(f"nbgrader_config.py: {problem}")
    if not course.sections:
        warn(
            "no curriculum sections configured (c.CourseSections.sections in nbgrader_config.py); "
            f"all assignments are shown as {UNSECTIONED!r}"
        )
    data = read_class(open_gradebook(opened.db_url), course, roster_file, warn, whole_term)
    if not data.scores.students:
        raise EmptyClassError(
            "the gradebook has no students yet (gradebook-tools roster import roster.csv, or nbgrader db student add)"
        )
    if not data.scores.assignments:
        raise EmptyClassError("the gradebook has no assignments yet (nbgrader generate_assignment)")
    return data


def _apply_roster_file(data: ClassData, path: Path, warn: Warn) -> None:
    """Read a roster file: class sections, missing names, and roster students the gradebook lacks."""
    roster = read_roster(path)
    for message in roster.messages:
        warn(message)
    known = {student.id for student in data.scores.students}
    students = []
    for student in data.scores.students:
        entry = roster.entries.get(student.id)
        if entry is not None and not (student.first_name or student.last_name):
            student = replace(
                student, first_name=entry.first_name, last_name=entry.last_name, email=student.email or entry.email
            )
        students.append(student)
    absent = [entry for entry in roster.entries.values() if entry.student_id not in known]
    if absent:
        warn(
            f"{len(absent)} roster student(s) not in the gradebook, shown with 0 and missing: "
            f"{', '.join(entry.student_id for entry in absent)} (gradebook-tools roster import adds them)"
        )
        students += [StudentInfo(entry.student_id, entry.first_name, entry.last_name, entry.email) for entry in absent]
    data.scores.students = sorted(students, key=lambda student: student.id)
    data.class_section_of, messages = assign_class_sections(roster, [student.id for student in data.scores.students])
    for message in messages:
        warn(message)
