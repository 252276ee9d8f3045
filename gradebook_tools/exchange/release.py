"""``nbgrader release_assignment`` that warns when the exercise has no due date.

Configured in ``nbgrader_config.py`` as ``c.ExchangeFactory.release_assignment``. An
exercise released without a due date is never late and never *missing* before the
calendar gives it one (docs/calendar.md); the release itself goes ahead.
"""

from __future__ import annotations

from typing import Any

from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment


def missing_due_date(db_url: str, assignment: str) -> bool:
    """Whether the gradebook knows ``assignment`` and it has no due date."""
    from sqlalchemy import create_engine, inspect, select

    from gradebook_tools.gradebook.schema import ASSIGNMENT

    engine = create_engine(db_url)
    try:
        if ASSIGNMENT.name not in inspect(engine).get_table_names():
            return False
        with engine.connect() as connection:
            row = connection.execute(select(ASSIGNMENT.c.duedate).where(ASSIGNMENT.c.name == assignment)).first()
    finally:
        engine.dispose()
    return row is not None and row.duedate is None


class DueDateCheckedRelease(ExchangeReleaseAssignment):
    """nbgrader's release, with a warning for an exercise without a due date."""

    def start(self) -> Any:
        assignment = self.coursedir.assignment_id
        if assignment and missing_due_date(self.coursedir.db_url, assignment):
            self.log.warning(
                f"{assignment} has no due date: it is never late and never missing. Set one with "
                f'`gradebook-tools calendar set {assignment} --due "YYYY-MM-DD HH:MM"` (docs/calendar.md)'
            )
        return super().start()
