"""The lanes' plugin (:mod:`tests.support.lanes`): the root-only skip and the markers that follow from fixtures."""

from __future__ import annotations

import os

import pytest

INI = """[pytest]
markers =
    needs_root(why): root only
    browser: chromium
    postgres: a PostgreSQL server
"""

CONFTEST = """
import pytest

pytest_plugins = ["tests.support.lanes"]


@pytest.fixture
def chromium():
    return "a browser"
"""

TESTS = """
import pytest


@pytest.mark.needs_root("the sandbox's user switch")
def test_as_root():
    pass


def test_in_the_browser(chromium):
    assert chromium == "a browser"


def test_plain():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=TESTS)
    return pytester


def test_needs_root_skips_with_its_reason_unless_root(suite, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    result = suite.runpytest_inprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*needs root: the sandbox's user switch*"])


def test_needs_root_runs_as_root(suite, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    suite.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_a_test_that_uses_chromium_is_in_the_browser_lane(suite, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    result = suite.runpytest_inprocess("-m", "browser", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(["*test_in_the_browser PASSED*"])
    suite.runpytest_inprocess("-m", "not browser", "-p", "no:cacheprovider").assert_outcomes(passed=2, deselected=1)
