"""The course's code stays out of the kernel when the course is a regular install.

The set-up builds the course as a wheel (`pip wheel --no-deps`), installs it,
not editable, into a fresh virtual environment that reuses this one's packages
through a `.pth` line (nothing downloads), and grades two students there with
that environment's `nbgrader autograde`: an honest one, and one whose functions
just call `gradebook_tools.grading.reference`, which that environment can
import. Without the sandbox the second scores full marks; with it, every check
scores 0 and the kernel shows why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import nbformat
import pytest

from gradebook_tools.course.nbgrader_run import nbgrader_env
from tests.support.course import REPO, fill_answers, grade_id, solution_code

pytestmark = [
    pytest.mark.needs_root("the sandbox's user switch"),
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.xdist_group("installed-course"),
]

EXERCISE = "ex01_response_only_sft"
NOTEBOOK = f"{EXERCISE}.ipynb"
HONEST, CHEATER = "honest", "calls-reference"


def run(*command: str | Path, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=1800, **kw)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The python of a fresh environment with the course installed from a wheel, and its package folder."""
    root = tmp_path_factory.mktemp("installed")
    project = root / "project"  # the wheel is built from a copy: the shared working tree gets no build/
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, project)
    shutil.copytree(REPO / "gradebook_tools", project / "gradebook_tools", ignore=shutil.ignore_patterns("__pycache__"))
    run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", root / "wheels", cwd=project)
    (wheel,) = (root / "wheels").glob("*.whl")
    venv = root / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", venv)
    python = venv / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    # this environment's packages (nbgrader, ipykernel, numpy...), after the new environment's own
    (Path(purelib) / "reuse-grading-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", wheel)
    where = run(python, "-c", "import gradebook_tools; print(gradebook_tools.__file__)", cwd=root).stdout.strip()
    package = Path(where).parent
    assert package == Path(purelib) / "gradebook_tools", package  # a regular install, not this working tree
    return python, package


def cheating_answers(package: Path) -> dict[str, str]:
    """Every function of ex01 from the installed reference; each cell first shows what the kernel can reach."""
    reference_file = package / "grading" / "reference.py"
    return {
        "log_softmax": textwrap.dedent("""
            try:
                import gradebook_tools
                print("imported:", gradebook_tools.__file__)
            except ImportError as error:
                print("import failed:", error)
            from gradebook_tools.grading.reference import log_softmax
        """),
        "response_mask_from_roles": textwrap.dedent(f"""
            import importlib.metadata
            try:
                print("read:", open({str(reference_file)!r}).read()[:80])
            except OSError as error:
                print("read failed:", error.strerror)
            print("files:", importlib.metadata.files("alignment-course-grading"))
            from gradebook_tools.grading.reference import response_mask_from_roles
        """),
        "response_only_loss": "from gradebook_tools.grading.reference import response_only_loss\n",
    }


@pytest.fixture(scope="module")
def graded(installed, make_course):
    python, package = installed
    course = make_course([EXERCISE])
    release, solution = course.release(EXERCISE), solution_code(course.source(EXERCISE))
    course.submit(HONEST, EXERCISE, fill_answers(release, solution))
    course.submit(CHEATER, EXERCISE, fill_answers(release, dict(solution, **cheating_answers(package))))
    bin_path = os.pathsep.join([str(python.parent), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    env = {key: value for key, value in nbgrader_env().items() if key != "PYTHONPATH"}
    env["PATH"] = bin_path

    def autograde(*extra: str) -> None:
        run(python, "-m", "nbgrader", "autograde", EXERCISE, *extra, cwd=course.root, env=env)

    autograde(f"--student={CHEATER}", "--TrustedExecute.sandbox=False")
    unsandboxed = course.auto_scores(EXERCISE, CHEATER)
    autograde("--force")
    return course, unsandboxed


def test_the_installed_reference_is_importable_without_the_sandbox(graded):
    """The cheat is real: this environment's kernel can import the course's code."""
    course, unsandboxed = graded
    assert unsandboxed == course.max_scores(EXERCISE)


def test_a_submission_calling_the_installed_reference_scores_0(graded):
    course, _ = graded
    assert course.auto_scores(EXERCISE, CHEATER) == {cell: 0 for cell in course.max_scores(EXERCISE)}
    assert course.auto_scores(EXERCISE, HONEST) == course.max_scores(EXERCISE)


def test_the_kernel_cannot_import_or_read_the_course(graded, installed):
    course, _ = graded
    _, package = installed
    notebook = nbformat.read(course.root / "autograded" / CHEATER / EXERCISE / NOTEBOOK, as_version=4)
    shown = {grade_id(cell): "".join(o.get("text", "") for o in cell.get("outputs", [])) for cell in notebook.cells}
    message = "No module named 'gradebook_tools': the course code is not available to student code"
    assert f"import failed: {message}" in shown["log_softmax"]
    assert "read failed: No such file or directory" in shown["response_mask_from_roles"]
    assert "files: None" in shown["response_mask_from_roles"]  # the .dist-info is empty too
    assert (package / "grading" / "reference.py").is_file()  # masked in the kernel only
