"""Every exercise has every piece docs/authoring.md lists; a missing one is named.

``test_exercise_is_complete[<id>]`` runs for every id that any piece mentions
(a section entry, a curriculum heading, a source or release folder, a checks or
variants module), so an exercise added half-way fails with the list of what
it still lacks.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import nbformat
import pytest

from gradebook_tools.course.cells import grade_id, is_graded_test_cell
from gradebook_tools.course.config import load_course_sections
from gradebook_tools.grading import reference
from gradebook_tools.grading.checks import checks_for
from tests.support.course import CURRICULUM_FILE, REPO, curriculum, curriculum_answers

CHECKS_DIR = Path("gradebook_tools/grading/checks")
VARIANTS_DIR = Path("tests/variants")


def _modules(folder: Path) -> set[str]:
    return {path.stem for path in folder.glob("*.py") if path.stem != "__init__"}


def exercise_ids(root: Path = REPO, curriculum_file: Path | None = None) -> list[str]:
    """Every id that some piece of an exercise mentions, in teaching order first."""
    ids = list(load_course_sections(root).section_of())
    ids += list(curriculum(curriculum_file)) if (curriculum_file or CURRICULUM_FILE).exists() else []
    for folder in ("source", "release"):
        ids += sorted(p.name for p in (root / folder).glob("*") if p.is_dir()) if (root / folder).is_dir() else []
    ids += sorted(_modules(root / CHECKS_DIR) | _modules(root / VARIANTS_DIR))
    return list(dict.fromkeys(ids))


def missing_pieces(exercise: str, root: Path = REPO, curriculum_file: Path | None = None) -> list[str]:
    """What ``exercise`` still lacks, one line per piece, in the order of docs/authoring.md."""
    missing = []
    curriculum_file = curriculum_file or CURRICULUM_FILE
    if not curriculum_file.exists():
        missing.append(f"the curriculum document {curriculum_file} itself")
    elif exercise not in curriculum(curriculum_file):
        missing.append(f"a curriculum entry: a heading '## {exercise} — <title>' in docs/curriculum.md")
    else:
        if exercise not in curriculum_answers(curriculum_file):
            missing.append("the value of answer in its curriculum entry: a bullet '- `answer`: ... = **<value>**'")
        missing += [
            f"the reference function {name} in gradebook_tools/grading/reference.py"
            for name in curriculum(curriculum_file).get(exercise, [])
            if not callable(getattr(reference, name, None))
        ]
    if exercise not in load_course_sections(root).section_of():
        missing.append("a section entry: the id in c.CourseSections.sections of nbgrader_config.py")
    source = root / "source" / exercise / f"{exercise}.ipynb"
    if not source.exists():
        missing.append(f"the source notebook source/{exercise}/{exercise}.ipynb")
    if not (root / "release" / exercise / f"{exercise}.ipynb").exists():
        missing.append(f"the release release/{exercise}/{exercise}.ipynb (nbgrader generate_assignment {exercise})")
    if not (root / CHECKS_DIR / f"{exercise}.py").exists():
        missing.append(f"the hidden checks {CHECKS_DIR}/{exercise}.py")
    elif source.exists():
        cells = [grade_id(c) for c in nbformat.read(source, as_version=4).cells if is_graded_test_cell(c)]
        try:
            checks = checks_for(exercise)
        except LookupError as error:  # a check whose target has no reference function
            return [*missing, f"a checks module that loads: {error}"]
        missing += [
            f"a check for graded test cell {cell} in {CHECKS_DIR}/{exercise}.py" for cell in cells if cell not in checks
        ]
        missing += [
            f"a graded test cell for check {check} in the source notebook" for check in checks if check not in cells
        ]
    variants = root / VARIANTS_DIR / f"{exercise}.py"
    if not variants.exists():
        missing.append(f"the wrong answers and alternatives {VARIANTS_DIR}/{exercise}.py")
    elif root == REPO:
        module = importlib.import_module(f"tests.variants.{exercise}")
        missing += [
            f"a {name} list in {VARIANTS_DIR}/{exercise}.py"
            for name in ("WRONG", "ALTERNATIVES")
            if not getattr(module, name, None)
        ]
    return missing


@pytest.mark.parametrize("exercise", exercise_ids())
def test_exercise_is_complete(exercise):
    missing = missing_pieces(exercise)
    assert not missing, f"{exercise} lacks (see docs/authoring.md):\n  " + "\n  ".join(missing)


# ------------------------------------------------------ the checklist itself


@pytest.fixture
def bare_course(tmp_path):
    """A course folder with the configuration and nothing else."""
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    (tmp_path / "curriculum.md").write_text(
        "# Curriculum\n\n## ex01_response_only_sft — the SFT loss\n\n- `answer`: the loss = **0.430108**.\n"
    )
    return tmp_path


def test_a_new_exercise_with_nothing_yet_lacks_every_piece(bare_course):
    assert missing_pieces("ex11_new", bare_course, bare_course / "curriculum.md") == [
        "a curriculum entry: a heading '## ex11_new — <title>' in docs/curriculum.md",
        "a section entry: the id in c.CourseSections.sections of nbgrader_config.py",
        "the source notebook source/ex11_new/ex11_new.ipynb",
        "the release release/ex11_new/ex11_new.ipynb (nbgrader generate_assignment ex11_new)",
        "the hidden checks gradebook_tools/grading/checks/ex11_new.py",
        "the wrong answers and alternatives tests/variants/ex11_new.py",
    ]


def test_a_curriculum_entry_without_the_value_of_answer_is_named(bare_course):
    (bare_course / "curriculum.md").write_text("## ex01_response_only_sft — the SFT loss\n\n- `answer`: the loss.\n")
    assert missing_pieces("ex01_response_only_sft", bare_course, bare_course / "curriculum.md")[0] == (
        "the value of answer in its curriculum entry: a bullet '- `answer`: ... = **<value>**'"
    )


def test_a_graded_function_without_its_reference_function_is_named(bare_course):
    (bare_course / "curriculum.md").write_text(
        "## ex01_response_only_sft — the SFT loss\n\n- `log_softmax(z)` → ...\n- `log_sigmoid(x)` → ...\n"
        "- `answer`: the loss = **0.430108**.\n"
    )
    assert missing_pieces("ex01_response_only_sft", bare_course, bare_course / "curriculum.md")[0] == (
        "the reference function log_sigmoid in gradebook_tools/grading/reference.py"
    )


def test_a_missing_curriculum_document_is_named(bare_course):
    assert missing_pieces("ex01_response_only_sft", bare_course, bare_course / "absent.md")[0] == (
        f"the curriculum document {bare_course / 'absent.md'} itself"
    )


def test_a_graded_test_cell_without_its_check_is_named(bare_course):
    exercise = "ex01_response_only_sft"
    notebook = nbformat.read(REPO / "source" / exercise / f"{exercise}.ipynb", as_version=4)
    extra = nbformat.v4.new_code_cell(
        "pass",
        metadata={
            "nbgrader": {
                "grade": True,
                "solution": False,
                "locked": True,
                "points": 1,
                "grade_id": "test_log_softmax_extra",
                "schema_version": 3,
            }
        },
    )
    notebook.cells = [c for c in notebook.cells if grade_id(c) != "test_answer"] + [extra]
    for folder in ("source", "release"):
        (bare_course / folder / exercise).mkdir(parents=True)
        nbformat.write(notebook, bare_course / folder / exercise / f"{exercise}.ipynb")
    for piece in (CHECKS_DIR, VARIANTS_DIR):
        (bare_course / piece).mkdir(parents=True)
        (bare_course / piece / f"{exercise}.py").write_text("")  # checks_for still reads the course's own
    assert missing_pieces(exercise, bare_course, bare_course / "curriculum.md") == [
        f"a check for graded test cell test_log_softmax_extra in {CHECKS_DIR}/{exercise}.py",
        "a graded test cell for check test_answer in the source notebook",
    ]


def test_every_id_that_a_piece_mentions_is_checked(bare_course):
    (bare_course / "source" / "ex12_draft").mkdir(parents=True)
    (bare_course / VARIANTS_DIR).mkdir(parents=True)
    (bare_course / VARIANTS_DIR / "ex13_variants_only.py").write_text("")
    assert exercise_ids(bare_course, bare_course / "curriculum.md") == [
        *load_course_sections(REPO).section_of(),
        "ex12_draft",
        "ex13_variants_only",
    ]
