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

from __future__ import annotations

import base64
import functools
import html
import re
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import jinja2
from bs4 import BeautifulSoup
from mistune.plugins.table import table_in_list, table_in_quote
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool, default
from traitlets.config import LoggingConfigurable

#: Templates searched before nbconvert's: ``mathjax.html.j2`` shadows its CDN MathJax loader.
OFFLINE_TEMPLATES = Path(__file__).parent / "templates" / "offline"
#: What a feedback page may do: show its own style and ``data:`` images, nothing else.
FEEDBACK_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
#: Images a page shows inline (``data:`` URIs only: a page loads nothing from elsewhere).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
_DATA_IMAGE = re.compile(rf"data:({'|'.join(re.escape(t) for t in IMAGE_TYPES)});base64,[A-Za-z0-9+/=\s]*\Z")
_LINK = re.compile(r"(https?:|mailto:|#)", re.IGNORECASE)

_MATHML_TAGS = {
    "math",
    "semantics",
    "annotation",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mspace",
    "msub",
    "msup",
    "msubsup",
    "mfrac",
    "msqrt",
    "mroot",
    "mstyle",
    "merror",
    "mpadded",
    "mphantom",
    "mfenced",
    "menclose",
    "munder",
    "mover",
    "munderover",
    "mmultiscripts",
    "mprescripts",
    "none",
    "mtable",
    "mtr",
    "mtd",
    "mlabeledtr",
}
_MATHML_ATTRIBUTES = {
    "display",
    "xmlns",
    "mathvariant",
    "mathsize",
    "stretchy",
    "fence",
    "separator",
    "lspace",
    "rspace",
    "accent",
    "accentunder",
    "columnalign",
    "rowalign",
    "columnspacing",
    "rowspacing",
    "columnlines",
    "rowlines",
    "frame",
    "displaystyle",
    "scriptlevel",
    "linethickness",
    "minsize",
    "maxsize",
    "movablelimits",
    "symmetric",
    "largeop",
    "form",
    "width",
    "height",
    "depth",
    "notation",
    "encoding",
    "open",
    "close",
    "separators",
    "columnspan",
    "rowspan",
    "align",
}


def _pygments_classes() -> set[str]:
    from pygments.token import STANDARD_TYPES

    return {name for name in STANDARD_TYPES.values() if name}


@functools.cache
def _cleaner_options() -> dict:
    import nh3

    tags = (set(nh3.ALLOWED_TAGS) - {"area", "map"}) | _MATHML_TAGS
    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes.update({tag: set(_MATHML_ATTRIBUTES) for tag in _MATHML_TAGS})
    for tag in ("th", "td"):
        attributes[tag] |= {"style"}  # Markdown's column alignment, text-align only (below)
    for tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        attributes[tag] = {"id"}  # nbconvert's heading anchors
    attributes.setdefault("a", set()).add("title")
    attributes["img"] |= {"title"}
    attributes["table"] |= {"border"}
    # classes: only those of nbconvert's own markup (code highlighting, anchors, data frames),
    # so that a student's markup cannot take the page's layout classes
    highlight = _pygments_classes()
    return dict(
        tags=tags,
        attributes=attributes,
        url_schemes={"http", "https", "mailto", "data"},
        attribute_filter=_attribute_filter,
        filter_style_properties={"text-align"},
        allowed_classes={
            "span": highlight,
            "div": {"highlight"},
            "a": {"anchor-link"},
            "table": {"dataframe"},
            "li": {"task-list-item"},
        },
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
    )


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """URLs a page may use: ``data:`` images as sources, web and mail links, anchors."""
    if attribute == "src":
        return value if tag == "img" and _DATA_IMAGE.match(value.strip()) else None
    if attribute == "href":
        return value if tag == "a" and _LINK.match(value.strip()) else None
    return value


def sanitize_html(text: str) -> str:
    """HTML a student wrote (or printed), with nothing left that runs or loads anything.

    Scripts, styles, event handlers, ``javascript:`` and ``data:`` links, frames,
    objects, embeds, forms, ``<meta>``, ``<base>`` and ``<link>`` are removed (with
    the content of ``<script>`` and ``<style>``); images keep their ``data:``
    sources only; formatting, tables and MathML stay.

    Examples
    --------
    >>> sanitize_html('<b onclick="steal()">bold</b><script>steal()</script>')
    '<b>bold</b>'
    """
    import nh3

    return nh3.clean(text, **_cleaner_options())


# ---------------------------------------------------------------- math

_TEXT_GROUP = re.compile(r"\\(text|textrm|textit|texttt|mathrm)\{([^{}]*)\}")
#: A size command before an escaped delimiter (``\big\|``, ``\Big\{``): latex2mathml prints it raw.
_SIZED_ESCAPED_DELIMITER = re.compile(r"\\(?:big|Big|bigg|Bigg)[lrm]?\s*(?=\\[{}|])")


def _text_group(match: re.Match) -> str:
    command, text = match.groups()
    if "\\_" not in text:
        return match.group(0)
    return "\\text{" + text.replace("\\_", "_") + "}"


def _normalize_tex(tex: str) -> str:
    r"""TeX that latex2mathml reads as TeX means it.

    >>> _normalize_tex(r"\arg\max_x \text{safe\_rate} \big\| \Big\{")
    '\\operatorname{arg}\\max_x \\text{safe_rate} \\| \\{'
    """
    tex = _TEXT_GROUP.sub(_text_group, tex)
    tex = tex.replace("\\_", "\\text{_}")
    tex = re.sub(r"\\arg(?![A-Za-z])", r"\\operatorname{arg}", tex)
    tex = re.sub(r"\\\\\[[^\]]*\]", r"\\\\", tex)  # a line break's extra space: \\[2mm]
    return _SIZED_ESCAPED_DELIMITER.sub("", tex)


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """TeX as MathML (Chromium, Firefox and Safari draw it without any script).

    TeX that latex2mathml cannot read stays as it was written, in a ``<code>``.
    """
    from latex2mathml.converter import convert

    try:
        return convert(_normalize_tex(tex.strip()), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds of error on TeX it does not know
        return f'<code class="tex">{html.escape(tex)}</code>'


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, with math as MathML instead of TeX for MathJax."""

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body)

    def latex_environment(self, name: str, body: str) -> str:
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    def multiline_math(self, text: str) -> str:  # mistune 2 only
        return tex_to_mathml(text.strip("$"), display=True)


def render_markdown(
    source: str,
    attachments: dict | None = None,
    path: str = "",
    anchor_link_text: str = "\u00b6",
    exclude_anchor_links: bool = False,
    embed_images: bool = False,
) -> str:
    """Markdown (a cell or an output) as sanitized HTML with MathML, as the pages show it."""
    renderer = MathMLRenderer(
        escape=False,
        attachments=attachments or {},
        embed_images=embed_images,
        path=path,
        anchor_link_text=anchor_link_text,
        exclude_anchor_links=exclude_anchor_links,
    )
    markdown = MarkdownWithMath(renderer=renderer)
    # mistune parses tables at the top level only unless told otherwise
    table_in_quote(markdown)
    table_in_list(markdown)
    try:
        rendered = markdown.render(source)
    except Exception as error:  # e.g. nbconvert's InvalidNotebook for a missing attachment
        rendered = f"<pre>{html.escape(source)}</pre><p>(not rendered: {html.escape(str(error))})</p>"
    return sanitize_html(rendered)


class _Remembered:
    """Pieces of pages made once per process (a class's pages share most of their cells), at most ``capacity``."""

    def __init__(self, capacity: int = 4096):
        self.capacity = capacity
        self._made: dict[Hashable, str] = {}

    def get(self, key: Hashable, make: Callable[[], str]) -> str:
        if key not in self._made:
            if len(self._made) >= self.capacity:
                self._made.clear()
            self._made[key] = make()
        return self._made[key]


_RENDERED = _Remembered()  # markdown cells as sanitized HTML
_HIGHLIGHTED = _Remembered()  # code cells as highlighted HTML


class SafeMarkdown2HTML(LoggingConfigurable):
    """The ``markdown2html`` template filter of an ``HTMLExporter``, made safe.

    Configured as ``c.HTMLExporter.filters = {"markdown2html": ...}``; nbconvert
    constructs it with the exporter as parent and reads the exporter's settings
    (anchor links, embedded images) from there, and the cell's attachments from
    the template context, as nbconvert's own filter does.
    """

    #: Tells jinja to pass the template context first, as to nbconvert's own filter.
    jinja_pass_arg = jinja2.pass_context(lambda: None).jinja_pass_arg  # type: ignore[attr-defined]

    def __call__(self, context: jinja2.runtime.Context, source: str) -> str:
        exporter = self.parent
        cell = context.get("cell", {}) or {}
        options = dict(
            attachments=cell.get("attachments", {}),
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=getattr(exporter, "anchor_link_text", "\u00b6"),
            exclude_anchor_links=getattr(exporter, "exclude_anchor_links", False),
            embed_images=getattr(exporter, "embed_images", False),
        )
        if options["attachments"] or options["embed_images"]:  # the page then depends on more than the text
            return render_markdown(source, **options)
        # (the folder's path only serves embedding images)
        key = (source, options["anchor_link_text"], options["exclude_anchor_links"])
        return _RENDERED.get(key, lambda: render_markdown(source, **options))


# ---------------------------------------------------------------- outputs


def _image_html(mime: str, data) -> str:
    if isinstance(data, list):
        data = "".join(data)
    if mime == "image/svg+xml":  # text; shown as an image, where its scripts never run
        data = base64.b64encode(data.encode("utf-8")).decode("ascii")
    return sanitize_html(f'<img src="data:{mime};base64,{data}" alt="figure">')


def safe_output_data(data: dict) -> dict:
    """An output's ``data`` bundle with only what cannot run or load anything.

    Plain text, PNG/JPEG/GIF images and (unused by the pages) JSON are kept as
    they are; HTML is sanitized; Markdown, LaTeX and SVG become sanitized HTML;
    everything else (JavaScript, widgets, unknown types) is dropped.
    """

    def text(value) -> str:
        return "".join(value) if isinstance(value, list) else str(value)

    safe = {key: data[key] for key in ("text/plain", "image/png", "image/jpeg", "image/gif") if key in data}
    if "text/html" in data:
        safe["text/html"] = sanitize_html(text(data["text/html"]))
    elif "text/markdown" in data:
        safe["text/html"] = render_markdown(text(data["text/markdown"]))
    elif "text/latex" in data:
        latex = text(data["text/latex"]).strip()
        display = latex.startswith("$$") or latex.startswith("\\[")
        safe["text/html"] = tex_to_mathml(latex.strip("$").removeprefix("\\[").removesuffix("\\]"), display)
    elif "image/svg+xml" in data and not any(key.startswith("image/") for key in safe):
        safe["text/html"] = _image_html("image/svg+xml", data["image/svg+xml"])
    return safe


class SanitizeOutputs(Preprocessor):
    """nbconvert preprocessor: outputs and raw cells that cannot run in a browser.

    Configured as one of ``c.HTMLExporter.preprocessors``, so that both
    ``nbgrader generate_feedback`` and the formgrader's submission view apply
    it. Stream and error outputs are escaped by nbconvert's templates and stay;
    the ``data`` of display and result outputs is reduced by
    :func:`safe_output_data`; output metadata that templates turn into URLs or
    frames (``filenames``, ``isolated``) is removed, and so is the notebook's
    widget state.
    """

    #: On wherever it is registered (nbconvert's default is off).
    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type == "raw":
            cell.source = sanitize_html(cell.source)
        for output in cell.get("outputs", []):
            if "data" in output:
                output["data"] = safe_output_data(output["data"])
                _restore_likely_mistakes(cell, output)
                metadata = output.get("metadata", {})
                metadata.pop("filenames", None)
                for value in metadata.values():
                    if isinstance(value, dict):
                        value.pop("isolated", None)
        return cell, resources


def _restore_likely_mistakes(cell, output) -> None:
    """The grader's likely-mistake note of a graded test cell, rebuilt from its verdict's metadata.

    Sanitizing drops every class a student's markup could bring; the note's
    ``likely-mistake`` element is made again here from the grader's verdict (a
    graded test cell's outputs and verdict are written by the grader alone), its
    text escaped.
    """
    from gradebook_tools.course.cells import is_graded_test_cell
    from gradebook_tools.grading.verdict import MISTAKE_OUTPUT_KEY, likely_mistakes_html, read_mistakes

    if not output.get("metadata", {}).get(MISTAKE_OUTPUT_KEY) or not is_graded_test_cell(cell):
        return
    mistakes = read_mistakes(cell)
    if mistakes:
        output["data"]["text/html"] = likely_mistakes_html(mistakes)


# ---------------------------------------------------------------- feedback exporter


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
