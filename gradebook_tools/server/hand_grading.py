"""One hand-graded cell across the class: the queue, each answer, and saving a grade.

The tornado handlers (:mod:`gradebook_tools.server.handlers`) are thin; this
module holds what they serve, as plain data, so that it reads the same in a
test as in the Jupyter server:

- :func:`hand_graded_cells`: every hand-graded cell of the gradebook with how
  many answers are graded and left (the view's index);
- :func:`queue`: the answers of one cell in grading order, each by an opaque
  key (nbgrader's ``grade.id``); in blind mode shuffled per grader and without
  any name or id;
- :func:`answer`: the question, the student's answer rendered by the course's
  sanitizer (:func:`gradebook_tools.pages.html_safety.render_markdown`), the
  rubric and the grade so far; the identity only when not blind or once graded;
- :func:`save`: a rubric grade written through nbgrader's models
  (:func:`gradebook_tools.gradebook.rubrics.save_grade`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, select
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import Session

from gradebook_tools.course.config import Course
from gradebook_tools.course.files import read_regular
from gradebook_tools.course.student_ids import student_id_problem
from gradebook_tools.gradebook import rubrics
from gradebook_tools.pages.html_safety import render_markdown

if TYPE_CHECKING:
    from nbgrader.api import Gradebook

#: A notebook larger than this is not shown (a course notebook is well under 1 MiB).
MAX_NOTEBOOK_BYTES = 32 * 1024**2


@dataclass(frozen=True)
class CellKey:
    """One hand-graded cell of one notebook of one assignment."""

    assignment: str
    notebook: str
    cell: str


@dataclass(frozen=True)
class HandGradedCell:
    """A row of the view's index."""

    key: CellKey
    max_score: float
    done: int
    left: int


def open_gradebook(course: Course) -> Gradebook:
    """nbgrader's ``Gradebook`` of the course, its rubric tables created where missing."""
    from nbgrader.api import Gradebook

    gradebook = Gradebook(course.db_url, course.course_id)
    rubrics.create_tables(gradebook.engine)
    return gradebook


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """nbgrader 0.9's models make SQLAlchemy 2 warn on reads and writes that are fine."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield


def _grade_rows(session, key: CellKey | None = None):
    """The grades of hand-graded cells, with their student, cell, notebook, assignment and maximum."""
    from gradebook_tools.gradebook.schema import (
        ASSIGNMENT,
        BASE_CELL,
        GRADE,
        GRADE_CELLS,
        NOTEBOOK,
        STUDENT,
        SUBMITTED_ASSIGNMENT,
        SUBMITTED_NOTEBOOK,
    )

    query = (
        select(
            GRADE.c.id,
            GRADE.c.manual_score,
            GRADE.c.needs_manual_grade,
            STUDENT.c.id.label("student_id"),
            STUDENT.c.first_name,
            STUDENT.c.last_name,
            BASE_CELL.c.name.label("cell"),
            NOTEBOOK.c.name.label("notebook"),
            ASSIGNMENT.c.name.label("assignment"),
            GRADE_CELLS.c.max_score,
        )
        .select_from(GRADE)
        .join(BASE_CELL, BASE_CELL.c.id == GRADE.c.cell_id)
        .join(GRADE_CELLS, GRADE_CELLS.c.id == BASE_CELL.c.id)
        .join(SUBMITTED_NOTEBOOK, SUBMITTED_NOTEBOOK.c.id == GRADE.c.notebook_id)
        .join(SUBMITTED_ASSIGNMENT, SUBMITTED_ASSIGNMENT.c.id == SUBMITTED_NOTEBOOK.c.assignment_id)
        .join(STUDENT, STUDENT.c.id == SUBMITTED_ASSIGNMENT.c.student_id)
        .join(NOTEBOOK, NOTEBOOK.c.id == BASE_CELL.c.notebook_id)
        .join(ASSIGNMENT, ASSIGNMENT.c.id == NOTEBOOK.c.assignment_id)
        # graded by hand: a graded Markdown cell (the written answers)
        .where(cast(GRADE_CELLS.c.cell_type, String) == "markdown")  # an enum in PostgreSQL
    )
    if key is not None:
        query = query.where(
            ASSIGNMENT.c.name == key.assignment, NOTEBOOK.c.name == key.notebook, BASE_CELL.c.name == key.cell
        )
    return session.execute(query).all()


def hand_graded_cells(session: Session) -> list[HandGradedCell]:
    """Every hand-graded cell that has answers, with the count graded and left."""
    counts: dict[CellKey, list] = {}
    for row in _grade_rows(session):
        key = CellKey(row.assignment, row.notebook, row.cell)
        entry = counts.setdefault(key, [row.max_score, 0, 0])
        entry[1 if _graded(row) else 2] += 1
    return [
        HandGradedCell(key, *counts[key]) for key in sorted(counts, key=lambda k: (k.assignment, k.notebook, k.cell))
    ]


def _graded(row) -> bool:
    return row.manual_score is not None and not row.needs_manual_grade


def _identity(row) -> dict:
    name = " ".join(part for part in (row.first_name, row.last_name) if part)
    return {"student_id": row.student_id, "name": name or row.student_id}


def _blind_order(grader: str, key: CellKey, grade_id: str) -> str:
    """A shuffle of the answers of a cell, its own for each grader, the same at each visit."""
    seed = json.dumps([grader, key.assignment, key.notebook, key.cell, grade_id])
    return hashlib.sha256(seed.encode()).hexdigest()


def queue(session: Session, key: CellKey, blind: bool, grader: str) -> dict:
    """The answers of one cell in grading order, and the counts done and left.

    Each entry is ``{"key": grade id, "graded": bool}``, plus ``student_id`` and
    ``name`` only when not blind.
    """
    rows = _grade_rows(session, key)
    if blind:
        rows = sorted(rows, key=lambda row: _blind_order(grader, key, row.id))
    else:
        rows = sorted(rows, key=lambda row: row.student_id)
    entries = []
    for row in rows:
        entry = {"key": row.id, "graded": _graded(row)}
        if not blind:
            entry.update(_identity(row))
        entries.append(entry)
    done = sum(entry["graded"] for entry in entries)
    return {
        "cell": asdict(key),
        "blind": blind,
        "max_score": rows[0].max_score if rows else 0.0,
        "entries": entries,
        "done": done,
        "left": len(entries) - done,
        "items": [asdict(item) for item in rubrics.list_items(session, key.assignment, key.notebook, key.cell)],
        "comments": rubrics.reusable_comments(session, key.assignment, key.notebook, key.cell),
    }


def _row_of(session, grade_id: str):
    from nbgrader.api import Grade

    grade = session.get(Grade, grade_id)
    if grade is None:
        return None
    notebook = grade.notebook
    key = CellKey(notebook.assignment.name, notebook.name, grade.cell.name)
    for row in _grade_rows(session, key):
        if row.id == grade_id:
            return key, row
    return None


def answer(session: Session, course: Course, grade_id: str, blind: bool) -> dict | None:
    """One answer as the view shows it; None for an unknown key.

    The identity (``student``) is given when not blind, or once the answer is graded.
    """
    found = _row_of(session, grade_id)
    if found is None:
        return None
    key, row = found
    rubric = rubrics.read_grades(session, [grade_id]).get(grade_id)
    from nbgrader.api import Grade

    grade: Any = session.get(Grade, grade_id)  # there: the answer was found above
    _, comment = rubrics._nbgrader_rows(session, grade_id)
    graded = _graded(row)
    return {
        "key": grade_id,
        "cell": asdict(key),
        "question_html": question_html(course, key),
        "answer_html": answer_html(course, key, row.student_id),
        "max_score": row.max_score,
        "score": grade.manual_score if graded else None,
        "graded": graded,
        "rubric": asdict(rubric) if rubric else None,
        "comment": comment.manual_comment if comment is not None else None,
        "student": _identity(row) if (graded or not blind) else None,
    }


def save(session: Session, grade_id: str, body: dict, grader: str, blind: bool) -> dict:
    """Save a rubric grade from the view's JSON ``{"items": [...], "free_comment": "", "adjustment": 0}``."""
    items = body.get("items", [])
    if not isinstance(items, list) or not all(isinstance(item, int) for item in items):
        raise rubrics.RubricError("items must be a list of item ids")
    score, comment = rubrics.save_grade(
        session,
        grade_id,
        items,
        str(body.get("free_comment", "") or ""),
        body.get("adjustment", 0) or 0,
        grader,
    )
    found = _row_of(session, grade_id)
    assert found is not None  # it was just saved
    key, row = found
    counts = queue(session, key, blind, grader)
    return {
        "key": grade_id,
        "score": score,
        "comment": comment,
        "student": _identity(row),
        "done": counts["done"],
        "left": counts["left"],
        "comments": counts["comments"],
    }


# ---------------------------------------------------------------- notebooks on disk


def _read_notebook(path: Path) -> dict | None:
    """A notebook as JSON, opened without following a link; None if absent, not a file or unreadable."""
    content = read_regular(path, MAX_NOTEBOOK_BYTES)
    if content is None or len(content) > MAX_NOTEBOOK_BYTES:
        return None
    try:
        notebook = json.loads(content)
    except ValueError:
        return None
    return notebook if isinstance(notebook, dict) else None


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _cell_index(notebook: dict, grade_id: str) -> int | None:
    for index, cell in enumerate(notebook.get("cells", [])):
        if isinstance(cell, dict) and cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    return None


def _course_folder(course: Course, kind: str, student: str, key: CellKey) -> Path:
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=course.config, root=str(course.root))
    return Path(coursedir.format_path(getattr(coursedir, f"{kind}_directory"), student, key.assignment))


def question_html(course: Course, key: CellKey) -> str:
    """The Markdown cell above the answer cell in the release (else the source), rendered safely."""
    for kind in ("release", "source"):
        path = _course_folder(course, kind, ".", key) / f"{key.notebook}.ipynb"
        text = _question(str(path), _mtime(path), key.cell)
        if text is not None:
            return text
    return "<p>(The question was not found in the release or source notebook.)</p>"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@functools.lru_cache(maxsize=64)
def _question(path: str, mtime: float, grade_id: str) -> str | None:
    notebook = _read_notebook(Path(path))
    if notebook is None:
        return None
    index = _cell_index(notebook, grade_id)
    if index is None:
        return None
    cells = notebook["cells"]
    for cell in reversed(cells[:index]):
        if cell.get("cell_type") == "markdown" and not cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            return _nested(render_markdown(_source(cell), exclude_anchor_links=True))
    return None


_HEADING = re.compile(r"<(/?)h([1-6])\b")
_HEADING_LEVEL = re.compile(r"<h([1-6])\b")


def _nested(sanitized: str) -> str:
    """Headings of a rendered cell moved down to start at ``<h3>``: they sit below the view's own ``<h2>``.

    Applied to sanitized HTML, where every ``<h1>``-``<h6>`` is a real tag (text is escaped).
    """
    levels = [int(level) for level in _HEADING_LEVEL.findall(sanitized)]
    if not levels:
        return sanitized
    shift = 3 - min(levels)
    return _HEADING.sub(lambda m: f"<{m[1]}h{max(1, min(6, int(m[2]) + shift))}", sanitized)


def answer_html(course: Course, key: CellKey, student: str) -> str:
    """The student's answer cell (autograded notebook, else the submitted one), rendered safely."""
    if student_id_problem(student) is not None:
        return "<p>(This student's id is not safe to use in a path: open the submission by hand.)</p>"
    for kind in ("autograded", "submitted"):
        path = _course_folder(course, kind, student, key) / f"{key.notebook}.ipynb"
        notebook = _read_notebook(path)
        if notebook is None:
            continue
        index = _cell_index(notebook, key.cell)
        if index is None:
            continue
        cell = notebook["cells"][index]
        if cell.get("cell_type") == "markdown":
            return _nested(render_markdown(_source(cell), exclude_anchor_links=True))
        return f"<pre><code>{html.escape(_source(cell))}</code></pre>"
    return "<p>(No notebook with this answer was found for this submission.)</p>"
