"""``python -m gradebook_tools.grading.selfcheck``: an author checks a source notebook against its hidden checks."""

from __future__ import annotations

import nbformat
import pytest

from gradebook_tools.grading.checks import checks_for
from gradebook_tools.grading.selfcheck import main
from tests.support.course import REPO, grade_id, read_notebook

pytestmark = pytest.mark.slow  # a real (sandboxed) kernel per notebook

EXERCISE = "ex06_refusal_tradeoff"


def test_the_solution_passes_every_hidden_check(capsys):
    assert main([str(REPO / "source" / EXERCISE / f"{EXERCISE}.ipynb")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines == [f"PASS {EXERCISE} {check}" for check in checks_for(EXERCISE)]


def test_a_wrong_answer_fails_its_check_with_the_verdict(tmp_path, capsys):
    notebook = read_notebook(REPO / "source" / EXERCISE / f"{EXERCISE}.ipynb")
    for cell in notebook.cells:
        if grade_id(cell) == "answer":
            cell.source = "answer = 0.5\n"
    path = tmp_path / EXERCISE / f"{EXERCISE}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {EXERCISE} test_answer" in out
    assert "differs from the reference" in out
    assert out.count("PASS ") == len(checks_for(EXERCISE)) - 1
