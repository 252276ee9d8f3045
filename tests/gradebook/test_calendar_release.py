"""`nbgrader release_assignment` of an exercise without a due date warns (and releases); with one it is quiet."""

from __future__ import annotations

import shutil

import pytest

from tests.support.course import REPO, gradebook_tools, nbgrader

pytestmark = pytest.mark.slow  # real nbgrader commands

EXERCISE = "ex01_response_only_sft"


def test_release_without_a_due_date_warns_and_with_one_does_not(tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    (tmp_path / "nbgrader_config.py").write_text(
        (REPO / "nbgrader_config.py").read_text() + f"\nc.Exchange.root = {str(exchange)!r}\n"
    )
    shutil.copytree(REPO / "source" / EXERCISE, tmp_path / "source" / EXERCISE)
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=tmp_path)
    first = nbgrader("release_assignment", EXERCISE, cwd=tmp_path)
    output = first.stdout + first.stderr
    assert f"{EXERCISE} has no due date: it is never late and never missing." in output
    assert (exchange / "alignment-monitoring" / "outbound" / EXERCISE / f"{EXERCISE}.ipynb").is_file()

    assert gradebook_tools("calendar", "set", EXERCISE, "--due", "2027-02-01 17:00", cwd=tmp_path).returncode == 0
    again = nbgrader("release_assignment", EXERCISE, "--force", cwd=tmp_path)
    assert "has no due date" not in again.stdout + again.stderr
