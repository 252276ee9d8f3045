"""Deprecated: ``gradebook_tools.batch.release_feedback`` is now ``gradebook_tools.pages.freshness``.

Kept one release so that an ``nbgrader_config.py`` naming the old dotted path still loads.
"""

import warnings

from gradebook_tools.pages.freshness import FreshReleaseFeedback, RecordFeedbackGrades

__all__ = ["FreshReleaseFeedback", "RecordFeedbackGrades"]

warnings.warn(
    "gradebook_tools.batch.release_feedback is deprecated: name gradebook_tools.pages.freshness in nbgrader_config.py",
    DeprecationWarning,
    stacklevel=2,
)
