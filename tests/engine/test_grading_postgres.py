"""Grading into a real PostgreSQL gradebook gives exactly the grades of an SQLite one.

The course's ``nbgrader_config.py`` names the server of the ``postgres_url``
fixture (a throw-away PostgreSQL on a Unix socket, tests/support/conftest_gradebook.py):
``nbgrader generate_assignment`` writes the assignment there, ``gradebook-tools
grade`` reads the definitions from it for the workers' bundle and writes the
grades and the outcomes into it. The same class is graded in an SQLite course.
"""

from __future__ import annotations

import pytest

from gradebook_tools.cli import EXIT_SOME_FAILED
from tests.support.grading_class import (
    EXERCISE,
    STATES,
    gradebook_scores,
    gradebook_tools,
    recorded_outcomes,
    sqlite_url,
    submit_class,
    write_course,
)

# one xdist worker for the whole module: its fixtures grade the class once
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("grading-postgres")]


@pytest.fixture(scope="module")
def sqlite_grading(tmp_path_factory):
    """The class graded in an SQLite gradebook: (gradebook scores, recorded outcomes)."""
    course = write_course(tmp_path_factory.mktemp("sqlite") / "course")
    submit_class(course)
    result = gradebook_tools("grade", "--quiet", cwd=course)
    assert result.returncode == EXIT_SOME_FAILED, result.stdout + result.stderr
    return gradebook_scores(sqlite_url(course)), recorded_outcomes(sqlite_url(course))


@pytest.fixture(scope="module")
def postgres_course(postgres_url, tmp_path_factory):
    """The same class in a course whose gradebook is the PostgreSQL server, graded once."""
    course = write_course(tmp_path_factory.mktemp("postgres") / "course", db_url=postgres_url)
    submit_class(course)
    result = gradebook_tools("grade", "--quiet", cwd=course)
    return course, result


def test_the_assignment_lives_in_postgresql(postgres_url, postgres_course):
    course, _ = postgres_course
    assert not (course / "gradebook.db").exists()  # nbgrader wrote nowhere else
    assert set(gradebook_scores(postgres_url)) == set(STATES)


def test_postgresql_grades_are_the_sqlite_grades(postgres_url, postgres_course, sqlite_grading):
    course, result = postgres_course
    sqlite_scores, sqlite_outcomes = sqlite_grading
    assert result.returncode == EXIT_SOME_FAILED, result.stdout + result.stderr
    assert gradebook_scores(postgres_url) == sqlite_scores
    assert recorded_outcomes(postgres_url) == sqlite_outcomes
    assert {student: state for student, (state, _, _) in sqlite_outcomes.items()} == STATES
    for student, state in STATES.items():
        assert (course / "feedback" / student / EXERCISE / f"{EXERCISE}.html").is_file() == (state == "graded")


def test_a_rerun_against_postgresql_grades_nothing_again(postgres_url, postgres_course):
    """The fingerprints recorded in PostgreSQL say every submission is unchanged."""
    course, _ = postgres_course
    before = gradebook_scores(postgres_url), recorded_outcomes(postgres_url)
    again = gradebook_tools("grade", "--quiet", cwd=course)
    assert again.returncode == EXIT_SOME_FAILED, again.stdout + again.stderr
    assert f"({len(STATES)} unchanged since the last run, not graded again)" in again.stdout
    assert (gradebook_scores(postgres_url), recorded_outcomes(postgres_url)) == before
