"""A submission's grades as plain data: read, hashed and written back through nbgrader's ``Gradebook``.

The engine copies a submission's manual grades into a task's private gradebook and writes the
task's automatic grades back with these; feedback pages carry the digest of the snapshot they show.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypedDict, cast

from nbgrader.api import BaseCell, Comment, Grade, Gradebook, MissingEntry

GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
COMMENT_FIELDS = ("auto_comment", "manual_comment")


class GradeValues(TypedDict, total=False):
    """One graded cell's fields (:data:`GRADE_FIELDS`; a task's result carries only the automatic ones)."""

    auto_score: float | None
    manual_score: float | None
    extra_credit: float | None
    needs_manual_grade: bool


class CommentValues(TypedDict, total=False):
    """One cell's comments (:data:`COMMENT_FIELDS`)."""

    auto_comment: str | None
    manual_comment: str | None


class NotebookSnapshot(TypedDict):
    """One submitted notebook's late penalty, and its grades and comments by cell name."""

    late_submission_penalty: float | None
    grades: dict[str, GradeValues]
    comments: dict[str, CommentValues]


class Snapshot(TypedDict):
    """A submission's grades as plain data (JSON-able, picklable): what travels between coordinator and worker."""

    timestamp: str | None  # ISO text
    notebooks: dict[str, NotebookSnapshot]


def read_snapshot(gradebook: Gradebook, assignment: str, student: str) -> Snapshot | None:
    """A submission's grades, comments, timestamp and late penalties as plain data."""
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return None
    return {
        "timestamp": submission.timestamp.isoformat() if submission.timestamp else None,
        "notebooks": {
            notebook.name: {
                "late_submission_penalty": notebook.late_submission_penalty,
                "grades": {
                    name: cast(GradeValues, {f: getattr(g, f) for f in GRADE_FIELDS})
                    for g, name in _named(gradebook, Grade, notebook)
                },
                "comments": {
                    name: cast(CommentValues, {f: getattr(c, f) for f in COMMENT_FIELDS})
                    for c, name in _named(gradebook, Comment, notebook)
                },
            }
            for notebook in submission.notebooks
        },
    }


def _named(gradebook: Gradebook, model: type[Grade | Comment], notebook: Any) -> list[Any]:
    """A submitted notebook's ``Grade`` or ``Comment`` rows with their cells' names, in one query.

    (``grade.name`` is an association proxy: reading it loads the cell, one query a grade.)
    """
    query = gradebook.db.query(model, BaseCell.name).join(BaseCell, model.cell_id == BaseCell.id)
    rows: list[Any] = query.filter(model.notebook_id == notebook.id).all()
    return rows


def snapshot_digest(snapshot: Snapshot | None) -> str:
    """A hash of a snapshot: the feedback pages are current while it is unchanged."""
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True, default=str).encode()).hexdigest()


def apply_snapshot(
    gradebook: Gradebook,
    assignment: str,
    student: str,
    snapshot: Snapshot,
    grade_fields: tuple[str, ...] = GRADE_FIELDS,
    comment_fields: tuple[str, ...] = COMMENT_FIELDS,
    late: bool = True,
) -> None:
    """Set a submission's fields from a snapshot (the submission is created where missing)."""
    from nbgrader.utils import parse_utc

    gradebook.update_or_create_student(student)
    submission = gradebook.update_or_create_submission(assignment, student)
    submission.timestamp = parse_utc(snapshot.get("timestamp"))
    for notebook in submission.notebooks:
        data = snapshot["notebooks"].get(notebook.name)
        if data is None:
            continue
        if late:
            notebook.late_submission_penalty = data.get("late_submission_penalty")
        for rows, fields, values in (
            (_named(gradebook, Grade, notebook), grade_fields, cast(dict[str, dict[str, Any]], data["grades"])),
            (_named(gradebook, Comment, notebook), comment_fields, cast(dict[str, dict[str, Any]], data["comments"])),
        ):
            for row, cell in rows:
                for name in fields:
                    if name in values.get(cell, {}):
                        setattr(row, name, values[cell][name])
    gradebook.db.commit()


def zero_submission(gradebook: Gradebook, assignment: str, student: str) -> None:
    """An ungradable submission scores 0 in the gradebook, as nbgrader does for a missing notebook."""
    gradebook.update_or_create_student(student)
    submission = gradebook.update_or_create_submission(assignment, student)
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
    gradebook.db.commit()
