"""Running real nbgrader commands from Python, as an instructor would in a shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader: it runs ``alembic`` from PATH, so this interpreter's bin comes first."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return dict(os.environ, PATH=path, PYTHONWARNINGS="ignore::DeprecationWarning")


def put_tools_on_path() -> None:
    """Let nbgrader, in this process, find the ``alembic`` command it runs to stamp a new gradebook."""
    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([here, os.environ.get("PATH", "")])


def nbgrader_command(*args: str) -> list[str]:
    """``nbgrader ARGS`` with this interpreter, whatever PATH says."""
    return [sys.executable, "-m", "nbgrader", *args]


def run_nbgrader(
    *args: str, cwd: Path, timeout: float = 3600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``nbgrader ARGS`` in the course folder ``cwd``, capturing its output."""
    return subprocess.run(
        nbgrader_command(*args),
        cwd=cwd,
        env=env or nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
