"""The HTML report: rendered for the hand-built class, its content checked."""

import base64
import re

import pytest

from gradebook_tools.course.config import load_course_sections
from gradebook_tools.gradebook.items import analyse_items
from gradebook_tools.gradebook.roster import assign_class_sections, read_roster
from gradebook_tools.gradebook.scores import open_gradebook, read_cell_grades, read_class_scores
from gradebook_tools.gradebook.sections import section_table
from gradebook_tools.pages.report import write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(hand_course, tmp_path_factory):
    engine = open_gradebook(str(hand_course / "gradebook.db"))
    scores = read_class_scores(engine)
    table = section_table(scores, load_course_sections(hand_course))
    class_section_of, _ = assign_class_sections(
        read_roster(hand_course / "roster.csv"), [student.id for student in scores.students]
    )
    totals = {row.student.id: row.overall.points for row in table.rows}
    items = analyse_items(read_cell_grades(engine), totals, scores.assignment_names)
    engine.dispose()
    written = write_report(tmp_path_factory.mktemp("report") / "class.html", table, items, class_section_of)
    return written, written.html.read_text(encoding="utf-8")


def section(html: str, element_id: str) -> str:
    """The text of the table with this id."""
    match = re.search(rf'<table id="{element_id}">(.*?)</table>', html, re.S)
    assert match, f"no table {element_id}"
    return match.group(1)


def row_of(table_html: str, first_cell: str) -> str:
    rows = ["<tr" + row for row in table_html.split("<tr") if f">{first_cell}</td>" in row]
    assert len(rows) == 1, f"{first_cell!r} in {len(rows)} rows"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rows[0])).strip()


def test_report_and_plots_are_written_next_to_each_other(report):
    written, _ = report
    assert [path.name for path in written.plots] == [
        "class_sections.png",
        "class_class_sections.png",
        "class_items.png",
    ]
    for path in written.plots:
        assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_page_is_self_contained_with_the_plots_embedded(report):
    _, html = report
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 3
    assert all(base64.b64decode(image).startswith(PNG_SIGNATURE) for image in images)
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_student_rows_show_points_percentages_and_flags(report):
    _, html = report
    students = section(html, "student-table")
    assert row_of(students, "bob") == (
        "bob Babbage, Bob lab-A 3 · 15.0% missing 1 pending 1 7 · 70.0% 10 · 33.3% missing 1 pending 1"
    )
    assert row_of(students, "dan") == "dan Dennett, Dan (not on roster) 0 · 0.0% 4 · 40.0% 4 · 13.3%"
    assert 'title="ex02_b"' in students  # which assignment is missing, on hover


def test_summary_cards_and_class_section_summary(report):
    _, html = report
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "4 students" in text
    assert "48.3% mean overall" in text  # (100 + 33.33 + 46.67 + 13.33) / 4
    assert "2 missing submissions" in text  # bob's ex02_b, cyd's ex04_c
    assert "1 awaiting a manual grade (2 points open)" in text
    assert "Configured but not in the gradebook yet (not counted): ex05_absent." in text
    assert re.search(r"lab-A mechanics 2 57\.5 57\.5 60\.1 15\.0 100\.0", text)


def test_item_analysis_lists_the_most_failed_cells_first(report):
    _, html = report
    most_failed = section(html, "most-failed")
    # by share of full marks: ex02_b/explanation 1/3, the two ex01_a checks 1/2, then the 2/3s by name
    assert re.findall(r'<td class="name">([^<]+)</td>', most_failed) == [
        "ex02_b/explanation",
        "ex01_a/test_answer",
        "ex01_a/test_f",
        "ex02_b/test_g",
        "ex04_c/explanation",
        "ex04_c/test_answer",
        "ex04_c/test_h",
    ]
    items = section(html, "item-table")
    assert row_of(items, "ex01_a/test_f") == "ex01_a/test_f code 4 4 2.00 50.0% +1.00"
    assert '<tr class="weak">\n    <td class="name">ex04_c/test_answer</td>' in items
    assert '<tr class="exercise">\n    <td class="name">ex01_a</td>' in items


def test_cells_with_pending_grades_are_left_out_of_the_ranking_and_counted(report):
    # ex01_a/explanation: ada 2, cyd 1, dan 1 decided, bob's pending; ranked on its decided grades
    # alone it would top the list, so it waits until it is graded
    _, html = report
    assert "ex01_a/explanation" not in section(html, "most-failed")
    note = re.search(r'<p class="note" id="pending-cells">(.*?)</p>', html, re.S).group(1)
    assert " ".join(note.split()) == (
        "Left out until graded by hand: 1 graded cell with 1 grade awaiting a manual grade "
        "(ex01_a/explanation); their decided grades alone would rank them unfairly."
    )
    assert row_of(section(html, "item-table"), "ex01_a/explanation") == (
        "ex01_a/explanation markdown 2 3 1.33 33.3% +0.50 1"
    )
