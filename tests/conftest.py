"""Shared fixtures: a temporary course per test module."""

from __future__ import annotations

import pytest

from tests.support.course import Course

# for every test module: the gradebook fixtures (hand_course, postgres_url), the chromium fixture,
# and the lanes' markers and root-only skip (docs/developing.md, "Test lanes")
pytest_plugins = ["tests.support.conftest_gradebook", "tests.support.browser", "tests.support.lanes", "pytester"]


@pytest.fixture(scope="module")
def make_course(tmp_path_factory):
    """``make_course(exercises)`` generates those assignments in a fresh course directory."""

    def make(exercises):
        return Course(tmp_path_factory.mktemp("course"), list(exercises))

    return make
