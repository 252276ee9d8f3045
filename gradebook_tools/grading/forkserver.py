"""Deprecated: ``gradebook_tools.grading.forkserver`` is now ``gradebook_tools.sandbox.forkserver``.

Kept one release so that an ``nbgrader_config.py`` naming the old dotted path still loads.
"""

import warnings

from gradebook_tools.sandbox.forkserver import ForkServerKernelManager

__all__ = ["ForkServerKernelManager"]

warnings.warn(
    "gradebook_tools.grading.forkserver is deprecated: name gradebook_tools.sandbox.forkserver in nbgrader_config.py",
    DeprecationWarning,
    stacklevel=2,
)
