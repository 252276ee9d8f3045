"""Kernels that run student code inside bubblewrap, under resource limits.

:class:`SandboxedKernelManager` is a jupyter_client kernel manager: nbclient
(and so nbgrader's ``Execute``) starts kernels through it unchanged. The kernel
process runs

- in its own mount, PID, network, IPC and UTS namespaces (bubblewrap): it sees
  the system and Python installation read-only, its submission's working copy
  read-write, a private ``/tmp``, and nothing else of the machine (not the
  course's ``source/``, the reference computations, other students' work or the
  gradebook); it has no network, and every process it starts dies with it;
- as an unprivileged user of its own, with limits on address space, CPU time,
  processes, open files and file size (``setpriv`` and ``prlimit``).

The kernel talks to the grader over Unix sockets in a private runtime folder,
since a kernel without network has no loopback shared with the grader.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.utils import run_sync
from traitlets import Integer

#: Read-only system paths every kernel needs (those that exist are bound).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
#: First user id of the range used for sandboxed kernels, one per grading process.
SANDBOX_UID_BASE = 200_000


class SandboxUnavailable(RuntimeError):
    """The isolation tools are missing; the message says what to install."""


def require_sandbox_tools() -> None:
    missing = [tool for tool in ("bwrap", "setpriv", "prlimit") if shutil.which(tool) is None]
    if missing:
        raise SandboxUnavailable(
            f"cannot sandbox student code: {', '.join(missing)} not found. Install them with "
            "`apt-get install bubblewrap util-linux` (scripts/setup.sh does), or grade without a "
            "sandbox, only for trusted code, with --TrustedExecute.sandbox=False"
        )


def python_paths() -> list[str]:
    """The Python installation and virtual environment the kernel runs from."""
    paths = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return sorted(paths)


class _Mounts:
    """bwrap arguments binding paths at the same place, with traversable parent folders."""

    def __init__(self, args: list[str]):
        self.args = args
        self.made = {"/", "/tmp"}  # folders the sandbox has already
        self.bound: list[str] = []  # bound paths: everything below them exists

    def bind(self, option: str, path: str) -> None:
        for parent in map(str, reversed(Path(path).parents)):
            inside_bound = any(parent == b or parent.startswith(b + "/") for b in self.bound)
            if parent not in self.made and not inside_bound:
                self.args += ["--perms", "0755", "--dir", parent]
                self.made.add(parent)
        self.args += [option, path, path]
        self.bound.append(path)


class SandboxedKernelManager(AsyncKernelManager):
    """Start each kernel in a bubblewrap sandbox with resource limits."""

    memory_limit = Integer(2 * 1024**3, help="Address space of the kernel, in bytes (RLIMIT_AS).").tag(config=True)
    cpu_limit = Integer(900, help="CPU seconds for the kernel's whole life (RLIMIT_CPU).").tag(config=True)
    process_limit = Integer(128, help="Processes and threads of the kernel's user (RLIMIT_NPROC).").tag(config=True)
    open_files_limit = Integer(256, help="Open files per process (RLIMIT_NOFILE).").tag(config=True)
    file_size_limit = Integer(64 * 1024**2, help="Largest file the kernel may write, in bytes (RLIMIT_FSIZE).").tag(
        config=True
    )
    sandbox_uid = Integer(
        0, help="User id of the kernel; 0 picks one per grading process, so parallel graders never share limits."
    ).tag(config=True)

    def _kernel_uid(self) -> int:
        return self.sandbox_uid or SANDBOX_UID_BASE + os.getpid() % 50_000

    async def _async_pre_start_kernel(self, **kw):
        require_sandbox_tools()
        uid = self._kernel_uid() if os.geteuid() == 0 else None  # only root can switch users
        workdir = os.path.realpath(kw.get("cwd") or os.getcwd())
        self._runtime_dir = tempfile.mkdtemp(prefix="sandboxed-kernel-")
        # Unix sockets in the runtime folder; the control channel carries interrupts
        # because the kernel sits in a session of its own, out of reach of signals.
        self.transport = "ipc"
        self.ip = os.path.join(self._runtime_dir, "kernel")
        self.connection_file = os.path.join(self._runtime_dir, "connection.json")
        self.kernel_spec.interrupt_mode = "message"
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        if uid is not None:
            for path in (self._runtime_dir, self.connection_file):
                os.chown(path, uid, uid)
            _give_tree(workdir, uid)
        kw["env"] = self._kernel_env(kw.get("env") or {})
        return self._sandbox_prefix(uid, workdir) + kernel_cmd, kw

    def _sandbox_prefix(self, uid: int | None, workdir: str) -> list[str]:
        bwrap = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        bwrap += ["--die-with-parent", "--new-session", "--dev", "/dev", "--proc", "/proc"]
        # the launcher names the grader as the kernel's parent, a PID this namespace cannot see
        bwrap += ["--unsetenv", "JPY_PARENT_PID"]
        bwrap += ["--perms", "1777", "--tmpfs", "/tmp"]
        mounts = _Mounts(bwrap)
        for path in SYSTEM_PATHS:
            if os.path.exists(path):
                mounts.bind("--ro-bind", path)
        for path in python_paths():
            mounts.bind("--ro-bind", path)
        mounts.bind("--bind", self._runtime_dir)
        mounts.bind("--bind", workdir)
        bwrap += ["--chdir", workdir, "--"]
        drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
        if uid is None:
            drop = []
        limits = [
            "prlimit",
            f"--as={self.memory_limit}",
            f"--cpu={self.cpu_limit}",
            f"--nproc={self.process_limit}",
            f"--nofile={self.open_files_limit}",
            f"--fsize={self.file_size_limit}",
            "--",
        ]
        return bwrap + drop + limits

    @staticmethod
    def _kernel_env(env: dict) -> dict:
        """A small environment: nothing of the grader's secrets or paths leaks in."""
        keep = {key: env[key] for key in ("LANG", "LC_ALL", "JPY_SESSION_NAME") if key in env}
        return dict(
            keep,
            PATH=f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            # caches (fontconfig, IPython) go to the private /tmp, not into the
            # working copy that feedback hands back to the student
            HOME="/tmp",
            IPYTHONDIR="/tmp/ipython",
            TMPDIR="/tmp",
            MPLCONFIGDIR="/tmp/matplotlib",
            MPLBACKEND="module://matplotlib_inline.backend_inline",
            PYTHONNOUSERSITE="1",
            # one thread each: BLAS thread pools would eat the process limit
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and getattr(self, "_runtime_dir", None):
            shutil.rmtree(self._runtime_dir, ignore_errors=True)

    # the base class binds its sync wrapper to its own coroutine, not to this one
    cleanup_resources = run_sync(_async_cleanup_resources)


def _give_tree(folder: str, uid: int) -> None:
    """Let the kernel's user write in its working copy."""
    os.chown(folder, uid, uid)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)
