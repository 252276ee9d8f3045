"""The ledger of a regrade preview: `grade --dry-run` records nothing, the real run exactly what it previewed.

Issue 17, property 7. A real course, real kernels: an on-time and a late student graded under no late penalty;
then the instructor makes late work score zero. The preview lists the late student's 8 -> 0; it leaves the
gradebook byte-identical and `gradebook-tools history --format json` unchanged; grading for real then adds
exactly one entry, the late student's penalty, with who and why.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from gradebook_tools.gradebook.ledger import os_user
from tests.support.course import REPO, fill_answers, gradebook_tools, nbgrader, read_notebook, solution_code

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dry-run-ledger")]  # real grading; one class, in order

EXERCISE = "ex01_response_only_sft"
DUE = "2026-01-01 00:00:00"


def history(root: Path) -> list[dict]:
    result = gradebook_tools("history", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def preview_rows(output: str) -> dict[str, list[str]]:
    """student -> [assignment, old, new, change] of the preview's table."""
    listed = output.split("would change", 1)[1]
    return {
        line.split()[0]: line.split()[1:]
        for line in listed.splitlines()
        if line.split() and line.split()[0] in ("late", "ontime")
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("preview-ledger")
    (root / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text())
    shutil.copytree(REPO / "source" / EXERCISE, root / "source" / EXERCISE)
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=root)
    nbgrader("db", "assignment", "add", EXERCISE, f"--duedate={DUE}", cwd=root)
    release = read_notebook(root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    good = fill_answers(release, solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb")))
    for student, stamp in (("ontime", "2025-12-31 12:00:00"), ("late", "2026-01-01 02:00:00")):
        folder = root / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        nbformat.write(good, folder / f"{EXERCISE}.ipynb")
        (folder / "timestamp.txt").write_text(stamp)
    first = gradebook_tools("grade", "--quiet", cwd=root)
    assert first.returncode == 0, first.stdout + first.stderr
    return root


def test_a_dry_run_records_nothing_and_the_real_run_records_exactly_the_previewed_change(graded):
    root = graded
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text() + '\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    before = history(root)
    assert before and {entry["why"] for entry in before} == {"autograde (gradebook-tools grade)"}
    stored = (root / "gradebook.db").read_bytes()

    preview = gradebook_tools("grade", "--quiet", "--force", "--dry-run", cwd=root)

    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert preview_rows(preview.stdout) == {"late": [EXERCISE, "8", "0", "-8"]}
    assert (root / "gradebook.db").read_bytes() == stored
    assert history(root) == before

    applied = gradebook_tools("grade", "--quiet", "--force", cwd=root)

    assert applied.returncode == 0, applied.stdout + applied.stderr
    after = history(root)
    assert after[: len(before)] == before  # append-only
    new = [
        (e["who"], e["student"], e["assignment"], e["cell"], e["old"], e["new"], e["why"]) for e in after[len(before) :]
    ]
    # the previewed 8 -> 0 is the late penalty going from none to 8: the one entry of the run
    assert new == [(os_user(), "late", EXERCISE, EXERCISE, None, 8.0, "autograde (gradebook-tools grade)")]
