"""The LMS tables beside nbgrader's, on SQLite and PostgreSQL: a roster sync and two pushes through each."""

from __future__ import annotations

import pytest

from gradebook_tools.course.config import open_course
from gradebook_tools.gradebook.scores import open_gradebook
from gradebook_tools.lms.service import push_grades, sync_roster
from gradebook_tools.lms.store import SENDING, LmsStore, SentScore
from tests.support.conftest_gradebook import build_hand_class
from tests.support.gradebook_factory import gradebook_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, lms_course):
    if request.param == "sqlite":
        return gradebook_url(lms_course.root)
    url = request.getfixturevalue("postgres_url")
    (lms_course.root / "pg").mkdir()
    build_hand_class(lms_course.root / "pg", url)
    return url


def test_sync_and_push_on_both_databases(lms_course, db_url):
    course = open_course(lms_course.root, db_url)
    result = sync_roster(course, apply=True)
    assert sorted(learner.student_id for learner in result.diff.learners) == ["ada", "bob", "cyd", "dan"]
    first, _ = push_grades(course)
    again, _ = push_grades(course)
    assert (first.sent, again.sent, again.unchanged) == (10, 0, 10)

    engine = open_gradebook(db_url)
    store = LmsStore(engine)
    assert store.members() == {"u-ada": "ada", "u-bob": "bob", "u-cyd": "cyd", "u-dan": "dan"}
    store.record_members({"u-ada": ("someone-else", "login_id"), "u-new": ("new", "email")})
    assert store.members()["u-ada"] == "ada"  # a recorded mapping is never replaced
    assert store.members()["u-new"] == "new"
    assert len(store.push_log()) == 10
    assert set(store.line_items()) == {"ex01_a", "ex02_b", "ex04_c"}

    sent = store.sent_scores()
    bob = sent[("ex01_a", "u-bob")]
    assert (bob.score_given, bob.grading_progress, bob.state) == (3.0, "PendingManual", "sent")
    changed = SentScore(**{**bob.__dict__, "score_given": 5.0, "grading_progress": "FullyGraded"})
    store.mark_sending([changed])
    assert store.sent_scores()[("ex01_a", "u-bob")].state == SENDING
    store.forget_sending(changed)
    assert ("ex01_a", "u-bob") not in store.sent_scores()  # refused: sent again next time
    store.mark_sent(changed, bob)
    assert store.sent_scores()[("ex01_a", "u-bob")].same_as(changed)
    assert store.push_log()[-1]["score_given"] == 5.0
    engine.dispose()
