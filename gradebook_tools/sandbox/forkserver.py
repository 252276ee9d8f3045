"""Sandboxed kernels forked from a warm server: a kernel start costs a fraction of a new bubblewrap's.

:class:`ForkServerKernelManager` is a drop-in jupyter_client kernel manager,
with the limit traits of :class:`~.bubblewrap.SandboxedKernelManager`; nbclient
(and so nbgrader) starts kernels through it unchanged. Select it with
``c.TrustedExecute.sandbox_manager_class``. Instead of a new bubblewrap,
Python and ipykernel per submission, one *fork server*
(:mod:`.forkserver_child`) per grading process imports ipykernel, numpy and
matplotlib once and forks each kernel from that pristine state:

- the server runs in one bubblewrap sandbox: no network, its own PID, IPC, UTS
  and mount namespaces, the system and Python read-only, the course's package
  masked as in the sandbox, a private ``/tmp``, and of the machine's
  capabilities only ``CAP_SYS_ADMIN``, ``CAP_SETUID`` and ``CAP_SETGID``;
  it is started at the first kernel, shut down at exit, and exits by itself
  when the grading process dies (its request pipe closes);
- each kernel gets new mount, PID (it is process 1), network, IPC, UTS and
  cgroup namespaces, a user id of its own (leased with a lock file, so no two
  live kernels of any grading process on the machine share one), its resource
  limits, a private ``/tmp`` and ``/dev/shm``, and a throw-away working copy:
  a size-capped tmpfs at the path of its folder holding copies of that
  folder's regular files (walked by :class:`~.bubblewrap.WorkingCopy`, no link
  followed); a control group of its own (memory with swap, processes: all its
  processes together, :mod:`.cgroups`), a seccomp filter, and a runtime folder
  that is a small tmpfs of its own (:mod:`.runtime_folder`). It dies with the server;
- a kernel's shutdown is an immediate kill of its namespace: no process of it
  is left when the shutdown returns.

The kernel's channels are Unix sockets in a private runtime folder, which also
carries what the kernel needs to know (its folder, environment and files), so
that nothing of a submission passes through the server's memory, which the next
kernel inherits.
"""

from __future__ import annotations

import atexit
import errno
import fcntl
import itertools
import json
import multiprocessing.util
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, TextIO, cast

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Integer, List, Unicode

from gradebook_tools.sandbox import forkserver_child, runtime_folder
from gradebook_tools.sandbox.bubblewrap import (
    MAX_WORKING_COPY_FILES,
    SandboxedKernelManager,
    SandboxUnavailable,
    WorkingCopy,
    WorkingCopyRefused,
    _Mounts,
    _within,
    python_paths,
    require_sandbox_tools,
    require_socket_path,
)
from gradebook_tools.sandbox.cgroups import CgroupUnavailable, hierarchies, remove_stale_groups
from gradebook_tools.sandbox.forkserver_child import receive, send

#: The server's program, run with ``python -c`` (the sandbox cannot import the course's package).
SERVER_SOURCE = Path(forkserver_child.__file__).read_text(encoding="utf-8")
#: Capabilities the fork server keeps: namespaces and mounts, and switching to the kernels' users.
SERVER_CAPABILITIES = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID")
#: Seconds the server may take to import its modules.
SERVER_START_TIMEOUT = 120
#: Start of the name of a fork server's runtime folder, then the grader's pid: in the temporary folder, or
#: in a short one where a kernel's socket paths would not fit (:func:`.runtime_folder.socket_root`).
BASE_PREFIX = "gradebook-forkserver-"
#: Start of the name of a kernel's runtime folder, in its server's.
KERNEL_PREFIX = "kernel-"
#: What the fork server imports: the grading work (numpy, matplotlib) and what ipykernel imports
#: when a kernel starts (its debugger, IPython's shell parts), so that no kernel imports them again.
PRELOAD_MODULES = (
    "numpy",
    "numpy.random",
    "matplotlib",
    "matplotlib.pyplot",
    "ipykernel.kernelapp",
    "ipykernel.debugger",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.logger",
    "IPython.core.oinspect",
    "stack_data",  # IPython's tracebacks
    "IPython.extensions.storemagic",
    "sqlite3",
    "tornado.platform.asyncio",
    "tornado.queues",
)
#: Environment variables that differ between kernels of one server (the rest must match the server's).
PER_KERNEL_ENV = ("JPY_SESSION_NAME",)


class ForkServerError(RuntimeError):
    """The fork server could not start a kernel or died; the message says why."""


def require_fork_server() -> None:
    require_sandbox_tools()
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            "the kernel fork server needs root (it gives every kernel a user of its own); run the grader as root "
            "or use SandboxedKernelManager"
        )


def _lock_path() -> str:
    folder = "/run" if os.access("/run", os.W_OK) else tempfile.gettempdir()
    return os.path.join(folder, "gradebook-tools-kernel-uids.lock")


_leases_lock = threading.Lock()
_leased: set[int] = set()
_lock_file: TextIO | None = None
_uid_turn = itertools.count()


class UidLease:
    """A user id no other live kernel on this machine has, held until :meth:`release`.

    Across processes, by a POSIX record lock on the byte at offset ``uid`` of
    one lock file, which the system drops when the grading process ends (its
    kernels end with it); within this process, by a set. Successive leases
    move through the range, so consecutive kernels get different ids and an
    id comes back only after the whole range.
    """

    def __init__(self, first: int, count: int):
        global _lock_file
        with _leases_lock:
            if _lock_file is None:
                # open for the process's life: closing any descriptor of the file would drop its locks
                flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                _lock_file = os.fdopen(os.open(_lock_path(), flags, 0o600), "w")
            start = (os.getpid() * 7919 + next(_uid_turn)) % count
            for step in range(count):
                uid = first + (start + step) % count
                if uid in _leased:
                    continue
                try:
                    fcntl.lockf(_lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, uid)
                except OSError:  # another grading process's kernel has it
                    continue
                _leased.add(uid)
                self.uid = uid
                return
        raise ForkServerError(f"all {count} kernel user ids from {first} are in use")

    def release(self) -> None:
        with _leases_lock:
            if self.uid in _leased and _lock_file is not None:
                fcntl.lockf(_lock_file, fcntl.LOCK_UN, 1, self.uid)
                _leased.discard(self.uid)


class ForkServer:
    """One fork server process in its bubblewrap sandbox, and the pipes to it."""

    def __init__(self, command: list[str], env: dict, preload: list[str], base: str, pass_fds: tuple[int, ...]):
        self.base = base
        self._lock = threading.Lock()
        requests_read, self._requests = os.pipe()
        self._replies, replies_write = os.pipe()
        cgroup_fds = _cgroup_folders()  # the server has no /sys: it reaches the kernels' groups through these
        self.cgroups = bool(cgroup_fds)
        argv = [sys.executable, "-c", SERVER_SOURCE, str(requests_read), str(replies_write), json.dumps(preload)]
        argv.append(json.dumps(cgroup_fds))
        try:
            self.process = subprocess.Popen(
                command + argv,
                env=env,
                stdin=subprocess.DEVNULL,
                pass_fds=(requests_read, replies_write, *pass_fds, *cgroup_fds),
            )
        finally:
            for fd in (requests_read, replies_write, *cgroup_fds):
                os.close(fd)
        reply = self._receive(SERVER_START_TIMEOUT)
        if "ready" not in reply:
            self.close()
            raise ForkServerError(reply.get("error", f"unexpected first message {reply!r}"))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _receive(self, timeout: float | None) -> dict:
        ready, _, _ = select.select([self._replies], [], [], timeout)
        message = receive(self._replies) if ready else None
        if message is None:
            self._kill()
            state = "did not answer" if not ready else f"exited with status {self.process.wait()}"
            raise ForkServerError(f"the kernel fork server {state}")
        return message

    def request(self, op: str, timeout: float | None = None, **fields: Any) -> dict:
        with self._lock:
            try:
                send(self._requests, {"op": op, **fields})
            except OSError as error:
                raise ForkServerError(f"the kernel fork server is gone: {error}") from error
            reply = self._receive(timeout)
        if "error" in reply:
            raise ForkServerError(reply["error"])
        return reply

    def _kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        """Stop the server: it kills its kernels first."""
        with self._lock:
            if self.alive:
                try:
                    send(self._requests, {"op": "exit"})
                    self.process.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill()
            for fd in (self._requests, self._replies):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._requests = self._replies = -1
        _remove_base(self.base)


_servers: dict[tuple, ForkServer] = {}
_servers_lock = threading.Lock()
_exit_hook_pid = 0


@atexit.register
def shutdown_fork_servers() -> None:
    """Stop every fork server of this process (at exit, and for tests)."""
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:  # first, at once: a process killed while its servers stop leaves no mount behind
        runtime_folder.unmount_all(server.base)
    for server in servers:
        server.close()


def _stop_servers_at_exit() -> None:
    """Also stop this process's servers when it is a multiprocessing worker, which ends without ``atexit``.

    (Their kernels' filesystems are mounted in the server's folder: left behind, they wait for the next
    grader's :func:`_remove_stale_bases`.)
    """
    global _exit_hook_pid
    if _exit_hook_pid != os.getpid():
        _exit_hook_pid = os.getpid()
        multiprocessing.util.Finalize(None, shutdown_fork_servers, exitpriority=10)


def _forget_in_child() -> None:
    """A forked grading process starts its own server and leases: its parent's stay its parent's."""
    global _lock_file, _leases_lock, _servers_lock
    for server in _servers.values():  # the parent's pipes: the server must see them close when the parent ends
        for fd in (server._requests, server._replies):
            try:
                os.close(fd)
            except OSError:
                pass
    _servers.clear()
    _leased.clear()
    _lock_file = None  # record locks are not inherited; the parent's descriptor is left alone
    _leases_lock, _servers_lock = threading.Lock(), threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


def _cgroup_folders() -> list[int]:
    """Descriptors of this grader's folders of kernels' control groups ([] where there are none)."""
    try:
        return [os.open(h.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) for h in hierarchies()]
    except (CgroupUnavailable, OSError):
        return []


def _remove_base(base: str) -> None:
    """Remove a server's runtime folder, with the kernels' filesystems mounted in it."""
    runtime_folder.unmount_all(base)
    shutil.rmtree(base, ignore_errors=True)


def _socket_tail(base_prefix: str) -> str:
    """The longest socket path of a kernel below the folder its server's runtime folder is made in."""
    return f"{base_prefix}xxxxxxxx/{KERNEL_PREFIX}xxxxxxxx/kernel{runtime_folder.SOCKET_SUFFIX}"


def _remove_stale_bases() -> None:
    """Remove the runtime folders that grading processes killed before their clean-up left behind."""
    for folder in dict.fromkeys((tempfile.gettempdir(), *runtime_folder.SHORT_ROOTS)):  # where servers make them
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.startswith(BASE_PREFIX):
                continue
            pid = name[len(BASE_PREFIX) :].split("-")[0]
            if not pid.isdigit():
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                _remove_base(os.path.join(folder, name))
            except PermissionError:
                pass  # alive


def _ipykernel_argv(kernel_cmd: list[str]) -> list[str]:
    """The arguments of ``python -m ipykernel_launcher ...``, which the forked kernel runs in-process."""
    interpreter = os.path.abspath(shutil.which(kernel_cmd[0]) or kernel_cmd[0]) if kernel_cmd else ""
    if interpreter != os.path.abspath(sys.executable):  # the same environment, not only the same binary
        raise ForkServerError(
            f"the kernel fork server forks kernels of the grader's Python ({sys.executable}); the kernel spec "
            f"names {kernel_cmd[0] if kernel_cmd else 'nothing'}: use SandboxedKernelManager for it"
        )
    for index, part in enumerate(kernel_cmd[:-1]):
        if part == "-m" and kernel_cmd[index + 1] in ("ipykernel_launcher", "ipykernel"):
            return kernel_cmd[index + 2 :]
    raise ForkServerError(f"the kernel fork server runs Python ipykernel kernels only, not {' '.join(kernel_cmd)}")


def _gone(uid: int, timeout: float = 10) -> bool:
    """Whether no process runs as ``uid`` (the grader sees every PID namespace), waiting up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        running = False
        for entry in os.listdir("/proc"):
            try:
                running = entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid
            except FileNotFoundError:
                continue
            if running:
                break
        if not running:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


class ForkedKernelProvisioner(LocalProvisioner):
    """The provisioner of a forked kernel: its life is asked of, and ended by, the fork server."""

    kernel = None  # the fork server's handle (the pid of the kernel's supervisor)
    _status: int | None = 0
    server: ForkServer | None = None

    @property
    def has_process(self) -> bool:
        return self.kernel is not None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        manager = cast(ForkServerKernelManager, self.parent)
        self.server = cast(ForkServer, manager._server)  # started by the manager's pre-start
        reply = self.server.request("start", **manager._start_request())
        self.kernel = self.pid = reply["kernel"]
        self.cwd = kwargs.get("cwd")
        return self.connection_info

    async def poll(self) -> int | None:
        if self.kernel is None or self.server is None:
            return 0
        try:
            return self.server.request("poll", kernel=self.kernel)["status"]
        except ForkServerError:
            return -9  # the server is gone, and its kernels with it

    async def wait(self) -> int | None:
        """The kernel's exit status, once its namespace is empty (a kernel still running is killed)."""
        await self.kill()
        return self._status

    async def send_signal(self, signum: int) -> None:
        """Only killing is supported: a forked kernel sits in namespaces that signals from here cannot reach."""
        if self.kernel is None:
            return
        import signal

        if signum in (signal.SIGKILL, signal.SIGTERM):
            await self.kill()
        else:
            self.log.debug("signal %s not sent to a forked kernel (interrupts go over the control channel)", signum)

    async def kill(self, restart: bool = False) -> None:
        if self.kernel is None or self.server is None:
            return
        manager = cast(ForkServerKernelManager, self.parent)
        try:
            self._status = self.server.request("kill", kernel=self.kernel)["status"]  # once nothing of it is left
        except ForkServerError as error:
            # the server is gone; its namespace, and so the kernel's, dies with it: wait for that
            self.log.warning("killing a forked kernel: %s", error)
            self._status = -9
            if manager._uid_lease is not None and not _gone(manager._uid_lease.uid):
                self.log.error(
                    "processes of kernel user %s outlived their fork server; the id stays leased",
                    manager._uid_lease.uid,
                )
                manager._uid_lease = None  # never released by this process: no other kernel gets the id
        self.kernel = None  # the server has forgotten the kernel: polls are answered from here on
        manager._remove_cgroup()
        manager._release_uid()

    async def terminate(self, restart: bool = False) -> None:
        await self.kill(restart=restart)

    async def cleanup(self, restart: bool = False) -> None:
        await self.kill(restart=restart)
        await super().cleanup(restart=restart)


class ForkServerKernelManager(SandboxedKernelManager):
    """Fork each sandboxed kernel from a warm fork server (same limits as SandboxedKernelManager)."""

    preload_modules = List(
        Unicode(),
        default_value=list(PRELOAD_MODULES),
        help="Modules the fork server imports once, before forking any kernel. They must start no thread.",
    ).tag(config=True)
    uid_range_start = Integer(
        300_000, help="First user id of the range leased to forked kernels (one id per live kernel)."
    ).tag(config=True)
    uid_range_size = Integer(100_000, help="Number of user ids in that range.").tag(config=True)

    _server: ForkServer | None = None
    _uid_lease: UidLease | None = None

    def _fork_server(self, env: dict) -> ForkServer:
        shared_env = {key: value for key, value in env.items() if key not in PER_KERNEL_ENV}
        key = (tuple(sorted(shared_env.items())), tuple(self.preload_modules))
        with _servers_lock:
            server = _servers.get(key)
            if server is None or not server.alive:
                if server is not None:
                    server.close()
                _remove_stale_bases()
                remove_stale_groups()
                prefix = f"{BASE_PREFIX}{os.getpid()}-"
                base = tempfile.mkdtemp(prefix=prefix, dir=runtime_folder.socket_root(_socket_tail(prefix)))
                # each kernel's runtime folder is a tmpfs mounted in here after the server started: share them
                runtime_folder.share(base)
                command, fds = self._server_command(base)
                try:
                    # debugpy (ipykernel's debugger, preloaded) warns on stderr about frozen modules at import
                    server_env = dict(shared_env, PYDEVD_DISABLE_FILE_VALIDATION="1")
                    server = ForkServer(command, server_env, list(self.preload_modules), base, fds)
                finally:
                    self._close_fds()
                _servers[key] = server
                _stop_servers_at_exit()
        return server

    def _server_command(self, base: str) -> tuple[list[str], tuple[int, ...]]:
        """The bubblewrap command around the server, and the descriptors it reads (the masks)."""
        # the server stays in the grader's cgroup namespace: it moves each kernel into the kernel's own group
        # (cgroup v2 allows that only within the mover's namespace); each kernel then gets a namespace of its own
        bwrap = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
        bwrap += ["--new-session", "--cap-drop", "ALL"]
        for capability in SERVER_CAPABILITIES:
            bwrap += ["--cap-add", capability]
        bwrap += ["--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--tmpfs", "/tmp"]
        mounts = _Mounts(bwrap)
        mounts.bind_system()
        self._mask_fds = []
        self._mask_course_code(mounts)
        mounts.bind("--bind", base)
        bwrap += ["--chdir", "/", "--"]
        return bwrap, tuple(self._mask_fds)

    async def _async_pre_start_kernel(self, **kw):
        require_fork_server()
        workdir = os.path.realpath(kw.get("cwd") or os.getcwd())
        env = self._kernel_env(kw.get("env") or {})
        self._server = self._fork_server(env)
        self._release_uid()
        self._remove_runtime_dir()
        self._uid_lease = UidLease(self.uid_range_start, self.uid_range_size)
        uid = self._uid_lease.uid
        try:
            self._runtime_dir = tempfile.mkdtemp(prefix=KERNEL_PREFIX, dir=self._server.base)
            # a filesystem of its own, the kernel's (group) to make its sockets in: it fills only that
            runtime_folder.mount_private(
                self._runtime_dir,
                self.working_copy_limit + runtime_folder.RUNTIME_SIZE,
                2 * MAX_WORKING_COPY_FILES + runtime_folder.RUNTIME_INODES,
                0o770,
                0,
                uid,
            )
            if self._server.cgroups:
                self._make_cgroup()
            self.transport = "ipc"
            self.ip = require_socket_path(os.path.join(self._runtime_dir, "kernel"))
            self.connection_file = os.path.join(self._runtime_dir, "connection.json")
            self.kernel_spec.interrupt_mode = "message"  # type: ignore[union-attr]  # loaded on first use
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            if not isinstance(self.provisioner, ForkedKernelProvisioner):
                self.provisioner = ForkedKernelProvisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
            kernel_cmd, kw = await AsyncKernelManager._async_pre_start_kernel(self, **kw)
            os.chown(self.connection_file, 0, uid)
            os.chmod(self.connection_file, 0o640)
            self._write_working_copy(workdir, uid)
            spec = {"cwd": workdir, "env": env, "argv": _ipykernel_argv(kernel_cmd)}
            spec_path = os.path.join(self._runtime_dir, "spec.json")
            descriptor = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # read by the kernel as root
            with open(descriptor, "w", encoding="utf-8") as file:
                json.dump(spec, file)
        except BaseException:
            self._release_uid()
            self._remove_runtime_dir()
            self._remove_cgroup()
            raise
        kw["env"] = env
        return kernel_cmd, kw

    def _write_working_copy(self, workdir: str, uid: int) -> None:
        """Copy the folder's regular files (no link followed) where the kernel, and only it, reads them."""
        copy = WorkingCopy(workdir, self.working_copy_limit)
        try:
            work = os.path.join(cast(str, self._runtime_dir), "work")
            for folder in [""] + copy.dirs:
                path = os.path.join(work, folder)
                os.mkdir(path, 0o750)
                os.chown(path, 0, uid)
            for source, relative in copy.files:
                target = os.open(os.path.join(work, relative), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
                try:
                    os.fchown(target, 0, uid)
                    offset = 0
                    while sent := os.sendfile(target, source, offset, 1 << 24):
                        offset += sent
                finally:
                    os.close(target)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
            # the kernel's own filesystem (sized for the working copy): too many folders
            raise WorkingCopyRefused(
                f"the submission's folder does not fit in the kernel's working copy ({error.strerror})"
            ) from error
        finally:
            copy.close()

    def _start_request(self) -> dict:
        lease, server = cast(UidLease, self._uid_lease), cast(ForkServer, self._server)  # set by the pre-start
        return {
            "uid": lease.uid,
            "runtime": self._runtime_dir,
            "base": server.base,
            # bound again inside the kernel's private /tmp, which would hide them (a clone under mktemp -d)
            "python_in_tmp": [path for path in python_paths() if _within(path, "/tmp")],
            "cgroup": self._cgroup.name if self._cgroup is not None else None,
            "limits": {
                "inodes": self.inode_limit,
                "memory": self.address_space_limit,
                "cpu": self.cpu_limit,
                "processes": self.process_limit,
                "open_files": self.open_files_limit,
                "file_size": self.file_size_limit,
                "working_copy": self.working_copy_limit,
                "tmp": self.tmp_limit,
            },
        }

    def _release_uid(self) -> None:
        if self._uid_lease is not None:
            self._uid_lease.release()
            self._uid_lease = None

    def _remove_runtime_dir(self) -> None:
        runtime_dir = getattr(self, "_runtime_dir", None)
        if runtime_dir:
            self._remove_private_dir(runtime_dir)
            self._runtime_dir = None

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        """Always an immediate kill: a grading kernel is thrown away (a graceful shutdown only costs time)."""
        await super()._async_shutdown_kernel(now=True, restart=restart)

    # an async manager's public methods are its coroutines (AsyncKernelManager binds the base class's)
    shutdown_kernel = _async_shutdown_kernel  # type: ignore[assignment]

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self.provisioner is None or not self.provisioner.has_process:
            self._release_uid()

    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]
