"""What a student wrote, made safe and self-contained for the course's HTML pages.

A student writes the Markdown cells, the code and therefore every output of an
autograded notebook, and nbconvert puts all of it into the feedback pages and
into nbgrader's formgrader as it stands: a ``<script>``, an ``<img onerror>``,
a ``javascript:`` link or an HTML/JavaScript display output runs in the reader's
browser (for the formgrader: with the instructor's Jupyter session).
nbconvert's own ``HTMLExporter.sanitize_html`` does not help here: nbgrader's
``feedback`` and ``formgrade`` templates render Markdown cells without it, and
its allow-list (bleach's) drops the images, headings and table headers the
course's notebooks need.

So the course hooks into nbconvert's own seams, set in ``nbgrader_config.py``
for every ``HTMLExporter`` (the one of ``nbgrader generate_feedback`` and the
one the formgrader renders a submission with):

- :class:`SafeMarkdown2HTML` replaces the ``markdown2html`` template filter:
  nbconvert's Markdown renderer, with tables inside quotes and lists (mistune's
  ``table_in_quote``/``table_in_list``: the notebooks' grading tables), math as
  MathML (rendered here, no MathJax needed), then :func:`sanitize_html`.
- :class:`SanitizeOutputs`, an nbconvert preprocessor, keeps only outputs that
  cannot run code: text, images, sanitized HTML, Markdown and LaTeX rendered
  here; JavaScript, widgets and any unknown type are dropped.
- :class:`FeedbackHTMLExporter`, the exporter of ``generate_feedback``: loads no
  MathJax from a CDN and adds a Content-Security-Policy that lets the page load
  nothing and run no script, so a feedback page works opened from disk and a
  missed payload still could not run.

:func:`sanitize_html` is `nh3 <https://nh3.readthedocs.io>`_ (the Rust
``ammonia`` sanitizer) with an allow-list: formatting, tables, images from
``data:`` URIs, MathML, links to ``http``, ``https``, ``mailto`` and anchors.
"""

from gradebook_tools.pages.html_safety.exporter import FEEDBACK_CSP, OFFLINE_TEMPLATES, FeedbackHTMLExporter
from gradebook_tools.pages.html_safety.markdown import SafeMarkdown2HTML, render_markdown, tex_to_mathml
from gradebook_tools.pages.html_safety.outputs import SanitizeOutputs, safe_output_data
from gradebook_tools.pages.html_safety.sanitizer import IMAGE_TYPES, sanitize_html

__all__ = [
    "FEEDBACK_CSP",
    "IMAGE_TYPES",
    "OFFLINE_TEMPLATES",
    "FeedbackHTMLExporter",
    "SafeMarkdown2HTML",
    "SanitizeOutputs",
    "render_markdown",
    "safe_output_data",
    "sanitize_html",
    "tex_to_mathml",
]
