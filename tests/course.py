"""A throw-away copy of the course for tests: real nbgrader commands, a real gradebook file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from gradebook_tools.cells import grade_id  # noqa: F401 (re-exported for tests)
from gradebook_tools.nbgrader_run import run_nbgrader
from gradebook_tools.submissions import fill_answers, solution_code  # noqa: F401 (re-exported for tests)

REPO = Path(__file__).resolve().parent.parent
EXERCISES = sorted(p.name for p in (REPO / "source").iterdir() if (p / f"{p.name}.ipynb").exists())


def nbgrader(*args: str, cwd: Path, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run a real ``nbgrader`` command in the course ``cwd``."""
    result = run_nbgrader(*args, cwd=cwd, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


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
