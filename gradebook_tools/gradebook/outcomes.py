"""What happened to each submission, kept in a table of the gradebook's own database.

The table lives beside nbgrader's (SQLite or PostgreSQL alike), so that grading
workers on several machines share it, and nbgrader ignores it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, create_engine, select
from sqlalchemy.engine import Engine, Row


class SubmissionState(StrEnum):
    """What happened to one student's submission of one assignment: the one name for it everywhere
    (the engine's results, this table, the command line, the student's summary page)."""

    GRADED = "graded"  # autograded; notes may still name problems that were repaired
    FAILED = "failed"  # could not be graded; the reason says why; it scores 0
    MISSING = "missing"  # nothing was submitted
    REFUSED = "refused"  # the exchange refused it (not its claimed student's own); never collected


GRADED, FAILED, MISSING = SubmissionState.GRADED, SubmissionState.FAILED, SubmissionState.MISSING
REFUSED = SubmissionState.REFUSED

METADATA = MetaData()
STATUS = Table(
    "gradebook_tools_status",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("fingerprint", String(64), nullable=False, default=""),
    Column("updated", DateTime, nullable=False),
)
#: Submissions ``collect`` refused (gradebook_tools.exchange.collect): one row per folder of the exchange's
#: inbound, apart from the outcomes, so that a refused attempt never hides the claimed student's own outcome.
REFUSALS = Table(
    "gradebook_tools_refused_submissions",
    METADATA,
    Column("inbound", String(512), primary_key=True),  # the folder's name in the exchange's inbound/
    Column("assignment", String(128), nullable=False),
    Column("student", String(128), nullable=False),  # whom it claims to be from
    Column("reason", Text, nullable=False),
    Column("updated", DateTime, nullable=False),
)


@dataclass(frozen=True)
class Status:
    """The outcome of one submission."""

    assignment: str
    student: str
    state: SubmissionState
    reason: str  # what the instructor and the student are told; "" when all went well
    fingerprint: str  # hash of the submitted files that were graded
    updated: datetime.datetime


class StatusStore:
    """Read and write submission outcomes in the gradebook database at ``db_url``."""

    def __init__(self, db_url: str | Engine):
        self.engine = create_engine(db_url) if isinstance(db_url, str) else db_url
        METADATA.create_all(self.engine, tables=[STATUS, REFUSALS])

    def record(self, assignment: str, student: str, state: str, reason: str = "", fingerprint: str = "") -> None:
        row = dict(state=state, reason=reason, fingerprint=fingerprint, updated=datetime.datetime.now())
        key = (STATUS.c.assignment == assignment) & (STATUS.c.student == student)
        with self.engine.begin() as connection:
            if connection.execute(STATUS.update().where(key).values(**row)).rowcount == 0:
                connection.execute(STATUS.insert().values(assignment=assignment, student=student, **row))

    def record_refused(self, inbound: str, assignment: str, student: str, reason: str) -> None:
        """Record that the exchange's folder ``inbound``, claiming ``student``, was refused (kept once per folder)."""
        row = dict(assignment=assignment, student=student, reason=reason, updated=datetime.datetime.now())
        with self.engine.begin() as connection:
            key = REFUSALS.c.inbound == inbound
            if connection.execute(REFUSALS.update().where(key).values(**row)).rowcount == 0:
                connection.execute(REFUSALS.insert().values(inbound=inbound, **row))

    def refused(self, assignment: str | None = None) -> list[Status]:
        """The refused submissions, as outcomes in state ``refused`` (the folder's name is their fingerprint)."""
        query = select(REFUSALS).order_by(REFUSALS.c.assignment, REFUSALS.c.student, REFUSALS.c.inbound)
        if assignment is not None:
            query = query.where(REFUSALS.c.assignment == assignment)
        with self.engine.connect() as connection:
            return [
                Status(row.assignment, row.student, REFUSED, row.reason, row.inbound, row.updated)
                for row in connection.execute(query)
            ]

    def get(self, assignment: str, student: str) -> Status | None:
        key = (STATUS.c.assignment == assignment) & (STATUS.c.student == student)
        with self.engine.connect() as connection:
            row = connection.execute(select(STATUS).where(key)).first()
        return _status(row) if row else None

    def all(self, assignment: str | None = None) -> list[Status]:
        query = select(STATUS).order_by(STATUS.c.assignment, STATUS.c.student)
        if assignment is not None:
            query = query.where(STATUS.c.assignment == assignment)
        with self.engine.connect() as connection:
            return [_status(row) for row in connection.execute(query)]


def _status(row: Row[Any]) -> Status:
    values = dict(row._mapping)
    return Status(**{**values, "state": SubmissionState(values["state"])})
