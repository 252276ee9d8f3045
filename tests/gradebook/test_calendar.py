"""The calendar's due dates, extensions and accommodations move late penalties at once, exactly, with a ledger entry.

Through the command line on a real nbgrader gradebook (SQLite and PostgreSQL): no kernel runs, the penalty is
recomputed from each submission's timestamp and the student's own due date.
"""

from __future__ import annotations

import datetime
import warnings

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.cli import main
from gradebook_tools.gradebook.calendar import read_calendar
from gradebook_tools.gradebook.ledger import read_ledger
from tests.support.gradebook_factory import DUE, add_assignment, add_graded_submission, gradebook_url

HOUR = datetime.timedelta(hours=1)
POLICY = """
c.CourseLatePenalty.percent_per_day = 10
c.CourseLatePenalty.max_percent = 50
c.CourseLatePenalty.cutoff_days = 7
"""
#: student -> submitted at
SUBMITTED = {"ada": DUE + 30 * HOUR, "bob": DUE + 30 * HOUR, "cat": DUE + 8 * 24 * HOUR, "dan": DUE + 50 * HOUR}


def build(folder, db_url, policy=POLICY):
    (folder / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = {db_url!r}\n{policy}", encoding="utf-8"
    )
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add_assignment(gradebook, "ex01", [("q1", 10.0, "code")])
        add_assignment(gradebook, "ex02", [("q1", 10.0, "code")])
        for student, when in SUBMITTED.items():
            gradebook.add_student(student)
            add_graded_submission(gradebook, "ex01", student, {"q1": 10.0}, timestamp=when)
    gradebook.engine.dispose()
    return folder


def run(capsys, folder, *argv):
    code = main([*map(str, argv), "--course", str(folder)])
    out = capsys.readouterr().out
    assert code == 0, out
    return out.splitlines()


def totals(db_url, assignment="ex01"):
    with Gradebook(db_url) as gradebook:
        result = {
            s.student.id: round(s.score - sum(n.late_submission_penalty or 0 for n in s.notebooks), 6)
            for s in gradebook.find_assignment(assignment).submissions
        }
    gradebook.engine.dispose()
    return result


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def course(request, tmp_path):
    if request.param == "sqlite":
        return build(tmp_path, gradebook_url(tmp_path)), gradebook_url(tmp_path)
    url = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return build(tmp_path, url), url


def test_extensions_until_and_hours_through_two_deadline_moves_with_dry_runs_and_ledger(capsys, course):
    folder, db_url = course
    assert totals(db_url) == {"ada": 10, "bob": 10, "cat": 10, "dan": 10}  # graded before the policy applied

    preview = run(capsys, folder, "calendar", "set", "ex01", "--due", "2026-10-01 12:00", "--dry-run")
    assert preview == [
        "4 score(s) would change:",
        "  ada ex01: 10 -> 8 (-2); due 2026-10-01 12:00 UTC: 30 h 00 min late (2 day(s)), penalty 2 of 10 (20 %)",
        "  bob ex01: 10 -> 8 (-2); due 2026-10-01 12:00 UTC: 30 h 00 min late (2 day(s)), penalty 2 of 10 (20 %)",
        "  cat ex01: 10 -> 0 (-10); due 2026-10-01 12:00 UTC: 192 h 00 min late (8 day(s)), penalty 10 of 10 (100 %)",
        "  dan ex01: 10 -> 7 (-3); due 2026-10-01 12:00 UTC: 50 h 00 min late (3 day(s)), penalty 3 of 10 (30 %)",
        "dry run: nothing was changed",
    ]
    assert totals(db_url) == {"ada": 10, "bob": 10, "cat": 10, "dan": 10}
    assert [e for e in read_ledger(db_url) if e.kind != "score"] == []
    applied = run(capsys, folder, "calendar", "set", "ex01", "--due", "2026-10-01 12:00")
    assert applied == [line.replace("would change", "changed") for line in preview[:-1]]
    assert totals(db_url) == {"ada": 8, "bob": 8, "cat": 0, "dan": 7}

    run(capsys, folder, "extension", "grant", "bob", "ex01", "--hours", "48", "--reason", "flu")
    run(capsys, folder, "extension", "grant", "dan", "ex01", "--until", "2026-10-04 12:00", "--reason", "travel")
    assert totals(db_url) == {"ada": 8, "bob": 10, "cat": 0, "dan": 10}
    with Gradebook(db_url) as gradebook:  # nbgrader's own due-date logic sees the extension
        bob = gradebook.find_submission("ex01", "bob")
        assert (bob.duedate, bob.total_seconds_late) == (DUE + 48 * HOUR, 0)
    gradebook.engine.dispose()

    # the class's deadline moves a day later, then two days earlier: "+48 h" moves with it, "until" stays put
    later = run(capsys, folder, "calendar", "set", "ex01", "--due", "2026-10-02 12:00")
    assert later[0] == "2 score(s) changed:"
    assert totals(db_url) == {"ada": 9, "bob": 10, "cat": 5, "dan": 10}
    run(capsys, folder, "calendar", "set", "ex01", "--due", "2026-09-30 12:00")
    assert totals(db_url) == {"ada": 7, "bob": 9, "cat": 0, "dan": 10}
    engine = create_engine_for(db_url)
    calendar = read_calendar(engine)
    engine.dispose()
    assert calendar.due_for("bob", "ex01") == datetime.datetime(2026, 10, 2, 12, 0)  # 30 Sep + 48 h, no inflation
    assert calendar.due_for("dan", "ex01") == datetime.datetime(2026, 10, 4, 12, 0)

    # revoking re-applies at once
    revoked = run(capsys, folder, "extension", "revoke", "dan", "ex01", "--reason", "granted by mistake")
    assert revoked == [
        "1 score(s) changed:",
        "  dan ex01: 10 -> 6 (-4); due 2026-09-30 12:00 UTC: 74 h 00 min late (4 day(s)), penalty 4 of 10 (40 %)",
    ]
    dan = [(e.cell, e.kind, e.old, e.new, e.why) for e in read_ledger(db_url, student="dan") if e.kind != "score"]
    assert dan == [
        ("ex01", "late penalty", 0.0, 3.0, "calendar: ex01 due 2026-10-01 12:00 UTC"),
        ("ex01", "late penalty", 3.0, None, "extension granted: until 2026-10-04 12:00 UTC (travel)"),
        ("ex01", "late penalty", None, 4.0, "extension revoked (granted by mistake)"),
    ]


def test_an_accommodation_applies_to_every_exercise_and_is_listed(capsys, tmp_path):
    db_url = gradebook_url(tmp_path)
    folder = build(tmp_path, db_url)
    run(capsys, folder, "calendar", "set", "ex01", "--due", "2026-10-01 12:00")
    out = run(capsys, folder, "extension", "accommodate", "ada", "--hours", "36", "--reason", "disability services")
    assert out[:2] == [
        "1 score(s) changed:",
        "  ada ex01: 8 -> 10 (+2); due 2026-10-03 00:00 UTC: on time",
    ]
    listing = run(capsys, folder, "extension", "list")
    assert listing[-1] == "ada: accommodation +36 h on every exercise (disability services)"
    shown = run(capsys, folder, "calendar", "--student", "ada")
    assert shown[2].split() == ["ex01", "assigned", "2026-10-01", "12:00", "2026-10-03", "00:00"]


def create_engine_for(db_url):
    from sqlalchemy import create_engine

    return create_engine(db_url)
