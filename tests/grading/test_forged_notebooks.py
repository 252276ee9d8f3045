"""Forged notebooks graded as the release says, the same by plain nbgrader and by the engine (issue 16, 4 and 5).

One class, graded twice in two copies of one course: with a plain
``nbgrader autograde`` (the course's configuration: bubblewrap kernels) and with
``gradebook-tools grade`` (fork-server kernels). Beside honest students:

- forged nbgrader flags: test cells flipped to ``solution: true`` (and their code
  replaced), test cells marked ``grade: false``, answer cells marked
  ``grade: true`` with points of their own; with right code these earn exactly
  the honest 8 points, with the release's blank code exactly 0, and nothing is
  left for manual grading but the hand-graded ``explanation`` (property 4b);
- a kernel writing a forged log line and a clipboard-setting terminal escape
  to the descriptors it inherited: nothing of it reaches either grader's
  terminal or log (property 4a);
- ex02's notebook submitted as ex01: refused whole with the reason, every graded
  cell of ex01 restored empty (0 points), ex02's answer and essay shown nowhere
  (property 5).

Per-cell grades (score and "needs manual grade") are read back from both
gradebooks and must be identical; ``submitted/`` and ``source/`` keep their bytes.
"""

from __future__ import annotations

import copy
import os
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook.outcomes import StatusStore
from tests.engine.test_hostile_class import tree_hash
from tests.support.course import REPO, fill_answers, grade_id, gradebook_tools, nbgrader, read_notebook, solution_code

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's user switch needs root")]

EXERCISE, OTHER = "ex01_response_only_sft", "ex02_bradley_terry"
CONFIG = """
c.Execute.timeout = 30
c.TrustedExecute.check_timeout = 20
"""
TEST_CELLS = (
    "test_log_softmax_values",
    "test_log_softmax_stability",
    "test_response_mask_from_roles",
    "test_response_only_loss_values",
    "test_response_only_loss_edge_cases",
    "test_answer",
)
ANSWER_CELLS = ("log_softmax", "response_mask_from_roles", "response_only_loss", "answer")
FORGED_LINE = "[AutogradeApp | INFO] FORGED-BY-KERNEL honest-z scored 0"
CLIPBOARD = "\x1b]52;c;Zm9yZ2Vk\x07"
ESSAY = "EX02-ESSAY-MARKER: the essay of another exercise"
#: student -> automatic points (of 8), under both graders
EXPECTED = {
    "honest-a": 8.0,
    "honest-z": 8.0,
    "tests-as-solutions": 8.0,
    "tests-ungraded": 8.0,
    "answers-graded": 8.0,
    "all-forgeries-blank": 0.0,
    "all-forgeries-right": 8.0,
    "writes-to-descriptors": 8.0,
    "other-exercise": 0.0,
}
OTHER_REASON = f"this is {OTHER}'s notebook, submitted as {EXERCISE}"


def forged(notebook, cells, **flags):
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if grade_id(cell) in cells:
            cell.metadata["nbgrader"].update(flags)
    return notebook


def all_forgeries(notebook):
    notebook = forged(notebook, TEST_CELLS[:2], solution=True, locked=False)
    notebook = forged(notebook, TEST_CELLS[2:4], grade=False)
    notebook = forged(notebook, ("test_answer",), solution=True, grade=False, points=0)
    notebook = forged(notebook, ANSWER_CELLS, grade=True, points=5)
    for cell in notebook.cells:  # an unlocked "answer" of a test cell: code that passes anything
        if grade_id(cell) in TEST_CELLS[:2]:
            cell.source = "pass"
    return notebook


def build(root: Path) -> None:
    (root / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text() + CONFIG)
    for exercise in (EXERCISE, OTHER):
        shutil.copytree(REPO / "source" / exercise, root / "source" / exercise)
        nbgrader("generate_assignment", exercise, "--force", cwd=root)
    release = read_notebook(root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    good = fill_answers(release, solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb")))
    other_answers = solution_code(read_notebook(root / "source" / OTHER / f"{OTHER}.ipynb"))
    other = fill_answers(read_notebook(root / "release" / OTHER / f"{OTHER}.ipynb"), other_answers)
    for cell in other.cells:
        if grade_id(cell) == "explanation":
            cell.source = ESSAY
    writer = fill_answers(
        good,
        {
            "answer": solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb"))["answer"]
            + textwrap.dedent(
                f"""
                import os as _os, sys as _sys
                _line = {(FORGED_LINE + chr(10) + CLIPBOARD + chr(10))!r}
                for _fd in (0, 1, 2):
                    try:
                        _os.write(_fd, _line.encode())
                    except OSError:
                        pass
                for _stream in (_sys.__stdout__, _sys.__stderr__):
                    try:
                        _stream.write(_line)
                        _stream.flush()
                    except (OSError, ValueError, AttributeError):
                        pass
                for _path in ("/proc/self/fd/1", "/proc/self/fd/2", "/proc/1/fd/1", "/proc/1/fd/2", "/dev/tty"):
                    try:
                        with open(_path, "w") as _file:
                            _file.write(_line)
                    except OSError:
                        pass
                """
            )
        },
    )
    notebooks = {
        "honest-a": good,
        "tests-as-solutions": forged(good, TEST_CELLS, solution=True),
        "tests-ungraded": forged(good, TEST_CELLS, grade=False),
        "answers-graded": forged(good, ANSWER_CELLS, grade=True, points=5),
        "all-forgeries-blank": all_forgeries(release),
        "all-forgeries-right": all_forgeries(good),
        "writes-to-descriptors": writer,
        "other-exercise": other,
        "honest-z": good,
    }
    for student, notebook in notebooks.items():
        folder = root / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{EXERCISE}.ipynb")


def cell_grades(root: Path) -> dict[str, dict[str, tuple[float | None, bool]]]:
    """student -> {cell: (automatic score, needs manual grade)}, read back from the gradebook."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {
            submission.student.id: {
                grade.name: (grade.auto_score, bool(grade.needs_manual_grade))
                for notebook in submission.notebooks
                for grade in notebook.grades
            }
            for submission in gradebook.find_assignment(EXERCISE).submissions
        }


def code_scores(root: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.code_score for s in gradebook.find_assignment(EXERCISE).submissions}


def logs_of(root: Path) -> str:
    return "".join(path.read_text(errors="replace") for path in sorted((root / "logs").rglob("*")) if path.is_file())


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    root = tmp_path_factory.mktemp("forged-plain")
    build(root)
    before = {name: tree_hash(root / name) for name in ("submitted", "source")}
    result = nbgrader("autograde", EXERCISE, cwd=root, check=False)
    return root, before, result


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("forged-engine")
    build(root)
    before = {name: tree_hash(root / name) for name in ("submitted", "source")}
    result = gradebook_tools("grade", cwd=root)
    recorded = {s.student: s for s in StatusStore(f"sqlite:///{root / 'gradebook.db'}").all(EXERCISE)}
    return root, before, result, recorded


def test_plain_autograde_grades_forged_flags_as_released(plain):
    root, _, result = plain
    assert result.returncode == 0, result.stdout + result.stderr
    assert code_scores(root) == EXPECTED
    assert "Inconsistent checksums" not in result.stderr and "MissingEntry" not in result.stderr


def test_the_engine_grades_forged_flags_as_released(engine):
    root, _, result, recorded = engine
    assert result.returncode == 7, result.stdout + result.stderr  # one submission could not be graded
    assert code_scores(root) == EXPECTED
    assert {student: status.state for student, status in recorded.items()} == {
        student: "failed" if student == "other-exercise" else "graded" for student in EXPECTED
    }


def test_nothing_is_left_for_a_ta_but_the_hand_graded_explanation(plain, engine):
    for root in (plain[0], engine[0]):
        for student, grades in cell_grades(root).items():
            manual = {cell for cell, (_, needs_manual) in grades.items() if needs_manual}
            assert manual <= {"explanation"}, (student, manual)
            if student in ("all-forgeries-blank", "other-exercise"):
                assert manual == set(), student  # an untouched release answer scores 0 without a TA
            assert set(grades) == {*TEST_CELLS, "explanation"}, (student, sorted(grades))


def test_plain_autograde_and_the_engine_give_identical_grades(plain, engine):
    assert cell_grades(plain[0]) == cell_grades(engine[0])


def test_another_exercises_notebook_is_refused_whole(plain, engine):
    root, _, result, recorded = engine
    assert OTHER_REASON in recorded["other-exercise"].reason, recorded["other-exercise"].reason
    assert "every graded cell of" in recorded["other-exercise"].reason
    assert all(score == 0 for score, _ in cell_grades(root)["other-exercise"].values())
    assert not (root / "autograded" / "other-exercise").exists() or not any(
        (root / "autograded" / "other-exercise").rglob("*.ipynb")
    )
    status = gradebook_tools("status", "--problems", cwd=root)
    assert "other-exercise" in status.stdout and OTHER in status.stdout, status.stdout
    # plain nbgrader: the autograded notebook is ex01's release, empty, under one cell that says why
    plain_root = plain[0]
    assert OTHER_REASON in plain[2].stdout + plain[2].stderr
    autograded = plain_root / "autograded" / "other-exercise" / EXERCISE / f"{EXERCISE}.ipynb"
    notebook = read_notebook(autograded)
    assert OTHER_REASON in notebook.cells[0].source and "nbgrader" not in notebook.cells[0].metadata
    text = autograded.read_text()
    assert ESSAY not in text
    for function in ("preference_probability", "reward_model_loss", "preference_accuracy"):
        assert f"def {function}" not in text, function
    release = read_notebook(plain_root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    answers = {grade_id(c): c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")}
    restored = {grade_id(cell): cell.source for cell in notebook.cells[1:]}
    assert {name: restored[name] for name in answers} == answers  # every answer cell exactly as released
    assert set(restored) == {grade_id(cell) for cell in release.cells if grade_id(cell)}


def test_kernel_output_on_inherited_descriptors_reaches_no_terminal_or_log(plain, engine):
    outputs = {
        "plain autograde's stdout": plain[2].stdout,
        "plain autograde's stderr": plain[2].stderr,
        "gradebook-tools grade's stdout": engine[2].stdout,
        "gradebook-tools grade's stderr": engine[2].stderr,
        "the engine's logs": logs_of(engine[0]),
    }
    for where, text in outputs.items():
        assert "FORGED-BY-KERNEL" not in text, where
        assert "\x1b]52" not in text, where


def test_grading_leaves_submitted_and_source_alone(plain, engine):
    for root, before in ((plain[0], plain[1]), (engine[0], engine[1])):
        assert {name: tree_hash(root / name) for name in before} == before
