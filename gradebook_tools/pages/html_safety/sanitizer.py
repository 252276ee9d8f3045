"""The allow-list of every page the course writes: nh3 (ammonia) keeps formatting, tables, MathML,
``data:`` images and plain links; everything else a student wrote is dropped or escaped."""

from __future__ import annotations

import functools
import re

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
