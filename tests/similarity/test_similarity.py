"""The similarity report on a synthetic class with planted copies, through the real command (issue 20, property 5).

The class (``tests/similarity/synthetic_class.py``) holds six independently
written solutions of ex01 and four planted copies: renamed variables, functions
in another order, other comments and whitespace, one function out of four.
Every planted pair must rank above every independent pair. Student ids and
code are data: an id with odd characters and code holding ``</script>`` come
out escaped in the page and unchanged in the JSON.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import markupsafe
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.similarity.matching import Region
from gradebook_tools.similarity.page import Segment, segments
from tests.similarity.synthetic_class import (
    EXERCISE,
    INDEPENDENT,
    RELEASE,
    planted_class,
    release_notebook,
    student_notebook,
    write_class,
)
from tests.support.course import REPO, gradebook_tools

#: the real command on the synthetic class, several times per test, or fresh interpreters: the slow lane
SLOW = pytest.mark.slow

ODD_ID = 'O\'Brien <b>&"x" é'
HOSTILE_CODE = {
    **INDEPENDENT["logaddexp_style"],
    "answer": """note = "</script><script>alert('pwned')</script><!-- <img src=x onerror=alert(1)>"
answer = response_only_loss(worked_logits, worked_targets, worked_mask)  # </pre></code>
""",
}


def make_course(root: Path) -> Path:
    """A course folder: the course's config, ex01's release, and the synthetic class in submitted/."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    (root / "release" / EXERCISE).mkdir(parents=True)
    shutil.copy(RELEASE, root / "release" / EXERCISE)
    authors, _ = planted_class()
    write_class(root / "submitted", authors)
    return root


def similarity(course: Path, *args: str):
    result = gradebook_tools("similarity", EXERCISE, *args, cwd=course, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return make_course(tmp_path_factory.mktemp("similarity") / "course")


@pytest.fixture(scope="module")
def ranked(course) -> list[dict]:
    return json.loads(similarity(course, "--format", "json").stdout)


@SLOW
def test_every_planted_pair_ranks_above_every_independent_pair(ranked):
    _, planted = planted_class()
    assert all(set(pair) == {"a", "b", "score"} for pair in ranked)
    scores = [pair["score"] for pair in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= score <= 1 for score in scores)
    planted_scores = [pair["score"] for pair in ranked if frozenset((pair["a"], pair["b"])) in planted]
    independent = [pair["score"] for pair in ranked if frozenset((pair["a"], pair["b"])) not in planted]
    assert len(planted_scores) == 4
    assert {frozenset((pair["a"], pair["b"])) for pair in ranked[:4]} == planted
    assert min(planted_scores) > max(independent)
    # renamed variables and changed comments/whitespace leave the whole code matching
    by_pair = {frozenset((pair["a"], pair["b"])): pair["score"] for pair in ranked}
    assert by_pair[frozenset({"numpy_style", "copy_renamed"})] == 1.0
    assert by_pair[frozenset({"einsum_style", "copy_recommented"})] == 1.0
    assert by_pair[frozenset({"loops_style", "copy_reordered"})] > 0.9
    assert 0.4 < by_pair[frozenset({"index_style", "copy_one_of_four"})] < 0.8


@SLOW
def test_the_released_code_is_boilerplate(tmp_path):
    """Two students who only ran the release (plus one line each) share nothing the report counts."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    (course / "release" / EXERCISE).mkdir(parents=True)
    shutil.copy(RELEASE, course / "release" / EXERCISE)
    release = release_notebook()
    for student in ("blank1", "blank2"):
        folder = course / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        shutil.copy(RELEASE, folder)
    assert json.loads(similarity(course, "--format", "json").stdout) == []
    # the same two notebooks, judged without the release, would match: the exclusion is what removes them
    shutil.rmtree(course / "release")
    unexcluded = json.loads(similarity(course, "--format", "json").stdout)
    assert [(pair["a"], pair["b"]) for pair in unexcluded] == [("blank1", "blank2")]
    assert student_notebook({}, release).cells == release.cells


@SLOW
def test_past_terms_are_compared_with_the_class_only(course, tmp_path):
    past = tmp_path / "2025-spring"
    write_class(past, {"numpy_style": INDEPENDENT["numpy_style"], "other": INDEPENDENT["rowwise_style"]})
    # a second past term holding the same code: past terms are never compared with each other
    older = tmp_path / "2024-fall"
    write_class(older, {"numpy_style": INDEPENDENT["numpy_style"]})
    arguments = ("--past", str(past), "--past", str(older), "--out", str(tmp_path / "past.html"), "--format", "json")
    ranked = json.loads(similarity(course, *arguments).stdout)
    authors = {pair["a"] for pair in ranked} | {pair["b"] for pair in ranked}
    assert "past:2025-spring/numpy_style" in authors and "past:2024-fall/numpy_style" in authors
    assert all(not pair["a"].startswith("past:") for pair in ranked)  # the class's student comes first
    assert not any(pair["a"].startswith("past:") and pair["b"].startswith("past:") for pair in ranked)
    exact = {(pair["a"], pair["b"]) for pair in ranked if pair["score"] == 1.0}
    assert {
        ("numpy_style", "past:2025-spring/numpy_style"),
        ("copy_renamed", "past:2025-spring/numpy_style"),
        ("numpy_style", "past:2024-fall/numpy_style"),
        ("copy_renamed", "past:2024-fall/numpy_style"),
        ("rowwise_style", "past:2025-spring/other"),
    } <= exact


@SLOW
def test_the_page_lists_the_pairs_side_by_side_offline(course, ranked):
    page_path = course / "reports" / f"similarity-{EXERCISE}.html"
    text = page_path.read_text(encoding="utf-8")
    assert "A match is a reason to look, not a verdict." in text
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "default-src 'none'" in text
    assert text.count('<section aria-labelledby="pair-') == len(ranked)
    first = ranked[0]
    assert f'<h2 id="pair-1">Pair 1: {first["a"]} and {first["b"]} (score 1.00)</h2>' in text
    # the matching regions are marked on both sides
    pair = text.split('<h2 id="pair-1">', 1)[1].split("</section>", 1)[0]
    assert pair.count("<pre") == 2 and "<mark>" in pair


@SLOW
def test_review_decisions_are_recorded_and_shown(tmp_path):
    course = make_course(tmp_path / "course")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}"):
        pass  # an empty nbgrader gradebook, as nbgrader makes it
    marked = similarity(course, "--mark", "copy_renamed", "numpy_style", "referred", "--note", "same <odd> helper")
    assert marked.stdout.strip() == f"{EXERCISE}: copy_renamed and numpy_style marked referred"
    similarity(course, "--mark", "loops_style", "copy_reordered", "benign", "--note", "pair work, declared")
    similarity(course, "--mark", "copy_reordered", "loops_style", "reviewed")  # the same pair: replaced
    text = similarity(course).stdout
    lines = {frozenset(line.split()[1:3]): line.split() for line in text.splitlines()[3:-2]}
    assert lines[frozenset({"numpy_style", "copy_renamed"})][-1] == "referred"
    assert lines[frozenset({"loops_style", "copy_reordered"})][-1] == "reviewed"
    assert lines[frozenset({"einsum_style", "copy_recommented"})][-1] == "1.00"  # no decision
    page = (course / "reports" / f"similarity-{EXERCISE}.html").read_text(encoding="utf-8")
    assert "Decision: referred</span>" in page and "same &lt;odd&gt; helper" in page
    assert page.count("Not reviewed yet.") == page.count('<section aria-labelledby="pair-') - 2
    refused = gradebook_tools("similarity", EXERCISE, "--mark", "a", "b", "guilty", cwd=course)
    assert refused.returncode == 6 and "reviewed, benign, referred" in refused.stderr


@pytest.mark.postgres
def test_review_decisions_on_postgresql(postgres_url):
    from sqlalchemy import create_engine

    from gradebook_tools.similarity.reviews import read_reviews, record_review

    engine = create_engine(postgres_url)
    try:
        record_review(engine, EXERCISE, "zoe", ODD_ID, "benign", "note ' with \" quotes")
        record_review(engine, EXERCISE, ODD_ID, "zoe", "referred", "changed")
        record_review(engine, "other", "zoe", ODD_ID, "reviewed")
        reviews = read_reviews(engine, EXERCISE)
        assert list(reviews) == [(ODD_ID, "zoe")]
        assert (reviews[(ODD_ID, "zoe")].decision, reviews[(ODD_ID, "zoe")].note) == ("referred", "changed")
    finally:
        engine.dispose()


@SLOW
def test_odd_student_ids_and_hostile_code_are_data(tmp_path):
    course = make_course(tmp_path / "course")
    write_class(course / "submitted", {"hostile": HOSTILE_CODE, "copier": HOSTILE_CODE}, ids={"hostile": ODD_ID})
    ranked = json.loads(similarity(course, "--format", "json").stdout)
    assert {"a": ODD_ID, "b": "copier", "score": 1.0} in ranked  # "O" sorts before "c"
    page = (course / "reports" / f"similarity-{EXERCISE}.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>&" not in page
    assert str(markupsafe.escape(ODD_ID)) in page  # &#39; and &#34; for the quotes
    assert "&lt;/script&gt;&lt;script&gt;alert(" in page
    assert "&lt;/pre&gt;&lt;/code&gt;" in page
    # an assignment id is a folder name and a glob pattern: refused when it is not an id
    refused = gradebook_tools("similarity", "../*", cwd=course)
    assert refused.returncode == 6 and "is not an assignment id" in refused.stderr


def test_segments_cut_code_at_the_regions():
    code = "abcdefghij"
    assert segments(code, (Region(2, 4), Region(3, 6), Region(8, 20))) == [
        Segment("ab", False),
        Segment("cdef", True),
        Segment("gh", False),
        Segment("ij", True),
    ]
    assert segments(code, ()) == [Segment(code, False)]


@pytest.mark.browser
def test_the_page_passes_axe_and_works_by_keyboard(course, ranked):
    sync_api = pytest.importorskip("playwright.sync_api")
    from axe_playwright_python.sync_playwright import Axe

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no /usr/bin/chromium")
    page_path = course / "reports" / f"similarity-{EXERCISE}.html"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"], headless=True)
        try:
            requests = []
            context = browser.new_context(bypass_csp=True)  # axe is injected as a script; the page has none
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_path.as_uri())
            rules = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
            results = Axe().run(page, options={"runOnly": rules})
            assert results.violations_count == 0, results.generate_report()
            assert requests == [page_path.as_uri()]  # nothing else is loaded
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent") == "Skip to the ranked pairs"
            page.keyboard.press("Enter")
            assert page.evaluate("location.hash") == "#pairs"
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.getAttribute('href')") == "#pair-1"
        finally:
            browser.close()


@SLOW
def test_fingerprints_are_the_same_in_every_process():
    """copydetect's own k-gram hash is Python's hash(), salted per process; the report's is not."""
    import os
    import subprocess
    import sys

    code = "from gradebook_tools.similarity.matching import fingerprint; import numpy as np\n"
    code += "print(sorted(fingerprint(open(0).read(), np.array([], dtype=np.int64)).hashes))"
    source = INDEPENDENT["loops_style"]["response_only_loss"]
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            input=source,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=REPO,
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1] and len(json.loads(runs[0])) > 20
