"""The fork server itself: runs inside bubblewrap and forks one fresh, isolated kernel per request.

This file is the sandbox side of :mod:`gradebook_tools.sandbox.forkserver`. It
imports nothing of the course (the sandbox cannot see the course's package):
the grader runs its source with ``python -c``, inside a bubblewrap sandbox that
keeps only ``CAP_SYS_ADMIN``, ``CAP_SETUID`` and ``CAP_SETGID`` (to make
namespaces and mounts and to switch users; no ``CAP_KILL``, no
``CAP_DAC_OVERRIDE``, no ``CAP_NET_ADMIN``).

The server imports ipykernel, numpy and matplotlib once, never runs student
code, and answers requests read from a pipe (a 4-byte length, then JSON):

``start``
    fork a *supervisor*, which enters the kernel's control group (made by the
    grader, reached through descriptors the server got at its start), makes
    new mount, PID, network, IPC, UTS and
    cgroup namespaces and forks their process 1, a minimal init that forks
    the *kernel* and exits with it. The kernel mounts a private ``/tmp`` (with the server's read-only
    view of a Python environment that lies there bound again), ``/proc``, ``/dev/shm`` and a
    size- and inode-capped tmpfs at its working folder, becomes its own unprivileged user
    (which drops every capability), sets its resource limits, copies its
    working copy in, loads the seccomp filter (:func:`syscall_filter`) and
    runs ipykernel from the modules the server imported.
``poll``
    the exit status of a kernel's supervisor, or ``None`` while it runs.
``kill``
    kill the supervisor; the namespace's process 1 gets ``SIGKILL`` as its
    parent-death signal and takes its whole PID namespace with it. The reply
    comes once process 1 is reaped, which is when no process of it is left.

Every kernel is forked from the server, never from another kernel, so no
module state of one student reaches the next. Nothing of a submission passes
through the server's memory (a later kernel, a copy of that memory, could
read it): a request names only the kernel's private runtime folder, its user
id and its limits; the kernel reads its folder, environment and files from
that runtime folder itself.
"""

import ctypes
import errno
import gc
import json
import os
import re
import resource
import select
import signal
import struct
import sys
from collections.abc import Iterable
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 1, 4, 36
#: Seconds a kernel may take to set itself up before the server gives up on it.
SETUP_TIMEOUT = 60
#: Largest request or reply, in bytes.
MAX_MESSAGE = 1 << 20
CLONE_NEWUSER = 0x10000000
#: System calls every kernel is refused (EPERM), in the spirit of Docker's default profile: the usual entry
#: points of Linux privilege escalations (new user namespaces, where a process has every capability, mounts,
#: io_uring, the kernel keyring, BPF, perf events, userfaultfd, ptrace) and what only an administrator needs.
DENIED_SYSCALLS = (
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "open_by_handle_at",
    "name_to_handle_at",
    "acct",
    "quotactl",
    "syslog",
    "lookup_dcookie",
    "fanotify_init",
    "vhangup",
    "iopl",
    "ioperm",
)
#: The filter, built by the server once its modules are imported (:func:`main`).
_SYSCALL_FILTER = None

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def _checked(result, what):
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _bytes(text):
    return None if text is None else os.fsencode(text)


def mount(source: str | None, target: str, fstype: str | None = None, flags: int = 0, data: str | None = None) -> None:
    _checked(_libc.mount(_bytes(source), _bytes(target), _bytes(fstype), flags, _bytes(data)), f"mount {target}")


def unshare(flags: int) -> None:
    _checked(_libc.unshare(flags), "unshare")


def prctl(option: int, value: int) -> None:
    _checked(_libc.prctl(option, value, 0, 0, 0), f"prctl {option}")


def syscall_filter() -> Any:
    """The kernels' seccomp filter (libseccomp, through pyseccomp): everything allowed but the denied calls.

    Denied calls fail with ``EPERM`` (a library probing for one goes on without
    it); ``clone`` is refused only with ``CLONE_NEWUSER``, and ``clone3``, whose
    flags a filter cannot read, answers ``ENOSYS`` so that the C library falls
    back to ``clone`` (as under Docker).
    """
    import pyseccomp as seccomp

    denied = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        rules.add_rule(denied, name)
    rules.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    return rules


# ------------------------------------------------------------------ messages


def _read_exactly(fd, size):
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def receive(fd: int) -> dict[str, Any] | None:
    """The next message on ``fd``, or None at end of file."""
    header = _read_exactly(fd, 4)
    if header is None:
        return None
    (size,) = struct.unpack("<I", header)
    if size > MAX_MESSAGE:
        raise ValueError(f"a message of {size} bytes")
    body = _read_exactly(fd, size)
    return None if body is None else json.loads(body)


def send(fd: int, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    os.write(fd, struct.pack("<I", len(body)) + body)


# ------------------------------------------------------------------ the kernel (process 1 of its namespace)


def _within(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _tmpfs(target, size, mode, uid=None, inodes=None):
    options = f"size={size},mode={mode:o}"
    if inodes is not None:
        options += f",nr_inodes={inodes}"
    if uid is not None:
        options += f",uid={uid},gid={uid}"
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options)


def _mount_points():
    points = set()
    with open("/proc/self/mountinfo", encoding="utf-8") as file:
        for line in file:
            field = line.split()[4]
            points.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field))
    return points


def _make_mount_point(folder):
    """Create ``folder`` as an empty mount point inside a private tmpfs of this kernel.

    Below the private ``/tmp`` everything is private already. Elsewhere the
    kernel mounts a private tmpfs on the highest ancestor of ``folder`` that
    holds no mount of the sandbox (nbgrader's ``autograded/`` when the course
    sits next to the virtual environment); only that ancestor, a folder name of
    the grader's layout and never a student's, is created in the server's view.
    A folder inside a mount the sandbox shares (the system, Python) is refused.
    """
    if not _within(folder, "/tmp"):
        points = _mount_points()
        parts = folder.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            ancestor = "/" + "/".join(parts[:depth])
            if ancestor in points:
                raise OSError(f"the kernel's folder {folder} lies in {ancestor}, which the sandbox shares")
            if not any(_within(point, ancestor) for point in points):
                break
        else:
            raise OSError(f"the kernel's folder {folder} holds paths the sandbox shares; grade from another folder")
        if not os.path.isdir(ancestor):
            os.mkdir(ancestor, 0o755)
        _tmpfs(ancestor, 1 << 20, 0o755)
    os.makedirs(folder, 0o755, exist_ok=True)


def _copy_tree(source, target):
    """Copy the runtime folder's working copy (regular files and folders only) into the kernel's tmpfs."""
    with os.scandir(source) as entries:
        for entry in entries:
            there = os.path.join(target, entry.name)
            if entry.is_dir(follow_symlinks=False):
                os.mkdir(there, 0o755)
                _copy_tree(entry.path, there)
            elif entry.is_file(follow_symlinks=False):
                reader = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
                writer = os.open(there, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                try:
                    while os.sendfile(writer, reader, None, 1 << 20):
                        pass
                finally:
                    os.close(reader)
                    os.close(writer)


def _hold(folder):
    """A descriptor of ``folder`` that still reaches it once a private mount covers its path."""
    return os.open(folder, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)


def _bind_held(descriptor, folder, flags=0):
    """Bind the folder held by ``descriptor`` (:func:`_hold`) at ``folder`` again, and let go of it."""
    os.makedirs(folder, 0o755, exist_ok=True)
    mount(f"/proc/self/fd/{descriptor}", folder, None, MS_BIND | flags)
    os.close(descriptor)


def _set_up_kernel(request):
    """Namespaces are made; build the kernel's view, become its user, set its limits. Returns its spec."""
    uid, runtime, base = request["uid"], request["runtime"], request["base"]
    limits = request["limits"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # the runtime folder, kept across the private /tmp that hides every other kernel's
    runtime_fd = _hold(runtime)
    with open(os.path.join(runtime, "spec.json"), encoding="utf-8") as file:
        spec = json.load(file)
    cwd = spec["cwd"]
    if _within(runtime, cwd) or not os.path.isabs(cwd):
        raise OSError(f"the kernel's folder {cwd} cannot hold its runtime folder")
    python_fds = {path: _hold(path) for path in request["python_in_tmp"]}
    if _SYSCALL_FILTER is None:
        raise OSError("the fork server has no system-call filter for its kernels")
    _tmpfs("/tmp", limits["tmp"], 0o1777, inodes=limits["inodes"])
    for path, descriptor in python_fds.items():
        # the server's read-only view of it, with the masks over the course's code (hence recursive)
        _bind_held(descriptor, path, MS_REC)
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    if not _within(base, "/tmp"):
        _tmpfs(base, 1 << 20, 0o755)
    _bind_held(runtime_fd, runtime)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if os.path.isdir("/dev/shm"):
        _tmpfs("/dev/shm", limits["tmp"], 0o1777, inodes=limits["inodes"])
    if os.path.isdir("/dev/pts"):  # terminals of its own, none of another kernel's
        mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
    _make_mount_point(cwd)
    _tmpfs(cwd, limits["working_copy"], 0o700, uid, inodes=limits["inodes"])
    _checked(_libc.sethostname(b"sandbox", 7), "sethostname")
    os.setsid()

    _drop_to(uid)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the user switch cleared it (the namespace's end kills anyway)
    # the switch also made it undumpable (its /proc entries root's): what an exec'd kernel is, as in bubblewrap
    prctl(PR_SET_DUMPABLE, 1)
    # the submission's files, before the limits (bubblewrap copies them before they apply, too)
    _copy_tree(os.path.join(runtime, "work"), cwd)
    for name, kind in (
        ("memory", resource.RLIMIT_AS),
        ("cpu", resource.RLIMIT_CPU),
        ("processes", resource.RLIMIT_NPROC),
        ("open_files", resource.RLIMIT_NOFILE),
        ("file_size", resource.RLIMIT_FSIZE),
    ):
        resource.setrlimit(kind, (limits[name], limits[name]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.chdir(cwd)
    # last, as its own unprivileged user: nothing of the set-up needs a denied call after this
    _SYSCALL_FILTER.load()
    return spec


def _run_kernel(spec):
    """Start ipykernel in this process, from the modules the server imported."""
    os.environ.clear()
    os.environ.update(spec["env"])
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()  # a fresh legacy global generator, as a new process would have
    import gc

    gc.enable()
    argv = spec["argv"]
    sys.argv = ["ipykernel_launcher", *argv]
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=argv)


def _close_other_fds(keep):
    """Close every descriptor but ``keep``: nothing of the server (or of the grader) stays reachable."""
    start = 3
    for fd in sorted(set(keep)):
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1
    os.closerange(start, resource.getrlimit(resource.RLIMIT_NOFILE)[1])


def _kernel(request, status):
    """Process 2 of the namespace: builds the kernel's view, drops to its user and runs ipykernel."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    try:
        spec = _set_up_kernel(request)
    except BaseException as error:  # noqa: BLE001 - any failure goes to the grader as a message
        message = f"error {type(error).__name__}: {error}".replace("\n", " ")[:4000]
        os.write(status, (message + "\n").encode())
        os._exit(1)
    # the kernel's standard descriptors: none leads to the grader's terminal or log (what a cell
    # prints reaches the grader over the kernel's sockets, as the cell's outputs)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    os.write(status, b"ok\n")
    os.close(status)
    code = 0
    try:
        _run_kernel(spec)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 1
    os._exit(code)


def _drop_to(uid):
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # all uids non-zero: every capability is gone


def _init(request, status, life):
    """Process 1 of the kernel's PID namespace: forks the kernel, reaps orphans, exits with the kernel.

    Like bubblewrap's init it keeps the kernel an ordinary process (signals a
    student sends to the kernel itself act as without a sandbox), and its end
    ends the namespace: every process in it is killed.
    """
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _close_other_fds((0, 1, 2, status, life))
    kernel = os.fork()
    if kernel == 0:
        os.close(life)
        _kernel(request, status)
    os.close(status)
    _drop_to(request["uid"])
    # the user switch cleared the parent-death signal; set it again, then make sure the parent lives
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if select.select([life], [], [], 0)[0]:
        os._exit(1)  # the supervisor is gone already (end of file on `life`)
    os.close(life)
    while True:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        if pid == kernel:
            code = os.waitstatus_to_exitcode(wait_status)
            os._exit(code if code >= 0 else 128 - code)


def _enter_cgroup(name, cgroup_fds):
    """Move this process into the kernel's control group (made by the grader) in every hierarchy.

    ``cgroup_fds`` are descriptors of the grader's folders of kernels' groups,
    passed to the server at its start (the sandbox has no ``/sys``).
    """
    for folder in cgroup_fds:
        procs = os.open(f"{name}/cgroup.procs", os.O_WRONLY | os.O_NOFOLLOW, dir_fd=folder)
        try:
            os.write(procs, str(os.getpid()).encode())
        finally:
            os.close(procs)


def _supervise(request, status, server_pid, cgroup_fds):
    """The namespace's parent: make the namespaces, fork their process 1, wait for it; dies with the server."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server_pid:
        os._exit(1)
    if request.get("cgroup"):
        try:  # before the cgroup namespace, whose root it becomes
            _enter_cgroup(request["cgroup"], cgroup_fds)
        except OSError as error:
            os.write(status, f"error cannot enter the kernel's control group: {error}\n".encode())
            os._exit(1)
    for folder in cgroup_fds:
        os.close(folder)
    unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)
    life, alive = os.pipe()  # process 1 sees end of file on `life` once this process is gone
    init = os.fork()
    if init == 0:
        os.close(alive)
        _init(request, status, life)
    os.close(life)
    os.write(status, f"pid {init}\n".encode())
    os.close(status)
    # Process 1's parent-death signal is sent with this process's credentials, and the server keeps no
    # CAP_KILL: take the kernel's user as effective id (real and saved ids stay 0, so the server can still
    # kill this process and the kernel cannot signal it), then set this process's own death signal again.
    os.setresuid(0, request["uid"], 0)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server_pid:
        os._exit(1)
    _, wait_status = os.waitpid(init, 0)
    code = os.waitstatus_to_exitcode(wait_status)
    os._exit(code if code >= 0 else 128 - code)


# ------------------------------------------------------------------ the server


class Server:
    def __init__(self, requests: int, replies: int, cgroup_fds: Iterable[int] = ()) -> None:
        self.requests, self.replies = requests, replies
        self.cgroup_fds = list(cgroup_fds)
        self.kernels: dict[int, int | None] = {}  # supervisor pid -> kernel pid in the server's namespace, or None
        self.exited: dict[int, int] = {}  # supervisor pid -> exit status
        self.orphans_reaped: set[int] = set()  # kernels reaped after their supervisor died

    def _close_channels(self):
        os.close(self.requests)
        os.close(self.replies)

    def reap(self) -> None:
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.kernels:
                self.exited[pid] = os.waitstatus_to_exitcode(wait_status)
            else:
                self.orphans_reaped.add(pid)

    def start(self, request: dict[str, Any]) -> int:
        status_read, status_write = os.pipe()
        gc.freeze()  # the pristine server's objects stay shared with the kernel, never copied by the collector
        supervisor = os.fork()
        if supervisor == 0:
            try:
                os.close(status_read)
                self._close_channels()
                _supervise(request, status_write, self.pid, self.cgroup_fds)
            finally:
                os._exit(127)
        os.close(status_write)
        report = b""
        try:
            while True:
                ready, _, _ = select.select([status_read], [], [], SETUP_TIMEOUT)
                chunk = os.read(status_read, 4096) if ready else b""
                if not chunk:
                    break
                report += chunk
        finally:
            os.close(status_read)
        lines = report.decode(errors="replace").splitlines()
        pids = [int(line.split()[1]) for line in lines if line.startswith("pid ")]
        self.kernels[supervisor] = pids[0] if pids else None
        outcome = next((line for line in lines if not line.startswith("pid ")), "")
        if outcome != "ok":
            self.kill(supervisor)
            raise RuntimeError(outcome.removeprefix("error ") or "the kernel died while setting itself up")
        return supervisor

    def poll(self, supervisor: int) -> int | None:
        self.reap()
        if supervisor not in self.kernels:
            raise KeyError(f"no kernel {supervisor}")
        return self.exited.get(supervisor)

    def kill(self, supervisor: int) -> int:
        """Kill a kernel's namespace; returns once no process of it is left."""
        if supervisor not in self.kernels:
            raise KeyError(f"no kernel {supervisor}")
        if supervisor not in self.exited:
            os.kill(supervisor, signal.SIGKILL)
            try:
                _, wait_status = os.waitpid(supervisor, 0)
                self.exited[supervisor] = os.waitstatus_to_exitcode(wait_status)
            except ChildProcessError:
                self.reap()
        kernel = self.kernels[supervisor]
        if kernel is not None and kernel not in self.orphans_reaped:
            try:  # process 1 of the namespace is reaped only after every other process in it
                os.waitpid(kernel, 0)
            except ChildProcessError:
                pass  # reaped by its supervisor before it died
        self.orphans_reaped.discard(kernel)
        return self.exited[supervisor]

    def forget(self, supervisor: int) -> None:
        self.kernels.pop(supervisor, None)
        self.exited.pop(supervisor, None)

    def serve(self) -> None:
        self.pid = os.getpid()
        while True:
            message = receive(self.requests)
            if message is None or message.get("op") == "exit":
                break
            self.reap()
            op = message.get("op")
            reply: dict[str, Any]
            try:
                if op == "start":
                    reply = {"kernel": self.start(message)}
                elif op == "poll":
                    reply = {"status": self.poll(message["kernel"])}
                elif op == "kill":
                    reply = {"status": self.kill(message["kernel"])}
                    self.forget(message["kernel"])
                else:
                    reply = {"error": f"unknown request {op!r}"}
            except Exception as error:  # noqa: BLE001 - reported to the grader
                reply = {"error": f"{type(error).__name__}: {error}"}
            try:
                send(self.replies, reply)
            except OSError:
                break  # the grader is gone
        for supervisor in list(self.kernels):
            if supervisor not in self.exited:
                self.kill(supervisor)


def _map_module_files():
    """Fill the map of module files that ``inspect.getmodule`` builds on its first miss, for every kernel.

    Each kernel's first traceback would otherwise stat and resolve the file of every
    preloaded module (~700) again; the map is only paths to module names.
    """
    import inspect

    inspect.getmodule(None, "<fork server>")


def main() -> None:
    global _SYSCALL_FILTER
    requests, replies, preload = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    cgroup_fds = json.loads(sys.argv[4]) if len(sys.argv) > 4 else []
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # IPython adds the kernel's folder back, as ipykernel_launcher does
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    gc.disable()  # enabled again in each kernel; the preloaded objects are frozen before each fork
    import importlib
    import threading

    try:
        for name in preload:
            importlib.import_module(name)
        _map_module_files()
        _SYSCALL_FILTER = syscall_filter()  # built once; each kernel loads it
        if threading.active_count() != 1:
            raise RuntimeError(f"importing {preload} started threads: a fork would copy them half-way")
    except Exception as error:  # noqa: BLE001 - reported to the grader
        send(replies, {"error": f"the fork server could not import its modules: {type(error).__name__}: {error}"})
        return
    send(replies, {"ready": os.getpid(), "modules": preload})
    Server(requests, replies, cgroup_fds).serve()


if __name__ == "__main__":
    main()
