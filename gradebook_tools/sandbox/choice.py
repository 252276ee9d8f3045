"""Which sandbox a grading kernel gets: the one rule, for ``TrustedExecute`` and the engine's workers.

- ``c.TrustedExecute.sandbox = False`` (trusted code only): jupyter_client's own kernel manager, no sandbox.
- Otherwise the course's ``c.TrustedExecute.sandbox_manager_class``; by default a bubblewrap per kernel
  (:class:`~gradebook_tools.sandbox.bubblewrap.SandboxedKernelManager`).
- The engine's workers, running as root and where the course names no manager, fork their kernels
  from one warm sandboxed server (:class:`~gradebook_tools.sandbox.forkserver.ForkServerKernelManager`):
  the same isolation per kernel, far cheaper for a worker that grades many submissions.
"""

from __future__ import annotations

import os

from jupyter_client.manager import AsyncKernelManager

from gradebook_tools.sandbox.bubblewrap import require_sandbox_tools

#: The kernel manager of the engine's workers as root, unless the course configures another.
FORK_SERVER_MANAGER = "gradebook_tools.sandbox.forkserver.ForkServerKernelManager"


def kernel_manager_class(sandbox: bool, configured: type[AsyncKernelManager]) -> type[AsyncKernelManager]:
    """The kernel manager a notebook is graded with (raises ``SandboxUnavailable`` without bubblewrap)."""
    if not sandbox:
        return AsyncKernelManager
    require_sandbox_tools()
    return configured


def worker_manager(configured: bool) -> str | None:
    """The manager an engine worker configures, or None to keep the course's (or the default)."""
    return FORK_SERVER_MANAGER if not configured and os.geteuid() == 0 else None
