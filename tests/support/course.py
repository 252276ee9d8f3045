"""A throw-away copy of the course for tests: real nbgrader commands, a real gradebook file."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from gradebook_tools.course.cells import grade_id  # noqa: F401 (re-exported for tests)
from gradebook_tools.course.config import load_course_sections
from gradebook_tools.course.nbgrader_run import nbgrader_env, run_nbgrader
from gradebook_tools.course.submissions import fill_answers, solution_code  # noqa: F401 (re-exported for tests)

REPO = Path(__file__).resolve().parents[2]
#: The course's exercises per curriculum section: ``c.CourseSections.sections`` of nbgrader_config.py.
COURSE_SECTIONS: dict[str, list[str]] = load_course_sections(REPO).sections
#: Every exercise of the course, in teaching order.
EXERCISES: list[str] = [exercise for exercises in COURSE_SECTIONS.values() for exercise in exercises]
#: The instructor's specification of the graded interface, the course's contract.
CURRICULUM_FILE = REPO / "docs" / "curriculum.md"

_EXERCISE_TITLE = re.compile(r"(?P<id>[a-z][a-z0-9_]*) [\u2014\u2013-] ")
_GRADED_FUNCTION = re.compile(r"^- `(?P<name>[A-Za-z_][A-Za-z0-9_]*)\(", re.MULTILINE)
_ANSWER_VALUE = re.compile(r"\*\*(True|False|-?[0-9.]+(?:e-?[0-9]+)?)\*\*")


def _exercise_blocks(path: Path | None) -> dict[str, str]:
    """Exercise id -> the text under its heading ``## <id> — <title>``."""
    text = (path or CURRICULUM_FILE).read_text(encoding="utf-8")
    blocks = {}
    for block in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        title, _, body = block.partition("\n")
        if exercise := _EXERCISE_TITLE.match(title):
            blocks[exercise["id"]] = body
    return blocks


def curriculum(path: Path | None = None) -> dict[str, list[str]]:
    """Exercise id -> its graded functions, in the order of the curriculum document.

    An exercise is a heading ``## <id> — <title>``; its graded functions are
    the bullets ``- `name(...)` ...`` below it, up to the next heading.
    """
    return {
        exercise: [match["name"] for match in _GRADED_FUNCTION.finditer(body)]
        for exercise, body in _exercise_blocks(path).items()
    }


def curriculum_answers(path: Path | None = None) -> dict[str, float | bool]:
    """Exercise id -> the value of ``answer`` that the curriculum states in bold (``= **0.430108**``)."""
    answers = {}
    for exercise, body in _exercise_blocks(path).items():
        bullet = body.split("\n- `answer`", 1)[1].split("\n- ", 1)[0] if "\n- `answer`" in body else ""
        if value := _ANSWER_VALUE.search(bullet):
            answers[exercise] = value[1] == "True" if value[1] in ("True", "False") else float(value[1])
    return answers


def nbgrader(*args: str, cwd: Path, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run a real ``nbgrader`` command in the course ``cwd``."""
    result = run_nbgrader(*args, cwd=cwd, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def gradebook_tools(*args: str, cwd: Path, timeout: float = 1800, **kwargs) -> subprocess.CompletedProcess:
    """Run the real ``gradebook-tools`` command in the course folder ``cwd``, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "gradebook_tools", *args],
        cwd=cwd,
        env=nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


class Course:
    """A course directory in ``root`` with some assignments generated."""

    def __init__(self, root: Path, exercises: list[str]):
        self.root = root
        shutil.copy(REPO / "nbgrader_config.py", root)
        for exercise in exercises:
            shutil.copytree(REPO / "source" / exercise, root / "source" / exercise)
            nbgrader("generate_assignment", exercise, "--force", cwd=root)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def source(self, exercise: str):
        return read_notebook(self.root / "source" / exercise / f"{exercise}.ipynb")

    def release(self, exercise: str):
        return read_notebook(self.root / "release" / exercise / f"{exercise}.ipynb")

    def submit(self, student: str, exercise: str, notebook) -> None:
        folder = self.root / "submitted" / student / exercise
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / f"{exercise}.ipynb")

    def autograde(self, exercise: str, *extra: str) -> subprocess.CompletedProcess:
        return nbgrader("autograde", exercise, *extra, cwd=self.root)

    def auto_scores(self, exercise: str, student: str) -> dict[str, float]:
        """Autograded score per test cell, read back from the gradebook."""
        with Gradebook(self.db_url) as gradebook:
            notebook = gradebook.find_submission_notebook(exercise, exercise, student)
            return {grade.name: grade.auto_score for grade in notebook.grades if not grade.cell.name == "explanation"}

    def max_scores(self, exercise: str) -> dict[str, float]:
        with Gradebook(self.db_url) as gradebook:
            notebook = gradebook.find_notebook(exercise, exercise)
            return {cell.name: cell.max_score for cell in notebook.grade_cells if cell.name != "explanation"}

    def targets(self, exercise: str) -> dict[str, str]:
        """The function (or ``answer``) that each graded test cell checks."""
        from gradebook_tools.grading.checks import checks_for

        return {cell: check.target for cell, check in checks_for(exercise).items()}


def timed_class(root: Path, exercise: str, timestamps: dict[str, str], config: str = "") -> Path:
    """A course of one exercise in ``root`` (the course's config, then ``config``), generated, where each student
    of ``timestamps`` submitted the reference solution at that time (``timestamp.txt`` as ``nbgrader collect``
    writes it)."""
    (root / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text() + config)
    shutil.copytree(REPO / "source" / exercise, root / "source" / exercise)
    nbgrader("generate_assignment", exercise, "--force", cwd=root)
    good = fill_answers(
        read_notebook(root / "release" / exercise / f"{exercise}.ipynb"),
        solution_code(read_notebook(root / "source" / exercise / f"{exercise}.ipynb")),
    )
    for student, stamp in timestamps.items():
        folder = root / "submitted" / student / exercise
        folder.mkdir(parents=True)
        nbformat.write(good, folder / f"{exercise}.ipynb")
        (folder / "timestamp.txt").write_text(stamp)
    return root


def tree_hash(folder: Path) -> str:
    """A digest of a folder's names, file contents and link targets: equal means byte-identical."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_symlink():
            digest.update(b"link:" + os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()
