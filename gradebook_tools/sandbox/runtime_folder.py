"""A kernel's runtime folder on a small filesystem of its own.

A kernel makes its sockets in its runtime folder, so it must be able to write
there. Bound from the grader's temporary folder, that let a kernel fill the
grader's disk (and so fail every classmate graded at the same time). Each
runtime folder is therefore a tmpfs of its own, mounted by the grader (root)
with a size and an inode limit: what a kernel writes there fills only that
tmpfs, and it vanishes with the kernel.

The fork server's folder of runtime folders is a *shared* mount, so that the
per-kernel tmpfs the grader mounts in it after the server started reaches the
server's sandbox (which holds a slave copy of it).

A Unix socket's path holds at most :data:`MAX_SOCKET_PATH` bytes. Runtime
folders go in the grader's temporary folder when their sockets fit there, else
in a short folder of the machine (:func:`socket_root`): a deep ``TMPDIR`` is
the grader's set-up, never a reason for a kernel not to start.
"""

from __future__ import annotations

import ctypes
import os
import re
import tempfile

MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_SHARED = 2, 4, 8, 4096, 1 << 20
MNT_DETACH = 2
#: Bytes and inodes a runtime folder needs beyond a working copy: connection file, spec, five sockets.
RUNTIME_SIZE = 1 << 20
RUNTIME_INODES = 64
#: Longest path of a Unix socket: ``sun_path`` holds 108 bytes, the last one the closing NUL.
MAX_SOCKET_PATH = 107
#: Short folders for runtime folders when the grader's temporary folder is too deep for their sockets.
SHORT_ROOTS = ("/tmp", "/var/tmp")
#: What jupyter_client's ipc transport adds to a kernel's ``ip`` to name a socket: ``<ip>-<port>``.
SOCKET_SUFFIX = "-65535"

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: None if text is None else os.fsencode(text)  # noqa: E731
    if _libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"mount {target}: {os.strerror(number)}")


def can_mount() -> bool:
    """Whether this process may mount (the grader runs as root)."""
    return os.geteuid() == 0


def mount_private(folder: str, size: int, inodes: int, mode: int, uid: int, gid: int) -> None:
    """Mount a tmpfs of ``size`` bytes and ``inodes`` files at ``folder``, owned by ``uid``:``gid``."""
    options = f"size={size},nr_inodes={inodes},mode={mode:o},uid={uid},gid={gid}"
    _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options)


def share(folder: str) -> None:
    """Make ``folder`` a shared mount of its own: mounts made in it later reach sandboxes that bind it."""
    _mount(folder, folder, None, MS_BIND)
    _mount(None, folder, None, MS_SHARED)


def unmount(folder: str) -> None:
    """Detach the mount at ``folder`` (nothing when none is there)."""
    _libc.umount2(os.fsencode(folder), MNT_DETACH)


def mounts_within(folder: str) -> list[str]:
    """Mount points at or below ``folder`` in this mount namespace, deepest first."""
    folder = os.path.realpath(folder)
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as file:
        for line in file:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point == folder or point.startswith(folder.rstrip("/") + "/"):
                points.append(point)
    return sorted(set(points), key=len, reverse=True)


def unmount_all(folder: str) -> None:
    """Detach every mount at or below ``folder`` (before removing it)."""
    for _ in range(8):  # mounts stacked on one point come off one at a time
        points = mounts_within(folder)
        if not points:
            return
        for point in points:
            unmount(point)


def socket_fits(path: str) -> bool:
    """Whether ``path`` can name a Unix socket."""
    return len(os.fsencode(path)) <= MAX_SOCKET_PATH


def socket_root(tail: str) -> str:
    """Where to make a folder whose deepest socket is ``<folder>/<tail>``, whatever ``TMPDIR`` is.

    The grader's temporary folder when the socket fits there; else the first of
    :data:`SHORT_ROOTS` that is a writable folder (the runtime folder is made
    there by ``mkdtemp``: a random name, mode 0700, safe in a sticky ``/tmp``);
    else the temporary folder, and :func:`socket_path_problem` names the cause.
    """
    grader_tmp = tempfile.gettempdir()
    if socket_fits(os.path.join(grader_tmp, tail)):
        return grader_tmp
    for root in SHORT_ROOTS:
        if os.path.isdir(root) and not os.path.islink(root) and os.access(root, os.W_OK | os.X_OK):
            return root
    return grader_tmp


def socket_path_problem(longest: str) -> str:
    """Why a Unix socket at ``longest`` (the deepest one of a folder) cannot be made, or "" when it can."""
    if socket_fits(longest):
        return ""
    return (
        f"cannot make a Unix socket at {longest}: its path takes {len(os.fsencode(longest))} bytes, more than "
        f"the {MAX_SOCKET_PATH} a socket's address holds, and none of {', '.join(SHORT_ROOTS)} is a writable "
        "folder to use instead; set TMPDIR to a shorter folder (e.g. /tmp) and grade again"
    )
