"""The course's calendar as data: what is assigned, from when, due when, and for whom it is due later.

- The due date of an exercise is nbgrader's own ``assignment.duedate`` (nbgrader's late
  logic, the formgrader and ``nbgrader autograde`` read it there).
- Whether an exercise is assigned, and from when (``opens``), is a row of
  ``gradebook_tools_calendar``, a table of the gradebook's database beside nbgrader's
  (as :mod:`~gradebook_tools.gradebook.roster_store` adds class sections). Once that
  table holds any row, the calendar decides: an exercise without a row is not
  assigned yet. A gradebook that never had a calendar counts every exercise.
- Per-student extensions (``gradebook_tools_extension``: a fixed new due date, *until*,
  or a number of hours on top of the class's due date, which moves with it) and
  accommodations (``gradebook_tools_accommodation``: hours on every exercise).
- Late days a student spent on an exercise (``gradebook_tools_late_days``).

All times are UTC, stored naive, as nbgrader stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text, inspect, select
from sqlalchemy.engine import Connection, Engine

from gradebook_tools.gradebook.schema import ASSIGNMENT

METADATA = MetaData()
CALENDAR = Table(
    "gradebook_tools_calendar",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("assigned", Boolean, nullable=False, default=True),
    Column("opens", DateTime, nullable=True),
)
EXTENSIONS = Table(
    "gradebook_tools_extension",
    METADATA,
    Column("student", String(128), primary_key=True),
    Column("assignment", String(128), primary_key=True),
    Column("until", DateTime, nullable=True),
    Column("hours", Float, nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Column("granted_by", String(256), nullable=False, default=""),
    Column("granted_at", DateTime, nullable=False),
)
ACCOMMODATIONS = Table(
    "gradebook_tools_accommodation",
    METADATA,
    Column("student", String(128), primary_key=True),
    Column("hours", Float, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("granted_by", String(256), nullable=False, default=""),
    Column("granted_at", DateTime, nullable=False),
)
LATE_DAYS = Table(
    "gradebook_tools_late_days",
    METADATA,
    Column("student", String(128), primary_key=True),
    Column("assignment", String(128), primary_key=True),
    Column("days", Integer, nullable=False),
    # True: the student or the instructor asked for them; False: spent automatically
    Column("requested", Boolean, nullable=False, default=False),
)
TABLES = [CALENDAR, EXTENSIONS, ACCOMMODATIONS, LATE_DAYS]


def utc_now() -> datetime:
    """Now, UTC, naive (as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_time(text: str) -> datetime:
    """A date and time as an instructor writes it (``2027-02-01 17:00``; UTC unless an offset is given).

    Raises
    ------
    ValueError
        Not a date and time.
    """
    from dateutil.parser import parse

    value: datetime = parse(text)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def ensure_tables(bind: Engine | Connection) -> None:
    """Create the calendar's tables where missing."""
    METADATA.create_all(bind, tables=TABLES, checkfirst=True)


def has_tables(bind: Engine | Connection) -> bool:
    return CALENDAR.name in inspect(bind).get_table_names()


@dataclass(frozen=True)
class Extension:
    """More time for one student on one exercise: a fixed due date or hours after the class's."""

    student: str
    assignment: str
    until: datetime | None
    hours: float | None
    reason: str = ""
    granted_by: str = ""
    granted_at: datetime | None = None

    def describe(self) -> str:
        if self.until is not None:
            return f"until {self.until:%Y-%m-%d %H:%M} UTC"
        return f"+{self.hours:g} h after the class's due date"


@dataclass(frozen=True)
class Accommodation:
    """Hours added to a student's due date of every exercise, past and future."""

    student: str
    hours: float
    reason: str = ""
    granted_by: str = ""
    granted_at: datetime | None = None


@dataclass(frozen=True)
class CalendarEntry:
    """One exercise on the calendar."""

    assignment: str
    due: datetime | None
    opens: datetime | None
    #: The calendar says it is handed out (from ``opens`` on, where set).
    assigned_flag: bool
    #: The calendar has a row for it.
    listed: bool

    def is_assigned(self, calendar_in_use: bool, now: datetime | None = None) -> bool:
        """Handed out by ``now``: always when the course keeps no calendar."""
        if not calendar_in_use:
            return True
        if not self.listed or not self.assigned_flag:
            return False
        return self.opens is None or self.opens <= (now or utc_now())


@dataclass
class Calendar:
    """Every exercise of the gradebook with its calendar, extensions, accommodations and late days."""

    entries: dict[str, CalendarEntry]
    in_use: bool
    extensions: dict[tuple[str, str], Extension]
    accommodations: dict[str, Accommodation]
    #: (student, assignment) -> (days, requested)
    late_days: dict[tuple[str, str], tuple[int, bool]]

    def assigned(self, now: datetime | None = None) -> list[str]:
        """The exercises handed out by ``now``, by name."""
        return sorted(name for name, entry in self.entries.items() if entry.is_assigned(self.in_use, now))

    def personal_due(self, student: str, assignment: str) -> datetime | None:
        """The student's due date without late days: class's + accommodation, or the extension's."""
        entry = self.entries.get(assignment)
        if entry is None or entry.due is None:
            return None
        accommodation = self.accommodations.get(student)
        due = entry.due + timedelta(hours=accommodation.hours if accommodation else 0)
        extension = self.extensions.get((student, assignment))
        if extension is None:
            return due
        if extension.until is not None:
            return max(due, extension.until)  # a fixed date stays put, never before the class's own
        return due + timedelta(hours=extension.hours or 0)

    def due_for(self, student: str, assignment: str) -> datetime | None:
        """The student's due date with the late days spent on it."""
        due = self.personal_due(student, assignment)
        days = self.late_days.get((student, assignment), (0, False))[0]
        return due + timedelta(days=days) if due is not None else None

    def missing_counts(self, student: str, assignment: str, now: datetime | None = None) -> bool:
        """Whether a student who submitted nothing is *missing* now: assigned, and their own due date passed.

        An exercise without a due date counts as due (nbgrader's own view).
        """
        entry = self.entries.get(assignment)
        if entry is not None and not entry.is_assigned(self.in_use, now):
            return False
        due = self.due_for(student, assignment)
        return due is None or due <= (now or utc_now())

    def late_days_used(self, student: str) -> int:
        return sum(days for (who, _), (days, _) in self.late_days.items() if who == student)

    def why_due(self, student: str, assignment: str) -> list[str]:
        """What moved a student's due date from the class's: e.g. ``["extension +48 h ...", "1 late day spent"]``.

        The one phrasing of it, for the summary page's calendar and the feedback page.
        """
        because = []
        accommodation = self.accommodations.get(student)
        if accommodation and self.personal_due(student, assignment) is not None:
            because.append(f"accommodation +{accommodation.hours:g} h")
        extension = self.extensions.get((student, assignment))
        if extension is not None:
            because.append(f"extension {extension.describe()}")
        days = self.late_days.get((student, assignment), (0, False))[0]
        if days:
            because.append(late_days_spent(days))
        return because


def late_days_spent(days: int) -> str:
    """``"1 late day spent"``, ``"2 late days spent"``."""
    return f"{days} late day{'s' if days != 1 else ''} spent"


def late_days_left_text(budget: int, used: int) -> str:
    """E.g. ``"2 of 3 late days left"``; ``""`` where the course gives none."""
    return f"{max(0, budget - used)} of {budget} late days left" if budget else ""


def read_calendar(bind: Engine | Connection) -> Calendar:
    """The course's calendar as stored (nbgrader's due dates, the course's tables)."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return read_calendar(connection)
    dues: dict[str, datetime | None] = dict(bind.execute(select(ASSIGNMENT.c.name, ASSIGNMENT.c.duedate)).all())
    if not has_tables(bind):
        entries = {name: CalendarEntry(name, due, None, True, False) for name, due in dues.items()}
        return Calendar(entries, False, {}, {}, {})
    rows = {row.assignment: row for row in bind.execute(select(CALENDAR))}
    entries = {
        name: CalendarEntry(
            name,
            dues.get(name),
            rows[name].opens if name in rows else None,
            bool(rows[name].assigned) if name in rows else False,
            name in rows,
        )
        for name in sorted(set(dues) | set(rows))
    }
    extensions = {
        (row.student, row.assignment): Extension(
            row.student, row.assignment, row.until, row.hours, row.reason, row.granted_by, row.granted_at
        )
        for row in bind.execute(select(EXTENSIONS))
    }
    accommodations = {
        row.student: Accommodation(row.student, row.hours, row.reason, row.granted_by, row.granted_at)
        for row in bind.execute(select(ACCOMMODATIONS))
    }
    late_days = {
        (row.student, row.assignment): (row.days, bool(row.requested)) for row in bind.execute(select(LATE_DAYS))
    }
    return Calendar(entries, bool(rows), extensions, accommodations, late_days)


def assigned_names(bind: Engine | Connection, now: datetime | None = None) -> set[str] | None:
    """The exercises handed out by ``now``; None when the course keeps no calendar (all count)."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return assigned_names(connection, now)
    if not has_tables(bind):
        return None
    rows = bind.execute(select(CALENDAR)).all()
    if not rows:
        return None
    moment = now or utc_now()
    return {row.assignment for row in rows if row.assigned and (row.opens is None or row.opens <= moment)}


# ---------------------------------------------------------------- writing (in the caller's transaction)


def _upsert(connection: Connection, table: Table, keys: dict[str, Any], values: dict[str, Any]) -> None:
    where = [table.c[name] == value for name, value in keys.items()]
    if connection.execute(select(*[table.c[name] for name in keys]).where(*where)).first():
        connection.execute(table.update().where(*where).values(**values))
    else:
        connection.execute(table.insert().values(**keys, **values))


def set_calendar(
    connection: Connection,
    assignment: str,
    *,
    due: datetime | None = None,
    clear_due: bool = False,
    opens: datetime | None = None,
    assigned: bool | None = None,
) -> None:
    """Set an exercise's due date (nbgrader's ``assignment.duedate``), opening time and assigned flag.

    A new calendar row is assigned unless ``assigned`` is False.
    """
    ensure_tables(connection)
    if due is not None or clear_due:
        connection.execute(ASSIGNMENT.update().where(ASSIGNMENT.c.name == assignment).values(duedate=due))
    existing = connection.execute(select(CALENDAR).where(CALENDAR.c.assignment == assignment)).first()
    values: dict[str, Any] = {}
    if opens is not None:
        values["opens"] = opens
    if assigned is not None:
        values["assigned"] = assigned
    elif existing is None:
        values["assigned"] = True
    if existing is None or values:
        _upsert(connection, CALENDAR, {"assignment": assignment}, values)


def grant_extension(connection: Connection, extension: Extension) -> None:
    ensure_tables(connection)
    _upsert(
        connection,
        EXTENSIONS,
        {"student": extension.student, "assignment": extension.assignment},
        {
            "until": extension.until,
            "hours": extension.hours,
            "reason": extension.reason,
            "granted_by": extension.granted_by,
            "granted_at": extension.granted_at or utc_now(),
        },
    )


def revoke_extension(connection: Connection, student: str, assignment: str) -> bool:
    """Remove an extension; False when there was none."""
    ensure_tables(connection)
    result = connection.execute(
        EXTENSIONS.delete().where(EXTENSIONS.c.student == student, EXTENSIONS.c.assignment == assignment)
    )
    return bool(result.rowcount)


def set_accommodation(connection: Connection, accommodation: Accommodation | None, student: str) -> None:
    """Set (or, with None, remove) a student's accommodation."""
    ensure_tables(connection)
    connection.execute(ACCOMMODATIONS.delete().where(ACCOMMODATIONS.c.student == student))
    if accommodation is not None:
        connection.execute(
            ACCOMMODATIONS.insert().values(
                student=student,
                hours=accommodation.hours,
                reason=accommodation.reason,
                granted_by=accommodation.granted_by,
                granted_at=accommodation.granted_at or utc_now(),
            )
        )


def write_late_days(connection: Connection, student: str, spent: dict[str, tuple[int, bool]]) -> None:
    """Replace a student's late days: assignment -> (days, requested); 0 days are dropped."""
    ensure_tables(connection)
    connection.execute(LATE_DAYS.delete().where(LATE_DAYS.c.student == student))
    rows = [
        {"student": student, "assignment": name, "days": days, "requested": requested}
        for name, (days, requested) in spent.items()
        if days > 0 or requested
    ]
    if rows:
        connection.execute(LATE_DAYS.insert(), rows)


def assigned_of(names: list[str], db_url: str) -> list[str]:
    """``names`` that the calendar has handed out (all of them where the course keeps no calendar)."""
    from pathlib import Path

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(db_url if "://" in db_url else f"sqlite:///{Path(db_url).resolve()}")
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        return names  # no gradebook yet: no calendar
    engine = create_engine(url)
    try:
        assigned = assigned_names(engine)
    finally:
        engine.dispose()
    return names if assigned is None else [name for name in names if name in assigned]


#: The calendar's rows as plain data: table name -> rows (column -> value).
CalendarRows = dict[str, list[dict[str, Any]]]


def read_calendar_rows(bind: Engine | Connection) -> CalendarRows:
    """Every row of the calendar's tables ({} where the gradebook keeps no calendar)."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return read_calendar_rows(connection)
    if not has_tables(bind):
        return {}
    return {table.name: [dict(row._mapping) for row in bind.execute(select(table))] for table in TABLES}


def rows_for(rows: CalendarRows, student: str, assignment: str) -> CalendarRows:
    """The rows that decide one student's due date on one exercise, and their late days on every exercise.

    What a grading worker's private gradebook is given (:mod:`gradebook_tools.engine.task`),
    so that its late penalty and its feedback page start from the student's own due date.
    """
    if not rows:
        return {}

    def keep(row: dict[str, Any]) -> bool:
        if row.get("student", student) != student:
            return False
        # the exercise's calendar row and extension; the accommodation; late days on every exercise
        return row.get("assignment", assignment) == assignment or "days" in row

    return {name: [row for row in table_rows if keep(row)] for name, table_rows in rows.items()}


def write_calendar_rows(connection: Connection, rows: CalendarRows) -> None:
    """Add ``rows`` (of :func:`rows_for`) to a gradebook's calendar tables, created where missing."""
    if not rows:
        return
    ensure_tables(connection)
    for table in TABLES:
        if rows.get(table.name):
            connection.execute(table.insert(), rows[table.name])
