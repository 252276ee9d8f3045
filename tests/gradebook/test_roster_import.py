"""One roster everywhere: ``gradebook-tools roster import`` into nbgrader's gradebook, read back by every output."""

import csv
import io
import shutil
import sqlite3

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.cli import EXIT_BAD_INPUT, EXIT_NO_GRADEBOOK, EXIT_OK, main
from gradebook_tools.gradebook.roster_store import read_class_sections
from gradebook_tools.gradebook.scores import open_gradebook
from tests.support.conftest_gradebook import build_hand_class
from tests.support.course import REPO, nbgrader
from tests.support.gradebook_factory import gradebook_url

# line 4 refused (an id nbgrader would read as an option), line 6 a duplicate
CLASS_ROSTER = """student_id,section,first_name,last_name,email
ada,lab-A,Ada,Lovelace,ada@example.edu
bob,lab-A,Bob,Babbage,
-rf,lab-B,Eve,Il,
cyd,lab-B,Cyd,Charisse,cyd@example.edu
ada,lab-B,Ada,Again,
zed,lab-B,Zed,Unknown,
"""


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def students(db_url: str) -> dict[str, tuple[str, str, str]]:
    """(first name, last name, email) of every student, read through nbgrader's API."""
    with Gradebook(db_url) as gradebook:
        return {s.id: (s.first_name, s.last_name, s.email) for s in gradebook.students}


def database_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        return (
            connection.execute("SELECT * FROM student ORDER BY id").fetchall()
            + connection.execute("SELECT * FROM gradebook_tools_class_section ORDER BY student_id").fetchall()
        )


@pytest.fixture
def course(tmp_path):
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    (tmp_path / "roster.csv").write_text(CLASS_ROSTER, encoding="utf-8")
    return tmp_path


def test_import_creates_the_gradebook_reports_bad_rows_by_line_and_is_idempotent(capsys, course):
    code, out, _ = run(capsys, "roster", "import", course / "roster.csv", "--course", course)
    assert code == EXIT_BAD_INPUT
    roster = course / "roster.csv"
    assert out.splitlines() == [
        f"{roster}, line 4: student id '-rf' starts with '-' (nbgrader would read it as an option); row skipped",
        f"{roster}, line 6: duplicate student 'ada': kept section 'lab-A', ignored 'lab-B'",
        f"imported {roster}: 4 added, 0 updated, 0 unchanged; 2 bad row(s) not imported (listed above)",
    ]
    db_url = gradebook_url(course)
    assert students(db_url) == {
        "ada": ("Ada", "Lovelace", "ada@example.edu"),
        "bob": ("Bob", "Babbage", None),
        "cyd": ("Cyd", "Charisse", "cyd@example.edu"),
        "zed": ("Zed", "Unknown", None),
    }
    engine = open_gradebook(db_url)
    assert read_class_sections(engine) == {"ada": "lab-A", "bob": "lab-A", "cyd": "lab-B", "zed": "lab-B"}
    engine.dispose()
    before = database_rows(course / "gradebook.db")

    code, out, _ = run(capsys, "roster", "import", roster, "--course", course)
    assert code == EXIT_BAD_INPUT
    assert out.splitlines()[-1] == (
        f"imported {roster}: 0 added, 0 updated, 4 unchanged; 2 bad row(s) not imported (listed above)"
    )
    assert database_rows(course / "gradebook.db") == before


def test_a_changed_roster_updates_names_and_sections_and_keeps_students_it_no_longer_lists(capsys, course):
    run(capsys, "roster", "import", course / "roster.csv", "--course", course)
    (course / "new.csv").write_text(
        "id,class_section,first_name,last_name,email\n"
        "ada,lab-A,Ada,Lovelace,ada@example.edu\n"
        "bob,lab-A,Bob,Babbage,bob@example.edu\n"
        "cyd,lab-C,,,\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "roster", "import", course / "new.csv", "--course", course)
    assert code == EXIT_OK
    assert out.splitlines() == [
        f"imported {course / 'new.csv'}: 0 added, 2 updated, 1 unchanged",
        "1 gradebook student(s) not on the roster (kept): zed",
    ]
    people = students(gradebook_url(course))
    assert people["bob"] == ("Bob", "Babbage", "bob@example.edu")
    assert people["cyd"] == ("Cyd", "Charisse", "cyd@example.edu")  # empty cells keep what the gradebook has
    assert "zed" in people
    code, out, _ = run(capsys, "roster", "show", "--course", course)
    assert code == EXIT_OK
    assert out.splitlines()[4].split() == ["cyd", "Charisse", "Cyd", "cyd@example.edu", "lab-C"]
    assert out.splitlines()[-1] == "4 students"


def test_import_outside_a_course_creates_nothing(capsys, tmp_path):
    (tmp_path / "roster.csv").write_text(CLASS_ROSTER, encoding="utf-8")
    code, _, err = run(capsys, "roster", "import", tmp_path / "roster.csv", "--course", tmp_path)
    assert code == EXIT_NO_GRADEBOOK
    assert f"error: {tmp_path} is not a course folder (no nbgrader_config.py)" in err
    assert not (tmp_path / "gradebook.db").exists()


@pytest.fixture
def imported_class(tmp_path, capsys):
    """The hand-built class (tests/support/conftest_gradebook.py) with its roster imported: zed has no submission."""
    build_hand_class(tmp_path)
    code, out, _ = run(capsys, "roster", "import", tmp_path / "roster.csv", "--course", tmp_path)
    assert code == EXIT_OK, out
    assert out.splitlines() == [
        f"imported {tmp_path / 'roster.csv'}: 1 added, 3 updated, 0 unchanged",
        "1 gradebook student(s) not on the roster (kept): dan",
    ]
    return tmp_path


def test_table_shows_imported_class_sections_and_roster_students_without_a_submission(capsys, imported_class):
    code, out, err = run(capsys, "table", "--course", imported_class)
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["student", "class", "section"]
    assert lines[2].split()[:2] == ["ada", "lab-A"]
    assert lines[5].split()[:4] == ["dan", "(not", "on", "roster)"]
    assert lines[6].split() == ["zed", "lab-B", "0", "0.0%", "M", "0", "0.0%", "M", "0", "0.0%", "M"]
    assert "5 students; 5 missing submissions" in out


def test_exports_carry_the_names_and_score_absent_students_0_and_missing(capsys, imported_class):
    code, out, _ = run(capsys, "export", "--course", imported_class, "--format", "canvas")
    assert code == EXIT_OK
    assert out.splitlines() == [
        "Student,ID,SIS User ID,SIS Login ID,Section,mechanics,theory",
        "Points Possible,,,,,20,10",
        '"Lovelace, Ada",,ada,ada@example.edu,lab-A,20,10',
        '"Babbage, Bob",,bob,bob,lab-A,3,7',
        '"Charisse, Cyd",,cyd,cyd,lab-B,14,0',
        '"Dennett, Dan",,dan,dan,(not on roster),0,4',
        '"Unknown, Zed",,zed,zed,lab-B,0,0',
    ]
    code, out, _ = run(capsys, "export", "--course", imported_class, "--format", "csv")
    zed = next(row for row in csv.DictReader(io.StringIO(out)) if row["student_id"] == "zed")
    assert (zed["first_name"], zed["last_name"], zed["class_section"]) == ("Zed", "Unknown", "lab-B")
    assert (zed["overall_points"], zed["overall_status"]) == ("0", "missing: ex01_a ex02_b ex04_c")


def test_report_shows_names_and_class_sections(capsys, imported_class):
    code, _, _ = run(capsys, "report", "--course", imported_class, "--out", imported_class / "r.html")
    assert code == EXIT_OK
    html = (imported_class / "r.html").read_text(encoding="utf-8")
    assert "Unknown, Zed" in html and "Lovelace, Ada" in html
    assert (imported_class / "r_class_sections.png").is_file()  # the class sections came from the gradebook


@pytest.mark.slow
def test_nbgrader_export_per_section_file_has_names_class_sections_and_absent_students(imported_class):
    nbgrader("export", cwd=imported_class)
    with open(imported_class / "grades_sections.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert list(rows) == ["ada", "bob", "cyd", "dan", "zed"]
    assert (rows["zed"]["last_name"], rows["zed"]["class_section"], rows["zed"]["overall_points"]) == (
        "Unknown",
        "lab-B",
        "0",
    )
    assert rows["dan"]["class_section"] == "(not on roster)"
    with open(imported_class / "grades.csv", newline="", encoding="utf-8") as handle:
        nbgrader_rows = [row for row in csv.DictReader(handle) if row["student_id"] == "zed"]
    assert [(row["assignment"], float(row["score"])) for row in nbgrader_rows] == [
        ("ex01_a", 0.0),
        ("ex02_b", 0.0),
        ("ex04_c", 0.0),
    ]


def test_import_without_a_file_and_show_without_a_gradebook_say_what_to_do(capsys, course):
    code, _, err = run(capsys, "roster", "import", "--course", course)
    assert code == EXIT_BAD_INPUT
    assert "error: roster import needs the roster file: gradebook-tools roster import roster.csv" in err
    code, _, err = run(capsys, "roster", "show", "--course", course)
    assert code == EXIT_NO_GRADEBOOK
    assert f"error: no gradebook at {course / 'gradebook.db'}" in err
