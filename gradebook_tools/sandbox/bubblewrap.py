"""Kernels that run student code inside bubblewrap, under resource limits.

:class:`SandboxedKernelManager` is a jupyter_client kernel manager: nbclient
(and so nbgrader's ``Execute``) starts kernels through it unchanged. The kernel
process runs

- in its own mount, PID, network, IPC and UTS namespaces (bubblewrap): it sees
  the system and Python installation read-only, a throw-away working copy of
  its submission, a private ``/tmp``, and nothing else of the machine (not the
  course's ``source/``, the reference computations, other students' work or the
  gradebook); it has no network, and every process it starts dies with it;
- as an unprivileged user of its own, with limits on address space, CPU time,
  processes, open files and file size (``setpriv`` and ``prlimit``), in a
  control group of its own that caps its memory (swap included) and processes
  all together (:mod:`.cgroups`), under a seccomp filter that refuses new user
  namespaces, mounts, io_uring, bpf, keyctl, ptrace and the like
  (``bwrap --seccomp``, :func:`.forkserver_child.syscall_filter`).

The working copy is a size-capped tmpfs at the path of the folder nbclient
names as the kernel's cwd (nbgrader's ``autograded/<student>/<id>/``), filled by
bubblewrap from file descriptors the grader opened on that folder's regular
files, never through a link. The grader's folder itself is not mounted: nothing
the kernel writes, links or deletes reaches it, and it all vanishes with the
sandbox. The course's own package (``gradebook_tools``, with the reference
computations) is masked wherever it is installed, with the metadata that would
name or re-add it.

The kernel talks to the grader over Unix sockets in a private runtime folder,
since a kernel without network has no loopback shared with the grader; as root,
that folder is a 1 MiB tmpfs of its own, so the kernel can fill only that. It is
made in the grader's temporary folder, or in ``/tmp`` when that is too deep for
a socket's path (:func:`.runtime_folder.socket_root`).
"""

from __future__ import annotations

import errno
import functools
import importlib.metadata
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import cast

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.utils import run_sync
from traitlets import DottedObjectName, Integer, Type, Unicode

from gradebook_tools.sandbox import runtime_folder
from gradebook_tools.sandbox.cgroups import KernelCgroup, kernel_cgroup
from gradebook_tools.sandbox.forkserver_child import syscall_filter
from gradebook_tools.sandbox.kernel_client import GradingKernelClient

#: Read-only system paths every kernel needs (those that exist are bound).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
#: First user id of the range used for sandboxed kernels, one per grading process.
SANDBOX_UID_BASE = 200_000
#: The course's package and its distribution (``name`` in pyproject.toml), masked in every kernel.
COURSE_PACKAGE = Path(__file__).resolve().parents[1]
COURSE_DISTRIBUTION = "alignment-course-grading"
#: What ``import gradebook_tools`` finds in the kernel, wherever the course is installed.
_MASKED_MESSAGE = f"No module named {COURSE_PACKAGE.name!r}: the course code is not available to student code"
MASKED_PACKAGE_INIT = f"raise ModuleNotFoundError({_MASKED_MESSAGE!r}, name={COURSE_PACKAGE.name!r})\n"
#: Most files a working copy holds (one open file each while the kernel starts).
MAX_WORKING_COPY_FILES = 512
#: A kernel's runtime folder (made by ``mkdtemp``), and its longest socket path below the folder it is made in.
RUNTIME_PREFIX = "sandboxed-kernel-"
RUNTIME_TAIL = f"{RUNTIME_PREFIX}xxxxxxxx/kernel{runtime_folder.SOCKET_SUFFIX}"


@functools.cache
def syscall_filter_bpf() -> bytes:
    """The kernels' seccomp filter (:func:`.forkserver_child.syscall_filter`) as BPF, for ``bwrap --seccomp``."""
    descriptor = os.memfd_create("kernel-seccomp")
    try:
        syscall_filter().export_bpf(open(descriptor, "rb", closefd=False))
        size = os.lseek(descriptor, 0, os.SEEK_END)
        return os.pread(descriptor, size, 0)
    finally:
        os.close(descriptor)


def enter_cgroup_prefix(procs_files: list[str]) -> list[str]:
    """A command prefix that moves itself into a control group (writing its pid), then runs the command."""
    script = 'while [ "$1" != -- ]; do echo $$ >"$1" || exit 126; shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "enter-cgroup", *procs_files, "--"]


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


def require_socket_path(ip: str) -> str:
    """``ip``, the start of a kernel's socket paths, if they fit in a Unix socket; else :class:`SandboxUnavailable`.

    A path too long is the grader's set-up (its ``TMPDIR``), never the submission's: the engine stops the run.
    """
    problem = runtime_folder.socket_path_problem(ip + runtime_folder.SOCKET_SUFFIX)
    if problem:
        raise SandboxUnavailable(problem)
    return ip


class WorkingCopyRefused(RuntimeError):
    """The submission's folder cannot be copied into the kernel's working copy; the message says why."""


def python_paths() -> list[str]:
    """The Python installation and virtual environment the kernel runs from.

    With the site folders on ``sys.path`` that lie elsewhere (a ``.pth`` line
    reusing another environment's packages); never a project folder that a
    ``.pth`` line or ``PYTHONPATH`` adds.
    """
    paths = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if os.path.basename(real) in ("site-packages", "dist-packages") and os.path.isdir(real):
            if not any(_within(real, path) for path in paths):
                paths.add(real)
    return sorted(paths)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@functools.cache
def course_code_paths() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Where the course's code is installed: (package folders, metadata folders, single files).

    The package folder this module is in, any ``gradebook_tools`` on ``sys.path``
    (a second install the grader's copy shadows) and, for every installed
    distribution of the course, the files its ``RECORD`` names at the top of
    its site folder: the ``.dist-info``, an editable install's ``.pth`` and
    finder (with its bytecode), which name the course's folder and re-add it.
    """
    packages, metadata, files = {str(COURSE_PACKAGE)}, set(), set()
    for entry in sys.path:
        candidate = os.path.join(os.path.realpath(entry or "."), COURSE_PACKAGE.name)
        if os.path.isdir(candidate):
            packages.add(candidate)
        elif os.path.isfile(candidate + ".py"):
            files.add(candidate + ".py")
    for distribution in importlib.metadata.distributions(name=COURSE_DISTRIBUTION):
        for record in distribution.files or ():
            if ".." in record.parts:
                continue  # a console script: it names the entry point only
            path = os.path.realpath(str(distribution.locate_file(record)))
            top = os.path.realpath(str(distribution.locate_file(record.parts[0])))
            if len(record.parts) == 1 or record.parts[0] == "__pycache__":
                files.add(path)
            elif top.endswith((".dist-info", ".egg-info")):
                metadata.add(top)
            else:
                packages.add(top)
    exists = lambda paths: tuple(sorted(p for p in paths if os.path.lexists(p)))  # noqa: E731
    return exists(packages), exists(metadata), exists(files)


class WorkingCopy:
    """The regular files of a folder, opened for bubblewrap to copy into the kernel's tmpfs.

    The folder is walked from open directory descriptors with ``O_NOFOLLOW``:
    a symbolic link (to a file or a folder), a socket, a FIFO or a device is
    skipped, so nothing outside the folder is ever read. ``bwrap_args()`` are the
    ``--dir`` and ``--file`` arguments, ``fds`` the descriptors they name (passed
    to bwrap, closed by :meth:`close`).
    """

    def __init__(self, folder: str, size_limit: int, max_files: int = MAX_WORKING_COPY_FILES):
        self.folder, self.size_limit, self.max_files = folder, size_limit, max_files
        self.fds: list[int] = []
        self.dirs: list[str] = []
        self.files: list[tuple[int, str]] = []
        self.size = 0
        self.skipped: list[str] = []
        try:
            root = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as error:
            raise WorkingCopyRefused(f"cannot open the submission's folder {folder}: {error.strerror}") from error
        try:
            self._walk(root, "")
        except BaseException as error:
            self.close()
            if isinstance(error, OSError):  # out of descriptors, unreadable: never a copy without the file
                raise WorkingCopyRefused(f"cannot copy {folder} into the kernel's working copy: {error}") from error
            raise
        finally:
            os.close(root)

    def _walk(self, dir_fd: int, relative: str) -> None:
        with os.scandir(dir_fd) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            path = os.path.join(relative, entry.name)
            # the type before opening (a device is never opened), checked again on the open file
            if not (entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)):
                self.skipped.append(path)
                continue
            try:
                fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
            except OSError as error:
                if error.errno not in (errno.ELOOP, errno.ENOENT, errno.ENXIO):  # replaced by a link or gone
                    raise WorkingCopyRefused(f"cannot copy {path} into the kernel's working copy: {error}") from error
                self.skipped.append(path)
                continue
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                self.dirs.append(path)
                try:
                    self._walk(fd, path)
                finally:
                    os.close(fd)
            elif stat.S_ISREG(info.st_mode):
                self.fds.append(fd)
                self.files.append((fd, path))
                self.size += info.st_size
                self._check_limits()
            else:
                os.close(fd)
                self.skipped.append(path)

    def _check_limits(self) -> None:
        if len(self.files) > self.max_files:
            raise WorkingCopyRefused(
                f"the submission's folder holds more than {self.max_files} files; the kernel's working copy takes "
                "no more"
            )
        if self.size > self.size_limit:
            raise WorkingCopyRefused(
                f"the submission's files take more than {self.size_limit} bytes, the size of the kernel's working "
                "copy (SandboxedKernelManager.working_copy_limit)"
            )

    def bwrap_args(self, inside: str) -> list[str]:
        args = []
        for path in self.dirs:
            args += ["--perms", "0777", "--dir", os.path.join(inside, path)]
        for fd, path in self.files:
            args += ["--perms", "0666", "--file", str(fd), os.path.join(inside, path)]
        return args

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds, self.files = [], []


class _Mounts:
    """bwrap arguments binding paths at the same place, with traversable parent folders."""

    def __init__(self, args: list[str]):
        self.args = args
        self.made = {"/", "/tmp"}  # folders the sandbox has already
        self.bound: list[str] = []  # bound paths: everything below them exists

    def bind(self, option: str, path: str) -> None:
        self._parents(path)
        self.args += [option, path, path]
        self.bound.append(path)

    def bind_system(self) -> None:
        """The system and the Python installation, read-only: what every sandboxed process sees."""
        for path in SYSTEM_PATHS:
            if os.path.exists(path):
                self.bind("--ro-bind", path)
        for path in python_paths():
            self.bind("--ro-bind", path)

    def tmpfs(self, path: str, size: int) -> None:
        """A private tmpfs of ``size`` bytes at ``path``, writable by the kernel's user."""
        self._parents(path)
        self.args += ["--size", str(size), "--perms", "0777", "--tmpfs", path]
        self.bound.append(path)

    def _parents(self, path: str) -> None:
        for parent in map(str, reversed(Path(path).parents)):
            if parent not in self.made and not self.visible(parent):
                self.args += ["--perms", "0755", "--dir", parent]
                self.made.add(parent)

    def visible(self, path: str) -> bool:
        """Whether ``path`` lies in a bound folder (masks go only there)."""
        return any(_within(path, b) for b in self.bound)


class SandboxedKernelManager(AsyncKernelManager):
    """Start each kernel in a bubblewrap sandbox with resource limits."""

    # ready when the kernel says so, not after jupyter_client's fixed 0.2 s of quiet
    client_class = DottedObjectName(f"{GradingKernelClient.__module__}.GradingKernelClient", config=True)
    client_factory = Type(GradingKernelClient, klass=AsyncKernelClient, config=True)

    memory_limit = Integer(
        2 * 1024**3,
        help="Memory one submission's kernel may hold in total, all its processes together, in bytes (a control "
        "group per kernel, swap included; also the address space of each of its processes unless "
        "process_memory_limit says otherwise). What the kernel writes to its /tmp and working copy counts too.",
    ).tag(config=True)
    process_memory_limit = Integer(
        0, help="Address space of each process of the kernel, in bytes (RLIMIT_AS); 0: memory_limit."
    ).tag(config=True)
    inode_limit = Integer(
        16384, help="Files and folders the kernel may make in each of its filesystems (fork-server kernels)."
    ).tag(config=True)
    cpu_limit = Integer(900, help="CPU seconds for the kernel's whole life (RLIMIT_CPU).").tag(config=True)
    process_limit = Integer(
        128, help="Processes and threads of the kernel, all together (a control group; and RLIMIT_NPROC of its user)."
    ).tag(config=True)
    open_files_limit = Integer(256, help="Open files per process (RLIMIT_NOFILE).").tag(config=True)
    file_size_limit = Integer(64 * 1024**2, help="Largest file the kernel may write, in bytes (RLIMIT_FSIZE).").tag(
        config=True
    )
    sandbox_uid = Integer(
        0, help="User id of the kernel; 0 picks one per grading process, so parallel graders never share limits."
    ).tag(config=True)
    working_copy_limit = Integer(
        256 * 1024**2,
        help="Size of the kernel's working copy, in bytes: a private tmpfs at the path of the submission's folder, "
        "holding copies of that folder's regular files (links and special files are left out). The submission's "
        "files must fit; what the kernel writes there beyond it fails with 'No space left on device', and all of "
        "it vanishes with the kernel, never reaching autograded/ or feedback/.",
    ).tag(config=True)
    tmp_limit = Integer(256 * 1024**2, help="Size of the kernel's private /tmp (a tmpfs), in bytes.").tag(config=True)
    matplotlib_backend = Unicode(
        "template",
        help="MPLBACKEND of grading kernels. The default 'template' draws nothing: plotting code runs, and "
        "plt.show() returns quietly, without the CPU time of rendering the notebooks' figures (grades never depend "
        "on them). Feedback must then tell students that plots are not drawn during grading. "
        "'module://matplotlib_inline.backend_inline' draws them as in JupyterLab.",
    ).tag(config=True)

    _runtime_dir: str | None  # sockets and connection file of the running kernel
    _working_copy: WorkingCopy | None
    _mask_fds: list[int]

    _cgroup: KernelCgroup | None = None

    def _kernel_uid(self) -> int:
        return self.sandbox_uid or SANDBOX_UID_BASE + os.getpid() % 50_000

    @property
    def address_space_limit(self) -> int:
        return self.process_memory_limit or self.memory_limit

    def _make_cgroup(self) -> None:
        """The kernel's control group (None where the machine cannot make one: said once)."""
        self._remove_cgroup()
        self._cgroup = kernel_cgroup(self.memory_limit, self.process_limit, self.log)

    def _remove_cgroup(self) -> None:
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None

    @staticmethod
    def _remove_private_dir(folder: str) -> None:
        """Remove a runtime folder, and the tmpfs of its own it may be."""
        if runtime_folder.can_mount():
            runtime_folder.unmount_all(folder)
        shutil.rmtree(folder, ignore_errors=True)

    async def _async_pre_start_kernel(self, **kw):
        require_sandbox_tools()
        uid = self._kernel_uid() if os.geteuid() == 0 else None  # only root can switch users
        workdir = os.path.realpath(kw.get("cwd") or os.getcwd())
        if _within(os.path.realpath(os.getcwd()), workdir):
            # nbgrader names the submission's own folder; the grader's (the course's) never enters a kernel
            raise WorkingCopyRefused(f"refusing {workdir} as a kernel's working copy: it holds the grader's folder")
        self._close_fds()
        self._working_copy = WorkingCopy(workdir, self.working_copy_limit)
        try:
            self._runtime_dir = tempfile.mkdtemp(prefix=RUNTIME_PREFIX, dir=runtime_folder.socket_root(RUNTIME_TAIL))
            if uid is not None:  # root: a small filesystem of its own, which the kernel fills for itself only
                runtime_folder.mount_private(
                    self._runtime_dir, runtime_folder.RUNTIME_SIZE, runtime_folder.RUNTIME_INODES, 0o700, uid, uid
                )
            # Unix sockets in the runtime folder; the control channel carries interrupts
            # because the kernel sits in a session of its own, out of reach of signals.
            self.transport = "ipc"
            self.ip = require_socket_path(os.path.join(self._runtime_dir, "kernel"))
            self.connection_file = os.path.join(self._runtime_dir, "connection.json")
            self.kernel_spec.interrupt_mode = "message"  # type: ignore[union-attr]  # loaded on first use
            kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
            if uid is not None:
                for path in (self._runtime_dir, self.connection_file):
                    os.chown(path, uid, uid)
            kw["env"] = self._kernel_env(kw.get("env") or {})
            prefix = self._sandbox_prefix(uid, workdir)
            if uid is not None:
                self._make_cgroup()
                if self._cgroup is not None:
                    prefix = enter_cgroup_prefix(self._cgroup.procs_files) + prefix
        except BaseException:
            self._close_fds()
            self._remove_cgroup()
            raise
        kw["pass_fds"] = (*self._working_copy.fds, *self._mask_fds)
        return prefix + kernel_cmd, kw

    async def _async_launch_kernel(self, kernel_cmd, **kw) -> None:
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            self._close_fds()  # bwrap has its copies; it reads them before the kernel starts

    def _connect_control_socket(self) -> None:
        super()._connect_control_socket()
        # jupyter_client sends an interrupt just before an immediate kill; kept for a dead kernel
        # (linger 100 ms), it holds up the kernel's clean-up by 0.1 s. Nothing sent on this socket
        # is left undelivered while the kernel lives: a shutdown request is answered before closing.
        self._control_socket.linger = 0

    def _sandbox_prefix(self, uid: int | None, workdir: str) -> list[str]:
        bwrap = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        bwrap += ["--die-with-parent", "--new-session", "--dev", "/dev", "--proc", "/proc"]
        # the launcher names the grader as the kernel's parent, a PID this namespace cannot see
        bwrap += ["--unsetenv", "JPY_PARENT_PID"]
        # the system-call filter, loaded by bubblewrap just before it runs the kernel's command
        read, write = os.pipe()
        os.write(write, syscall_filter_bpf())
        os.close(write)
        self._mask_fds.append(read)
        bwrap += ["--seccomp", str(read)]
        bwrap += ["--size", str(self.tmp_limit), "--perms", "1777", "--tmpfs", "/tmp"]
        mounts = _Mounts(bwrap)
        mounts.bind_system()
        self._mask_course_code(mounts)
        runtime_dir, working_copy = cast(str, self._runtime_dir), cast(WorkingCopy, self._working_copy)  # pre-start
        mounts.bind("--bind", runtime_dir)
        # the working copy: a tmpfs at the folder's own path, so relative paths keep working
        mounts.tmpfs(workdir, self.working_copy_limit)
        bwrap += working_copy.bwrap_args(workdir)
        bwrap += ["--chdir", workdir, "--"]
        drop = [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
        ]
        if uid is None:
            drop = []
        limits = [
            "prlimit",
            f"--as={self.address_space_limit}",
            f"--cpu={self.cpu_limit}",
            f"--nproc={self.process_limit}",
            f"--nofile={self.open_files_limit}",
            f"--fsize={self.file_size_limit}",
            "--",
        ]
        return bwrap + drop + limits

    def _mask_course_code(self, mounts: _Mounts) -> None:
        """Hide the course's package and metadata wherever the kernel would find them.

        A package folder becomes a read-only tmpfs holding only an ``__init__.py``
        that raises ``ModuleNotFoundError`` (an empty folder would still import,
        as a namespace package); a metadata folder an empty read-only tmpfs; a
        single file ``/dev/null``.
        """
        packages, metadata, files = course_code_paths()
        for folder in filter(mounts.visible, packages):
            read, write = os.pipe()
            os.write(write, MASKED_PACKAGE_INIT.encode())
            os.close(write)
            self._mask_fds.append(read)
            mounts.args += ["--size", "65536", "--perms", "0755", "--tmpfs", folder]
            mounts.args += ["--perms", "0444", "--file", str(read), os.path.join(folder, "__init__.py")]
            mounts.args += ["--remount-ro", folder]
        for folder in filter(mounts.visible, metadata):
            mounts.args += ["--size", "4096", "--perms", "0555", "--tmpfs", folder, "--remount-ro", folder]
        for path in filter(mounts.visible, files):
            mounts.args += ["--ro-bind", "/dev/null", path]

    def _close_fds(self) -> None:
        """Close the descriptors bwrap reads at start: the working copy's files, the masks' contents."""
        working_copy = getattr(self, "_working_copy", None)
        if working_copy is not None:
            working_copy.close()
        for fd in getattr(self, "_mask_fds", ()):
            os.close(fd)
        self._working_copy, self._mask_fds = None, []

    def _kernel_env(self, env: dict) -> dict:
        """A small environment: nothing of the grader's secrets or paths leaks in."""
        keep = {key: env[key] for key in ("LANG", "LC_ALL", "JPY_SESSION_NAME") if key in env}
        return dict(
            keep,
            PATH=f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            # caches (fontconfig, IPython, matplotlib) go to the private /tmp
            HOME="/tmp",
            IPYTHONDIR="/tmp/ipython",
            TMPDIR="/tmp",
            MPLCONFIGDIR="/tmp/matplotlib",
            MPLBACKEND=self.matplotlib_backend,
            PYTHONNOUSERSITE="1",
            # one thread each: BLAS thread pools would eat the process limit
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        self._close_fds()
        runtime_dir = getattr(self, "_runtime_dir", None)
        if not restart:
            self._remove_cgroup()
            if runtime_dir:
                self._remove_private_dir(runtime_dir)

    # the base class binds its sync wrapper to its own coroutine, not to this one
    cleanup_resources = run_sync(_async_cleanup_resources)  # type: ignore[assignment]


#: A sandbox with the namespaces and mounts of every grading kernel's, running ``true``.
SANDBOX_PROBE = [
    "bwrap",
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--",
    "true",
]


def sandbox_problem() -> str:
    """Why bubblewrap cannot make a sandbox on this machine, or "" (a failure is then the submission's own)."""
    try:
        probe = subprocess.run(SANDBOX_PROBE, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        detail = str(error)
    else:
        if probe.returncode == 0:
            return ""
        detail = probe.stderr.strip()[:300] or f"exit code {probe.returncode}"
    return (
        f"bubblewrap cannot make a sandbox on this machine ({detail}): allow it user namespaces or run "
        "the grader as root (docs/grading_cluster.md)"
    )
