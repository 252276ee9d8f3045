"""The hand-grading view in a real Jupyter server, driven by Chromium with the keyboard (issue 19).

One class of six, graded by ``gradebook-tools grade`` (the engine, real kernels);
JupyterLab runs in the course folder with nbgrader's formgrader and the
extension. In order:

1. rubric items are made in the view;
2. blind grading: every answer graded with keys only; before each save the page
   holds no name or id of a student not graded yet; after it, the one just saved;
3. the same answers graded again, not blind, each with its own items, free
   comment or adjustment: read back exactly through nbgrader's API, shown by the
   formgrader, and in the feedback ``gradebook-tools feedback`` remakes;
4. an item edited: the preview names exactly the grades that then change, by
   exactly the amounts shown; no other grade moves;
5. the hostile student's Markdown is shown but never runs;
6. Shift+digit ticks an item, saves and goes on in one key: exactly, fast over
   the class while each save is still in flight (a slowed network), and never
   from inside the comment field.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook import rubrics
from gradebook_tools.gradebook.ledger import read_ledger
from gradebook_tools.server import hand_grading
from tests.server.hand_grading_class import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXERCISE,
    build_graded_class,
    class_list,
    clear_explanation_grades,
    db_url,
    explanation_grades,
    lab_server,
    quiet,
    view_url,
)
from tests.support.course import gradebook_tools

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.xdist_group("hand_grading_view"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian package chromium)"),
]
SECOND = 1000
STUDENTS = class_list(6)
HOSTILE_STUDENT = "stu006x"
ITEMS = [
    ("1", "Names a false win", "You said how a lower loss can mislead."),
    ("1", "Names the regression metric", "Held-out response-only NLL against production."),
    ("-0.5", "No blocking rule", "Say which result blocks the release."),
]


@pytest.fixture(scope="module")
def session():
    """The graded class, its JupyterLab (formgrader and view) and a Chromium page."""
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as undo:
        base = Path(tempfile.mkdtemp(prefix="hand-grading-"))
        undo.callback(shutil.rmtree, base, ignore_errors=True)
        root = build_graded_class(base / "course", STUDENTS)
        url, token = undo.enter_context(lab_server(root, base))
        playwright = undo.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        undo.callback(browser.close)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(30 * SECOND)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        yield {"root": root, "url": url, "token": token, "page": page, "dialogs": dialogs}


def open_view(session, blind: bool = False):
    page = session["page"]
    page.goto(view_url(session["url"], session["token"], blind))
    page.locator("#view[data-ready='1']").wait_for()
    page.locator("#main").focus()  # keys go to the view, not to a field
    return page


def test_rubric_items_are_made_in_the_view(session):
    page = open_view(session)
    for points, label, comment in ITEMS:
        page.locator("#item-points").fill(points)
        page.locator("#item-label").fill(label)
        page.locator("#item-comment").fill(comment)
        page.locator("#item-save").click()
        page.locator("#items label.item", has_text=label).wait_for()
    assert [text.strip() for text in page.locator("#items label.item").all_inner_texts()] == [
        "1 Names a false win (+1) · You said how a lower loss can mislead.",
        "2 Names the regression metric (+1) · Held-out response-only NLL against production.",
        "3 No blocking rule (-0.5) · Say which result blocks the release.",
    ]
    with quiet(), Gradebook(db_url(session["root"])) as gradebook:
        stored = rubrics.list_items(gradebook.db, EXERCISE, EXERCISE, "explanation")
    assert [(item.points, item.label, item.position) for item in stored] == [
        (1.0, "Names a false win", 1),
        (1.0, "Names the regression metric", 2),
        (-0.5, "No blocking rule", 3),
    ]


def identities(student: str) -> list[str]:
    first, last, _ = STUDENTS[student]
    return [student, first, last]


def test_blind_grading_shows_no_identity_before_saving(session):
    page = open_view(session, blind=True)
    assert explanation_grades(session["root"]) == {student: (None, None) for student in STUDENTS}
    revealed: list[str] = []
    for count in range(1, len(STUDENTS) + 1):
        dom = page.content()
        hidden = [text for s in STUDENTS if s not in revealed for text in identities(s) if text in dom]
        assert not hidden, f"blind mode shows {hidden} before the grade is saved"
        assert page.locator("#progress").inner_text().endswith(f"{count - 1} graded · {len(STUDENTS) - count + 1} left")
        if count % 2:
            page.keyboard.press("1")
            page.keyboard.press("Enter")
        else:
            # item 1, saved, the next answer: one key (Digit1: the key a US keyboard sends, "!" with Shift;
            # Playwright's "Shift+1" sends "1", as an AZERTY keyboard does, where Shift+digit is the plain key)
            page.keyboard.press("Shift+Digit1")
        page.locator("#progress", has_text=f"{count} graded").wait_for()
        page.locator("#saved", has_text="Saved 1 / 2 for Firstname").wait_for()
        page.wait_for_function(
            f"() => !{revealed!r}.some(id => document.querySelector('#saved').textContent.includes(id))"
        )
        shown = page.locator("#saved").inner_text()
        saved = re.fullmatch(r"Saved 1 / 2 for (\S+) (\S+) \((\S+)\)\.", shown)
        assert saved, shown
        assert (
            saved[3] in STUDENTS
            and saved[3] not in revealed
            and list(saved.groups())
            == [
                STUDENTS[saved[3]][0],
                STUDENTS[saved[3]][1],
                saved[3],
            ]
        )
        revealed.append(saved[3])
    assert sorted(revealed) == sorted(STUDENTS)
    expected_comment = "- **Names a false win** (+1): You said how a lower loss can mislead."
    assert explanation_grades(session["root"]) == {student: (1.0, expected_comment) for student in STUDENTS}


def test_blind_order_is_shuffled_per_grader(session):
    with quiet(), Gradebook(db_url(session["root"])) as gradebook:
        key = hand_grading.CellKey(EXERCISE, EXERCISE, "explanation")
        orders = {
            grader: [entry["key"] for entry in hand_grading.queue(gradebook.db, key, True, grader)["entries"]]
            for grader in ("ta-one", "ta-two", "ta-three")
        }
        plain = hand_grading.queue(gradebook.db, key, False, "ta-one")["entries"]
        again = [entry["key"] for entry in hand_grading.queue(gradebook.db, key, True, "ta-one")["entries"]]
        blind_entries = hand_grading.queue(gradebook.db, key, True, "ta-one")["entries"]
    assert [entry["student_id"] for entry in plain] == sorted(STUDENTS)
    assert again == orders["ta-one"]  # the same order at each visit
    assert len({tuple(order) for order in orders.values()}) > 1  # another grader, another order
    assert all(sorted(order) == sorted(entry["key"] for entry in plain) for order in orders.values())
    assert all(set(entry) == {"key", "graded"} for entry in blind_entries)


#: student -> (keys pressed from the blind grade {item 1}, free comment, adjustment), and the expected grade
REGRADE = {
    "stu001x": (["2"], "", None),
    "stu002x": ([], "", None),
    "stu003x": (["2", "3"], "", None),
    "stu004x": (["1", "2"], "Good metric.", None),
    "stu005x": (["2"], "", "-0.25"),
    "stu006x": (["1", "3"], "", None),
}
FALSE_WIN = "- **Names a false win** (+1): You said how a lower loss can mislead."
METRIC = "- **Names the regression metric** (+1): Held-out response-only NLL against production."
NO_BLOCK = "- **No blocking rule** (-0.5): Say which result blocks the release."
EXPECTED = {
    "stu001x": (2.0, f"{FALSE_WIN}\n{METRIC}"),
    "stu002x": (1.0, FALSE_WIN),
    "stu003x": (1.5, f"{FALSE_WIN}\n{METRIC}\n{NO_BLOCK}"),
    "stu004x": (1.0, f"{METRIC}\n\nGood metric."),
    "stu005x": (1.75, f"{FALSE_WIN}\n{METRIC}\n- Adjustment (-0.25)"),
    "stu006x": (0.0, NO_BLOCK),
}


def test_grades_from_the_keyboard_reach_nbgrader_the_formgrader_and_the_feedback(session):
    page = open_view(session)
    for position, (student, (keys, comment, adjustment)) in enumerate(REGRADE.items(), start=1):
        page.locator("#progress", has_text=f"Answer {position} of 6").wait_for()
        assert page.locator("#identity").inner_text().endswith(f"({student})")
        for key in keys:
            page.keyboard.press(key)
        if comment:
            page.keyboard.press("c")
            page.keyboard.type(comment)
        if adjustment:
            if not comment:
                page.keyboard.press("c")
            page.keyboard.press("Tab")
            page.keyboard.press("Control+a")
            page.keyboard.type(adjustment)
        expected_score = EXPECTED[student][0]
        assert float(page.locator("#score").inner_text()) == expected_score
        page.keyboard.press("Enter")
        page.locator("#saved", has_text=f"Saved {expected_score:g} / 2 for ").filter(has_text=f"({student})").wait_for()
        page.keyboard.press("j")
    assert explanation_grades(session["root"]) == EXPECTED
    # the free comment is offered again as the TA types (the comment field's suggestions)
    assert page.eval_on_selector_all("#comment-suggestions option", "os => os.map(o => o.value)") == ["Good metric."]
    # the course's ledger records the view's changes, with the Jupyter user and the view as why
    scores = [e for e in read_ledger(db_url(session["root"]), student="stu001x") if e.kind == "score"]
    assert [(e.cell, e.old, e.new) for e in scores[-2:]] == [("explanation", None, 1.0), ("explanation", 1.0, 2.0)]
    assert all(e.why == "hand-grading view: grade" and e.who.endswith("(Jupyter)") for e in scores[-2:])

    # the formgrader shows the same score and comment
    with quiet(), Gradebook(db_url(session["root"])) as gradebook:
        notebook_ids = {s: gradebook.find_submission_notebook(EXERCISE, EXERCISE, s).id for s in STUDENTS}
    for student in ("stu003x", "stu004x"):
        page.goto(f"{session['url']}/formgrader/submissions/{notebook_ids[student]}/?token={session['token']}")
        score = page.locator("input.score#explanation")
        page.wait_for_function(
            "() => document.querySelector('input.score#explanation').value !== ''"
            " && document.querySelector('textarea#explanation-comment').value !== ''"
        )
        assert float(score.input_value()) == EXPECTED[student][0]
        assert page.locator("textarea#explanation-comment").input_value() == EXPECTED[student][1]

    # the feedback pages are stale, and remade with the rubric's comments
    result = gradebook_tools("feedback", cwd=session["root"])
    assert result.returncode == 0, result.stderr
    assert "6 exercise feedback page(s) regenerated" in result.stdout, result.stdout
    for student in ("stu003x", "stu005x"):
        page.goto(f"{session['url']}/files/feedback/{student}/{EXERCISE}/{EXERCISE}.html?token={session['token']}")
        answer = page.locator(".nbgrader_cell", has_text="Student's answer").filter(has_text="Comments:")
        assert f"Score: {EXPECTED[student][0]} / 2.0" in answer.inner_text()
        assert "Names a false win (+1): You said how a lower loss can mislead." in answer.inner_text()
        assert "Names the regression metric (+1)" in answer.inner_text()


def test_editing_an_item_changes_exactly_the_previewed_grades(session):
    before = explanation_grades(session["root"])
    page = open_view(session)
    page.locator("#item-choice").select_option(label="2. Names the regression metric")
    page.locator("#item-points").fill("0.75")
    page.locator("#item-label").fill("Names the held-out metric")
    page.locator("#item-save").click()
    rows = page.locator("#preview-table tbody tr")
    rows.first.wait_for()
    preview = [tuple(row.locator("td").all_inner_texts()) for row in rows.all()]
    assert preview == [
        ("stu001x", "2", "1.75", "yes"),
        ("stu003x", "1.5", "1.25", "yes"),
        ("stu004x", "1", "0.75", "yes"),
        ("stu005x", "1.75", "1.5", "yes"),
    ]
    assert explanation_grades(session["root"]) == before  # a preview writes nothing
    page.locator("#item-apply").click()
    page.locator("#message", has_text="Applied the edit to 4 grade(s).").wait_for()
    after = explanation_grades(session["root"])
    changed = {student for student in STUDENTS if after[student] != before[student]}
    assert changed == {row[0] for row in preview}
    for student, _, new_score, _ in preview:
        assert after[student][0] == float(new_score)
        assert "- **Names the held-out metric** (+0.75): Held-out response-only NLL" in after[student][1]
    assert after["stu002x"] == before["stu002x"] and after["stu006x"] == before["stu006x"]
    last = [e for e in read_ledger(db_url(session["root"]), student="stu003x") if e.kind == "score"][-1]
    assert (last.old, last.new) == (1.5, 1.25) and last.why.startswith("hand-grading view: rubric item")


def test_hostile_markdown_is_shown_but_never_runs(session):
    page = open_view(session)
    page.locator("#progress", has_text="Answer 1 of 6").wait_for()
    while not page.locator("#identity").inner_text().endswith(f"({HOSTILE_STUDENT})"):
        page.keyboard.press("j")
        page.wait_for_timeout(200)
    answer = page.locator("#answer")
    answer.locator("strong", has_text="still bold").wait_for()
    assert "My answer: the held-out NLL." in answer.inner_text()
    assert answer.locator("script, iframe, svg, style, [onerror], [onload]").count() == 0
    hrefs = [link.get_attribute("href") or "" for link in answer.locator("a").all()]
    assert not [href for href in hrefs if href.strip().lower().startswith("javascript")], hrefs
    for link in answer.locator("a").all():  # following them runs nothing either
        link.click()
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__pwned === undefined")
    assert session["dialogs"] == []
    assert page.locator("body").is_visible()  # the student's <style> did not hide the page
    response = page.request.get(view_url(session["url"], session["token"]))
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_the_view_needs_the_servers_login_and_xsrf(session):
    api = f"{session['url']}/gradebook-tools/hand-grading/api"
    query = f"assignment={EXERCISE}&notebook={EXERCISE}&cell=explanation"
    with quiet(), Gradebook(db_url(session["root"])) as gradebook:
        grade = gradebook.find_grade("explanation", EXERCISE, EXERCISE, "stu002x").id
    before = explanation_grades(session["root"])
    stranger = session["page"].context.browser.new_context()  # no login cookie, no token
    try:
        for address in (
            f"{api}/queue?{query}",
            f"{api}/answers/{grade}",
            f"{session['url']}/gradebook-tools/hand-grading/",
        ):
            answer = stranger.request.get(address, max_redirects=0)
            assert answer.status in (302, 403), (address, answer.status)
            assert "stu002x" not in answer.text() and "Firstname002q" not in answer.text()
        posted = stranger.request.post(f"{api}/answers/{grade}", data={"items": []}, max_redirects=0)
        assert posted.status in (302, 403)
    finally:
        stranger.close()
    # logged in (the page's cookie) but without the page's XSRF token: refused as well
    forged = session["page"].request.post(f"{api}/answers/{grade}", data={"items": []}, max_redirects=0)
    assert forged.status == 403
    assert explanation_grades(session["root"]) == before


def test_jupyterlab_help_menu_opens_the_view(session):
    page = session["page"]
    page.goto(f"{session['url']}/lab/workspaces/hand-grading-test?token={session['token']}")
    help_menu = page.locator(".lm-MenuBar-item", has_text="Help")
    help_menu.wait_for(timeout=120 * SECOND)
    help_menu.click()
    with page.context.expect_page() as opened:
        page.locator(".lm-Menu-item", has_text="Hand grading").click()
    view = opened.value
    view.wait_for_load_state()
    try:
        assert view.url == f"{session['url']}/gradebook-tools/hand-grading/"
        assert view.locator("h1").inner_text() == "Hand grading"
        assert view.locator("table tbody tr").count() == 1  # ex01's explanation
    finally:
        view.close()


# --- Shift+digit: the item, saved, the next ungraded answer (after the edit above, item 2 is worth 0.75)
HELD_OUT = "- **Names the held-out metric** (+0.75): Held-out response-only NLL against production."


def item_checks(page) -> list[bool]:
    return [box.is_checked() for box in page.locator("#items input[type=checkbox]").all()]


def test_shift_digit_ticks_the_item_saves_and_shows_the_next_ungraded(session):
    root = session["root"]
    clear_explanation_grades(root)
    page = open_view(session)
    page.locator("#progress", has_text="Answer 1 of 6 · 0 graded · 6 left").wait_for()
    assert page.locator("#identity").inner_text().endswith("(stu001x)")
    page.keyboard.press("1")
    page.keyboard.press("Shift+Digit2")  # items 1 and 2: two keys in all
    page.locator("#progress", has_text="Answer 2 of 6 · 1 graded · 5 left").wait_for()
    assert page.locator("#identity").inner_text() == "Student: Firstname002q Lastname002q (stu002x)"
    assert page.locator("#saved").inner_text() == "Saved 1.75 / 2 for Firstname001q Lastname001q (stu001x)."
    assert item_checks(page) == [False, False, False] and page.locator("#score").inner_text() == "0"
    page.keyboard.press("Shift+Digit3")  # one item: one key (-0.5, kept at 0)
    page.locator("#progress", has_text="Answer 3 of 6 · 2 graded · 4 left").wait_for()
    page.keyboard.press("2")
    page.keyboard.press("Shift+Digit2")  # Shift ticks: an item already ticked stays ticked
    page.locator("#progress", has_text="Answer 4 of 6 · 3 graded · 3 left").wait_for()
    page.keyboard.press("Shift+Digit4")  # no item 4: nothing saved, the answer stays
    page.locator("#message", has_text="There is no rubric item 4: nothing saved.").wait_for()
    assert page.locator("#progress").inner_text() == "Answer 4 of 6 · 3 graded · 3 left"
    assert explanation_grades(root) == {
        "stu001x": (1.75, f"{FALSE_WIN}\n{HELD_OUT}"),
        "stu002x": (0.0, NO_BLOCK),
        "stu003x": (0.75, HELD_OUT),
        "stu004x": (None, None),
        "stu005x": (None, None),
        "stu006x": (None, None),
    }
    scores = [e for e in read_ledger(db_url(root), student="stu001x") if e.kind == "score"]
    assert (scores[-1].new, scores[-1].why) == (1.75, "hand-grading view: grade")


#: Pressed one after another without waiting for a save: per student (in the view's order), the keys.
FAST_KEYS = [
    ["Shift+Digit1"],
    ["1", "Shift+Digit2"],
    ["Shift+Digit3"],
    ["2", "c", *"Fast and right", "Shift+Digit1", "Enter"],  # a comment typed before its answer is shown
    ["Shift+Numpad2"],
    ["1", "3", "Shift+Digit2"],
]
FAST_GRADES = {
    "stu001x": (1.0, FALSE_WIN),
    "stu002x": (1.75, f"{FALSE_WIN}\n{HELD_OUT}"),
    "stu003x": (0.0, NO_BLOCK),
    "stu004x": (0.75, f"{HELD_OUT}\n\nFast and right!"),
    "stu005x": (0.75, HELD_OUT),
    "stu006x": (1.25, f"{FALSE_WIN}\n{HELD_OUT}\n{NO_BLOCK}"),
}


def test_fast_shift_digits_over_the_class_lose_nothing(session):
    root = session["root"]
    clear_explanation_grades(root)
    page = session["page"].context.browser.new_page()  # its own page: the slowed network stays with it
    try:
        page.set_default_timeout(30 * SECOND)
        # 800 ms to the server and back, a distant JupyterHub on a bad day: the keys below are pressed
        # while the saves before them are still in flight
        network = page.context.new_cdp_session(page)
        network.send("Network.enable")
        network.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 800, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        page.goto(view_url(session["url"], session["token"]))
        page.locator("#view[data-ready='1']").wait_for()
        page.locator("#main").focus()
        for keys in FAST_KEYS:
            for key in keys:
                page.keyboard.press(key)
        graded_when_pressed = int(re.search(r"(\d+) graded", page.locator("#progress").inner_text())[1])
        assert graded_when_pressed < 5  # the keys of at least two students came before their answer
        page.locator("#message", has_text="Every answer of this cell is graded.").wait_for()
        assert page.locator("#progress").inner_text() == "Answer 6 of 6 · 6 graded · 0 left"
        assert page.locator("#saved").inner_text() == "Saved 1.25 / 2 for Firstname006q Lastname006q (stu006x)."
        assert explanation_grades(root) == FAST_GRADES
    finally:
        page.close()


def test_shift_digit_in_the_comment_field_types_and_grades_nothing(session):
    root = session["root"]
    before = explanation_grades(root)
    page = open_view(session)
    page.locator("#progress", has_text="Answer 1 of 6 · 6 graded · 0 left").wait_for()
    assert item_checks(page) == [True, False, False]
    page.keyboard.press("c")
    page.keyboard.type("Items ")
    for key in ("Shift+Digit1", "Shift+Digit2", "Digit3", "Shift+Numpad2"):
        page.keyboard.press(key)
    assert page.locator("#free-comment").input_value() == "Items !@32"
    page.wait_for_timeout(500)  # a save, had one started, would be back by now
    assert item_checks(page) == [True, False, False]
    assert page.locator("#progress").inner_text() == "Answer 1 of 6 · 6 graded · 0 left"
    assert page.locator("#identity").inner_text().endswith("(stu001x)")
    assert page.locator("#saved").inner_text() == ""
    assert explanation_grades(root) == before


def test_single_key_shortcuts_can_be_turned_off_and_stay_off(session):
    """WCAG 2.1.4: speech input types words, so the single-character keys have an off switch."""
    root = session["root"]
    before = explanation_grades(root)
    page = open_view(session)
    page.locator("#progress", has_text="Answer 1 of 6 · 6 graded · 0 left").wait_for()
    switch = page.locator("#character-keys")
    switch.focus()
    page.keyboard.press("Space")
    assert not switch.is_checked()
    page.locator("#main").focus()
    for key in ("2", "Shift+Digit2", "j", "u", "c"):
        page.keyboard.press(key)
    page.wait_for_timeout(500)
    assert item_checks(page) == [True, False, False]
    assert page.locator("#progress").inner_text() == "Answer 1 of 6 · 6 graded · 0 left"
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert explanation_grades(root) == before
    page.reload()  # kept in this browser
    page.locator("#view[data-ready='1']").wait_for()
    assert not page.locator("#character-keys").is_checked()
    page.locator("#character-keys").check()
    page.locator("#main").focus()
    page.keyboard.press("2")
    assert item_checks(page) == [True, True, False]
    assert explanation_grades(root) == before  # ticked, not saved
