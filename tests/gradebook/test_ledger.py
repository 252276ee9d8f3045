"""The ledger records every score change made through nbgrader's models, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import warnings

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook import ledger
from gradebook_tools.gradebook.ledger import LedgerEntry, read_ledger
from tests.support.gradebook_factory import add_assignment, add_graded_submission, gradebook_url

ledger.install()

CELLS = [("q1", 2.0, "code"), ("q2", 3.0, "markdown")]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return gradebook_url(tmp_path)
    url = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:  # one database per test on the shared server
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


def changes(db_url, **filters):
    return [
        (e.student, e.assignment, e.cell, e.kind, e.old, e.new, e.why, e.who) for e in read_ledger(db_url, **filters)
    ]


def test_autograde_manual_grade_comment_and_late_penalty_through_nbgrader_api_are_recorded(db_url):
    with Gradebook(db_url) as gradebook:
        add_assignment(gradebook, "ex01", CELLS)
        gradebook.add_solution_cell("q2", "ex01", "ex01")  # a written answer: graded and commented by hand
        gradebook.add_student("ada")
        with ledger.acting(who="grader-bot", why="autograde"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            add_graded_submission(gradebook, "ex01", "ada", {"q1": 2.0}, late_penalty=0.5)
    assert changes(db_url) == [
        ("ada", "ex01", "ex01", "late penalty", None, 0.5, "autograde", "grader-bot"),
        ("ada", "ex01", "q1", "score", None, 2.0, "autograde", "grader-bot"),
    ] or sorted(changes(db_url)) == sorted(
        [
            ("ada", "ex01", "ex01", "late penalty", None, 0.5, "autograde", "grader-bot"),
            ("ada", "ex01", "q1", "score", None, 2.0, "autograde", "grader-bot"),
        ]
    )
    with Gradebook(db_url) as gradebook:
        grade = gradebook.find_grade("q2", "ex01", "ex01", "ada")
        comment = gradebook.find_comment("q2", "ex01", "ex01", "ada")
        with ledger.acting(who="ta1", why="formgrader"):
            grade.manual_score = 2.5
            comment.manual_comment = "good =1+1"
            gradebook.db.commit()
        grade.manual_score = 3.0  # default who and why: the OS user, this command line
        gradebook.db.commit()
        grade.manual_score = 3.0  # no change: no entry
        gradebook.db.commit()
    later = changes(db_url)[2:]
    assert later[:2] == [
        ("ada", "ex01", "q2", "score", None, 2.5, "formgrader", "ta1"),
        ("ada", "ex01", "q2", "comment", None, "good =1+1", "formgrader", "ta1"),
    ] or sorted(later[:2]) == sorted(
        [
            ("ada", "ex01", "q2", "score", None, 2.5, "formgrader", "ta1"),
            ("ada", "ex01", "q2", "comment", None, "good =1+1", "formgrader", "ta1"),
        ]
    )
    assert later[2:] == [("ada", "ex01", "q2", "score", 2.5, 3.0, ledger.command_line(), ledger.os_user())]
    assert [e.cell for e in read_ledger(db_url, student="ada", assignment="ex01")] == [e[2] for e in changes(db_url)]
    assert read_ledger(db_url, student="bob") == []


def test_record_appends_entries_of_other_writers_and_public_keys(db_url):
    when = datetime.datetime(2027, 2, 1, 17, 0)
    with Gradebook(db_url) as gradebook:
        count = ledger.record(
            gradebook.db,
            [LedgerEntry(when, "lms-sync", "ada", "ex01", "total", 7.0, 9.0, "pushed to Canvas", kind="lms")],
        )
        gradebook.db.commit()
    assert count == 1
    (entry,) = read_ledger(db_url)
    assert entry.public() == {
        "when": "2027-02-01T17:00:00+00:00",
        "who": "lms-sync",
        "student": "ada",
        "assignment": "ex01",
        "cell": "total",
        "old": 7.0,
        "new": 9.0,
        "why": "pushed to Canvas",
    }


def test_a_paused_private_gradebook_records_nothing(tmp_path):
    db_url = gradebook_url(tmp_path)
    with ledger.paused(), Gradebook(db_url) as gradebook:
        add_assignment(gradebook, "ex01", CELLS)
        gradebook.add_student("ada")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            add_graded_submission(gradebook, "ex01", "ada", {"q1": 2.0})
    assert read_ledger(db_url) == []


def test_history_command_filters_and_writes_json_and_neutralized_csv(tmp_path, capsys):
    import csv
    import io
    import json

    from gradebook_tools.cli import main

    db_url = gradebook_url(tmp_path)
    with Gradebook(db_url) as gradebook:
        add_assignment(gradebook, "ex01", CELLS)
        for student in ("ada", "bob"):
            gradebook.add_student(student)
            with ledger.acting(who="=cmd()", why="autograde"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                add_graded_submission(gradebook, "ex01", student, {"q1": 1.0})
    assert main(["history", "--db", db_url, "--student", "bob", "--format", "json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in entry.items() if k != "when"} == {
        "who": "=cmd()",
        "student": "bob",
        "assignment": "ex01",
        "cell": "q1",
        "old": None,
        "new": 1.0,
        "why": "autograde",
    }
    assert main(["history", "--db", db_url, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["when", "who", "student", "assignment", "cell", "old", "new", "why"]
    assert [row[1:] for row in rows[1:]] == [
        ["'=cmd()", "ada", "ex01", "q1", "", "1", "autograde"],
        ["'=cmd()", "bob", "ex01", "q1", "", "1", "autograde"],
    ]
