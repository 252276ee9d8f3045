"""Each kernel's limits as a whole (issue 16): its filesystems, its memory and processes, its system calls.

Real kernels, through both managers (bubblewrap per kernel and the fork
server), and real classes graded by ``gradebook-tools grade``:

- a kernel that fills its runtime folder, ``/tmp`` and working copy while two
  honest classmates are graded beside it fails no classmate (the grader's
  ``TMPDIR`` is a small tmpfs this test mounts, never the machine's disk), and
  a full grader workspace is the machine's problem (it stops the run), never a
  student's;
- four forked children of one kernel, each allocating 1 GiB, hold no more than
  the kernel's memory limit together (a control group per kernel);
- a fork bomb stops at the kernel's process limit, counted by its control group;
- every denied system call answers ``EPERM`` in the kernel (seccomp), while
  numpy, matplotlib, threads and ipykernel keep working.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pyseccomp
import pytest

from gradebook_tools.cli import EXIT_COURSE_PROBLEM
from gradebook_tools.course.nbgrader_run import nbgrader_env
from gradebook_tools.engine import task as task_module
from gradebook_tools.engine.bundle import build_bundle, unpacked
from gradebook_tools.engine.task import GradingTask, run_task
from gradebook_tools.gradebook.outcomes import StatusStore
from gradebook_tools.sandbox import cgroups
from gradebook_tools.sandbox.bubblewrap import SandboxedKernelManager
from gradebook_tools.sandbox.forkserver import ForkServerKernelManager, shutdown_fork_servers
from gradebook_tools.sandbox.forkserver_child import DENIED_SYSCALLS
from tests.support.course import REPO, fill_answers, grade_id, nbgrader, read_notebook, solution_code
from tests.support.kernels import LiveKernel

pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0, reason="kernels' users, mounts and control groups need root"),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="kernels run in bubblewrap"),
]

EXERCISE = "ex01_response_only_sft"
MANAGERS = [SandboxedKernelManager, ForkServerKernelManager]
MiB = 1024**2


def _has_cgroups() -> bool:
    try:
        cgroups.hierarchies()
    except cgroups.CgroupUnavailable:
        return False
    return True


needs_cgroups = pytest.mark.skipif(not _has_cgroups(), reason="no control group can be made here")


Kernel = LiveKernel


@pytest.fixture
def kernel_of(tmp_path):
    """Start kernels (manager class, limits); all are shut down at the end of the test."""
    started: list[Kernel] = []
    work = tmp_path / "work"
    work.mkdir()

    def start(manager_class, **limits) -> Kernel:
        started.append(Kernel(manager_class, work, **limits))
        return started[-1]

    yield start
    for kernel in started:
        kernel.shutdown()
    shutdown_fork_servers()


def cgroup_file(kernel: Kernel, kind: str, name: str) -> str:
    (folder,) = [f for f in kernel.manager._cgroup.folders if f"/{kind}/" in f or kind == "unified"]
    return Path(folder, name).read_text().strip()


# ------------------------------------------------------------------ memory and processes, per kernel


FORKED_ALLOCATIONS = """
import os, time
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        try:
            block = b"x" * (1 << 30)  # 1 GiB, every page touched
            time.sleep(30)
        finally:
            os._exit(0)
    children.append(pid)
statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
print(statuses)
"""


@needs_cgroups
@pytest.mark.parametrize("manager_class", MANAGERS, ids=["bubblewrap", "forkserver"])
def test_forked_children_hold_no_more_than_the_kernels_memory_limit(kernel_of, manager_class):
    # each process may map 4 GiB: only the kernel's control group (512 MiB, no swap) stops the children
    kernel = kernel_of(manager_class, memory_limit=512 * MiB, process_memory_limit=4 * 1024 * MiB)
    assert int(kernel.run("import os; print(os.getuid())")) != 0

    statuses = kernel.run(FORKED_ALLOCATIONS, timeout=180)

    assert statuses == "[-9, -9, -9, -9]", "every child was killed at the kernel's limit, none held its GiB"
    assert kernel.run("print(6 * 7)") == "42", "the kernel itself lives on"
    if _v1():
        peak = int(cgroup_file(kernel, "memory", "memory.max_usage_in_bytes"))
        assert peak <= 512 * MiB
        assert int(cgroup_file(kernel, "memory", "memory.memsw.limit_in_bytes")) == 512 * MiB


FORK_BOMB = """
import os, time
made = 0
refused = None
while made < 500:
    try:
        pid = os.fork()
    except OSError as error:
        refused = error.errno
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    made += 1
print(made, refused)
"""


@needs_cgroups
@pytest.mark.parametrize("manager_class", MANAGERS, ids=["bubblewrap", "forkserver"])
def test_a_fork_bomb_stops_at_the_kernels_process_limit(kernel_of, manager_class):
    kernel = kernel_of(manager_class, process_limit=40)

    made, refused = kernel.run(FORK_BOMB).split()

    assert refused == "11", "fork failed with EAGAIN"
    assert 0 < int(made) < 40
    limit_file = "pids.max"
    kind = "pids" if _v1() else "unified"
    assert cgroup_file(kernel, kind, limit_file) == "40"
    assert int(cgroup_file(kernel, kind, "pids.current")) <= 40
    events = dict(line.split() for line in cgroup_file(kernel, kind, "pids.events").splitlines())
    assert int(events["max"]) > 0, "the control group, not only the user's process limit, refused a fork"
    cgroup = kernel.manager._cgroup
    kernel.shutdown()
    kernel.shutdown = lambda: None
    assert cgroup.pids() == set(), "nothing of the kernel is left"
    assert kernel.manager._cgroup is None and not any(os.path.exists(f) for f in cgroup.folders)


def _v1() -> bool:
    return any(h.kind == "memory" for h in cgroups.hierarchies())


# ------------------------------------------------------------------ system calls


def syscall_probe() -> str:
    numbers = {name: pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) for name in DENIED_SYSCALLS}
    numbers = {name: number for name, number in numbers.items() if number >= 0}  # this architecture's
    return f"""
    import ctypes, errno, io, os, subprocess, threading
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    answers = {{}}
    for name, number in {numbers!r}.items():
        ctypes.set_errno(0)
        result = libc.syscall(number, 0, 0, 0, 0, 0, 0)
        answers[name] = (result, ctypes.get_errno())
    denied = sorted(name for name, answer in answers.items() if answer == (-1, errno.EPERM))
    print("denied", len(denied), "of", len(answers), sorted(set(answers) - set(denied)))
    ctypes.set_errno(0)
    child = libc.syscall({pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, "clone")}, 0x10000000 | 17, 0, 0, 0, 0)
    if child == 0:
        os._exit(0)
    print("clone-newuser", child, ctypes.get_errno())
    print("unshare-U", libc.unshare(0x10000000), ctypes.get_errno())
    tool = subprocess.run(["unshare", "-U", "-r", "true"], capture_output=True, text=True)
    print("unshare-tool", tool.returncode)
    print("seccomp", open("/proc/self/status").read().split("Seccomp:")[1].split()[0])
    import numpy as np
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure = plt.figure(); plt.plot(np.arange(10)); buffer = io.BytesIO(); figure.savefig(buffer, format="png")
    results = []
    worker = threading.Thread(target=lambda: results.append(float(np.linalg.inv(np.eye(3) * 2).sum())))
    worker.start(); worker.join()
    print("works", buffer.getvalue()[:4] == b"\\x89PNG", results, os.fork and "fork")
    """


@pytest.mark.parametrize("manager_class", MANAGERS, ids=["bubblewrap", "forkserver"])
def test_denied_system_calls_answer_eperm_while_numpy_and_matplotlib_work(kernel_of, manager_class):
    kernel = kernel_of(manager_class)

    lines = dict(line.split(" ", 1) for line in kernel.run(syscall_probe()).splitlines())

    count = len([n for n in DENIED_SYSCALLS if pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, n) >= 0])
    assert lines["denied"] == f"{count} of {count} []"
    assert lines["clone-newuser"] == "-1 1"
    assert lines["unshare-U"] == "-1 1"
    assert lines["unshare-tool"] != "0"
    assert lines["seccomp"] == "2"
    assert lines["works"] == "True [1.5] fork"


# ------------------------------------------------------------------ filesystems, beside honest classmates


FILL_EVERYTHING = r"""
import glob, os, sys, time
runtime = os.path.dirname([a for a in sys.argv if a.endswith(".json")][0])
filled = {}
for folder in (runtime, "/tmp", "/dev/shm", os.getcwd()):
    written = 0
    for index in range(64):
        try:
            with open(os.path.join(folder, f"ballast-{index}"), "wb") as file:
                for _ in range(60):
                    file.write(b"x" * (1 << 20))
                    written += 1 << 20
        except OSError as error:
            if error.errno not in (28, 27):  # no space; a file over the size limit
                raise
            if error.errno == 28:
                break
    filled[folder] = written
print("FILLED", sorted(written >> 20 for written in filled.values()))
time.sleep(15)  # hold it all while classmates are graded
for folder in filled:
    for path in glob.glob(os.path.join(folder, "ballast-*")):
        os.remove(path)
"""


def build_class(root: Path) -> None:
    (root / "nbgrader_config.py").write_text(
        (REPO / "nbgrader_config.py").read_text() + "\nc.Execute.timeout = 60\nc.TrustedExecute.notebook_budget = 120\n"
    )
    shutil.copytree(REPO / "source" / EXERCISE, root / "source" / EXERCISE)
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=root)
    release = read_notebook(root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    good = fill_answers(release, solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb")))
    attacker = nbformat.from_dict(good)
    for cell in attacker.cells:
        if grade_id(cell) == "answer":
            cell.source = FILL_EVERYTHING + "\n" + cell.source
    for student, notebook in (("honest-a", good), ("filler", attacker), ("honest-b", good)):
        folder = root / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{EXERCISE}.ipynb")


@pytest.fixture
def small_tmpdir():
    """A 96 MiB tmpfs as the grader's TMPDIR (unmounted at the end)."""
    folder = Path(tempfile.mkdtemp(prefix="gt-", dir="/tmp"))  # short: kernels' socket paths must fit in 107 bytes
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m,nr_inodes=4096", "grader-tmp", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", "--recursive", str(folder)], check=False)
        folder.rmdir()


def grade(root: Path, tmpdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gradebook_tools", "grade", "--quiet"],
        cwd=root,
        env={**nbgrader_env(), "TMPDIR": str(tmpdir)},
        capture_output=True,
        text=True,
        timeout=1500,
    )


def scores(root: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.score for s in gradebook.find_assignment(EXERCISE).submissions}


def test_a_kernel_filling_its_filesystems_fails_no_classmate(tmp_path, small_tmpdir):
    root = tmp_path / "course"
    root.mkdir()
    build_class(root)

    result = grade(root, small_tmpdir)

    recorded = {s.student: (s.state, s.reason) for s in StatusStore(f"sqlite:///{root / 'gradebook.db'}").all(EXERCISE)}
    assert result.returncode == 0, result.stdout + result.stderr
    assert {student: state for student, (state, _) in recorded.items()} == dict.fromkeys(
        ("honest-a", "filler", "honest-b"), "graded"
    ), recorded
    assert scores(root) == {"honest-a": 8.0, "filler": 8.0, "honest-b": 8.0}
    graded = read_notebook(root / "autograded" / "filler" / EXERCISE / f"{EXERCISE}.ipynb")
    printed = "".join(o.get("text", "") for cell in graded.cells for o in cell.get("outputs", []))
    filled = [int(n) for n in printed.split("FILLED [")[1].split("]")[0].split(",")]
    assert len(filled) == 4 and min(filled) >= 200, f"each of its filesystems took 200 MiB or more: {filled}"
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(small_tmpdir) + "/" not in mounts, "no kernel's filesystem is left mounted"
    usage = shutil.disk_usage(small_tmpdir)
    assert usage.used < 8 * MiB, "nothing the kernel wrote reached the grader's temporary folder"


def test_a_full_grader_workspace_is_the_machines_problem_never_the_students(tmp_path, small_tmpdir, monkeypatch):
    root = tmp_path / "course"
    root.mkdir()
    build_class(root)
    bundle_folder = unpacked(build_bundle(root, f"sqlite:///{root / 'gradebook.db'}", [EXERCISE]))
    notebook = root / "submitted" / "honest-a" / EXERCISE / f"{EXERCISE}.ipynb"
    task = GradingTask(EXERCISE, "honest-a", {notebook.name: notebook.read_bytes()}, "fingerprint")
    # the grader's disk, all but 48 KiB full (Python's tempfile would pass over a folder with no room at all)
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={small_tmpdir / 'ballast'}", "bs=1K", f"count={96 * 1024 - 48}"],
        check=True,
        capture_output=True,
    )
    monkeypatch.setattr(tempfile, "tempdir", str(small_tmpdir))
    monkeypatch.setattr(task_module, "_WORKSPACES", {})

    result = run_task(task, bundle_folder)

    assert result.state == "failed"
    assert result.course_problem.startswith("the grading machine's disk is full (No space left on device"), result
    assert result.reason == "", "nothing is recorded against the student"


def test_without_control_groups_grading_goes_on_and_says_so_once(kernel_of, monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(cgroups, "ROOT", str(tmp_path / "no-cgroups"))  # a machine without the controllers
    cgroups.hierarchies.cache_clear()
    monkeypatch.setattr(cgroups, "_warned", False)
    try:
        with caplog.at_level("WARNING", logger=cgroups.log.name):
            assert cgroups.warn_without_cgroups() is False
            assert cgroups.kernel_cgroup(512 * MiB, 40) is None
            kernel = kernel_of(ForkServerKernelManager)
            assert kernel.run("print(6 * 7)") == "42"
            assert kernel.manager._cgroup is None
        warnings = [r.getMessage() for r in caplog.records if r.name == cgroups.log.name]
        assert len(warnings) == 1, warnings
        assert "no cgroup v1 'memory' hierarchy" in warnings[0] and "Delegate=yes" in warnings[0]
    finally:
        cgroups.hierarchies.cache_clear()


FILL_RUNTIME_FOLDER = r"""
import os, sys
runtime = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
written = files = 0
try:
    while True:
        with open(os.path.join(runtime, f"ballast-{files}"), "wb") as file:
            files += 1
            for _ in range(32):
                file.write(b"x" * (1 << 20))
                written += 1 << 20
except OSError as error:
    print(error.errno, written >> 20)
"""


@pytest.mark.parametrize("manager_class", MANAGERS, ids=["bubblewrap", "forkserver"])
def test_a_kernel_fills_only_its_own_runtime_folder(kernel_of, manager_class):
    kernel = kernel_of(manager_class, working_copy_limit=16 * MiB)
    runtime = kernel.manager._runtime_dir
    assert os.path.ismount(runtime), "the runtime folder is a filesystem of its own"

    error, written = kernel.run(FILL_RUNTIME_FOLDER).split()

    assert error == "28", "no space left, in the kernel's own runtime folder"
    room = 1 if manager_class is SandboxedKernelManager else 16 + 1  # MiB: sockets (and the working copy)
    assert int(written) <= room
    assert shutil.disk_usage(runtime).free < MiB
    assert kernel.run("print(6 * 7)") == "42", "its sockets still work"
    kernel.shutdown()
    kernel.shutdown = lambda: None
    assert not os.path.exists(runtime) and runtime not in Path("/proc/self/mountinfo").read_text()


def test_a_grader_disk_full_before_any_task_stops_the_run_with_the_cause(tmp_path, small_tmpdir):
    root = tmp_path / "course"
    root.mkdir()
    build_class(root)
    # all but 48 KiB full: room for Python to pick the folder, none for the course's bundle
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={small_tmpdir / 'ballast'}", "bs=1K", f"count={96 * 1024 - 48}"],
        check=True,
        capture_output=True,
    )

    result = grade(root, small_tmpdir)

    assert result.returncode == EXIT_COURSE_PROBLEM, result.stdout + result.stderr
    assert "the grading machine's disk is full (database or disk is full)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert StatusStore(f"sqlite:///{root / 'gradebook.db'}").all(EXERCISE) == [], "no student is recorded"
