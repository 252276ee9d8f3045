"""A control group per kernel: memory (swap included) and processes of all its processes together.

Per-process limits (``RLIMIT_AS``, ``RLIMIT_NPROC``) let one kernel hold its
memory limit once in every process it forks. A control group caps the whole
kernel: its memory (with swap, where the machine can account it) and its
number of processes. Whoever starts the kernel makes its group (the grader
for bubblewrap kernels, the grader and the fork server's supervisor for forked
ones), and removes it once the kernel is gone.

Both layouts are supported: cgroup v2 (one unified hierarchy with the
``memory`` and ``pids`` controllers) and cgroup v1 (the ``memory`` and
``pids`` hierarchies mounted at ``/sys/fs/cgroup/memory`` and
``/sys/fs/cgroup/pids``). Kernels' groups go in a folder :data:`KERNELS_FOLDER`
below the grader's own group (v1), or next to it (v2), so they stay within
whatever limits the machine gives the grader's parent group.

In cgroup v2 a group's children get a controller only when the group enables
it in its ``cgroup.subtree_control``, which it may only if its own parent
enabled it (top-down), and a group other than the root may enable one only
while it holds no process of its own ("no internal processes"). So the grader's
parent group and :data:`KERNELS_FOLDER` (which never holds a process) enable
``memory`` and ``pids``; the grader's own group, which holds the grader, cannot
be the kernels' parent. A kernel's group gets ``memory.max`` (all its
processes together), ``memory.swap.max`` = 0 (no swap beyond it, where the
machine accounts swap) and ``pids.max``; it is emptied with ``cgroup.kill``
(every process at once, none escaping by forking) and removed.

This machine mounts the v1 ``memory`` and ``pids`` hierarchies (its cgroup v2
mount has neither controller), so the tests run the v1 path; the v2 path
follows the kernel's cgroup v2 documentation and is untested here
(docs/threat_model.md).
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import signal
import time
import uuid
from dataclasses import dataclass

ROOT = "/sys/fs/cgroup"
#: The cgroup v2 controllers a kernel's group needs.
V2_CONTROLLERS = ("memory", "pids")
#: The folder, in the grader's own group, that holds its kernels' groups.
KERNELS_FOLDER = "gradebook-tools-kernels"
#: What to enable where no group can be made.
HOW_TO_ENABLE = (
    "mount the cgroup v1 'memory' and 'pids' controllers at /sys/fs/cgroup/memory and /sys/fs/cgroup/pids, or "
    "run the grader as root in a cgroup v2 group with the 'memory' and 'pids' controllers delegated "
    "(systemd: Delegate=yes)"
)

log = logging.getLogger(__name__)


class CgroupUnavailable(RuntimeError):
    """No control group can be made for a kernel here; the message says why and what to enable."""


@dataclass(frozen=True)
class Hierarchy:
    """One place kernels' groups are made: ``kind`` is "memory" or "pids" (v1) or "unified" (v2)."""

    kind: str
    folder: str  # the grader's KERNELS_FOLDER in this hierarchy


def _own_group(controller: str) -> str:
    """The grader's group in the hierarchy of ``controller`` ("" for the v2 unified one)."""
    with open("/proc/self/cgroup", encoding="utf-8") as file:
        for line in file:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controller in controllers.split(","):
                return path
    raise CgroupUnavailable(f"this process is in no {controller or 'cgroup v2'} group")


def _write(path: str, value: str) -> None:
    with open(path, "w", encoding="ascii") as file:
        file.write(value)


@functools.cache
def hierarchies() -> tuple[Hierarchy, ...]:
    """Where this grader makes its kernels' groups; raises :class:`CgroupUnavailable`."""
    if os.geteuid() != 0:
        raise CgroupUnavailable("the grader is not root, so it cannot make a control group per kernel")
    try:
        if os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
            return (_unified(),)
        return tuple(_v1(kind) for kind in ("memory", "pids"))
    except OSError as error:
        raise CgroupUnavailable(f"cannot make the kernels' control groups ({error})") from error


def _read_words(path: str) -> list[str]:
    with open(path, encoding="ascii") as file:
        return file.read().split()


def _unified() -> Hierarchy:
    own = os.path.join(ROOT, _own_group("").lstrip("/")).rstrip("/")
    # next to the grader's group, not in it: a group holding processes passes no controller down
    parent = os.path.dirname(own) if own != ROOT else ROOT
    _pass_controllers_down(parent)
    folder = os.path.join(parent, KERNELS_FOLDER)
    os.makedirs(folder, exist_ok=True)
    _pass_controllers_down(folder)  # it never holds a process: the kernels' groups are its children
    return Hierarchy("unified", folder)


def _pass_controllers_down(group: str) -> None:
    """Enable :data:`V2_CONTROLLERS` in ``group``'s ``cgroup.subtree_control``, for its children."""
    missing = [name for name in V2_CONTROLLERS if name not in _read_words(os.path.join(group, "cgroup.controllers"))]
    if missing:  # top-down: only what the group's parent enabled for it
        raise CgroupUnavailable(
            f"the cgroup v2 group {group} has no {' and '.join(missing)} controller (its parent does not pass it down)"
        )
    control = os.path.join(group, "cgroup.subtree_control")
    if all(name in _read_words(control) for name in V2_CONTROLLERS):
        return
    try:
        _write(control, " ".join(f"+{name}" for name in V2_CONTROLLERS))
    except OSError as error:
        if error.errno != errno.EBUSY:
            raise
        raise CgroupUnavailable(
            f"the cgroup v2 group {group} holds processes of its own, so it cannot pass the memory and pids "
            "controllers down to the kernels' groups (only the root group can); run the grader in a group of "
            "its own below it"
        ) from error


def _v1(kind: str) -> Hierarchy:
    mount = os.path.join(ROOT, kind)
    if not os.path.exists(os.path.join(mount, "cgroup.procs")):
        raise CgroupUnavailable(f"no cgroup v1 '{kind}' hierarchy at {mount}")
    folder = os.path.join(mount, _own_group(kind).lstrip("/"), KERNELS_FOLDER)
    os.makedirs(folder, exist_ok=True)
    return Hierarchy(kind, folder)


#: Limit files a machine may lack: swap accounting is off, or there is no swap (the memory limit still holds).
OPTIONAL_LIMITS = ("memory.memsw.limit_in_bytes", "memory.swap.max")


def _limits(kind: str, memory: int, processes: int) -> list[tuple[str, str]]:
    """The files and values that set a kernel's limits, in the order they must be written."""
    if kind == "memory":  # the swap-inclusive limit may not be below the memory limit: memory first
        return [("memory.limit_in_bytes", str(memory)), ("memory.memsw.limit_in_bytes", str(memory))]
    if kind == "pids":
        return [("pids.max", str(processes))]
    return [("memory.max", str(memory)), ("memory.swap.max", "0"), ("pids.max", str(processes))]


class KernelCgroup:
    """One kernel's group in every hierarchy, made with its limits; :meth:`remove` ends it."""

    def __init__(self, memory: int, processes: int):
        self.name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.folders: list[str] = []
        try:
            for hierarchy in hierarchies():
                folder = os.path.join(hierarchy.folder, self.name)
                os.mkdir(folder, 0o755)
                self.folders.append(folder)
                for file, value in _limits(hierarchy.kind, memory, processes):
                    path = os.path.join(folder, file)
                    if file in OPTIONAL_LIMITS and not os.path.exists(path):
                        continue
                    _write(path, value)  # a limit file missing otherwise: the controller is off, no group
        except OSError as error:
            self.remove()
            raise CgroupUnavailable(f"cannot make a kernel's control group ({error})") from error

    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its pid to, to enter the group (in every hierarchy)."""
        return [os.path.join(folder, "cgroup.procs") for folder in self.folders]

    def _kill_all(self) -> None:
        """SIGKILL every process in the group: at once through v2's ``cgroup.kill``, else one by one."""
        for folder in self.folders:
            try:
                _write(os.path.join(folder, "cgroup.kill"), "1")
            except OSError:  # cgroup v1, or Linux before 5.14: one by one, below
                pass
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.procs_files:
            try:
                with open(path, encoding="ascii") as file:
                    found.update(int(line) for line in file if line.strip())
            except OSError:
                pass
        return found

    def remove(self, timeout: float = 5) -> None:
        """Kill whatever is left in the group and remove it."""
        deadline = time.monotonic() + timeout
        while self.folders:
            self._kill_all()
            for folder in list(self.folders):
                try:
                    os.rmdir(folder)
                except FileNotFoundError:
                    pass
                except OSError:
                    continue  # processes still dying
                self.folders.remove(folder)
            if self.folders:
                if time.monotonic() > deadline:
                    log.warning("the control groups %s outlived their kernel", ", ".join(self.folders))
                    return
                time.sleep(0.02)


_warned = False


def _warn_once(problem: CgroupUnavailable, logger: logging.Logger | None) -> None:
    global _warned
    if not _warned:
        _warned = True
        (logger or log).warning(
            "%s: each kernel keeps only its per-process limits (memory per process, processes per user), "
            "so one submission can hold its memory limit once in every process it forks. To cap each "
            "kernel as a whole, %s.",
            problem,
            HOW_TO_ENABLE,
        )


def warn_without_cgroups(logger: logging.Logger | None = None) -> bool:
    """Say once (per process) that kernels get no control group here, and what to enable; True if they do."""
    try:
        hierarchies()
    except CgroupUnavailable as problem:
        _warn_once(problem, logger)
        return False
    return True


def kernel_cgroup(memory: int, processes: int, logger: logging.Logger | None = None) -> KernelCgroup | None:
    """A new group for one kernel, or None (said once per process, with what to enable) where none can be made."""
    try:
        return KernelCgroup(memory, processes)
    except CgroupUnavailable as problem:
        _warn_once(problem, logger)
        return None


def remove_stale_groups() -> None:
    """Remove the empty groups of grading processes that died before removing them."""
    try:
        found = hierarchies()
    except CgroupUnavailable:
        return
    for hierarchy in found:
        for name in os.listdir(hierarchy.folder):
            pid = name.split("-")[0]
            if not pid.isdigit() or not os.path.isdir(os.path.join(hierarchy.folder, name)):
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                try:
                    os.rmdir(os.path.join(hierarchy.folder, name))
                except OSError:
                    pass
            except PermissionError:
                pass
