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
below the grader's own group (v1), or next to it (v2, where a group holding
processes passes no controller down), so they stay within whatever limits the
machine gives the grader's parent group.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import time
import uuid
from dataclasses import dataclass

ROOT = "/sys/fs/cgroup"
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


def _unified() -> Hierarchy:
    own = os.path.join(ROOT, _own_group("").lstrip("/"))
    with open(os.path.join(own, "cgroup.controllers"), encoding="ascii") as file:
        available = file.read().split()
    missing = {"memory", "pids"} - set(available)
    if missing:
        names = " and ".join(sorted(missing))
        raise CgroupUnavailable(f"the grader's cgroup v2 group {own} lacks the {names} controller")
    # next to the grader's group, not in it: a group with processes passes no controller down (cgroup v2)
    folder = os.path.join(os.path.dirname(own.rstrip("/")) if own.rstrip("/") != ROOT else ROOT, KERNELS_FOLDER)
    os.makedirs(folder, exist_ok=True)
    _write(os.path.join(folder, "cgroup.subtree_control"), "+memory +pids")
    return Hierarchy("unified", folder)


def _v1(kind: str) -> Hierarchy:
    mount = os.path.join(ROOT, kind)
    if not os.path.exists(os.path.join(mount, "cgroup.procs")):
        raise CgroupUnavailable(f"no cgroup v1 '{kind}' hierarchy at {mount}")
    folder = os.path.join(mount, _own_group(kind).lstrip("/"), KERNELS_FOLDER)
    os.makedirs(folder, exist_ok=True)
    return Hierarchy(kind, folder)


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
                    if os.path.exists(path):  # no memsw without swap accounting; no swap.max without swap
                        _write(path, value)
        except OSError as error:
            self.remove()
            raise CgroupUnavailable(f"cannot make a kernel's control group ({error})") from error

    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its pid to, to enter the group (in every hierarchy)."""
        return [os.path.join(folder, "cgroup.procs") for folder in self.folders]

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
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
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
