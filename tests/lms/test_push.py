"""``lms push``: line items found or made once, exact scores, only changes, failures survived, a kill resumed."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest
from nbgrader.api import Gradebook
from sqlalchemy import select

from gradebook_tools.cli import EXIT_OK, EXIT_SOME_FAILED, main
from gradebook_tools.gradebook.ledger import LEDGER
from gradebook_tools.gradebook.scores import open_gradebook
from gradebook_tools.lms.config import LmsError
from gradebook_tools.lms.platform_client import PlatformClient
from gradebook_tools.lms.service import push_grades, sync_roster
from gradebook_tools.lms.store import LmsStore
from tests.support.conftest_gradebook import build_hand_class
from tests.support.course import REPO
from tests.support.gradebook_factory import gradebook_url

#: What the platform must hold after a push of the hand class: (exercise, user) -> (scoreGiven, gradingProgress).
EXPECTED = {
    ("ex01_a", "u-ada"): (10.0, "FullyGraded"),
    ("ex01_a", "u-bob"): (3.0, "PendingManual"),  # 4 + 0 + explanation not graded yet, late penalty 1
    ("ex01_a", "u-cyd"): (5.0, "FullyGraded"),
    ("ex01_a", "u-dan"): (0.0, "FullyGraded"),  # 1 - late penalty 2, never below 0
    ("ex02_b", "u-ada"): (10.0, "FullyGraded"),
    ("ex02_b", "u-cyd"): (9.0, "FullyGraded"),
    ("ex02_b", "u-dan"): (0.0, "FullyGraded"),
    ("ex04_c", "u-ada"): (10.0, "FullyGraded"),
    ("ex04_c", "u-bob"): (7.0, "FullyGraded"),
    ("ex04_c", "u-dan"): (4.0, "FullyGraded"),
}


def held(platform) -> dict[tuple[str, str], tuple[float, str]]:
    """What the platform holds, as in :data:`EXPECTED`; every document checked for its fixed fields."""
    scores = platform.final_scores()
    for (_, user), document in scores.items():
        assert document["userId"] == user
        assert document["scoreMaximum"] == 10.0
        assert document["activityProgress"] == "Completed"  # the hand class's due date has passed
        assert document["timestamp"].endswith("+00:00")
    return {key: (doc["scoreGiven"], doc["gradingProgress"]) for key, doc in scores.items()}


def posts_per_score(platform) -> dict[tuple[int, str], int]:
    return {key: len(documents) for key, documents in platform.scores.items()}


def line_items(platform) -> list[tuple[str, str, float]]:
    return sorted((i["resourceId"], i["label"], i["scoreMaximum"]) for i in platform.line_items.values())


@pytest.fixture
def mapped(lms_course):
    """The hand course with its learners mapped (``lms roster --apply``), and a titled source notebook."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Exercise 1 — Alpha\n\nText.")])
    (lms_course.root / "source" / "ex01_a").mkdir(parents=True)
    nbformat.write(notebook, lms_course.root / "source" / "ex01_a" / "ex01_a.ipynb")
    sync_roster(lms_course.course, apply=True)
    lms_course.platform.received.clear()
    lms_course.platform.token_requests = 0
    return lms_course


def pusher(sleeps: list[float]):
    return functools.partial(PlatformClient, sleep=sleeps.append)


def test_exact_scores_one_line_item_per_exercise_and_only_changes_sent(mapped):
    platform, course = mapped.platform, mapped.course
    report, requests = push_grades(course, log=lambda line: None)
    assert held(platform) == EXPECTED
    assert line_items(platform) == [
        ("ex01_a", "Exercise 1 — Alpha", 10.0),
        ("ex02_b", "ex02_b", 10.0),
        ("ex04_c", "ex04_c", 10.0),
    ]
    assert (report.created, report.sent, report.unchanged, report.rejected) == (
        ["ex01_a", "ex02_b", "ex04_c"],
        10,
        0,
        [],
    )
    # token, list, 3 creations, 10 scores
    assert requests == len(platform.received) == 15
    assert platform.token_requests == 1

    report, requests = push_grades(course)
    assert (report.created, report.sent, report.unchanged) == ([], 0, 10)
    assert requests == 2  # a token and the line item list: no score
    assert platform.score_posts() == 10

    # a TA grades bob's explanation: 4 + 0 + 2 - 1 = 5, now fully graded; only that score goes
    with Gradebook(gradebook_url(mapped.root)) as gradebook:
        grade = gradebook.find_grade("explanation", "ex01_a", "ex01_a", "bob")
        grade.manual_score = 2
        grade.needs_manual_grade = False  # as the formgrader sets it
        gradebook.db.commit()
    report, _ = push_grades(course)
    assert (report.sent, report.unchanged) == (1, 9)
    assert held(platform) == {**EXPECTED, ("ex01_a", "u-bob"): (5.0, "FullyGraded")}
    assert platform.score_posts() == 11
    assert len(platform.line_items) == 3  # three runs, one line item per exercise

    engine = open_gradebook(gradebook_url(mapped.root))
    log = LmsStore(engine).push_log()
    assert len(log) == 11
    assert (log[-1]["student_id"], log[-1]["score_given"], log[-1]["grading_progress"]) == ("bob", 5.0, "FullyGraded")
    with engine.connect() as connection:
        ledger = connection.execute(
            select(LEDGER.c.student, LEDGER.c.assignment, LEDGER.c.old, LEDGER.c.new).where(LEDGER.c.kind == "lms")
        ).all()
    engine.dispose()
    assert len(ledger) == 11
    assert ledger[-1] == ("bob", "ex01_a", "3.0", "5.0")


def test_another_copy_of_the_course_finds_the_line_items(mapped, tmp_path):
    platform = mapped.platform
    push_grades(mapped.course)
    copy = tmp_path / "copy"
    copy.mkdir()
    build_hand_class(copy)
    (copy / "nbgrader_config.py").write_text(
        (mapped.root / "nbgrader_config.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    from gradebook_tools.course.config import open_course

    sync_roster(open_course(copy), apply=True)
    report, _ = push_grades(open_course(copy), ["ex02_b"])
    assert report.created == []
    assert len(platform.line_items) == 3
    assert report.sent == 3  # its own push log is empty: it sends its scores once, to the same line item
    assert held(platform) == EXPECTED


def test_dry_run_prints_the_requests_and_sends_nothing(capsys, mapped):
    platform, root = mapped.platform, mapped.root
    code = main(["lms", "push", "--dry-run", "--course", str(root)])
    out = capsys.readouterr().out.splitlines()
    assert code == EXIT_OK
    assert platform.received == [] and platform.token_requests == 0
    assert out[0].startswith(f"POST {platform.token_url} [application/x-www-form-urlencoded] grant_type=")
    assert out[1] == f"GET {platform.lineitems_url} [Accept: application/vnd.ims.lis.v2.lineitemcontainer+json]"
    assert out[2] == (
        f"POST {platform.lineitems_url} [application/vnd.ims.lis.v2.lineitem+json] "
        '{"scoreMaximum": 10.0, "label": "Exercise 1 \\u2014 Alpha", "resourceId": "ex01_a"} '
        "(unless the platform holds a line item with resourceId 'ex01_a')"
    )
    scores = [line for line in out if line.startswith("POST <line item of")]
    assert len(scores) == 10
    first = json.loads(scores[0].split("] ", 1)[1])
    assert scores[0].startswith("POST <line item of ex01_a>/scores [application/vnd.ims.lis.v1.score+json] ")
    assert {k: v for k, v in first.items() if k != "timestamp"} == {
        "userId": "u-ada",
        "scoreGiven": 10.0,
        "scoreMaximum": 10.0,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
    }

    push_grades(mapped.course)
    before = len(platform.received)
    with Gradebook(gradebook_url(root)) as gradebook:
        gradebook.find_grade("test_h", "ex04_c", "ex04_c", "dan").auto_score = 6
        gradebook.db.commit()
    code = main(["lms", "push", "--dry-run", "--course", str(root)])
    out = capsys.readouterr().out.splitlines()
    assert len(platform.received) == before
    item = next(i["id"] for i in platform.line_items.values() if i["resourceId"] == "ex04_c")
    assert len(out) == 3 and out[2].startswith(f"POST {item}/scores [application/vnd.ims.lis.v1.score+json] ")
    assert json.loads(out[2].split("] ", 1)[1])["scoreGiven"] == 10.0


def test_token_renewed_once_retry_after_honoured_errors_retried_no_duplicate_line_item(mapped):
    platform = mapped.platform
    platform.inject("500", method="GET", path="line_items$", times=2)
    platform.inject("drop-after", method="POST", path="line_items$")  # created, but the answer is lost
    platform.inject("401", method="POST", path="/scores$")
    platform.inject("429", method="POST", path="/scores$", retry_after="2")
    platform.inject("drop", method="POST", path="/scores$")
    sleeps: list[float] = []
    report, _ = push_grades(mapped.course, log=lambda line: None, client_factory=pusher(sleeps))
    assert held(platform) == EXPECTED
    assert line_items(platform)[0][0] == "ex01_a" and len(platform.line_items) == 3
    # backoff, backoff (listing); the first score meets 401 (renewed, no wait), 429 (Retry-After), a drop (backoff)
    assert sleeps == [0.01, 0.02, 2.0, 0.02]
    assert platform.token_requests == 2  # renewed once after the 401
    assert set(posts_per_score(platform).values()) == {1}
    assert report.sent == 10


def test_retries_are_limited_and_the_next_push_sends_each_score_once(mapped):
    platform = mapped.platform
    mapped.configure(max_retries=2)
    platform.inject("500", method="POST", path="/scores$", times=3, skip=4)
    sleeps: list[float] = []
    with pytest.raises(LmsError) as error:
        push_grades(mapped.course, log=lambda line: None, client_factory=pusher(sleeps))
    assert str(error.value).startswith(f"POST {platform.lineitems_url}/2/scores failed 3 times, last with 500")
    assert "run the command again" in str(error.value)
    assert sleeps == [0.01, 0.02]
    assert platform.score_posts() == 4 + 3
    report, _ = push_grades(mapped.course)
    assert (report.sent, report.unchanged, report.confirmed) == (6, 4, 0)
    assert held(platform) == EXPECTED
    assert set(posts_per_score(platform).values()) == {1}


def test_a_student_the_platform_refuses_is_named_and_skipped(capsys, mapped):
    platform = mapped.platform
    platform.members = [m for m in platform.members if m["user_id"] != "u-dan"]  # dropped the course in the LMS
    code = main(["lms", "push", "--course", str(mapped.root)])
    captured = capsys.readouterr()
    assert code == EXIT_SOME_FAILED
    refused = [line for line in captured.err.splitlines() if line.startswith("refused by the platform:")]
    assert refused == [
        f"refused by the platform: dan (platform user 'u-dan') on {exercise}: 422 "
        '{"error": "user is not a learner of this course"} — is the student enrolled in the course as a learner? '
        "(`gradebook-tools lms roster`)"
        for exercise in ("ex01_a", "ex02_b", "ex04_c")
    ]
    assert captured.out.splitlines()[-1] == (
        "line items: 3 created, 0 updated; scores: 7 sent, 0 unchanged, 0 confirmed from an interrupted push, "
        "3 refused; 15 HTTP request(s)"
    )
    assert held(platform) == {key: value for key, value in EXPECTED.items() if key[1] != "u-dan"}


@pytest.mark.parametrize(
    "arrived, per_transaction",
    [(True, 1), (False, 1), (True, 50)],
    ids=["score-arrived", "score-lost", "arrived-50-per-transaction"],
)
def test_a_killed_push_resumes_without_sending_anything_twice(mapped, arrived, per_transaction):
    platform = mapped.platform
    mapped.configure(scores_per_transaction=per_transaction)
    kill_while_held(mapped, platform.inject("hold", method="POST", path="/scores$", skip=3, store=arrived))
    deadline = time.monotonic() + 10
    while platform.score_posts() < 4 and time.monotonic() < deadline:  # the held answer is logged once released
        time.sleep(0.01)
    assert platform.score_posts() == 4
    assert len(platform.scores) == (4 if arrived else 3)

    report, _ = push_grades(mapped.course)
    assert held(platform) == EXPECTED
    # the in-flight score is confirmed from the platform's results (then unchanged) when it arrived, sent when not
    # with 50 scores per transaction none of the four was recorded: all four are confirmed from the results
    confirmed = (4 if per_transaction > 1 else 1) if arrived else 0
    assert (report.confirmed, report.sent) == (confirmed, 6 if arrived else 7)
    assert report.unchanged == 10 - report.sent
    assert set(posts_per_score(platform).values()) == {1}
    engine = open_gradebook(gradebook_url(mapped.root))
    assert len(LmsStore(engine).push_log()) == 10
    engine.dispose()


def test_students_without_a_mapping_and_exercises_without_points_are_named(capsys, lms_course):
    platform = lms_course.platform
    platform.members = [m for m in platform.members if m["user_id"] != "u-cyd"]
    sync_roster(lms_course.course, apply=True)
    with Gradebook(gradebook_url(lms_course.root)) as gradebook:
        gradebook.add_assignment("ex00_intro")  # no graded cell: 0 points
    code = main(["lms", "push", "--course", str(lms_course.root)])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert captured.err.splitlines() == [
        "warning: ex00_intro has no graded cells (0 points): no line item, nothing sent",
        "not sent: 1 student(s) with work but no platform mapping: cyd (run `gradebook-tools lms roster --apply`)",
    ]
    assert sorted(i["resourceId"] for i in platform.line_items.values()) == ["ex01_a", "ex02_b", "ex04_c"]
    assert held(platform) == {key: value for key, value in EXPECTED.items() if key[1] != "u-cyd"}


def kill_while_held(mapped, hold) -> None:
    """Run ``lms push`` in a subprocess, SIGKILL it while the platform holds the request ``hold`` matches."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gradebook_tools", "lms", "push", "--course", str(mapped.root)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        assert hold.arrived.wait(120), process.communicate(timeout=5)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        hold.release.set()
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL


def test_a_lost_score_the_results_cannot_tell_apart_is_sent_again(mapped):
    """bob's explanation graded 0: still 3 points, now FullyGraded. The results show 3 either way: send again."""
    platform = mapped.platform
    push_grades(mapped.course)
    with Gradebook(gradebook_url(mapped.root)) as gradebook:
        grade = gradebook.find_grade("explanation", "ex01_a", "ex01_a", "bob")
        grade.manual_score = 0
        grade.needs_manual_grade = False
        gradebook.db.commit()
    kill_while_held(mapped, platform.inject("hold", method="POST", path="/scores$", store=False))
    assert held(platform)[("ex01_a", "u-bob")] == (3.0, "PendingManual")
    report, _ = push_grades(mapped.course)
    assert (report.confirmed, report.sent) == (0, 1)
    assert held(platform) == {**EXPECTED, ("ex01_a", "u-bob"): (3.0, "FullyGraded")}
