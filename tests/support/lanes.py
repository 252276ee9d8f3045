"""The test lanes: markers that follow from what a test uses, and the root-only skip.

``tests/conftest.py`` registers this module as a pytest plugin. The markers are
listed in ``pyproject.toml`` (``pytest --markers``) and the lanes in
``docs/developing.md``:

- ``slow``: real nbgrader commands and kernels (marked by hand, ``pytestmark`` at the module's top);
- ``sandbox``, ``cluster``: the bubblewrap sandbox and fork server; a Dask scheduler and workers;
- ``browser``: added here to every test that uses the ``chromium`` fixture (:mod:`tests.support.browser`);
- ``postgres``: added here to every test that uses the ``postgres_url`` fixture;
- ``needs_root("why")``: skipped, with that reason, unless the tests run as root.
"""

from __future__ import annotations

import os

import pytest

#: fixture -> the lane of every test that uses it
FIXTURE_LANES = {"chromium": "browser", "postgres_url": "postgres"}


@pytest.hookimpl(tryfirst=True)  # before `-m` selects: the markers added here count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = os.geteuid() == 0
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, lane in FIXTURE_LANES.items():
            if fixture in fixtures and item.get_closest_marker(lane) is None:
                item.add_marker(getattr(pytest.mark, lane))
        marker = item.get_closest_marker("needs_root")
        if marker is not None and not root:
            why = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"needs root: {why}" if why else "needs root"))
