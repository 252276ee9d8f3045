"""Totals count what the calendar has handed out so far, and say so; a student is missing only past their own due date.

The filter is the gradebook layer's (`read_class_scores`): the table, the export and every page read through it.
"""

from __future__ import annotations

import csv
import datetime
import warnings

from nbgrader.api import Gradebook

from gradebook_tools.cli import main
from gradebook_tools.gradebook.scores import open_gradebook, read_class_scores
from tests.support.gradebook_factory import add_assignment, add_graded_submission, gradebook_url

LONG_AGO = datetime.datetime(2026, 1, 10, 12, 0)
FAR_AHEAD = datetime.datetime(2099, 1, 10, 12, 0)


def build(folder):
    db_url = gradebook_url(folder)
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseSections.sections = {'all': ['ex01', 'ex02', 'ex03']}\n", encoding="utf-8"
    )
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add_assignment(gradebook, "ex01", [("q1", 10.0, "code")], duedate=LONG_AGO)
        add_assignment(gradebook, "ex02", [("q1", 10.0, "code")], duedate=FAR_AHEAD)
        add_assignment(gradebook, "ex03", [("q1", 80.0, "code")], duedate=None)
        for student in ("ada", "bob"):
            gradebook.add_student(student)
        add_graded_submission(gradebook, "ex01", "ada", {"q1": 10.0}, timestamp=LONG_AGO)
    gradebook.engine.dispose()
    return db_url


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_without_a_calendar_every_exercise_counts_but_nothing_not_yet_due_is_missing(tmp_path):
    db_url = build(tmp_path)
    engine = open_gradebook(db_url)
    scores = read_class_scores(engine)
    engine.dispose()
    assert sorted(a.name for a in scores.assignments) == ["ex01", "ex02", "ex03"] and scores.scope_note == ""
    assert scores.not_due == {("ada", "ex02"), ("bob", "ex02")}  # due in 2099; ex03 has no due date: due


def test_the_table_and_the_export_count_assigned_exercises_and_say_so(tmp_path, capsys):
    build(tmp_path)
    for exercise in ("ex01", "ex02"):
        run(capsys, "calendar", "set", exercise, "--course", tmp_path)
    table = run(capsys, "table", "--course", tmp_path)
    lines = table.splitlines()
    assert lines[0].split() == ["student", "all", "/20", "overall", "/20"]
    assert lines[2].split() == ["ada", "10", "50.0%", "10", "50.0%"]  # ex02 not due yet: not missing
    assert lines[3].split() == ["bob", "0", "0.0%", "M", "0", "0.0%", "M"]  # ex01 is past due
    assert "Totals of 20 points assigned so far (2 of 3 exercises); --whole-term counts every exercise." in table
    assert "configured but not in the gradebook" not in capsys.readouterr().err
    assert "2 students; 1 missing submissions" in table

    whole = run(capsys, "table", "--course", tmp_path, "--whole-term").splitlines()
    assert whole[0].split() == ["student", "all", "/100", "overall", "/100"]
    assert whole[3].split() == ["bob", "0", "0.0%", "M", "0", "0.0%", "M"]

    run(capsys, "export", "--course", tmp_path, "--to", tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert [(r["overall_points"], r["overall_max"], r["overall_status"]) for r in rows.values()] == [
        ("10", "20", ""),  # ex02 not due yet for ada: not missing; ex03 not assigned: not counted
        ("0", "20", "missing: ex01"),
    ]


def test_an_exercise_taken_off_the_calendar_leaves_the_totals(tmp_path, capsys):
    db_url = build(tmp_path)
    run(capsys, "calendar", "set", "ex01", "--course", tmp_path)
    run(capsys, "calendar", "set", "ex03", "--course", tmp_path, "--opens", "2099-01-01 00:00")
    engine = open_gradebook(db_url)
    scores = read_class_scores(engine)
    assert [a.name for a in scores.assignments] == ["ex01"] and sorted(scores.not_assigned) == ["ex02", "ex03"]
    assert sorted(a.name for a in read_class_scores(engine, whole_term=True).assignments) == ["ex01", "ex02", "ex03"]
    engine.dispose()
    shown = run(capsys, "calendar", "--course", tmp_path).splitlines()
    assert [line.split()[:2] for line in shown[2:5]] == [["ex01", "assigned"], ["ex02", "not"], ["ex03", "opens"]]


def test_grading_without_ids_takes_the_assigned_exercises(tmp_path, capsys):
    from gradebook_tools.gradebook.calendar import assigned_of

    db_url = build(tmp_path)
    assert assigned_of(["ex01", "ex02", "ex03"], db_url) == ["ex01", "ex02", "ex03"]  # no calendar: all
    run(capsys, "calendar", "set", "ex02", "--course", tmp_path)
    assert assigned_of(["ex01", "ex02", "ex03"], db_url) == ["ex02"]
    assert assigned_of(["ex01"], str(tmp_path / "none.db")) == ["ex01"]  # no gradebook yet
