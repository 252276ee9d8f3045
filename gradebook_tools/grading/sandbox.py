"""Deprecated: ``gradebook_tools.grading.sandbox`` is now ``gradebook_tools.sandbox.bubblewrap``.

Kept one release so that an ``nbgrader_config.py`` naming the old dotted path still loads.
"""

import warnings

from gradebook_tools.sandbox.bubblewrap import SandboxedKernelManager

__all__ = ["SandboxedKernelManager"]

warnings.warn(
    "gradebook_tools.grading.sandbox is deprecated: name gradebook_tools.sandbox.bubblewrap in nbgrader_config.py",
    DeprecationWarning,
    stacklevel=2,
)
