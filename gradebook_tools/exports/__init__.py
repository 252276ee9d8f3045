"""Exports: the per-section table as CSV, Canvas CSV and JSON, and nbgrader's export plugin."""

from typing import Any


def __getattr__(name: str) -> Any:
    """``gradebook_tools.exports.SectionCsvExportPlugin``, the name ``nbgrader_config.py`` gives, imported on use
    (so that reading the formats does not import nbgrader)."""
    if name == "SectionCsvExportPlugin":
        from gradebook_tools.exports.nbgrader_plugin import SectionCsvExportPlugin

        return SectionCsvExportPlugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
