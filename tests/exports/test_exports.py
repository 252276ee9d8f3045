"""Exports: totals equal nbgrader's own export; Canvas CSV and JSON formats."""

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.plugins import CsvExportPlugin
from traitlets.config import Config

from gradebook_tools.course.config import CourseSections, load_course_sections
from gradebook_tools.exports.formats import table_json, write_canvas_csv, write_json, write_section_csv
from gradebook_tools.gradebook.roster_store import write_class_sections
from gradebook_tools.gradebook.scores import open_gradebook, read_cell_grades, read_class_scores
from gradebook_tools.gradebook.sections import section_table
from tests.support.conftest_gradebook import SECTIONS, build_hand_class
from tests.support.gradebook_factory import (
    add_assignment,
    add_graded_submission,
    build_synthetic_class,
    gradebook_url,
    new_gradebook,
)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def nbgrader_scores(rows: list[dict[str, str]]) -> dict[tuple[str, str], float]:
    return {(row["student_id"], row["assignment"]): float(row["score"]) for row in rows}


def assert_scores_match_nbgrader(db_url: str, nbgrader_rows: list[dict[str, str]]) -> None:
    """Every (student, assignment) score, and every student's total, equal nbgrader's."""
    engine = open_gradebook(db_url)
    scores = read_class_scores(engine)
    engine.dispose()
    expected = nbgrader_scores(nbgrader_rows)
    ours = {}
    for student in scores.students:
        for name in scores.assignment_names:
            submission = scores.submission(student.id, name)
            ours[(student.id, name)] = submission.score if submission else 0.0
    assert ours == pytest.approx(expected, abs=1e-9)
    totals = defaultdict(float)
    for (student, _), score in expected.items():
        totals[student] += score
    table = section_table(scores, CourseSections())
    assert {row.student.id: row.overall.points for row in table.rows} == pytest.approx(dict(totals))


@pytest.mark.slow
def test_nbgrader_export_writes_its_csv_and_the_per_section_csv_with_equal_totals(hand_course, tmp_path):
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "nbgrader"),
            "export",
            f"--CourseDirectory.db_url={gradebook_url(hand_course)}",
            f"--to={tmp_path / 'grades.csv'}",
        ],
        cwd=hand_course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Exporting per-section grades to" in result.stderr
    nbgrader_rows = read_csv(tmp_path / "grades.csv")
    assert len(nbgrader_rows) == 4 * 3
    assert_scores_match_nbgrader(gradebook_url(hand_course), nbgrader_rows)

    sections = {row["student_id"]: row for row in read_csv(tmp_path / "grades_sections.csv")}
    expected = nbgrader_scores(nbgrader_rows)
    for student, row in sections.items():
        for section, names in SECTIONS.items():
            nbgrader_points = sum(expected.get((student, name), 0.0) for name in names)
            assert float(row[f"{section}_points"]) == pytest.approx(nbgrader_points)
        assert float(row["overall_points"]) == pytest.approx(
            sum(score for (who, _), score in expected.items() if who == student)
        )
    assert sections["bob"]["mechanics_status"] == "missing: ex02_b; pending: ex01_a"
    assert sections["bob"]["overall_percent"] == "33.3333"


def test_totals_equal_nbgrader_export_on_a_synthetic_class(tmp_path):
    build_synthetic_class(tmp_path, 25, seed=3)
    exporter = CsvExportPlugin(to=str(tmp_path / "grades.csv"))
    with Gradebook(gradebook_url(tmp_path)) as gradebook:
        exporter.export(gradebook)
    rows = read_csv(tmp_path / "grades.csv")
    assert len(rows) == 25 * 10
    assert any(float(row["late_submission_penalty"]) > 0 for row in rows)
    assert any(row["timestamp"] == "" for row in rows)  # some missing submissions
    assert_scores_match_nbgrader(gradebook_url(tmp_path), rows)


def test_totals_equal_nbgrader_export_on_postgresql(postgres_url, tmp_path):
    build_hand_class(tmp_path, postgres_url)
    exporter = CsvExportPlugin(to=str(tmp_path / "grades.csv"))
    with Gradebook(postgres_url) as gradebook:
        exporter.export(gradebook)
    assert_scores_match_nbgrader(postgres_url, read_csv(tmp_path / "grades.csv"))
    engine = open_gradebook(postgres_url)
    bob = section_table(read_class_scores(engine), load_course_sections(tmp_path)).row("bob")
    assert len(read_cell_grades(engine)) == 8 + 6 + 5 + 8
    engine.dispose()
    assert (bob.sections["mechanics"].points, bob.sections["mechanics"].pending) == (3.0, ("ex01_a",))
    assert bob.overall.pending_points == 2.0


@pytest.fixture(scope="module")
def table(hand_course):
    engine = open_gradebook(str(hand_course / "gradebook.db"))
    scores = read_class_scores(engine)
    engine.dispose()
    return section_table(scores, load_course_sections(hand_course))


def test_section_csv_has_points_max_percent_and_status_per_section(table):
    out = io.StringIO()
    write_section_csv(table, out, {"ada": "lab-A"})
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0])[:9] == [
        "student_id",
        "last_name",
        "first_name",
        "email",
        "class_section",
        "mechanics_points",
        "mechanics_max",
        "mechanics_percent",
        "mechanics_status",
    ]
    cyd = rows[2]
    assert (cyd["student_id"], cyd["class_section"]) == ("cyd", "")
    assert (cyd["mechanics_points"], cyd["mechanics_max"], cyd["mechanics_percent"]) == ("14", "20", "70")
    assert cyd["theory_status"] == "missing: ex04_c"
    assert (cyd["overall_points"], cyd["overall_max"], cyd["overall_percent"]) == ("14", "30", "46.6667")


def test_canvas_csv_has_canvas_columns_and_points_possible(table):
    out = io.StringIO()
    write_canvas_csv(table, out, {"ada": "lab-A", "bob": "lab-A"})
    assert out.getvalue().splitlines() == [
        "Student,ID,SIS User ID,SIS Login ID,Section,mechanics,theory",
        "Points Possible,,,,,20,10",
        '"Lovelace, Ada",,ada,ada,lab-A,20,10',
        '"Babbage, Bob",,bob,bob,lab-A,3,7',
        '"Charisse, Cyd",,cyd,cyd,,14,0',
        '"Dennett, Dan",,dan,dan,,0,4',
    ]


def test_json_export_round_trips_and_has_no_nan(table):
    out = io.StringIO()
    write_json(table_json(table, {"bob": "lab-A"}), out)
    data = json.loads(out.getvalue())
    bob = next(student for student in data["students"] if student["student_id"] == "bob")
    assert bob["class_section"] == "lab-A"
    assert bob["sections"]["mechanics"] == {
        "points": 3.0,
        "max": 20.0,
        "percent": 15.0,
        "missing": ["ex02_b"],
        "pending": ["ex01_a"],
        "pending_points": 2.0,
    }
    assert data["not_in_gradebook"] == ["ex05_absent"]
    assert "NaN" not in out.getvalue()


def test_export_plugin_leaves_out_unknown_students_with_a_warning(hand_course, tmp_path, caplog):
    from gradebook_tools.exports import SectionCsvExportPlugin

    config = Config({"CourseSections": {"sections": SECTIONS}})
    plugin = SectionCsvExportPlugin(
        config=config, to=str(tmp_path / "grades.csv"), student=["bob", "eve"], write_nbgrader_csv=False
    )
    with Gradebook(gradebook_url(hand_course)) as gradebook:
        plugin.export(gradebook)
    rows = read_csv(tmp_path / "grades_sections.csv")
    assert [row["student_id"] for row in rows] == ["bob"]
    assert not (tmp_path / "grades.csv").exists()
    assert "left out of the per-section CSV: eve" in caplog.text


# ---------------------------------------------------------------- CSV injection (OWASP)

#: Students whose id, names or email a spreadsheet would run as a formula; "-5" and "+7" are plain numbers.
HOSTILE = [
    ("=1+1", '=HYPERLINK("http://evil.example","x")', "Plain", "ok@example.edu"),
    ("+SUM(A1)", "+cmd", "-2+3", "@evil.example"),
    ("-5", "\ttabbed", "\rreturned", "-1@example.edu"),
    ("@cmd", "Ada", "=cmd|' /C calc'!A0", ""),
    ("+7", "Bo", "Safe", "bo@example.edu"),
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile_course(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    with new_gradebook(folder) as gradebook:
        for student, first, last, email in HOSTILE:
            gradebook.add_student(student, first_name=first, last_name=last, email=email or None)
        add_assignment(gradebook, "ex01_a", [("test_f", 4, "code"), ("explanation", 2, "markdown")])
        add_graded_submission(gradebook, "ex01_a", "=1+1", {"test_f": 4, "explanation": 1})
        add_graded_submission(gradebook, "ex01_a", "-5", {"test_f": 0, "explanation": 2})
    (folder / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseSections.sections = {"=mech": ["ex01_a"]}\n', encoding="utf-8"
    )
    write_class_sections(open_gradebook(gradebook_url(folder)), {"=1+1": "=lab", "-5": "@lab", "+7": "lab-B"})
    return folder


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or re.fullmatch(r"[+-]?\d+(\.\d*)?", cell), (cell, row)


def test_csv_export_neutralizes_every_data_cell_and_keeps_numbers(capsys, hostile_course):
    from gradebook_tools.cli import main

    assert main(["export", "--course", str(hostile_course), "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert_no_formula(rows)
    by_id = {row[0]: row for row in rows[1:]}
    assert sorted(by_id) == ["'+SUM(A1)", "'=1+1", "'@cmd", "+7", "-5"]
    header = rows[0]
    first = by_id["'=1+1"]
    assert first[header.index("first_name")] == '\'=HYPERLINK("http://evil.example","x")'
    assert first[header.index("class_section")] == "'=lab"
    assert first[header.index("overall_points")] == "5"
    assert by_id["'+SUM(A1)"][header.index("last_name")] == "'-2+3"
    assert by_id["'+SUM(A1)"][header.index("email")] == "'@evil.example"
    assert by_id["'+SUM(A1)"][header.index("overall_status")] == "missing: ex01_a"
    assert by_id["-5"][header.index("first_name")] == "'\ttabbed"
    assert by_id["-5"][header.index("last_name")] == "'\rreturned"
    assert by_id["-5"][header.index("class_section")] == "'@lab"
    assert by_id["-5"][header.index("overall_points")] == "2"


def test_canvas_export_neutralizes_every_data_cell(capsys, hostile_course):
    from gradebook_tools.cli import main

    assert main(["export", "--course", str(hostile_course), "--format", "canvas"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert_no_formula(rows)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "'=mech"]
    assert rows[2:] == [
        ["Safe, Bo", "", "+7", "bo@example.edu", "lab-B", "0"],
        ["'-2+3, +cmd", "", "'+SUM(A1)", "'@evil.example", "(not on roster)", "0"],
        ["'\rreturned, \ttabbed", "", "-5", "'-1@example.edu", "'@lab", "2"],
        ['Plain, =HYPERLINK("http://evil.example","x")', "", "'=1+1", "ok@example.edu", "'=lab", "5"],
        ["'=cmd|' /C calc'!A0, Ada", "", "'@cmd", "'@cmd", "(not on roster)", "0"],
    ]


def test_nbgrader_export_per_section_file_neutralizes_every_data_cell(hostile_course, tmp_path):
    from gradebook_tools.exports import SectionCsvExportPlugin

    config = Config({"CourseSections": {"sections": {"=mech": ["ex01_a"]}}})
    plugin = SectionCsvExportPlugin(config=config, to=str(tmp_path / "grades.csv"), write_nbgrader_csv=False)
    with Gradebook(gradebook_url(hostile_course)) as gradebook:
        plugin.export(gradebook)
    with open(tmp_path / "grades_sections.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert_no_formula(rows)
    assert [row[0] for row in rows[1:]] == ["+7", "'+SUM(A1)", "-5", "'=1+1", "'@cmd"]
    assert rows[0][4] == "class_section" and rows[4][4] == "'=lab"


@pytest.mark.parametrize(
    "value, written",
    [
        ("=1+1", "'=1+1"),
        ("+", "'+"),
        ("-", "'-"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-2e3x", "'-2e3x"),
        ("-3", "-3"),
        ("+1.5", "+1.5"),
        ("-2.5e-3", "-2.5e-3"),
        ("10", "10"),
        ("Ada", "Ada"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_spreadsheet_safe_prefixes_formulas_and_keeps_numbers(value, written):
    from gradebook_tools.exports.formats import spreadsheet_safe

    assert spreadsheet_safe(value) == written
