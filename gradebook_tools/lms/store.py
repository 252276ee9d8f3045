"""What the tool remembers about the platform, in tables of the gradebook's own database.

Beside nbgrader's tables (SQLite or PostgreSQL alike; nbgrader ignores them):

- ``gradebook_tools_lms_member``: platform user id -> course student id, recorded
  when a roster is applied and never guessed again;
- ``gradebook_tools_lms_score``: the last score sent (or being sent) for each
  exercise and platform user, and its line item: only scores that differ are sent
  again. A row in state ``sending`` was written before its request went out; a
  push that finds one (an earlier push was interrupted) asks the platform's
  results whether it arrived before sending it again;
- ``gradebook_tools_lms_push_log``: every score the platform accepted, appended
  in the same transaction that marks it sent (the push log);
- ``gradebook_tools_lms_line_item``: the line item found or made for each
  exercise, for ``--dry-run`` (a real push always asks the platform).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    select,
    tuple_,
)
from sqlalchemy.engine import Connection, Engine

METADATA = MetaData()
MEMBERS = Table(
    "gradebook_tools_lms_member",
    METADATA,
    Column("user_id", String(255), primary_key=True),
    Column("student_id", String(128), nullable=False, unique=True),
    Column("mapped_by", String(128), nullable=False),
    Column("mapped_at", DateTime, nullable=False),
)
SCORES = Table(
    "gradebook_tools_lms_score",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("user_id", String(255), primary_key=True),
    Column("student_id", String(128), nullable=False),
    Column("line_item", Text, nullable=False),
    Column("score_given", Float, nullable=True),
    Column("score_maximum", Float, nullable=False),
    Column("activity_progress", String(32), nullable=False),
    Column("grading_progress", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("updated", DateTime, nullable=False),
    # while ``sending``: the score sent before and its line item, which the platform's results may still show
    Column("previous_score", Float, nullable=True),
    Column("previous_line_item", Text, nullable=True),
)
PUSH_LOG = Table(
    "gradebook_tools_lms_push_log",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment", String(128), nullable=False),
    Column("student_id", String(128), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("line_item", Text, nullable=False),
    Column("score_given", Float, nullable=True),
    Column("score_maximum", Float, nullable=False),
    Column("grading_progress", String(32), nullable=False),
    Column("sent_at", DateTime, nullable=False),
)
LINE_ITEMS = Table(
    "gradebook_tools_lms_line_item",
    METADATA,
    Column("resource_id", String(128), primary_key=True),
    Column("line_item", Text, nullable=False),
    Column("updated", DateTime, nullable=False),
)

SENDING = "sending"
SENT = "sent"


def _record_in_ledger(connection: Connection, accepted: list[tuple[SentScore, SentScore | None]]) -> None:
    """Append the pushes to the course's ledger (:mod:`gradebook_tools.gradebook.ledger`) where it exists."""
    try:
        from gradebook_tools.gradebook import ledger
    except ImportError:  # a course without the ledger: the push log is the record
        return
    now, who = ledger.now(), ledger.current_who()
    ledger.record(
        connection,
        [
            ledger.LedgerEntry(
                now,
                who,
                score.student_id,
                score.assignment,
                "total",
                previous.score_given if previous is not None and previous.state == SENT else None,
                score.score_given,
                f"pushed to the LMS ({score.grading_progress}) at {score.line_item}",
                kind="lms",
            )
            for score, previous in accepted
        ],
    )


#: Columns of ``gradebook_tools_lms_score`` besides its key.
_VALUE_COLUMNS = [column.name for column in SCORES.columns if not column.primary_key]
_UPDATE_SCORE = (
    SCORES.update()
    .where((SCORES.c.assignment == bindparam("key_assignment")) & (SCORES.c.user_id == bindparam("key_user_id")))
    .values({name: bindparam(name) for name in _VALUE_COLUMNS})
)


def _row(
    score: SentScore, state: str, previous_score: float | None = None, previous_line_item: str | None = None
) -> dict[str, Any]:
    return {
        "assignment": score.assignment,
        "user_id": score.user_id,
        "student_id": score.student_id,
        "line_item": score.line_item,
        "score_given": score.score_given,
        "score_maximum": score.score_maximum,
        "activity_progress": score.activity_progress,
        "grading_progress": score.grading_progress,
        "state": state,
        "updated": _now(),
        "previous_score": previous_score,
        "previous_line_item": previous_line_item,
    }


def _upsert(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Write score rows: one UPDATE for those that exist, one INSERT for the others (each an executemany)."""
    keys = [(row["assignment"], row["user_id"]) for row in rows]
    existing: set[tuple[str, str]] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        existing.update(
            tuple(found)
            for found in connection.execute(
                select(SCORES.c.assignment, SCORES.c.user_id).where(
                    tuple_(SCORES.c.assignment, SCORES.c.user_id).in_(chunk)
                )
            )
        )
    updates = [
        {"key_assignment": row["assignment"], "key_user_id": row["user_id"], **{n: row[n] for n in _VALUE_COLUMNS}}
        for row, key in zip(rows, keys, strict=True)
        if key in existing
    ]
    inserts = [row for row, key in zip(rows, keys, strict=True) if key not in existing]
    if updates:
        connection.execute(_UPDATE_SCORE, updates)
    if inserts:
        connection.execute(SCORES.insert(), inserts)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class SentScore:
    """A score as it was last sent (or is being sent) to one line item for one platform user."""

    assignment: str
    user_id: str
    student_id: str
    line_item: str
    score_given: float | None
    score_maximum: float
    activity_progress: str
    grading_progress: str
    state: str = SENT
    #: While ``sending``: what was sent before (None: nothing), which the platform may still hold.
    previous_score: float | None = None
    previous_line_item: str | None = None

    @property
    def indistinguishable_from_previous(self) -> bool:
        """Whether the platform's results cannot tell this score from the one sent before (same value, same item)."""
        return self.previous_line_item == self.line_item and self.previous_score == self.score_given

    def same_as(self, other: SentScore) -> bool:
        """Whether ``other`` says the same to the platform (the timestamp aside)."""
        return (
            self.line_item,
            self.score_given,
            self.score_maximum,
            self.activity_progress,
            self.grading_progress,
        ) == (
            other.line_item,
            other.score_given,
            other.score_maximum,
            other.activity_progress,
            other.grading_progress,
        )


class LmsStore:
    """The tool's LMS tables in the gradebook database behind ``engine``."""

    def __init__(self, engine: Engine):
        self.engine = engine
        METADATA.create_all(engine)

    # ------------------------------------------------------------ members

    def members(self) -> dict[str, str]:
        """Platform user id -> course student id, as recorded."""
        with self.engine.connect() as connection:
            return dict(connection.execute(select(MEMBERS.c.user_id, MEMBERS.c.student_id)).all())

    def record_members(self, mapping: dict[str, tuple[str, str]]) -> None:
        """Record ``user_id -> (student_id, field it came from)`` for users not mapped yet, in one transaction."""
        with self.engine.begin() as connection:
            known = set(connection.execute(select(MEMBERS.c.user_id)).scalars())
            rows = [
                {"user_id": user_id, "student_id": student_id, "mapped_by": field, "mapped_at": _now()}
                for user_id, (student_id, field) in mapping.items()
                if user_id not in known
            ]
            if rows:
                connection.execute(MEMBERS.insert(), rows)

    # ------------------------------------------------------------ scores

    def sent_scores(self) -> dict[tuple[str, str], SentScore]:
        """(assignment, user id) -> the last score sent or being sent."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(SCORES).where(SCORES.c.state.in_([SENT, SENDING]))).all()
        return {
            (row.assignment, row.user_id): SentScore(
                assignment=row.assignment,
                user_id=row.user_id,
                student_id=row.student_id,
                line_item=row.line_item,
                score_given=row.score_given,
                score_maximum=row.score_maximum,
                activity_progress=row.activity_progress,
                grading_progress=row.grading_progress,
                state=row.state,
                previous_score=row.previous_score,
                previous_line_item=row.previous_line_item,
            )
            for row in rows
        }

    def mark_sending(self, scores: list[SentScore]) -> None:
        """Record, before any is sent, the scores about to be sent (one transaction)."""
        if not scores:
            return
        with self.engine.begin() as connection:
            sent = {
                (row.assignment, row.user_id): (row.score_given, row.line_item)
                for row in connection.execute(
                    select(SCORES.c.assignment, SCORES.c.user_id, SCORES.c.score_given, SCORES.c.line_item).where(
                        SCORES.c.state == SENT
                    )
                )
            }
            _upsert(
                connection,
                [_row(score, SENDING, *sent.get((score.assignment, score.user_id), (None, None))) for score in scores],
            )

    def mark_sent(self, score: SentScore, previous: SentScore | None = None) -> None:
        """Record that the platform accepted ``score``: its row, the push log and the ledger, in one transaction.

        ``previous`` is the score sent before, the ledger's old value.
        """
        self.mark_all_sent([(score, previous)])

    def mark_all_sent(self, accepted: list[tuple[SentScore, SentScore | None]]) -> None:
        """:meth:`mark_sent` for several scores, in one transaction."""
        if not accepted:
            return
        now = _now()
        with self.engine.begin() as connection:
            _upsert(connection, [_row(score, SENT) for score, _ in accepted])
            connection.execute(
                PUSH_LOG.insert(),
                [
                    {
                        "assignment": score.assignment,
                        "student_id": score.student_id,
                        "user_id": score.user_id,
                        "line_item": score.line_item,
                        "score_given": score.score_given,
                        "score_maximum": score.score_maximum,
                        "grading_progress": score.grading_progress,
                        "sent_at": now,
                    }
                    for score, _ in accepted
                ],
            )
            _record_in_ledger(connection, accepted)

    def forget_sending(self, *scores: SentScore) -> None:
        """Drop the ``sending`` rows of scores that were refused or never sent (sent again next time)."""
        if not scores:
            return
        statement = SCORES.delete().where(
            (SCORES.c.assignment == bindparam("key_assignment"))
            & (SCORES.c.user_id == bindparam("key_user_id"))
            & (SCORES.c.state == SENDING)
        )
        with self.engine.begin() as connection:
            connection.execute(statement, [{"key_assignment": s.assignment, "key_user_id": s.user_id} for s in scores])

    def push_log(self) -> list[dict]:
        """Every accepted score, oldest first."""
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(select(PUSH_LOG).order_by(PUSH_LOG.c.id))]

    # ------------------------------------------------------------ line items

    def line_items(self) -> dict[str, str]:
        """Exercise id -> the line item URL last found or made for it."""
        with self.engine.connect() as connection:
            return dict(connection.execute(select(LINE_ITEMS.c.resource_id, LINE_ITEMS.c.line_item)).all())

    def record_line_item(self, resource_id: str, url: str) -> None:
        with self.engine.begin() as connection:
            key = LINE_ITEMS.c.resource_id == resource_id
            values = {"line_item": url, "updated": _now()}
            if connection.execute(LINE_ITEMS.update().where(key).values(**values)).rowcount == 0:
                connection.execute(LINE_ITEMS.insert().values(resource_id=resource_id, **values))
