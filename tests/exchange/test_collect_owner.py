"""No student submits, or overwrites a submission, in another's name (issue 16, property 6).

Real Unix users made for the run, the course's own configuration
(``c.ExchangeFactory.collect`` = :class:`OwnerCheckedCollect`) and a scratch
exchange of mode 1777, as docs/course_workflow.md sets it up:

- ``honest`` fetches, fills in the solutions and submits; then ``forger`` runs
  ``nbgrader submit <id> --CourseDirectory.student_id=<honest>`` with the blank
  release, and submits their own blank notebook too. ``nbgrader collect``
  keeps honest's real submission (byte for byte), collects forger's own, and
  records the forged attempt (``gradebook-tools status --problems``). The
  forger tries again after collection; ``collect --update`` changes nothing
  and records that attempt too. ``gradebook-tools grade`` then reads back
  honest's exact 8 points.
- One Unix user submitting for two students who have no Unix user of their
  own (every server under one uid): ``collect`` refuses to run, naming the
  risk and the trait; with the trait set it collects as nbgrader does.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook.outcomes import StatusStore
from tests.engine.test_hostile_class import tree_hash
from tests.support.course import fill_answers, gradebook_tools, nbgrader, read_notebook, solution_code
from tests.support.lab_session import STUDENT_USERS, Student, course_with_exchange, student_python

COURSE_ID = "alignment-monitoring"
EXERCISE = "ex01_response_only_sft"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("exchange-owner"), *STUDENT_USERS]  # one classroom


def fetch(student: Student) -> Path:
    student.nbgrader("fetch_assignment", EXERCISE, "--course", COURSE_ID)
    return student.home / EXERCISE / f"{EXERCISE}.ipynb"


def submit(student: Student, *extra: str) -> None:
    student.nbgrader("submit", EXERCISE, "--course", COURSE_ID, *extra)
    time.sleep(0.05)  # each submission's timestamp is later than the one before


@pytest.fixture(scope="module")
def classroom():
    with contextlib.ExitStack() as undo:
        base, exchange, course = course_with_exchange(undo, "exchange-owner-", [EXERCISE])
        nbgrader("release_assignment", EXERCISE, cwd=course)
        run = secrets.token_hex(3)
        students = {}
        for role in ("honest", "forger"):
            students[role] = Student(f"nbg{run}{role[:4]}", exchange, COURSE_ID)
            undo.callback(students[role].remove)
        chosen = student_python(students["honest"].user, base)
        if chosen is None:
            pytest.skip("the students cannot run the project's Python and there is no Debian interpreter of it")
        for student in students.values():
            student.python = chosen[0]
            student.write_file(
                "nbgrader_config.py",
                f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.Exchange.root = {str(exchange)!r}\n",
            )
        yield {"base": base, "course": course, "exchange": exchange, "run": run, **students}


@pytest.fixture(scope="module")
def collected(classroom):
    course, honest, forger = classroom["course"], classroom["honest"], classroom["forger"]
    source = read_notebook(course / "source" / EXERCISE / f"{EXERCISE}.ipynb")
    good = nbformat.writes(fill_answers(read_notebook(fetch(honest)), solution_code(source)))
    honest.write_file(f"{EXERCISE}/{EXERCISE}.ipynb", good)
    submit(honest)
    fetch(forger)
    submit(forger, f"--CourseDirectory.student_id={honest.user}")  # the blank release, in honest's name
    submit(forger)  # and forger's own
    # a folder whose name nbgrader cannot read (upstream collect would stop for the whole class)
    forger.run("mkdir", str(classroom["exchange"] / COURSE_ID / "inbound" / f"{honest.user}+{EXERCISE}+not-a-time+x"))
    first = nbgrader("collect", EXERCISE, cwd=course, check=False)
    submitted_after_first = tree_hash(course / "submitted")
    submit(forger, f"--CourseDirectory.student_id={honest.user}")  # again, after collection: a late overwrite
    second = nbgrader("collect", "--update", EXERCISE, cwd=course, check=False)
    return {"good": good, "first": first, "second": second, "submitted_after_first": submitted_after_first}


def test_collect_keeps_the_real_submission_and_takes_the_forgers_own(classroom, collected):
    course, honest, forger = classroom["course"], classroom["honest"], classroom["forger"]
    assert collected["first"].returncode == 0, collected["first"].stdout + collected["first"].stderr
    assert collected["second"].returncode == 0, collected["second"].stdout + collected["second"].stderr
    kept = course / "submitted" / honest.user / EXERCISE / f"{EXERCISE}.ipynb"
    assert kept.read_text(encoding="utf-8") == collected["good"]
    assert (course / "submitted" / forger.user / EXERCISE / f"{EXERCISE}.ipynb").is_file()
    assert sorted(path.name for path in (course / "submitted").iterdir()) == sorted([honest.user, forger.user])
    # the late forgery changed nothing that was collected
    assert tree_hash(course / "submitted") == collected["submitted_after_first"]


def test_every_refused_submission_is_recorded_with_its_reason(classroom, collected):
    course, honest, forger = classroom["course"], classroom["honest"], classroom["forger"]
    refused = StatusStore(f"sqlite:///{course / 'gradebook.db'}").refused(EXERCISE)
    assert len(refused) == 3, refused
    unreadable = [status for status in refused if "+not-a-time+" in status.fingerprint]
    assert len(unreadable) == 1 and "no readable time of submission" in unreadable[0].reason
    for status in refused:
        if status in unreadable:
            continue
        assert status.student == honest.user and status.state == "refused"
        assert f"claims to be submitted by {honest.user} but belongs to the Unix user {forger.user}" in status.reason
        assert status.fingerprint.startswith(f"{honest.user}+{EXERCISE}+")
    problems = gradebook_tools("status", "--problems", cwd=course)
    assert problems.returncode == 0, problems.stderr
    assert problems.stdout.count("refused") >= 3 and forger.user in problems.stdout, problems.stdout


def test_the_honest_students_exact_score_after_grading(classroom, collected):
    course, honest, forger = classroom["course"], classroom["honest"], classroom["forger"]
    result = gradebook_tools("grade", "--quiet", cwd=course)
    assert result.returncode == 0, result.stdout + result.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {s.student.id: s.code_score for s in gradebook.find_assignment(EXERCISE).submissions}
    assert scores == {honest.user: 8.0, forger.user: 0.0}


def test_an_exchange_where_one_uid_submits_for_everyone_is_refused_unless_the_risk_is_accepted(classroom):
    course, forger, run = classroom["course"], classroom["forger"], classroom["run"]
    exchange = classroom["base"] / "shared-exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    root = f"--Exchange.root={exchange}"
    nbgrader("release_assignment", EXERCISE, root, "--force", cwd=course)
    # one Unix user submitting for two students without Unix users of their own: "everyone is jovyan"
    ghosts = [f"nbg{run}ghost{n}" for n in (1, 2)]
    if not (forger.home / EXERCISE).is_dir():  # run alone: the collection above did not fetch it
        fetch(forger)
    for ghost in ghosts:
        submit(forger, root, f"--CourseDirectory.student_id={ghost}")
    before = tree_hash(course / "submitted")
    refused = nbgrader("collect", EXERCISE, root, cwd=course, check=False)
    assert refused.returncode != 0
    text = refused.stdout + refused.stderr
    assert f"belongs to one Unix user ({forger.user})" in text and "cannot tell students apart" in text, text
    assert "shared_uid_anyone_can_submit_as_anyone=True" in text
    assert tree_hash(course / "submitted") == before
    accepted = nbgrader(
        "collect", EXERCISE, root, "--OwnerCheckedCollect.shared_uid_anyone_can_submit_as_anyone=True", cwd=course
    )
    assert "collecting without telling students apart" in accepted.stdout + accepted.stderr
    for ghost in ghosts:
        assert (course / "submitted" / ghost / EXERCISE / f"{EXERCISE}.ipynb").is_file()
