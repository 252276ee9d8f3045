"""One Chromium for every browser test: Debian's ``/usr/bin/chromium`` driven by Playwright.

No browser is ever downloaded. ``tests/conftest.py`` registers this module as a
pytest plugin, so the ``chromium`` fixture serves every test module, and a test
that uses it is in the ``browser`` lane (``pytest -m browser``; the marker is
added for you)::

    from tests.support.browser import VIEWPORT

    def test_the_page_reads_well(chromium, tmp_path):
        page = chromium.new_page(viewport=VIEWPORT)
        page.goto((tmp_path / "index.html").as_uri())
        ...

The fixture is one Playwright ``Browser`` per test module (make a page or a
context per test); it skips, with the reason, where ``/usr/bin/chromium`` or
Playwright is missing. A fixture that manages its own lifetime (e.g. in an
``ExitStack`` beside servers it starts) enters :func:`launch_chromium` instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
#: Headless (Playwright adds ``--headless``), no sandbox of its own (tests run as root), nothing fetched.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = "no /usr/bin/chromium (Debian package chromium; scripts/setup.sh installs it)"
#: The window size the page tests read their layouts at.
VIEWPORT = {"width": 1100, "height": 900}


@contextlib.contextmanager
def launch_chromium() -> Iterator[Browser]:
    """A headless Chromium (Playwright ``Browser``), closed on exit; skips the test where there is none."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the test module (see the module docstring)."""
    with launch_chromium() as browser:
        yield browser
