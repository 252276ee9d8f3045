"""The sandbox's parts on their own: the working copy's walk, the course-code masks, the kernel's plots.

`tests/sandbox/test_sandbox.py` grades hostile classes through real nbgrader; here each
part meets the files it must refuse (links, FIFOs, sockets, devices, too many
or too large files), and every exercise's notebook runs in a real sandboxed
kernel with the grading backend of matplotlib.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import resource
import shutil
import socket
import stat
import sys
import tomllib

import nbformat
import pytest
from nbclient import NotebookClient

from gradebook_tools.sandbox import bubblewrap as sandbox
from gradebook_tools.sandbox.bubblewrap import SandboxedKernelManager, WorkingCopy, WorkingCopyRefused
from tests.support.course import EXERCISES, REPO

pytestmark = pytest.mark.sandbox

needs_root = pytest.mark.needs_root("the sandbox's user switch")


@pytest.fixture
def submission(tmp_path):
    """A folder with regular files, a subfolder, and everything the working copy must leave out."""
    folder = tmp_path / "autograded" / "someone" / "ex"
    (folder / "data" / "deeper").mkdir(parents=True)
    (folder / "ex.ipynb").write_text("{}")
    (folder / "data" / "rows.csv").write_text("1,2\n")
    (folder / "data" / "deeper" / "empty.txt").write_text("")
    outside = tmp_path / "outside.txt"
    outside.write_text("not the student's")
    (folder / "link-to-file").symlink_to(outside)
    (folder / "link-to-folder").symlink_to(tmp_path)
    (folder / "data" / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(folder / "fifo")
    here = os.getcwd()
    os.chdir(folder)  # a relative name: a socket's path has at most 107 bytes
    try:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind("socket")
    finally:
        os.chdir(here)
    if os.geteuid() == 0:
        os.mknod(folder / "device", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    return folder


def test_the_working_copy_holds_the_regular_files_only(submission):
    copy = WorkingCopy(str(submission), size_limit=1024)
    try:
        assert [path for _, path in copy.files] == ["data/deeper/empty.txt", "data/rows.csv", "ex.ipynb"]
        assert copy.dirs == ["data", "data/deeper"]
        special = {"fifo", "link-to-file", "link-to-folder", "socket"} | ({"device"} if os.geteuid() == 0 else set())
        assert sorted(copy.skipped) == sorted(special | {"data/dangling"})
        assert copy.size == len("{}") + len("1,2\n")
        fds = [fd for fd, _ in copy.files]
        assert [os.read(fd, 100) for fd in fds] == [b"", b"1,2\n", b"{}"]
        assert copy.bwrap_args("/inside") == [
            *["--perms", "0777", "--dir", "/inside/data", "--perms", "0777", "--dir", "/inside/data/deeper"],
            *["--perms", "0666", "--file", str(fds[0]), "/inside/data/deeper/empty.txt"],
            *["--perms", "0666", "--file", str(fds[1]), "/inside/data/rows.csv"],
            *["--perms", "0666", "--file", str(fds[2]), "/inside/ex.ipynb"],
        ]
    finally:
        copy.close()
    for fd in fds:
        with pytest.raises(OSError):
            os.fstat(fd)


def test_a_folder_that_is_a_link_is_refused(submission, tmp_path):
    (tmp_path / "linked").symlink_to(submission)
    with pytest.raises(WorkingCopyRefused, match="cannot open the submission's folder"):
        WorkingCopy(str(tmp_path / "linked"), size_limit=1024)


def test_files_beyond_the_working_copys_size_or_number_are_refused(submission):
    open_before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(WorkingCopyRefused, match=r"take more than 5 bytes.*working_copy_limit"):
        WorkingCopy(str(submission), size_limit=5)
    with pytest.raises(WorkingCopyRefused, match="holds more than 2 files"):
        WorkingCopy(str(submission), size_limit=1024, max_files=2)
    assert len(os.listdir("/proc/self/fd")) == open_before  # nothing left open


def test_the_course_distribution_is_the_one_pyproject_names():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert sandbox.COURSE_DISTRIBUTION == project["name"]
    assert sandbox.COURSE_PACKAGE == REPO / "gradebook_tools"


def test_every_install_of_the_course_is_masked():
    packages, metadata, files = sandbox.course_code_paths()
    assert str(REPO / "gradebook_tools") in packages
    distributions = list(importlib.metadata.distributions(name=sandbox.COURSE_DISTRIBUTION))
    assert distributions, "the course is installed in this environment (scripts/setup.sh)"
    for distribution in distributions:
        for record in distribution.files:
            path = os.path.realpath(distribution.locate_file(record))
            if ".." in record.parts or not os.path.exists(path):
                continue
            masked = [*packages, *metadata]
            assert path in files or any(path.startswith(folder + "/") for folder in masked), record


def test_python_paths_bind_site_folders_but_never_the_working_folder(monkeypatch, tmp_path):
    reused = tmp_path / "other-env" / "lib" / "site-packages"
    reused.mkdir(parents=True)
    monkeypatch.setattr(sys, "path", ["", str(REPO), str(tmp_path), str(reused), *sys.path])
    paths = sandbox.python_paths()
    assert str(reused) in paths
    assert str(REPO) not in paths and str(tmp_path) not in paths and os.getcwd() not in paths


@needs_root
@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES)
def test_plots_run_but_are_not_drawn_in_grading_kernels(exercise, tmp_path):
    """The solution notebook runs in a sandboxed kernel: no error, nothing on stderr, no image."""
    notebook = nbformat.read(REPO / "source" / exercise / f"{exercise}.ipynb", as_version=4)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_manager_class=SandboxedKernelManager,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    asyncio.run(client.async_execute())
    assert "plt.show()" in "".join(cell.source for cell in notebook.cells)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", (cell.source[:200], output)
            assert output.get("name") != "stderr", (cell.source[:200], output.get("text"))
            assert "image/png" not in output.get("data", {}), cell.source[:200]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_the_graders_own_folder_never_becomes_a_working_copy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder in (tmp_path, tmp_path.parent):
        with pytest.raises(WorkingCopyRefused, match="it holds the grader's folder"):
            asyncio.run(SandboxedKernelManager().start_kernel(cwd=str(folder)))


def test_a_file_that_cannot_be_opened_refuses_the_copy_rather_than_dropping_it(submission):
    """Out of descriptors half-way: an error naming the file, not a working copy without it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    before = sorted(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(map(int, before)) + 16, hard))
    filler = []
    try:
        with pytest.raises(OSError, match="Too many open files"):
            while True:
                filler.append(os.open(os.devnull, os.O_RDONLY))
        for fd in filler[-3:]:  # room for the folder, its scan and a subfolder only
            os.close(fd)
        del filler[-3:]
        with pytest.raises(WorkingCopyRefused, match="into the kernel's working copy: .*Too many open files"):
            WorkingCopy(str(submission), size_limit=1024)
    finally:
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert sorted(os.listdir("/proc/self/fd")) == before
