"""Deprecated: ``gradebook_tools.feedback_preprocessors`` is now ``gradebook_tools.pages.feedback_preprocessors``.

Kept one release so that an ``nbgrader_config.py`` naming the old dotted path still loads.
"""

import warnings

from gradebook_tools.pages.feedback_preprocessors import ClearHiddenTestsInFeedback, NoteUndrawnPlots

__all__ = ["ClearHiddenTestsInFeedback", "NoteUndrawnPlots"]

warnings.warn(
    "gradebook_tools.feedback_preprocessors is deprecated: "
    "name gradebook_tools.pages.feedback_preprocessors in nbgrader_config.py",
    DeprecationWarning,
    stacklevel=2,
)
