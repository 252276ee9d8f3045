"""Review decisions on similar pairs, in a table of the gradebook's database beside nbgrader's.

``gradebook_tools_similarity_review`` holds one row per assignment and pair of
authors (stored in sorted order, so ``A B`` and ``B A`` are one pair): the
decision (:data:`DECISIONS`), the reviewer's note and when it was made.
nbgrader ignores the table, like :mod:`gradebook_tools.gradebook.outcomes`'s.
SQLite and PostgreSQL alike (plain SQLAlchemy Core, bound parameters only).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, inspect, select
from sqlalchemy.engine import Engine

#: What a reviewer may decide about a pair.
DECISIONS = ("reviewed", "benign", "referred")

METADATA = MetaData()
REVIEWS = Table(
    "gradebook_tools_similarity_review",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    # a student id, or past:<term>/<student>
    Column("author_a", String(400), primary_key=True),
    Column("author_b", String(400), primary_key=True),
    Column("decision", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("updated", DateTime, nullable=False),
)


@dataclass(frozen=True)
class Review:
    """The decision recorded on one pair."""

    decision: str
    note: str
    updated: datetime.datetime


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The stored order of a pair of authors."""
    return (a, b) if a <= b else (b, a)


def record_review(engine: Engine, assignment: str, a: str, b: str, decision: str, note: str = "") -> Review:
    """Record (or replace) the decision on the pair ``a``, ``b``.

    Raises
    ------
    ValueError
        For a decision not in :data:`DECISIONS` or a pair of one author.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}; got {decision!r}")
    if a == b:
        raise ValueError("a pair needs two different authors")
    first, second = pair_key(a, b)
    review = Review(decision, note, datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0))
    METADATA.create_all(engine, tables=[REVIEWS])
    key = (REVIEWS.c.assignment == assignment) & (REVIEWS.c.author_a == first) & (REVIEWS.c.author_b == second)
    values = {"decision": review.decision, "note": review.note, "updated": review.updated}
    with engine.begin() as connection:
        if connection.execute(select(REVIEWS.c.decision).where(key)).first() is None:
            row = {"assignment": assignment, "author_a": first, "author_b": second, **values}
            connection.execute(REVIEWS.insert().values(**row))
        else:
            connection.execute(REVIEWS.update().where(key).values(**values))
    return review


def read_reviews(engine: Engine, assignment: str) -> dict[tuple[str, str], Review]:
    """Decisions on ``assignment``'s pairs, by :func:`pair_key` ({} when none was ever recorded)."""
    if not inspect(engine).has_table(REVIEWS.name):
        return {}
    query = select(REVIEWS).where(REVIEWS.c.assignment == assignment)
    with engine.connect() as connection:
        return {
            (row.author_a, row.author_b): Review(row.decision, row.note, row.updated)
            for row in connection.execute(query)
        }
