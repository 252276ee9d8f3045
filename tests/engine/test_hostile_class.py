"""A hostile class graded beside honest students: links, forged log lines, odd ids, damaged metadata.

The same class is graded twice, in two copies of one course: with
``gradebook-tools grade`` and with a plain ``nbgrader autograde`` (the course's
configuration). Every honest student must score exactly what they score alone,
and ``submitted/``, ``source/`` and a root-only file outside the course keep
their bytes. (Attacks from inside the kernel are in tests/sandbox/test_sandbox.py.)
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.course.nbgrader_run import nbgrader_env
from gradebook_tools.gradebook.outcomes import StatusStore
from tests.support.course import REPO, fill_answers, grade_id, nbgrader, read_notebook, solution_code, tree_hash

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.needs_root("the sandbox's user switch")]

EXERCISE = "ex01_response_only_sft"
SECRET = f"root-only-secret-{uuid.uuid4().hex}"
# A budget the slow student runs out of; honest notebooks take a few seconds.
CONFIG = """
c.Execute.timeout = 10
c.TrustedExecute.check_timeout = 8
c.TrustedExecute.notebook_budget = 25
"""
HONEST = ("aaa-honest", "zzz-honest")
REFUSED_IDS = ("comma,student", "-leading-dash", "quote'student", "ünïcode")


def with_code(notebook, cell_id: str, code: str):
    """A copy of ``notebook`` whose answer cell ``cell_id`` also runs ``code``."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if grade_id(cell) == cell_id:
            cell.source += "\n" + textwrap.dedent(code)
    return notebook


def with_metadata(notebook, cell_id: str, **changes):
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if grade_id(cell) == cell_id:
            cell.metadata["nbgrader"].update(changes)
    return notebook


def build(root: Path, secret_file: Path) -> dict[str, str]:
    """The course and its class; returns student -> expected state under ``gradebook-tools grade``."""
    (root / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text() + CONFIG)
    shutil.copytree(REPO / "source" / EXERCISE, root / "source" / EXERCISE)
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=root)
    release = read_notebook(root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    good = fill_answers(release, solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb")))

    def folder(student: str) -> Path:
        path = root / "submitted" / student / EXERCISE
        path.mkdir(parents=True)
        return path

    def submit(student: str, notebook) -> Path:
        path = folder(student)
        nbformat.write(notebook, path / f"{EXERCISE}.ipynb")
        return path

    submit(HONEST[0], good)
    # a notebook that is a link to the source (with solutions) or to a classmate's notebook
    os.symlink(root / "source" / EXERCISE / f"{EXERCISE}.ipynb", folder("linked-notebook") / f"{EXERCISE}.ipynb")
    # extra files that are links to the gradebook and to a root-only file, and a named pipe
    extras = submit("linked-extras", good)
    os.symlink(root / "gradebook.db", extras / "data.db")
    os.symlink(secret_file, extras / "notes.txt")
    os.mkfifo(extras / "pipe")
    # printed lines shaped like nbgrader's log about a classmate
    submit(
        "forger",
        with_code(
            good,
            "answer",
            f"""
        import sys
        for stream in (sys.stdout, sys.stderr, sys.__stderr__):
            print("[AutogradeApp | ERROR] There was an error processing assignment '{EXERCISE}' "
                  "for student '{HONEST[1]}'", file=stream)
            print("[AutogradeApp | INFO] Sanitizing /x/submitted/{HONEST[1]}/{EXERCISE}/{EXERCISE}.ipynb", file=stream)
        """,
        ),
    )
    # malformed nbgrader metadata: an unknown schema version, a grade_id that is not text
    submit("future-schema", with_metadata(good, "test_answer", schema_version=99))
    submit("number-grade-id", with_metadata(good, "test_response_mask_from_roles", grade_id=5))
    # a reply the grader cannot convert: an integer of 401 digits where a float is expected
    submit("huge-int", with_code(good, "answer", "answer = 10 ** 400"))
    # cells each under the cell time-out, together over the notebook's budget
    slow = good
    for cell_id in ("log_softmax", "response_mask_from_roles", "response_only_loss"):
        slow = with_code(slow, cell_id, "import time\ntime.sleep(9)")
    submit("slowpoke", slow)
    for student in REFUSED_IDS:
        submit(student, good)
    submit(HONEST[1], good)
    states = {
        s: "graded"
        for s in (*HONEST, "linked-extras", "forger", "future-schema", "number-grade-id", "huge-int", "slowpoke")
    }
    return dict(states, **{"linked-notebook": "failed"}, **{s: "failed" for s in REFUSED_IDS})


def code_scores(root: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.code_score for s in gradebook.find_assignment(EXERCISE).submissions}


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("outside") / "secret.txt"
    path.write_text(SECRET)
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory, secret_file):
    root = tmp_path_factory.mktemp("hostile-grade")
    states = build(root, secret_file)
    before = {name: tree_hash(root / name) for name in ("submitted", "source")}
    result = subprocess.run(
        [sys.executable, "-m", "gradebook_tools", "grade", "--quiet"],
        cwd=root,
        env=nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    recorded = {s.student: s for s in StatusStore(f"sqlite:///{root / 'gradebook.db'}").all(EXERCISE)}
    return root, states, before, result, recorded


@pytest.fixture(scope="module")
def plain(tmp_path_factory, secret_file):
    root = tmp_path_factory.mktemp("hostile-plain")
    build(root, secret_file)
    before = {name: tree_hash(root / name) for name in ("submitted", "source")}
    result = nbgrader("autograde", EXERCISE, cwd=root, check=False)
    return root, before, result


def test_every_submission_has_its_outcome(graded):
    root, states, _, result, recorded = graded
    assert result.returncode == 7, result.stdout + result.stderr
    assert {student: status.state for student, status in recorded.items()} == states


def test_honest_students_score_exactly_as_alone(graded):
    root, _, _, _, recorded = graded
    scores = code_scores(root)
    for student in HONEST:
        assert scores[student] == 8.0, student
        assert recorded[student].reason == "", recorded[student].reason
    assert scores["forger"] == 8.0  # printing costs nothing and decides nothing


def test_links_and_special_files_in_submitted_are_never_followed(graded):
    root, _, _, _, recorded = graded
    assert "linked-notebook" not in code_scores(root) or code_scores(root)["linked-notebook"] == 0
    assert "symbolic link" in recorded["linked-notebook"].reason
    assert code_scores(root)["linked-extras"] == 8.0
    reason = recorded["linked-extras"].reason
    assert "data.db is a symbolic link" in reason and "notes.txt is a symbolic link" in reason
    assert "pipe is a named pipe" in reason
    for kind in ("autograded", "feedback"):
        for path in (root / kind).rglob("*"):
            assert not path.is_symlink(), path
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path
                assert not path.read_bytes().startswith(b"SQLite format"), path


def test_damaged_metadata_is_graded_with_a_reason(graded):
    root, _, _, _, recorded = graded
    for student in ("future-schema", "number-grade-id"):
        assert "damaged nbgrader metadata" in recorded[student].reason, recorded[student].reason
    # the damaged test cell came back from the gradebook and was graded as usual
    assert code_scores(root)["future-schema"] == 8.0


def test_unsafe_student_ids_are_refused_with_a_reason(graded):
    root, _, _, _, recorded = graded
    for student in REFUSED_IDS:
        assert "cannot be graded safely" in recorded[student].reason
        assert student not in code_scores(root)


def test_an_unreadable_reply_fails_only_its_case(graded):
    root, _, _, _, recorded = graded
    assert code_scores(root)["huge-int"] == 7.0  # only test_answer (1 point) lost
    page = (root / "feedback" / "huge-int" / EXERCISE / f"{EXERCISE}.html").read_text()
    assert "could not read as the expected type" in page


def test_the_notebook_budget_stops_a_slow_submission(graded):
    root, _, _, _, recorded = graded
    assert "time budget of 25 s" in recorded["slowpoke"].reason
    # log_softmax (2.5) and the mask (1) were checked in time; the loss and the answer were not
    assert code_scores(root)["slowpoke"] == 3.5
    page = (root / "feedback" / "slowpoke" / EXERCISE / f"{EXERCISE}.html").read_text()
    assert "time budget of 25 s ran out" in page


def test_grading_leaves_submitted_and_source_and_outside_files_alone(graded, secret_file):
    root, _, before, _, _ = graded
    assert {name: tree_hash(root / name) for name in before} == before
    assert secret_file.read_text() == SECRET and (secret_file.stat().st_mode & 0o777) == 0o600


def test_plain_autograde_grades_the_honest_students_exactly(plain):
    root, _, _ = plain
    scores = code_scores(root)
    assert scores[HONEST[0]] == scores[HONEST[1]] == 8.0
    assert scores["forger"] == 8.0 and scores["future-schema"] == 8.0


def test_plain_autograde_follows_no_link(plain, secret_file):
    root, before, _ = plain
    assert not (root / "autograded" / "linked-notebook" / EXERCISE / f"{EXERCISE}.ipynb").exists()
    for path in (root / "autograded").rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert SECRET.encode() not in path.read_bytes(), path
            assert not path.read_bytes().startswith(b"SQLite format"), path
    assert {name: tree_hash(root / name) for name in before} == before
    assert (secret_file.stat().st_mode & 0o777) == 0o600
