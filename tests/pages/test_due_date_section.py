"""The feedback template's due-date section: escaped, inside ``<main>`` under the title, absent without rows.

The course's template (``feedback_accessible.html.j2``) rendered by Jinja over a minimal parent page in the
shape of nbgrader's (a ``<body>`` with the ``<h4>`` title); the real pages are tested in test_feedback_due_date.py.
"""

from __future__ import annotations

import jinja2

from gradebook_tools.pages.html_safety.exporter import OFFLINE_TEMPLATES

#: nbgrader's feedback page, reduced to what the course's template rewrites.
PARENT = (
    "{% block header %}<html><head></head>{% endblock header %}"
    "{% block body %}<body><h4>ex01 (Score: 6.4 / 10.0)</h4><div id='toc'></div></body>{% endblock body %}"
)


def render(rows) -> str:
    loader = jinja2.ChoiceLoader(
        [jinja2.DictLoader({"index.html.j2": PARENT}), jinja2.FileSystemLoader(str(OFFLINE_TEMPLATES))]
    )
    template = jinja2.Environment(loader=loader).get_template("feedback_accessible.html.j2")
    return template.render(resources={"nbgrader": {"due_date": rows} if rows is not None else {}})


def test_the_rows_are_escaped_inside_main_under_the_title():
    page = render([("Your due date", "<script>alert(1)</script> & the class's")])
    assert "<script>" not in page
    assert "<dd>&lt;script&gt;alert(1)&lt;/script&gt; &amp; the class&#39;s</dd>" in page
    main, title, section, end = (page.index(tag) for tag in ("<main>", "<h1", '<section class="due-date"', "</main>"))
    assert main < title < section < end
    assert '<section class="due-date" aria-labelledby="due-date-heading">' in page


def test_no_section_without_rows():
    assert "due-date" not in render(None).split("</head>", 1)[1]
