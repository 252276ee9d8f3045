"""The command line: output, messages and exit codes."""

import json
import sqlite3
import subprocess
import sys

import pytest

from gradebook_tools.cli import (
    EXIT_BAD_INPUT,
    EXIT_EMPTY_CLASS,
    EXIT_NO_GRADEBOOK,
    EXIT_OK,
    EXIT_UNKNOWN_NAME,
    main,
)
from gradebook_tools.cli.main import build_parser
from gradebook_tools.cli.registry import COMMANDS
from tests.support.gradebook_factory import new_gradebook


def run(capsys, *argv):
    """Run the CLI in this process; return (exit code, stdout, stderr)."""
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_command_has_one_line_help_and_an_example():
    parser = build_parser()
    help_text = " ".join(parser.format_help().split())
    for name, command in COMMANDS.items():
        summary, _, example = command.run.__doc__.strip().partition("\n")
        assert summary.endswith(".") and len(summary) <= 64, name  # one line of --help
        assert example.strip().startswith(f"Example: gradebook-tools {name}"), name
        assert summary in help_text
    assert {"table", "groups", "items", "export", "report", "roster"} <= set(COMMANDS)


def test_table_prints_sections_flags_and_a_legend(capsys, hand_course):
    code, out, err = run(capsys, "table", "--course", hand_course)
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split() == ["student", "mechanics", "/20", "theory", "/10", "overall", "/30"]
    assert lines[3].split() == ["bob", "3", "15.0%", "MP", "7", "70.0%", "10", "33.3%", "MP"]
    assert "M: a missing submission, counted 0." in out
    assert "4 students; 2 missing submissions; 1 awaiting a manual grade (2 points open)." in out
    assert "configured but not in the gradebook yet: ex05_absent" in err


def test_roster_problems_are_warnings_and_the_class_section_a_column(capsys, hand_course):
    code, out, err = run(capsys, "table", "--course", hand_course, "--roster", hand_course / "roster.csv")
    assert code == EXIT_OK
    assert out.splitlines()[5].split()[:4] == ["dan", "(not", "on", "roster)"]
    # zed is on the roster but submitted nothing: shown with 0 and every assignment missing
    assert out.splitlines()[6].split() == ["zed", "lab-B", "0", "0.0%", "M", "0", "0.0%", "M", "0", "0.0%", "M"]
    assert (
        "1 roster student(s) not in the gradebook, shown with 0 and missing: zed "
        "(gradebook-tools roster import adds them)"
    ) in err
    assert "missing from the roster, shown as '(not on roster)': dan" in err


def test_groups_prints_statistics_per_class_section(capsys, hand_course):
    code, out, _ = run(capsys, "groups", "--course", hand_course, "--roster", hand_course / "roster.csv")
    assert code == EXIT_OK
    assert ["lab-A", "mechanics", "2", "57.5", "57.5", "60.1", "15.0", "100.0"] in [
        line.split() for line in out.splitlines()
    ]


def test_items_for_one_assignment(capsys, hand_course):
    code, out, _ = run(capsys, "items", "--course", hand_course, "--assignment", "ex04_c")
    assert code == EXIT_OK
    assert "ex01_a" not in out
    assert ["ex04_c/test_answer", "2", "3", "1.33", "66.7%", "+0.00", "weak"] in [
        line.split() for line in out.splitlines()
    ]


def test_export_json_to_a_file(capsys, hand_course, tmp_path):
    code, _, err = run(capsys, "export", "--course", hand_course, "--format", "json", "--to", tmp_path / "grades.json")
    assert code == EXIT_OK
    assert f"wrote {tmp_path / 'grades.json'}" in err
    data = json.loads((tmp_path / "grades.json").read_text())
    assert [student["overall"]["points"] for student in data["students"]] == [30.0, 10.0, 14.0, 4.0]
    assert {item["cell"] for item in data["items"]} >= {None, "test_f", "explanation"}


def test_report_prints_the_table_and_where_the_html_is(capsys, hand_course, tmp_path):
    code, out, _ = run(capsys, "report", "--course", hand_course, "--out", tmp_path / "r" / "class.html")
    assert code == EXIT_OK
    assert out.splitlines()[0].startswith("student")
    assert f"HTML report: {tmp_path / 'r' / 'class.html'}" in out
    assert (tmp_path / "r" / "class.html").is_file()


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (
            ["table", "--section", "ethics"],
            EXIT_UNKNOWN_NAME,
            "error: unknown section 'ethics'; sections: mechanics, theory",
        ),
        (["table", "--student", "eve"], EXIT_UNKNOWN_NAME, "error: unknown student(s): eve"),
        (
            ["items", "--assignment", "ex99"],
            EXIT_UNKNOWN_NAME,
            "error: unknown assignment(s): ex99; the gradebook has: ex01_a, ex02_b, ex04_c",
        ),
    ],
)
def test_unknown_names_exit_4_with_what_exists(capsys, hand_course, argv, code, message):
    exit_code, out, err = run(capsys, *argv, "--course", hand_course)
    assert (exit_code, out) == (code, "")
    assert message in err


def test_missing_gradebook_exits_3(capsys, tmp_path):
    code, _, err = run(capsys, "table", "--course", tmp_path)
    assert code == EXIT_NO_GRADEBOOK
    assert f"error: no gradebook at {tmp_path / 'gradebook.db'}" in err
    assert not (tmp_path / "gradebook.db").exists()  # nothing was created


def test_foreign_database_exits_3(capsys, tmp_path):
    with sqlite3.connect(tmp_path / "other.db") as connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")
    code, _, err = run(capsys, "table", "--db", tmp_path / "other.db")
    assert code == EXIT_NO_GRADEBOOK
    assert "is not an nbgrader gradebook (no table assignment, base_cell, grade" in err


def test_a_file_that_is_no_database_exits_3(capsys, tmp_path):
    (tmp_path / "notes.db").write_text("not a database at all\n" * 100)
    code, _, err = run(capsys, "table", "--db", tmp_path / "notes.db")
    assert code == EXIT_NO_GRADEBOOK
    assert "cannot read the gradebook" in err and "file is not a database" in err


def test_empty_class_exits_5(capsys, tmp_path):
    new_gradebook(tmp_path).close()
    code, _, err = run(capsys, "report", "--course", tmp_path)
    assert code == EXIT_EMPTY_CLASS
    assert "error: the gradebook has no students yet" in err


def test_unreadable_roster_exits_6(capsys, hand_course, tmp_path):
    (tmp_path / "roster.csv").write_text("name,group\nada,A\n")
    code, _, err = run(capsys, "groups", "--course", hand_course, "--roster", tmp_path / "roster.csv")
    assert code == EXIT_BAD_INPUT
    assert "the header must name the columns student_id, class_section (missing: student_id, class_section" in err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["table", "--format", "xml"])
    assert stop.value.code == 2


@pytest.mark.slow
def test_python_dash_m_runs_the_same_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gradebook_tools", "table", "--course", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == EXIT_NO_GRADEBOOK
    assert "error: no gradebook at" in result.stderr


@pytest.mark.parametrize(
    "url, message",
    [
        ("oracle+nodriver://grader@db/course", "error: no database driver for oracle+nodriver://grader@db/course"),
        ("postgresql+psycopg://grader:secret@/course?host=/nonexistent", "error: cannot read the gradebook"),
    ],
)
def test_unreachable_database_server_exits_3_without_showing_the_password(capsys, url, message):
    pytest.importorskip("psycopg")
    code, _, err = run(capsys, "table", "--db", url)
    assert code == EXIT_NO_GRADEBOOK
    assert message in err
    assert "secret" not in err
