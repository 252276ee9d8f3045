"""The exporter of ``nbgrader generate_feedback``: offline templates (no CDN), a Content-Security-Policy,
templates compiled and code highlighted once per process."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import NotebookNode
from traitlets import default

from gradebook_tools.pages.html_safety.markdown import _Remembered

#: Templates searched before nbconvert's: ``mathjax.html.j2`` shadows its CDN MathJax loader.
OFFLINE_TEMPLATES = Path(__file__).parents[1] / "templates" / "offline"
#: What a feedback page may do: show its own style and ``data:`` images, nothing else.
FEEDBACK_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in this process, keyed by template name and source checksum."""

    def __init__(self):
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self._store:
            bucket.bytecode_from_string(self._store[bucket.key])

    def dump_bytecode(self, bucket):
        self._store[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_BYTECODE = _MemoryBytecodeCache()
_HIGHLIGHTED = _Remembered()  # code cells as highlighted HTML
#: What nbconvert's accessibility pass changes: an ``<img`` tag, a lab template's cell wrappers.
_ACCESSIBILITY_TARGETS = re.compile(r"<img\b|jp-Cell-inputWrapper|jp-OutputArea-output", re.IGNORECASE)


class RememberedHighlight(Highlight2HTML):
    """nbconvert's code highlighting, remembered in this process: a class's pages share most code cells."""

    def __call__(self, source: str, language: str | None = None, metadata: dict[str, Any] | None = None) -> str:
        magics = (metadata or {}).get("magics_language")
        key = (source, language or self.pygments_lexer, magics, repr(sorted(self.extra_formatter_options.items())))
        return _HIGHLIGHTED.get(key, lambda: super(RememberedHighlight, self).__call__(source, language, metadata))


class FeedbackHTMLExporter(HTMLExporter):
    """``nbgrader generate_feedback``'s ``HTMLExporter``, for pages that work offline.

    nbgrader's ``feedback`` template, with the course's ``mathjax.html.j2`` (no
    CDN script: math is MathML already) found before nbconvert's, and a Content-Security-Policy (:data:`FEEDBACK_CSP`)
    as the first element of ``<head>``: the page runs no script and loads
    nothing but its own ``data:`` images. Configured as
    ``c.GenerateFeedback.exporter_class``; everything configured for
    ``HTMLExporter`` applies to it.
    """

    @default("extra_loaders")
    def _offline_templates(self):
        return [jinja2.FileSystemLoader(str(OFFLINE_TEMPLATES))]

    def _create_environment(self):
        # nbconvert compiles every template again for each exporter, i.e. for each page;
        # the compiled code of the same template source is the same, so one process keeps it
        environment = super()._create_environment()
        environment.bytecode_cache = _TEMPLATE_BYTECODE
        return environment

    def from_notebook_node(  # type: ignore[override]  # as HTMLExporter's own: the page is text
        self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        output, resources = self._render(nb, resources, **kw)
        policy = f'<meta http-equiv="Content-Security-Policy" content="{FEEDBACK_CSP}">'
        head = re.search(r"<head[^>]*>", output)
        if head is None:
            return policy + output, resources
        return output[: head.end()] + "\n" + policy + output[head.end() :], resources

    def _render(self, nb, resources, **kw):
        """``HTMLExporter.from_notebook_node``, parsing the page again only where that changes it.

        nbconvert re-parses every rendered page with BeautifulSoup to give images
        without ``alt`` a text and lab-template cells a ``tabindex``. A page with
        no such element (the feedback pages, whose plots are not drawn at grading
        time) comes out of that pass unchanged but for re-serialization, so the
        pass runs only on pages that have one.
        """
        # what HTMLExporter.from_notebook_node registers before rendering
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        highlight = self.filters.get("highlight_code", RememberedHighlight(pygments_lexer=lexer, parent=self))
        self.register_filter("highlight_code", highlight)
        resources = self._init_resources(resources)
        data_types = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
        self.register_filter("filter_data_type", data_types)
        output, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        if _ACCESSIBILITY_TARGETS.search(output):
            output = self._accessible(output)
        return output, resources

    def _accessible(self, output: str) -> str:
        """nbconvert's own pass: alternative text for images, focusable lab cells."""
        soup = BeautifulSoup(output, features="html.parser")
        missing_alt = 0
        for element in soup.select("img:not([alt])"):
            element.attrs["alt"] = "No description has been provided for this image"
            missing_alt += 1
        if missing_alt:
            self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
        for element in soup.select(".jp-Notebook div.jp-Cell-inputWrapper, .jp-Notebook div.jp-OutputArea-output"):
            element.attrs["tabindex"] = "0"
        return str(soup)
