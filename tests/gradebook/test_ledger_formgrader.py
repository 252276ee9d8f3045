"""A manual grade and a comment given through the formgrader of a real Jupyter server land in the ledger.

The server loads the course's own nbgrader_config.py (which installs the ledger) as an instructor's would;
the test talks to the formgrader's HTTP API, as its page's script does when a grader types a score.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
import warnings

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook.ledger import read_ledger
from tests.support.course import REPO
from tests.support.gradebook_factory import add_assignment, add_graded_submission, gradebook_url
from tests.support.lab_session import course_server

pytestmark = pytest.mark.slow  # a real Jupyter server


def put(url: str, token: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def test_formgrader_grade_and_comment_are_recorded_with_the_jupyter_user(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    db_url = gradebook_url(course)
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add_assignment(gradebook, "ex01", [("q1", 2.0, "code"), ("q2", 3.0, "markdown")])
        gradebook.add_solution_cell("q2", "ex01", "ex01")
        gradebook.add_student("ada")
        add_graded_submission(gradebook, "ex01", "ada", {"q1": 2.0})
        grade_id = gradebook.find_grade("q2", "ex01", "ex01", "ada").id
        comment_id = gradebook.find_comment("q2", "ex01", "ex01", "ada").id
    gradebook.engine.dispose()
    before = len(read_ledger(db_url))

    with course_server(course, tmp_path / "jupyter.log", app="jupyter_server") as (url, token):
        graded = put(url, token, f"/formgrader/api/grade/{grade_id}", {"manual_score": 2.5, "extra_credit": None})
        assert graded["manual_score"] == 2.5
        put(url, token, f"/formgrader/api/comment/{comment_id}", {"manual_comment": "=HYPERLINK(x) clear"})
    entries = read_ledger(db_url)[before:]
    assert [(e.student, e.assignment, e.cell, e.kind, e.old, e.new) for e in entries] == [
        ("ada", "ex01", "q2", "score", None, 2.5),
        ("ada", "ex01", "q2", "comment", None, "=HYPERLINK(x) clear"),
    ]
    assert entries[0].why == f"formgrader (PUT /formgrader/api/grade/{grade_id})"
    assert entries[1].why == f"formgrader (PUT /formgrader/api/comment/{comment_id})"
    assert all(e.who.endswith(" (Jupyter)") for e in entries), [e.who for e in entries]
