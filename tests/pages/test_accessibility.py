"""WCAG 2.1 AA of every page the course writes or serves (issue 19, property 6), in Debian's Chromium.

The pages: an exercise's feedback page (``nbgrader generate_feedback`` through the
course's exporter and template, of a submission whose checks fail), a student's
summary page, the instructor's report (with class sections, so all three plots),
and the hand-grading view (its index, and a cell with rubric items and an edit's
preview) served by a real Jupyter server. On each:

- axe-core (the copy ``axe-playwright-python`` bundles, injected by Playwright: no
  CDN) with its WCAG 2.0/2.1 A and AA rules reports no violation;
- axe's rules on structure (one ``<h1>``, heading order, one ``<main>``, all
  content in landmarks) hold;
- a keyboard walk (Tab from the top until focus comes back) reaches every
  control, each with a visible focus indicator;
- every plot has a text alternative that gives its values, and a table beside it.

``test_a_violation_makes_the_check_fail`` shows the check failing on the report
with the old "pending" badge colour (2.96:1).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.server.hand_grading_class import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXERCISE,
    build_graded_class,
    class_list,
    lab_server,
    view_url,
)
from tests.support.conftest_gradebook import build_hand_class
from tests.support.course import gradebook_tools

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.xdist_group("accessibility"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian package chromium)"),
]
SECOND = 1000
#: axe-core's tags of the WCAG 2.0 and 2.1 success criteria of levels A and AA.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: axe-core's rules on a page's structure (its "best practices" that WCAG 1.3.1 and 2.4 rest on).
STRUCTURE = ["page-has-heading-one", "heading-order", "landmark-one-main", "region", "landmark-unique"]
PAGES = ["feedback", "student summary", "report", "grading index", "grading view"]


def axe(page, options: dict) -> list[dict]:
    """axe-core's violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page, options=options).response["violations"]


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['html'][:160]} "
        f"{v['nodes'][0].get('failureSummary', '')[:240]}"
        for v in violations
    )


def wcag_violations(page) -> list[dict]:
    return axe(page, {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]})


@pytest.fixture(scope="module")
def site():
    """Every kind of page, written by the course's commands or served by the extension, and a browser."""
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as undo:
        base = Path(tempfile.mkdtemp(prefix="accessibility-"))
        undo.callback(shutil.rmtree, base, ignore_errors=True)
        students = class_list(3)
        root = build_graded_class(base / "course", students, blank=frozenset({"stu002x"}))
        hand = base / "hand"
        hand.mkdir()
        build_hand_class(hand)  # a class with sections, a roster and a pending grade: all the report shows
        result = gradebook_tools("report", "--roster", "roster.csv", "--out", str(base / "report.html"), cwd=hand)
        assert result.returncode == 0, result.stderr
        url, token = undo.enter_context(lab_server(root, base))
        playwright = undo.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        undo.callback(browser.close)
        files = {
            "feedback": root / "feedback" / "stu002x" / EXERCISE / f"{EXERCISE}.html",
            "student summary": root / "feedback" / "stu001x" / "index.html",
            "report": base / "report.html",
        }
        for path in files.values():
            assert path.is_file(), path
        urls = {name: path.as_uri() for name, path in files.items()}
        urls["grading index"] = f"{url}/gradebook-tools/hand-grading/?token={token}"
        urls["grading view"] = view_url(url, token)
        yield {"browser": browser, "urls": urls, "files": files}


def open_page(site, name: str):
    page = site["browser"].new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30 * SECOND)
    page.goto(site["urls"][name])
    if name == "grading view":
        page.locator("#view[data-ready='1']").wait_for()
        if page.locator("#items label.item").count() == 0:  # a rubric item, so that its controls are there too
            page.locator("#item-points").fill("1")
            page.locator("#item-label").fill("Names the regression metric")
            page.locator("#item-comment").fill("Held-out NLL against production.")
            page.locator("#item-save").click()
            page.locator("#items label.item").first.wait_for()
        page.locator("#main").focus()
        page.keyboard.press("1")
        page.keyboard.press("Enter")  # a saved grade: the identity and message shown
        page.locator("#saved", has_text="Saved").wait_for()
        page.locator("#item-choice").select_option(index=1)
        page.locator("#item-save").click()  # an edit's preview: its table and the Apply button
        page.locator("#preview-table").wait_for()
    return page


@pytest.mark.parametrize("name", PAGES)
def test_no_wcag_violation(site, name):
    page = open_page(site, name)
    try:
        violations = wcag_violations(page)
        assert not violations, f"{name}: WCAG 2.1 AA violations\n{describe(violations)}"
    finally:
        page.close()


@pytest.mark.parametrize("name", PAGES)
def test_headings_and_landmarks_in_order(site, name):
    page = open_page(site, name)
    try:
        violations = axe(page, {"runOnly": {"type": "rule", "values": STRUCTURE}, "resultTypes": ["violations"]})
        assert not violations, f"{name}: structure\n{describe(violations)}"
        levels = page.eval_on_selector_all("h1, h2, h3, h4, h5, h6", "hs => hs.map(h => Number(h.tagName[1]))")
        assert levels[0] == 1, levels
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels
        assert page.locator("main").count() == 1
    finally:
        page.close()


#: Everything a keyboard user can reach with Tab: visible, enabled, not taken out of the order.
TABBABLE = """() => Array.from(document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]'))
  .filter(e => e.tabIndex >= 0 && !e.disabled && !e.closest('[hidden]') && e.getClientRects().length > 0
            && getComputedStyle(e).visibility !== 'hidden')
  .map(e => e.dataset.walk = e.dataset.walk || String(Math.random()))"""
START_AT_TOP = """() => { const start = document.createElement('span'); start.tabIndex = -1;
  document.body.prepend(start); start.focus(); window.scrollTo(0, 0); }"""
FOCUSED = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return {walk: e.dataset.walk || null, tag: e.tagName, text: (e.innerText || e.value || '').slice(0, 40),
          visible: outline || s.boxShadow !== 'none'}; }"""


@pytest.mark.parametrize("name", PAGES)
def test_keyboard_walk_reaches_every_control_with_visible_focus(site, name):
    page = open_page(site, name)
    try:
        # Tab starts from the top of the page: a start point before everything (not itself in the Tab order)
        page.evaluate(START_AT_TOP)
        tabbable = page.evaluate(TABBABLE)
        assert tabbable, f"{name}: nothing to reach"
        reached, invisible = [], []
        for _ in range(len(tabbable) + 5):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED)
            if focused is None or focused["walk"] in reached:
                break
            reached.append(focused["walk"])
            if not focused["visible"]:
                invisible.append(focused)
        assert not invisible, f"{name}: focus not visible on {invisible[:5]}"
        missed = set(tabbable) - set(reached)
        assert not missed, f"{name}: {len(missed)} of {len(tabbable)} controls not reached by Tab"
    finally:
        page.close()


def test_plots_have_text_alternatives_with_their_values(site):
    page = open_page(site, "report")
    try:
        alts = page.eval_on_selector_all("img", "images => images.map(i => i.alt)")
        assert len(alts) == 3  # sections, class sections, items
        assert all(alt and alt.lower() not in ("figure", "image") and any(c.isdigit() for c in alt) for alt in alts)
        # the roster's five students (zed never submitted): ada's 20 / 20 in mechanics is the one in 90-100
        assert "mechanics: 5 students" in alts[0] and "overall: 5 students" in alts[0]
        assert "lab-A: 2 students, median" in alts[1] and "lab-B: 2 students, median" in alts[1]
        assert "ex01/test_f" in alts[2]
        rows = page.locator("#distribution-table tr").all()
        header = rows[0].locator("th").all_inner_texts()
        assert header[1] == "0–10%" and header[-1] == "90–100%"
        counts = {
            row.locator("th").inner_text(): [int(t) for t in row.locator("td").all_inner_texts()] for row in rows[1:]
        }
        assert sum(counts["overall"]) == 5  # every student in one band of the overall histogram
        assert counts["mechanics"][9] == 1  # ada: 20 / 20 in mechanics
    finally:
        page.close()


def test_a_violation_makes_the_check_fail(site):
    """The report with the old "pending" badge colour: the same check reports its 2.96:1 contrast."""
    html = site["files"]["report"].read_text(encoding="utf-8")
    assert ".pending { background: #8a5a00; }" in html
    page = site["browser"].new_page()
    try:
        page.set_content(html)
        assert wcag_violations(page) == []
        page.set_content(html.replace(".pending { background: #8a5a00; }", ".pending { background: #c80; }"))
        violations = wcag_violations(page)
        assert [v["id"] for v in violations] == ["color-contrast"]
        assert all("pending" in node["html"] for node in violations[0]["nodes"])
        assert "2.96" in violations[0]["nodes"][0]["failureSummary"]
    finally:
        page.close()
