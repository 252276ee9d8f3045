"""Late days: spent automatically where they save the student the most points, or only on request; shown to both."""

from __future__ import annotations

import datetime
import warnings

from nbgrader.api import Gradebook

from gradebook_tools.cli import main
from gradebook_tools.gradebook.ledger import read_ledger
from tests.support.gradebook_factory import DUE, add_assignment, add_graded_submission, gradebook_url

HOUR = datetime.timedelta(hours=1)


def build(folder, spent="auto"):
    db_url = gradebook_url(folder)
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseLatePenalty.percent_per_day = 10\n"
        "c.CourseLatePenalty.late_days = 2\n"
        f"c.CourseLatePenalty.late_days_spent = {spent!r}\n",
        encoding="utf-8",
    )
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add_assignment(gradebook, "ex01", [("q1", 10.0, "code")])
        add_assignment(gradebook, "ex02", [("q1", 40.0, "code")])
        gradebook.add_student("ada")
        add_graded_submission(gradebook, "ex01", "ada", {"q1": 10.0}, timestamp=DUE + 30 * HOUR)  # 2 days late
        add_graded_submission(gradebook, "ex02", "ada", {"q1": 40.0}, timestamp=DUE + 10 * HOUR)  # 1 day late
    gradebook.engine.dispose()
    return db_url


def run(capsys, folder, *argv):
    code = main([*map(str, argv), "--course", str(folder)])
    out = capsys.readouterr().out
    assert code == 0, out
    return out.splitlines()


def penalties(db_url):
    with Gradebook(db_url) as gradebook:
        result = {
            name: gradebook.find_submission(name, "ada").notebooks[0].late_submission_penalty or 0.0
            for name in ("ex01", "ex02")
        }
    gradebook.engine.dispose()
    return result


def test_late_days_go_where_they_save_the_most_points(capsys, tmp_path):
    db_url = build(tmp_path)
    # a day on ex02 saves 4 points (10 % of 40) and a day on ex01 1 point; two days on ex01 only 2
    out = run(capsys, tmp_path, "calendar", "set", "ex01", "--due", str(DUE))
    assert out == [
        "1 score(s) changed:",
        "  ada ex01: 10 -> 9 (-1); due 2026-10-02 12:00 UTC (1 late day spent): 6 h 00 min late (1 day(s)), "
        "penalty 1 of 10 (10 %)",
    ]
    assert penalties(db_url) == {"ex01": 1.0, "ex02": 0.0}
    assert run(capsys, tmp_path, "extension", "list")[-1] == "ada: late days spent ex01 1, ex02 1; 0 of 2 left"
    assert run(capsys, tmp_path, "calendar", "--student", "ada")[-1] == "ada: 0 of 2 late day(s) left"
    spent = [(e.assignment, e.old, e.new) for e in read_ledger(db_url) if e.kind == "late days"]
    assert spent == [("ex01", 0.0, 1.0), ("ex02", 0.0, 1.0)]


def test_late_days_on_request_are_spent_only_where_asked(capsys, tmp_path):
    db_url = build(tmp_path, spent="on_request")
    run(capsys, tmp_path, "calendar", "set", "ex01", "--due", str(DUE))
    assert penalties(db_url) == {"ex01": 2.0, "ex02": 4.0}
    preview = run(capsys, tmp_path, "extension", "late-days", "ada", "ex01", "2", "--dry-run")
    assert preview[:2] == [
        "1 score(s) would change:",
        "  ada ex01: 8 -> 10 (+2); due 2026-10-03 12:00 UTC (2 late days spent): on time",
    ]
    assert penalties(db_url) == {"ex01": 2.0, "ex02": 4.0}
    assert run(capsys, tmp_path, "extension", "late-days", "ada", "ex01", "2") == [
        line.replace("would change", "changed") for line in preview[:2]
    ]
    assert penalties(db_url) == {"ex01": 0.0, "ex02": 4.0}
    assert run(capsys, tmp_path, "calendar", "--student", "ada")[-1] == "ada: 0 of 2 late day(s) left"


def test_the_student_sees_their_own_calendar_on_their_summary_page(capsys, tmp_path):
    import html
    import re

    from gradebook_tools.pages.student_summary import write_student_summaries

    build(tmp_path)
    run(capsys, tmp_path, "calendar", "set", "ex01", "--due", str(DUE))
    run(capsys, tmp_path, "calendar", "set", "ex02", "--due", str(DUE))
    run(capsys, tmp_path, "extension", "grant", "ada", "ex02", "--hours", "12", "--reason", "<script>x</script>")
    (page,) = write_student_summaries(tmp_path)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))).split())
    assert "Your calendar" in text and "2 of 2 late days left" not in text
    # the extension covers ex02, so both late days go to ex01: on time there too
    assert "ex01 2026-10-03 12:00 UTC 2026-10-01 12:00 UTC 2 late days spent –" in text
    assert "ex02 2026-10-02 00:00 UTC 2026-10-01 12:00 UTC extension +12 h after the class's due date –" in text
    assert "0 of 2 late days left" in text
    assert "<script>" not in page.read_text(encoding="utf-8")
