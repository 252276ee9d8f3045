"""Reading what a student submitted, and writing what the grader produced, without following links.

Everything in ``submitted/`` comes from students. It is read here once, as the
bytes of its regular files: a symbolic link, a socket, a device or a fifo is
never opened, only named in a note; nothing outside the submission folder is
ever read. The grader's own output (``autograded/``, ``feedback/``, logs) is
written only into regular files this module creates, in folders it checked are
real folders, and swapped into place whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: Limits of one submission: what a notebook course ever needs, with room to spare.
MAX_FILES = 200
MAX_SUBMISSION_BYTES = 64 * 1024**2


@dataclass
class SubmittedFiles:
    """The regular files of one submission folder, read once."""

    files: dict[str, bytes] = field(default_factory=dict)  # relative POSIX path -> content
    skipped: list[str] = field(default_factory=list)  # sentences on what was left out

    @property
    def fingerprint(self) -> str:
        """A hash of the submission: unchanged files, unchanged hash."""
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        for note in self.skipped:
            digest.update(b"\1" + note.encode())
        return digest.hexdigest()


def read_submission(folder: Path) -> SubmittedFiles:
    """The regular files below ``folder``; links and special files are skipped with a note."""
    found = SubmittedFiles()
    total = 0
    for relative, kind in _walk(folder):
        if kind != "file":
            found.skipped.append(f"{relative} is {kind}, not a regular file: it was ignored")
            continue
        if len(found.files) >= MAX_FILES:
            found.skipped.append(f"more than {MAX_FILES} files were submitted: {relative} and the rest were ignored")
            break
        content = read_regular(folder / relative)
        if content is None:
            found.skipped.append(f"{relative} changed while it was read: it was ignored")
            continue
        total += len(content)
        if total > MAX_SUBMISSION_BYTES:
            found.skipped.append(
                f"the submission is larger than {MAX_SUBMISSION_BYTES // 1024**2} MiB: "
                f"{relative} and the rest were ignored"
            )
            break
        found.files[relative] = content
    return found


def _walk(folder: Path) -> Iterator[tuple[str, str]]:
    """``(relative path, kind)`` of everything below ``folder``, never entering a link."""
    pending = [""]
    while pending:
        prefix = pending.pop()
        try:
            entries = sorted(os.scandir(folder / prefix), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                pending.append(relative + "/")
            elif stat.S_ISREG(mode):
                yield relative, "file"
            else:
                yield relative, _kind(mode)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    return "a device or special file"


def read_regular(path: Path, limit: int = MAX_SUBMISSION_BYTES) -> bytes | None:
    """The content of a regular file, opened without following a link; None if it is not one now.

    At most ``limit`` + 1 bytes are read: a longer result means the file is over the limit.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        return file.read(limit + 1)


def safe_relative(name: str) -> bool:
    """A relative path that stays inside its folder."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def write_files(folder: Path, files: dict[str, bytes], mode: int = 0o644) -> None:
    """Create ``folder`` (which must not exist) holding ``files``, each a new regular file."""
    folder.mkdir(mode=0o755)
    for name, content in files.items():
        if not safe_relative(name):
            raise ValueError(f"unsafe file name {name!r}")
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as file:
            file.write(content)


def real_folder(root: Path, *parts: str) -> Path:
    """``root/parts...``, made where missing; every step must be a real folder, not a link."""
    path = root
    for part in parts:
        if not safe_relative(part) or "/" in part:
            raise ValueError(f"unsafe folder name {part!r}")
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            path.mkdir(mode=0o755)
            continue
        if not stat.S_ISDIR(mode):
            raise OSError(f"{path} is not a folder (a link or a file took its place): remove it and grade again")
    return path


def replace_folder(parent: Path, name: str, files: dict[str, bytes], mode: int = 0o644) -> Path:
    """Put a folder ``parent/name`` holding exactly ``files`` in place of whatever was there.

    The new folder is written beside the old one and swapped in by renames, so a
    reader never sees half of it and nothing is written through a link left behind.
    """
    target = parent / name
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.new-", dir=parent))
    staging.rmdir()
    write_files(staging, files, mode)
    old = None
    if os.path.lexists(target):
        old = Path(tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent))
        os.rename(target, old / name)
    os.rename(staging, target)
    if old is not None:
        _remove(old)
    return target


def replace_file(parent: Path, name: str, content: bytes, mode: int = 0o644) -> Path:
    """Put a regular file ``parent/name`` holding ``content`` in place of whatever was there.

    Written as a new file beside it and renamed over it: a link left at ``name``
    is replaced, never written through. ``parent`` must be a real folder (:func:`real_folder`).
    """
    if not safe_relative(name) or "/" in name:
        raise ValueError(f"unsafe file name {name!r}")
    target = parent / name
    if os.path.lexists(target) and stat.S_ISDIR(os.lstat(target).st_mode):
        raise OSError(f"{target} is a folder: remove it and write again")
    fd, staging = tempfile.mkstemp(prefix=f".{name}.new-", dir=parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
        os.chmod(staging, mode)
        os.rename(staging, target)
    except BaseException:
        remove_entry(Path(staging))
        raise
    return target


def remove_entry(path: Path) -> None:
    """Remove a file, link or folder tree at ``path`` without following links."""
    if os.path.lexists(path):
        _remove(path)


def _remove(path: Path) -> None:
    if stat.S_ISDIR(os.lstat(path).st_mode):
        shutil.rmtree(path)  # rmtree does not follow links inside the tree
    else:
        os.unlink(path)


def read_output_tree(folder: Path) -> dict[str, bytes]:
    """The regular files nbgrader wrote below ``folder`` (links, if any, are left out)."""
    if not folder.is_dir() or folder.is_symlink():
        return {}
    files = {}
    for relative, kind in _walk(folder):
        if kind == "file":
            content = read_regular(folder / relative)
            if content is not None:
                files[relative] = content
    return files
