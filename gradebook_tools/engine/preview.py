"""A regrade preview: what ``gradebook-tools grade`` would change, worked out without changing anything.

Before a changed check, tolerance, late policy, deadline or extension takes effect, the instructor
sees exactly which students' scores would change and by how much. The run grades as the real one
would (the same plan, the same workers, the same seeds), but in a scratch copy of the course whose
gradebook is a copy of the real one; the real gradebook, ``autograded/``, ``feedback/`` and the
outcome table are only read. Applying the run afterwards gives exactly the previewed scores.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, create_engine, select

from gradebook_tools.gradebook.scores import ClassScores, read_class_scores

if TYPE_CHECKING:
    from collections.abc import Callable

    from gradebook_tools.engine.grade_course import GradingRun

    #: Grades the course at a folder into the gradebook at a URL.
    GradingRunFunction = Callable[[Path, str], GradingRun]

#: Score differences below this are rounding, not a change.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class ScoreChange:
    """One submission whose score the run would change."""

    student: str
    assignment: str
    old: float | None  # None: nothing recorded yet
    new: float | None  # None: the run would record nothing

    @property
    def delta(self) -> float:
        return (self.new or 0.0) - (self.old or 0.0)


def copy_gradebook(source_url: str, target_url: str) -> None:
    """Copy every table of a gradebook (nbgrader's and the course's own) into a new database.

    Tables are created from the source's own schema, read by reflection, parents before children.
    """
    source, target = create_engine(source_url), create_engine(target_url)
    try:
        metadata = MetaData()
        metadata.reflect(source)
        metadata.create_all(target)
        with source.connect() as reading, target.begin() as writing:
            for table in metadata.sorted_tables:
                rows = [dict(row._mapping) for row in reading.execute(select(table))]
                if rows:
                    writing.execute(table.insert(), rows)
    finally:
        source.dispose()
        target.dispose()


def scratch_course(course: Path, into: Path) -> Path:
    """A course folder in ``into`` that grades like ``course`` and writes only into ``into``.

    The course's own files (configuration, ``source/``, ``release/``) are copied; ``submitted/``
    is reached through a link to the real one, which the engine only reads, file by file, as data.
    """
    scratch = into / "course"
    scratch.mkdir(mode=0o700)
    shutil.copy(course / "nbgrader_config.py", scratch / "nbgrader_config.py")
    for folder in ("source", "release"):
        if (course / folder).is_dir():
            shutil.copytree(course / folder, scratch / folder, symlinks=True)
    if (course / "submitted").is_dir():
        os.symlink(course / "submitted", scratch / "submitted")
    return scratch


def score_changes(before: ClassScores, after: ClassScores) -> list[ScoreChange]:
    """The submissions whose score differs between two readings of a class, by student then assignment."""
    keys = sorted(before.submissions.keys() | after.submissions.keys())
    changes = []
    for student, assignment in keys:
        old, new = before.submission(student, assignment), after.submission(student, assignment)
        old_score = old.score if old else None
        new_score = new.score if new else None
        if old_score is None or new_score is None:
            changed = old_score != new_score
        else:
            changed = abs(old_score - new_score) > TOLERANCE
        if changed:
            changes.append(ScoreChange(student, assignment, old_score, new_score))
    return changes


def preview_grading(grade: GradingRunFunction, course: Path, db_url: str) -> tuple[GradingRun, list[ScoreChange]]:
    """Run ``grade(scratch_course, scratch_db_url)`` in a scratch copy; return its run and the score changes."""
    with tempfile.TemporaryDirectory(prefix="grade-preview-") as tmp:
        scratch = scratch_course(course, Path(tmp))
        scratch_url = f"sqlite:///{Path(tmp) / 'gradebook.db'}"
        copy_gradebook(db_url, scratch_url)
        run = grade(scratch, scratch_url)
        real, copy = create_engine(db_url), create_engine(scratch_url)
        try:
            changes = score_changes(read_class_scores(real), read_class_scores(copy))
        finally:
            real.dispose()
            copy.dispose()
    return run, changes
