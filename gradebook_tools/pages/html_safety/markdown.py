"""Markdown as the pages show it: nbconvert's renderer with the notebooks' tables, math as MathML
(no MathJax, no network), sanitized; the ``markdown2html`` filter of every HTMLExporter."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Hashable

import jinja2
from mistune.plugins.table import table_in_list, table_in_quote
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from traitlets.config import LoggingConfigurable

from gradebook_tools.pages.html_safety.sanitizer import sanitize_html

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
