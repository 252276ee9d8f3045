"""Outputs as the pages show them: only what cannot run code (text, images, sanitized HTML,
Markdown and LaTeX rendered here); the grader's named mistakes rebuilt from its own metadata."""

from __future__ import annotations

import base64
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool

from gradebook_tools.pages.html_safety.markdown import render_markdown, tex_to_mathml
from gradebook_tools.pages.html_safety.sanitizer import sanitize_html


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
