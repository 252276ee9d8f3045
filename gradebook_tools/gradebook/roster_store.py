"""The roster inside the gradebook: nbgrader's ``student`` table and the class sections beside it.

``gradebook-tools roster import roster.csv`` writes ids, names, emails and LMS
ids into nbgrader's own ``student`` table (through nbgrader's models, creating
the gradebook as nbgrader does when there is none yet), so that nbgrader's
formgrader, ``nbgrader export`` and every gradebook-tools command show the
names, and roster students who never submit anything count 0 and ``missing``.
nbgrader has no column for a class section (lab or tutorial group): those go
into a table of the gradebook's own database, ``gradebook_tools_class_section``,
which nbgrader ignores (like :mod:`gradebook_tools.gradebook.outcomes`).

The import is idempotent: a second run of the same file changes nothing and
says so. It never deletes a student (students own submissions and grades):
gradebook students the roster lacks are named in the report.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, inspect, select
from sqlalchemy.engine import Engine

from gradebook_tools.gradebook.roster import Roster

METADATA = MetaData()
CLASS_SECTIONS = Table(
    "gradebook_tools_class_section",
    METADATA,
    Column("student_id", String(128), primary_key=True),
    Column("class_section", String(128), nullable=False),
)

#: Roster columns that go to nbgrader's ``student`` table, by nbgrader's attribute names.
STUDENT_FIELDS = ("first_name", "last_name", "email", "lms_user_id")


@dataclass
class ImportReport:
    """What an import did, student by student."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Gradebook students the roster does not list (kept).
    not_on_roster: list[str] = field(default_factory=list)


def import_roster(roster: Roster, db_url: str, course_id: str = "") -> ImportReport:
    """Add or update every roster student in the gradebook at ``db_url``, and their class sections.

    Empty cells of the roster leave what the gradebook already holds. The
    gradebook is created, as nbgrader creates it, when there is none yet.
    """
    _alembic_on_path()  # nbgrader stamps a new gradebook with the version the ``alembic`` command prints
    from nbgrader.api import Gradebook, Student

    report = ImportReport()
    with Gradebook(db_url, course_id=course_id) as gradebook:
        session = gradebook.db
        existing = {student.id: student for student in session.query(Student)}
        sections = read_class_sections(gradebook.engine) or {}
        for entry in roster.entries.values():
            wanted = {name: getattr(entry, name) for name in STUDENT_FIELDS if getattr(entry, name)}
            student = existing.get(entry.student_id)
            if student is None:
                session.add(Student(id=entry.student_id, **wanted))
                report.added.append(entry.student_id)
                continue
            changed = {name: value for name, value in wanted.items() if getattr(student, name) != value}
            for name, value in changed.items():
                setattr(student, name, value)
            if changed or sections.get(entry.student_id) != entry.class_section:
                report.updated.append(entry.student_id)
            else:
                report.unchanged.append(entry.student_id)
        session.commit()
        write_class_sections(gradebook.engine, {e.student_id: e.class_section for e in roster.entries.values()})
        report.not_on_roster = sorted(set(existing) - set(roster.entries))
    return report


def _alembic_on_path() -> None:
    bin_folder = str(Path(sys.executable).parent)
    if bin_folder not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_folder + os.pathsep + os.environ.get("PATH", "")


def write_class_sections(engine: Engine, sections: dict[str, str]) -> None:
    """Set the class section of these students (others keep theirs)."""
    METADATA.create_all(engine, tables=[CLASS_SECTIONS])
    with engine.begin() as connection:
        stored = dict(connection.execute(select(CLASS_SECTIONS.c.student_id, CLASS_SECTIONS.c.class_section)).all())
        for student_id, section in sections.items():
            if student_id not in stored:
                connection.execute(CLASS_SECTIONS.insert().values(student_id=student_id, class_section=section))
            elif stored[student_id] != section:
                connection.execute(
                    CLASS_SECTIONS.update()
                    .where(CLASS_SECTIONS.c.student_id == student_id)
                    .values(class_section=section)
                )


def read_class_sections(engine: Engine) -> dict[str, str] | None:
    """Student id -> class section as imported; None where no roster was ever imported."""
    if CLASS_SECTIONS.name not in inspect(engine).get_table_names():
        return None
    with engine.connect() as connection:
        rows = connection.execute(select(CLASS_SECTIONS.c.student_id, CLASS_SECTIONS.c.class_section)).all()
    return dict(rows) if rows else None
