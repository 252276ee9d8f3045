"""The committed release/ is what `nbgrader generate_assignment` makes now, and leaks nothing."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.course import EXERCISES, REPO, fill_answers, grade_id, read_notebook, solution_code

_SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
_FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "gradebook_tools", "reference.py", "course_probe")


@pytest.fixture(scope="module")
def regenerated(make_course):
    return make_course(EXERCISES)


def comparable(notebook) -> str:
    return json.dumps({"cells": notebook.cells, "metadata": notebook.metadata}, sort_keys=True)


@pytest.mark.slow  # regenerates every release with the real nbgrader, once, on one xdist worker
@pytest.mark.xdist_group("release")
@pytest.mark.parametrize("exercise", EXERCISES)
def test_committed_release_is_up_to_date(regenerated, exercise):
    path = REPO / "release" / exercise / f"{exercise}.ipynb"
    assert path.exists(), f"run: nbgrader generate_assignment {exercise} --force"
    assert comparable(read_notebook(path)) == comparable(regenerated.release(exercise)), (
        f"release/{exercise} is out of date: run nbgrader generate_assignment {exercise} --force"
    )


def committed(folder: str, exercise: str):
    return read_notebook(REPO / folder / exercise / f"{exercise}.ipynb")


@pytest.mark.parametrize("exercise", EXERCISES)
def test_release_holds_no_solution_hidden_test_or_reference_marker(exercise):
    text = "\n".join(cell.source for cell in committed("release", exercise).cells)
    assert [marker for marker in _FORBIDDEN if marker in text] == []


@pytest.mark.parametrize("exercise", EXERCISES)
def test_release_holds_no_line_of_the_solution(exercise):
    release, source = committed("release", exercise), committed("source", exercise)
    text = "\n".join(cell.source for cell in release.cells)
    solution_lines = {
        line.strip()
        for cell in source.cells
        for block in _SOLUTION_BLOCK.findall(cell.source)
        for line in block.splitlines()
        if len(line.strip()) > 25  # long enough to be solution code, not a common line
    }
    # a line the teaching cells show on purpose (e.g. the stable sigmoid) is no leak
    taught = {
        line.strip()
        for cell in source.cells
        if "BEGIN SOLUTION" not in cell.source
        for line in cell.source.splitlines()
    }
    leaked = [line for line in solution_lines - taught if line in text]
    assert not leaked, f"solution lines in the release: {leaked[:3]}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_release_answer_cells_are_nbgraders_stubs(exercise):
    stubs = [cell for cell in committed("release", exercise).cells if cell.metadata.get("nbgrader", {}).get("solution")]
    assert all("raise NotImplementedError()" in c.source or c.cell_type == "markdown" for c in stubs)


def test_filling_the_release_with_the_solution_gives_back_the_source_answers():
    """The test helpers build submissions the way a student would: from the release."""
    exercise = EXERCISES[0]
    release = committed("release", exercise)
    answers = solution_code(committed("source", exercise))
    filled = fill_answers(release, answers)
    assert [c.source for c in filled.cells if grade_id(c) in answers] == list(answers.values())
