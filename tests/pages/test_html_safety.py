"""The sanitizer and renderer of what students wrote, without a browser (the browser test is test_pages_hostile)."""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from gradebook_tools.pages.html_safety import (
    SanitizeOutputs,
    render_markdown,
    safe_output_data,
    sanitize_html,
    tex_to_mathml,
)

PNG_URI = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(
    "hostile, kept",
    [
        ("<script>steal()</script>after", "after"),
        ('<img src="x" onerror="steal()">', "<img>"),
        ('<a href="javascript:steal()">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
        ('<a href="JaVaScRiPt:steal()">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
        ('<a href="data:text/html,<script>steal()</script>">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
        ('<a href="evil.html">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),  # a file beside the notebook
        ('<iframe src="https://evil.example"></iframe>', ""),
        ('<object data="x"></object><embed src="x">', ""),
        ('<form action="https://evil.example"><input name="q"></form>', ""),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example">', ""),
        ('<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/s.css">', ""),
        ("<style>body { background: url(https://evil.example/t.png) }</style>", ""),
        ('<div style="background: url(https://evil.example/t.png)">x</div>', "<div>x</div>"),
        ('<img src="https://evil.example/track.png">', "<img>"),
        (
            '<img src="data:image/svg+xml;base64,PHN2Zz4=" onload="steal()">',
            '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
        ),
        ('<svg onload="steal()"><circle r="5"></circle></svg>', ""),
        ('<math><mi xlink:href="javascript:steal()">x</mi></math>', "<math><mi>x</mi></math>"),
        ('<span class="navbar-fixed-top modal">x</span>', '<span class="">x</span>'),  # no layout classes of the page
    ],
)
def test_hostile_markup_is_neutralized(hostile, kept):
    assert sanitize_html(hostile) == kept


@pytest.mark.parametrize(
    "honest",
    [
        f'<img src="{PNG_URI}" alt="a plot">',
        "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>",
        '<th style="text-align:left">a</th>',
        '<a href="https://example.org/paper" rel="noopener noreferrer nofollow">paper</a>',
        '<a href="#part-a" rel="noopener noreferrer nofollow">Part A</a>',
        '<div class="highlight"><pre><span class="k">def</span></pre></div>',
        '<math display="block"><mfrac><mi>a</mi><mi>b</mi></mfrac></math>',
    ],
)
def test_honest_markup_is_kept(honest):
    cleaned = sanitize_html(f"<table>{honest}</table>" if honest.startswith("<th") else honest)
    assert honest in cleaned


def test_markdown_tables_in_quotes_and_math_render():
    html = render_markdown(
        "> **Grading (10 points).**\n>\n> | part | points |\n> | --- | --- |\n> | A | 2.5 |\n\n"
        "$\\frac{1}{N}\\sum_i x_i$ and $$\\arg\\max_\\tau \\text{safe\\_rate}$$"
    )
    assert "<blockquote>" in html and "<td>2.5</td>" in html and "|" not in html
    assert html.count("<math") == 2 and "<mfrac>" in html
    assert "\\" not in html and "$" not in html


def test_tex_that_cannot_be_read_stays_visible_as_code():
    assert tex_to_mathml("\\frac{") == '<code class="tex">\\frac{</code>'


def test_outputs_keep_only_what_cannot_run():
    data = safe_output_data(
        {
            "text/html": "<b>bold</b><script>steal()</script>",
            "application/javascript": "steal()",
            "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
            "text/plain": "repr",
            "image/png": "iVBORw0KGgo=",
        }
    )
    assert data == {"text/plain": "repr", "image/png": "iVBORw0KGgo=", "text/html": "<b>bold</b>"}
    markdown = safe_output_data({"text/markdown": "<img src=x onerror=steal()> *md*"})
    assert markdown == {"text/html": "<p><img> <em>md</em></p>\n"}
    assert "<math" in safe_output_data({"text/latex": "$x^2$"})["text/html"]
    svg = safe_output_data({"image/svg+xml": "<svg onload='steal()'></svg>"})["text/html"]
    assert svg.startswith('<img src="data:image/svg+xml;base64,')


def test_preprocessor_cleans_outputs_metadata_raw_cells_and_widgets():
    output = new_output(
        "display_data",
        data={"text/html": "<p>x</p>", "image/png": "AAAA"},
        metadata={"text/html": {"isolated": True}, "filenames": {"image/png": "https://evil/x.png"}},
    )
    notebook = new_notebook(
        cells=[new_code_cell("", outputs=[output]), new_markdown_cell("text")],
        metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {}}},
    )
    notebook.cells.append(notebook.cells[1].copy())
    notebook.cells[2].cell_type = "raw"
    notebook.cells[2].source = "<script>steal()</script>raw"
    cleaned, _ = SanitizeOutputs().preprocess(notebook, {})
    assert cleaned.metadata == {}
    assert cleaned.cells[0].outputs[0].metadata == {"text/html": {}}
    assert cleaned.cells[2].source == "raw"


def test_pasted_images_show_and_foreign_attachments_do_not():
    attachments = {"plot.png": {"image/png": "iVBORw0KGgo="}, "page.html": {"text/html": "PHNjcmlwdD4="}}
    html = render_markdown("![plot](attachment:plot.png) ![page](attachment:page.html)", attachments=attachments)
    assert '<img src="data:image/png;base64,iVBORw0KGgo=" alt="plot">' in html
    assert '<img alt="page">' in html


def test_a_missing_attachment_shows_the_source_instead_of_failing_the_page():
    html = render_markdown("![x](attachment:gone.png) <script>steal()</script>")
    assert html.startswith("<pre>![x](attachment:gone.png) &lt;script&gt;")


def test_undrawn_plots_get_one_line_in_place_of_leftovers():
    from gradebook_tools.pages.feedback_preprocessors import UNDRAWN_PLOTS, NoteUndrawnPlots

    leftover = new_output("execute_result", data={"text/plain": "<Figure size 640x480 with 1 Axes>"}, execution_count=1)
    printed = new_output("stream", name="stdout", text="mean 0.5\n")
    drawn = new_output("display_data", data={"image/png": "AAAA", "text/plain": "<Figure size 640x480 with 1 Axes>"})
    test_cell = new_code_cell(
        "plt.plot([1])", metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "test_x", "points": 1}}
    )
    notebook = new_notebook(
        cells=[
            new_code_cell("fig, ax = plt.subplots()\nfig", outputs=[printed, leftover]),
            new_code_cell("plt.plot([1, 2])\nplt.show()", outputs=[drawn]),
            new_code_cell("print('no plot')", outputs=[printed]),
            test_cell,
        ]
    )
    notebook, _ = NoteUndrawnPlots().preprocess(notebook, {})
    assert [output.get("text") or output.data["text/plain"] for output in notebook.cells[0].outputs] == [
        "mean 0.5\n",
        UNDRAWN_PLOTS,
    ]
    assert notebook.cells[1].outputs == [drawn] and notebook.cells[2].outputs == [printed]
    assert notebook.cells[3].outputs == []
