"""`calendar set` and `extension grant`: a dry run writes nothing, the real run writes exactly what it previewed.

And the course options work on either side of an action's name (`calendar --course B set ...` as well as
`calendar set ... --course B`): two course folders, and the test checks which gradebook changed.

Through the command line on real nbgrader gradebooks (SQLite files) built without kernels; the ledger is read
back with `gradebook-tools history --format json`. The class (due 2026-10-01 12:00 UTC, 10 % a day, at most 50 %):

=======  ===================  ===========================================
student  submitted            under `calendar set ex01 --due <DUE>`
=======  ===================  ===========================================
ada      due + 30 h           2 days late: penalty 2 of 10
bob      due + 30 h           2 days late: penalty 2; +48 h grant: 0
cat      due - 1 h            on time: no change
=======  ===================  ===========================================
"""

from __future__ import annotations

import argparse
import datetime
import json
import warnings
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.cli import main
from gradebook_tools.cli.main import build_parser
from gradebook_tools.gradebook.ledger import os_user
from tests.support.gradebook_factory import DUE, add_assignment, add_graded_submission, gradebook_url

HOUR = datetime.timedelta(hours=1)
POLICY = """
c.CourseLatePenalty.percent_per_day = 10
c.CourseLatePenalty.max_percent = 50
"""
SUBMITTED = {"ada": DUE + 30 * HOUR, "bob": DUE + 30 * HOUR, "cat": DUE - HOUR}
DUE_TEXT = f"{DUE:%Y-%m-%d %H:%M}"


def build(folder: Path, db_url: str | None = None) -> Path:
    """A course folder whose gradebook holds ex01, graded 10/10 for each student, no penalty yet."""
    folder.mkdir()
    db_url = db_url or gradebook_url(folder)
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        'c.AssignLatePenalties.plugin_class = "gradebook_tools.gradebook.late_policy.CourseLatePenalty"\n'
        f"c.CourseDirectory.db_url = {db_url!r}\n{POLICY}",
        encoding="utf-8",
    )
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add_assignment(gradebook, "ex01", [("q1", 10.0, "code")])
        for student, when in SUBMITTED.items():
            gradebook.add_student(student)
            add_graded_submission(gradebook, "ex01", student, {"q1": 10.0}, timestamp=when)
    gradebook.engine.dispose()
    return folder


def run(capsys, *argv: object) -> list[str]:
    code = main([str(arg) for arg in argv])
    out = capsys.readouterr().out
    assert code == 0, out
    return out.splitlines()


def history(capsys, folder: Path) -> list[dict]:
    code = main(["history", "--format", "json", "--course", str(folder)])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def penalties(folder: Path, db_url: str | None = None) -> dict[str, float]:
    with Gradebook(db_url or gradebook_url(folder)) as gradebook:
        result = {
            s.student.id: round(sum(n.late_submission_penalty or 0 for n in s.notebooks), 6)
            for s in gradebook.find_assignment("ex01").submissions
        }
    gradebook.engine.dispose()
    return result


def due_date(folder: Path) -> datetime.datetime | None:
    with Gradebook(gradebook_url(folder)) as gradebook:
        due = gradebook.find_assignment("ex01").duedate
    gradebook.engine.dispose()
    return due


def database_file(folder: Path) -> Path:
    return folder / "gradebook.db"


def previewed(lines: list[str]) -> dict[str, tuple[float, float]]:
    """student -> (old, new) score, from a preview's lines ``  ada ex01: 10 -> 8 (-2); ...``."""
    rows = {}
    for line in lines:
        if line.startswith("  "):
            student, _, rest = line.strip().partition(" ex01: ")
            old, _, new = rest.split(" (", 1)[0].partition(" -> ")
            rows[student] = (float(old), float(new))
    return rows


@pytest.fixture
def courses(tmp_path, monkeypatch):
    """Two course folders; the current folder is the first, so a lost --course would change it."""
    first, second = build(tmp_path / "first"), build(tmp_path / "second")
    monkeypatch.chdir(first)
    return first, second


def test_a_calendar_dry_run_writes_no_entry_and_the_real_run_writes_exactly_the_previewed_changes(capsys, courses):
    _, course = courses
    before = history(capsys, course)
    stored = database_file(course).read_bytes()

    preview = run(capsys, "calendar", "set", "ex01", "--due", DUE_TEXT, "--dry-run", "--course", course)

    assert preview[0] == "2 score(s) would change:"
    assert previewed(preview) == {"ada": (10.0, 8.0), "bob": (10.0, 8.0)}
    assert preview[-1] == "dry run: nothing was changed"
    assert database_file(course).read_bytes() == stored  # byte-identical: no ledger entry, no due date
    assert history(capsys, course) == before

    applied = run(capsys, "calendar", "set", "ex01", "--due", DUE_TEXT, "--course", course)

    assert applied == [line.replace("would change", "changed") for line in preview[:-1]]
    new = history(capsys, course)[len(before) :]
    why = f"calendar: ex01 due {DUE_TEXT} UTC"
    assert sorted((e["who"], e["student"], e["assignment"], e["cell"], e["old"], e["new"], e["why"]) for e in new) == [
        (os_user(), "ada", "ex01", "ex01", 0.0, 2.0, why),
        (os_user(), "bob", "ex01", "ex01", 0.0, 2.0, why),
    ]
    # each entry is the previewed change: the penalty is the score lost
    for entry in new:
        old, new_score = previewed(preview)[entry["student"]]
        assert entry["new"] - entry["old"] == old - new_score
    assert penalties(course) == {"ada": 2.0, "bob": 2.0, "cat": 0.0}


def test_an_extension_dry_run_writes_no_entry_and_the_grant_writes_exactly_the_previewed_change(capsys, courses):
    _, course = courses
    run(capsys, "calendar", "set", "ex01", "--due", DUE_TEXT, "--course", course)
    before = history(capsys, course)
    stored = database_file(course).read_bytes()
    grant = ("extension", "grant", "bob", "ex01", "--hours", "48", "--reason", "flu")

    preview = run(capsys, *grant, "--dry-run", "--course", course)

    assert preview[0] == "1 score(s) would change:"
    assert previewed(preview) == {"bob": (8.0, 10.0)}
    assert database_file(course).read_bytes() == stored
    assert history(capsys, course) == before

    applied = run(capsys, *grant, "--course", course)

    assert applied == [line.replace("would change", "changed") for line in preview[:-1]]
    new = history(capsys, course)[len(before) :]
    why = "extension granted: +48 h after the class's due date (flu)"
    assert [(e["who"], e["student"], e["cell"], e["old"], e["new"], e["why"]) for e in new] == [
        (os_user(), "bob", "ex01", 2.0, None, why)  # the penalty is gone: bob's score goes back to 10
    ]
    assert penalties(course) == {"ada": 2.0, "bob": 0.0, "cat": 0.0}


@pytest.mark.postgres
def test_a_dry_run_on_postgresql_changes_nothing_and_the_real_run_records_the_preview(capsys, tmp_path, postgres_url):
    """PostgreSQL rolls back the whole transaction, the calendar's first ``CREATE TABLE`` included."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    course = build(tmp_path / "course", postgres_url)
    tables = sorted(inspect(engine).get_table_names())
    before = history(capsys, course)

    preview = run(capsys, "calendar", "set", "ex01", "--due", DUE_TEXT, "--dry-run", "--course", course)

    assert previewed(preview) == {"ada": (10.0, 8.0), "bob": (10.0, 8.0)}
    assert sorted(inspect(engine).get_table_names()) == tables  # no calendar table left behind
    assert history(capsys, course) == before
    assert penalties(course, postgres_url) == {"ada": 0.0, "bob": 0.0, "cat": 0.0}

    run(capsys, "calendar", "set", "ex01", "--due", DUE_TEXT, "--course", course)

    new = history(capsys, course)[len(before) :]
    assert sorted((e["student"], e["old"], e["new"]) for e in new) == [("ada", 0.0, 2.0), ("bob", 0.0, 2.0)]
    assert penalties(course, postgres_url) == {"ada": 2.0, "bob": 2.0, "cat": 0.0}
    engine.dispose()


@pytest.mark.parametrize("position", ["before the action", "after the action"])
def test_course_options_work_on_either_side_of_the_action(capsys, courses, position):
    current, other = courses

    def command(name: str, action: str, *rest: object) -> list[object]:
        options = ["--course", other]
        return [name, *options, action, *rest] if position == "before the action" else [name, action, *rest, *options]

    later = DUE + 24 * HOUR  # ada and bob then 6 h late: 1 day, 10 %
    run(capsys, *command("calendar", "set", "ex01", "--due", f"{later:%Y-%m-%d %H:%M}"))
    assert (due_date(other), due_date(current)) == (later, DUE)  # only the named course's gradebook changed
    assert penalties(other) == {"ada": 1.0, "bob": 1.0, "cat": 0.0}
    assert penalties(current) == {"ada": 0.0, "bob": 0.0, "cat": 0.0}

    run(capsys, *command("extension", "grant", "bob", "ex01", "--hours", "48", "--reason", "flu"))
    assert penalties(other) == {"ada": 1.0, "bob": 0.0, "cat": 0.0}
    assert penalties(current) == {"ada": 0.0, "bob": 0.0, "cat": 0.0}
    listed = run(capsys, *command("extension", "list"))
    assert [line.split()[:2] for line in listed if line.startswith("bob")] == [["bob", "ex01"]]  # the other's
    assert not [e for e in history(capsys, current) if e["why"].startswith(("calendar", "extension"))]


def action_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """``"command action"`` -> the action's parser, for every command that has actions."""
    found = {}
    for command_action in parser._subparsers._group_actions:  # argparse keeps its subcommands there
        for name, command_parser in command_action.choices.items():
            for sub in command_parser._actions:
                if isinstance(sub, argparse._SubParsersAction):
                    for action_name, action_parser in sub.choices.items():
                        found[f"{name} {action_name}"] = action_parser
    return found


def test_every_command_with_actions_reads_the_course_options_on_either_side():
    parser = build_parser()
    actions = action_parsers(parser)
    assert {"calendar set", "extension grant", "extension list", "lms push"} <= set(actions)
    required = {"calendar set": ["ex01"], "extension grant": ["ada", "ex01", "--hours", "1", "--reason", "r"]}
    required |= {"extension revoke": ["ada", "ex01"], "extension accommodate": ["ada", "--hours", "1"]}
    required |= {"extension late-days": ["ada", "ex01", "1"]}
    for name in actions:
        command, action = name.split()
        rest = required.get(name, [])
        before = parser.parse_args([command, "--course", "B", "--db", "x.db", action, *rest])
        after = parser.parse_args([command, action, *rest, "--course", "B", "--db", "x.db"])
        neither = parser.parse_args([command, action, *rest])
        assert (before.course, before.db) == (after.course, after.db) == (Path("B"), "x.db"), name
        assert (neither.course, neither.db) == (Path("."), None), name
