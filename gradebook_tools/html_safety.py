"""Deprecated: ``gradebook_tools.html_safety`` is now ``gradebook_tools.pages.html_safety``.

Kept one release so that an ``nbgrader_config.py`` naming the old dotted path still loads.
"""

import warnings

from gradebook_tools.pages.html_safety import FeedbackHTMLExporter, SafeMarkdown2HTML, SanitizeOutputs

__all__ = ["FeedbackHTMLExporter", "SafeMarkdown2HTML", "SanitizeOutputs"]

warnings.warn(
    "gradebook_tools.html_safety is deprecated: name gradebook_tools.pages.html_safety in nbgrader_config.py",
    DeprecationWarning,
    stacklevel=2,
)
