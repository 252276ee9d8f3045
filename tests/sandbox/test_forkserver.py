"""Kernels forked from the fork server: as isolated as bubblewrap's, and graded the same.

Real kernels started through :class:`ForkServerKernelManager`, real code run in
them; a real ``nbgrader autograde`` of the course's solution through it.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from gradebook_tools.sandbox import forkserver
from gradebook_tools.sandbox.forkserver import ForkServerKernelManager, shutdown_fork_servers
from tests.support.course import REPO, fill_answers, read_notebook, solution_code
from tests.support.kernels import LiveKernel

pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.needs_root("forked kernels get users of their own"),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="the fork server runs in bubblewrap"),
]

EXERCISE = "ex01_response_only_sft"
FORK_SERVER = "gradebook_tools.sandbox.forkserver.ForkServerKernelManager"


class Kernel(LiveKernel):
    """A forked kernel and a client, driven from synchronous tests; ``uid`` is the kernel's user."""

    def __init__(self, cwd: Path, **limits):
        super().__init__(ForkServerKernelManager, cwd, **limits)
        self.uid = int(self.run("import os; print(os.getuid())"))


def processes_of(uid: int) -> list[int]:
    """Pids of the machine's processes that run as ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except FileNotFoundError:
                pass
    return found


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.fixture(scope="module")
def course_dirs(tmp_path_factory):
    """A course-like folder: the source, a gradebook, and two students' autograded folders."""
    root = tmp_path_factory.mktemp("forkcourse")
    (root / "source" / EXERCISE).mkdir(parents=True)
    (root / "source" / EXERCISE / "secret.txt").write_text("the solution")
    (root / "gradebook.db").write_text("grades")
    folders = []
    for student in ("alice", "bob"):
        folder = root / "autograded" / student / EXERCISE
        folder.mkdir(parents=True)
        (folder / f"{EXERCISE}.ipynb").write_text(f"{student}'s notebook")
        (folder / "data").mkdir()
        (folder / "data" / "table.csv").write_text("a,b\n1,2\n")
        (folder / "link-to-gradebook").symlink_to(root / "gradebook.db")
        folders.append(folder)
    yield root, folders
    shutdown_fork_servers()


@pytest.fixture(scope="module")
def two_kernels(course_dirs):
    _, (alice, bob) = course_dirs
    first, second = Kernel(alice), Kernel(bob)
    yield first, second
    first.shutdown()
    second.shutdown()


def test_a_forked_kernel_runs_code(two_kernels):
    first, _ = two_kernels
    assert first.run("print(6 * 7)") == "42"


def test_each_kernel_has_its_own_user_and_pid_namespace(two_kernels):
    first, second = two_kernels
    assert first.uid != second.uid
    assert first.uid >= 300_000 and second.uid >= 300_000
    for kernel in two_kernels:
        # process 2 of its own PID namespace, under a minimal init, as in bubblewrap
        assert kernel.run("import os; print(os.getpid(), os.getppid(), os.stat('/proc/1').st_uid)") == (
            f"2 1 {kernel.uid}"
        )
        status = kernel.run("print(open('/proc/self/status').read())")
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        assert fields["CapEff"].strip() == fields["CapPrm"].strip() == fields["CapAmb"].strip() == "0" * 16
        assert fields["NoNewPrivs"].strip() == "1"
        # its own /proc entries, as an ordinary process has; terminals of its own
        assert kernel.run("import os; print(len(os.listdir('/proc/self/fd')) > 0, os.listdir('/dev/pts'))") == (
            "True ['ptmx']"
        )
        # its PID namespace holds its own processes only
        assert kernel.run("import os; print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))") == "[1, 2]"


def test_the_working_copy_holds_the_folders_regular_files_only(course_dirs, two_kernels):
    _, (alice, _) = course_dirs
    first, _ = two_kernels
    listing = first.run("import os; print(sorted(os.listdir('.')), os.getcwd())")
    assert listing == f"['data', '{EXERCISE}.ipynb'] {alice}"
    assert first.run(f"print(open('{EXERCISE}.ipynb').read(), open('data/table.csv').read().split())") == (
        "alice's notebook ['a,b', '1,2']"
    )
    # writes stay in the throw-away copy
    first.run("open('written.txt', 'w').write('x')")
    assert not (alice / "written.txt").exists()


def test_kernels_see_nothing_of_each_other_nor_of_the_course(course_dirs, two_kernels):
    root, (alice, bob) = course_dirs
    first, second = two_kernels
    first.run("open('/tmp/mine.txt', 'w').write('alice'); open('alice-was-here.txt', 'w').write('x')")
    seen = second.run(f"""
        import os
        paths = [{str(alice)!r}, {str(alice / "alice-was-here.txt")!r}, '/tmp/mine.txt', {str(root / "gradebook.db")!r},
                 {str(root / "source")!r}, {str(REPO / "gradebook_tools")!r}, {str(REPO / "source")!r}]
        print([os.path.exists(p) for p in paths], 'mine.txt' in os.listdir('/tmp'))
    """)
    assert seen == "[False, False, False, False, False, False, False] False"
    # of the server's runtime folder, only its own kernel folder
    base = "glob.glob('/tmp/gradebook-forkserver-*')[0]"
    assert second.run(f"import os, glob; print(len(os.listdir({base})))") == "1"
    assert (
        second.run("""
        try:
            import gradebook_tools
        except ModuleNotFoundError as error:
            print('masked')
    """)
        == "masked"
    )
    assert second.run("import socket; print(socket.gethostname())") == "sandbox"


def test_module_state_of_one_student_never_reaches_the_next(course_dirs, two_kernels):
    _, (alice, _) = course_dirs
    first, second = two_kernels
    changed = """
        import numpy, matplotlib, matplotlib.pyplot
        numpy.random.seed(0)
        numpy.pi = 3.0
        numpy.student_mark = 'alice'
        matplotlib.rcParams['lines.linewidth'] = 42.0
        print(numpy.random.get_state()[1][0])
    """
    seeded_state = first.run(changed)
    probe = """
        import math, numpy, matplotlib
        print(numpy.pi == math.pi, hasattr(numpy, 'student_mark'), matplotlib.rcParams['lines.linewidth'],
              numpy.random.get_state()[1][0])
    """
    for kernel in (second, Kernel(alice)):  # one forked while the other lives, one after the change
        pristine, mark, width, state = kernel.run(probe).split()
        assert (pristine, mark, width) == ("True", "False", str(matplotlib_default_linewidth()))
        assert state != seeded_state
        if kernel is not second:
            kernel.shutdown()
    assert math.pi != 3.0


def matplotlib_default_linewidth() -> float:
    import matplotlib

    return matplotlib.rcParamsDefault["lines.linewidth"]


def test_no_network(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted = []

    def serve():
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                accepted.append(listener.accept())
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    kernel = Kernel(tmp_path)
    try:
        reply = kernel.run(f"""
            import socket
            try:
                socket.create_connection(('127.0.0.1', {port}), timeout=3)
                print('connected')
            except OSError as error:
                print(type(error).__name__)
        """)
    finally:
        kernel.shutdown()
    thread.join()
    listener.close()
    assert reply in ("OSError", "ConnectionRefusedError") and accepted == []


def test_resource_limits_are_in_force(tmp_path):
    kernel = Kernel(tmp_path)
    try:
        limits = kernel.run("""
            import resource
            print([resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_NPROC,
                                                    resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE)])
        """)
        manager = kernel.manager
        expected = [
            manager.memory_limit,
            manager.cpu_limit,
            manager.process_limit,
            manager.open_files_limit,
            manager.file_size_limit,
        ]
        assert limits == str([(value, value) for value in expected])
        assert (
            kernel.run("""
            try:
                block = bytearray(3 * 1024**3)
                print('allocated')
            except MemoryError:
                print('MemoryError')
        """)
            == "MemoryError"
        )
        assert (
            kernel.run("""
            try:
                open('big', 'wb').write(b'x' * (65 * 1024**2))
            except OSError as error:
                print(error.errno)
        """)
            == "27"
        )  # EFBIG: the file-size limit
    finally:
        kernel.shutdown()


def test_a_fork_bomb_is_contained_and_killed_with_its_kernel(tmp_path):
    kernel = Kernel(tmp_path)
    uid = kernel.uid
    report = kernel.run("""
        import os, time
        made = 0
        try:
            while True:
                if os.fork() == 0:
                    while True:  # every child forks on, as a bomb does
                        try:
                            os.fork()
                        except OSError:
                            time.sleep(0.05)
                made += 1
        except OSError as error:
            print(error.errno)
    """)
    assert report == "11"  # EAGAIN: the process limit
    assert 0 < len(processes_of(uid)) <= kernel.manager.process_limit
    kernel.shutdown()
    assert processes_of(uid) == []


def test_a_shut_down_kernel_leaves_no_process_behind(tmp_path):
    kernel = Kernel(tmp_path)
    uid = kernel.uid
    kernel.run("""
        import subprocess
        subprocess.Popen(['sleep', '1000'])
        subprocess.Popen(['sh', '-c', 'setsid sleep 1000 &'], start_new_session=True)
    """)
    time.sleep(0.3)
    assert len(processes_of(uid)) >= 3
    started = time.monotonic()
    kernel.shutdown()
    assert time.monotonic() - started < 1.0  # an immediate kill, not a graceful shutdown
    assert processes_of(uid) == []


@pytest.mark.parametrize("ending", ["os._exit(3)", "os.kill(os.getpid(), signal.SIGKILL)"])
def test_a_kernel_that_ends_itself_is_seen_dead(tmp_path, ending):
    kernel = Kernel(tmp_path)
    kernel.client.execute(f"import os, signal; {ending}")
    deadline = time.monotonic() + 10
    while kernel.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not kernel.alive()
    kernel.shutdown()
    assert processes_of(kernel.uid) == []


def test_the_fork_server_keeps_only_its_capabilities_and_takes_its_kernels_along(tmp_path):
    kernel = Kernel(tmp_path)
    (server,) = [s for s in forkserver._servers.values() if s.alive]
    (init,) = children(server.process.pid)  # bubblewrap's process 1 in the server's namespace
    (python,) = children(init)
    status = dict(line.split(":\t", 1) for line in Path(f"/proc/{python}/status").read_text().splitlines())
    capabilities = int(status["CapEff"], 16)
    assert capabilities == (1 << 21) | (1 << 7) | (1 << 6)  # CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID
    assert status["NoNewPrivs"].strip() == "1"
    os.kill(python, 9)  # the server dies: its kernels die with it
    deadline = time.monotonic() + 5
    while processes_of(kernel.uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_of(kernel.uid) == []
    assert not kernel.alive()
    kernel.shutdown()
    # the next kernel gets a new server
    again = Kernel(tmp_path)
    assert again.run("print('fresh')") == "fresh"
    again.shutdown()


@pytest.fixture(scope="module")
def graded(make_course):
    course = make_course([EXERCISE])
    code = solution_code(course.source(EXERCISE))
    # the kernel names its connection file, in the fork server's runtime folder or in the sandbox's (printed
    # by the cell into the autograded notebook: kernels' own output never reaches the grader's terminal)
    code["answer"] = "import sys\nprint('CONNECTION', sys.argv[sys.argv.index('-f') + 1])\n" + code["answer"]
    solution = fill_answers(course.release(EXERCISE), code)
    for student in ("forked", "bubblewrapped"):
        course.submit(student, EXERCISE, solution)
    course.autograde(EXERCISE, "--student", "forked", f"--TrustedExecute.sandbox_manager_class={FORK_SERVER}")
    course.autograde(EXERCISE, "--student", "bubblewrapped")
    course.kernel_folders = {}
    for student in ("forked", "bubblewrapped"):
        notebook = read_notebook(course.root / "autograded" / student / EXERCISE / f"{EXERCISE}.ipynb")
        printed = " ".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
        course.kernel_folders[student] = {word for word in printed.split() if "kernel-" in word}
    return course


def test_nbgrader_autograde_through_the_fork_server_gives_full_marks(graded):
    forked = graded.auto_scores(EXERCISE, "forked")
    assert forked == graded.max_scores(EXERCISE)
    assert sum(forked.values()) == 8
    assert forked == graded.auto_scores(EXERCISE, "bubblewrapped")
    folders = graded.kernel_folders
    assert folders["forked"] and all("/gradebook-forkserver-" in folder for folder in folders["forked"])
    assert folders["bubblewrapped"] and not any("forkserver" in folder for folder in folders["bubblewrapped"])


def test_an_endless_cell_is_interrupted(tmp_path):
    kernel = Kernel(tmp_path)
    try:
        endless = kernel.client.execute("while True: pass")
        time.sleep(0.5)
        kernel.loop.run_until_complete(kernel.manager.interrupt_kernel())
        with pytest.raises(AssertionError, match="KeyboardInterrupt"):
            kernel.result(endless, timeout=20)
        assert kernel.alive()
    finally:
        kernel.shutdown()


def test_a_leased_user_id_is_refused_to_other_grading_processes():
    lease = forkserver.UidLease(390_000, 1)
    try:
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                textwrap.dedent("""
                from gradebook_tools.sandbox.forkserver import ForkServerError, UidLease
                try:
                    UidLease(390_000, 1)
                    print('leased twice')
                except ForkServerError as error:
                    print(error)
                print(UidLease(390_000, 2).uid)
            """),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert probe.stdout.split("\n")[:2] == ["all 1 kernel user ids from 390000 are in use", "390001"]
    finally:
        lease.release()
    again = forkserver.UidLease(390_000, 1)  # released: free again
    assert again.uid == 390_000
    again.release()


def test_the_fork_server_and_its_kernels_end_with_the_grading_process(tmp_path, monkeypatch, request):
    # a temporary folder of the test's own (other tests' fork servers clean stale runtime folders too),
    # outside /tmp, which each kernel's private /tmp would hide
    runtime_root = Path(tempfile.mkdtemp(prefix="forkserver-test-", dir="/var/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(runtime_root))

    def remove_runtime_root():
        shutdown_fork_servers()  # this process's next server makes its folder in the usual place
        shutil.rmtree(runtime_root, ignore_errors=True)

    request.addfinalizer(remove_runtime_root)
    grader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import sys, time
                sys.path.insert(0, {str(REPO)!r})
                from tests.sandbox.test_forkserver import Kernel
                from gradebook_tools.sandbox import forkserver
                kernel = Kernel({str(tmp_path)!r})
                (server,) = forkserver._servers.values()
                print("ids", kernel.uid, server.process.pid, flush=True)
                time.sleep(600)
            """),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TMPDIR": str(runtime_root)},
    )
    try:
        line = next(line for line in grader.stdout if line.startswith("ids "))  # the kernels' banner comes first
        uid, server = map(int, line.split()[1:])
        assert processes_of(uid)
    finally:
        grader.kill()  # no clean-up of its own: the server sees its request pipe close
        grader.wait()
        grader.stdout.close()
    deadline = time.monotonic() + 10
    while (processes_of(uid) or os.path.exists(f"/proc/{server}")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_of(uid) == []
    assert not os.path.exists(f"/proc/{server}")
    # the next grading process's server removes the runtime folder the killed one left
    stale = list(Path(tempfile.gettempdir()).glob(f"gradebook-forkserver-{grader.pid}-*"))
    assert len(stale) == 1
    forkserver.shutdown_fork_servers()
    Kernel(tmp_path).shutdown()
    assert not stale[0].exists()


def test_kernels_start_concurrently_in_one_event_loop(tmp_path):
    async def start_two():
        managers = [ForkServerKernelManager(kernel_name="python3") for _ in range(2)]
        await asyncio.gather(*(manager.start_kernel(cwd=str(tmp_path)) for manager in managers))
        alive = [await manager.is_alive() for manager in managers]
        await asyncio.gather(*(manager.shutdown_kernel() for manager in managers))
        return alive, [await manager.is_alive() for manager in managers]

    assert asyncio.run(start_two()) == ([True, True], [False, False])


def test_a_forked_grading_process_starts_its_own_server(tmp_path):
    kernel = Kernel(tmp_path)
    (parent_server,) = [s for s in forkserver._servers.values() if s.alive]
    child = os.fork()
    if child == 0:  # a grading worker forked from this process (multiprocessing's fork)
        code = 1
        try:
            other = Kernel(tmp_path)
            (server,) = forkserver._servers.values()
            code = 0 if server is not parent_server and other.run("print(1)") == "1" else 2
            other.shutdown()
            shutdown_fork_servers()
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert parent_server.alive and kernel.run("print('parent still served')") == "parent still served"
    kernel.shutdown()


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (["/usr/bin/env", "-m", "ipykernel_launcher", "-f", "c.json"], "the kernel spec names /usr/bin/env"),
        ([sys.executable, "-m", "other_kernel", "-f", "c.json"], "runs Python ipykernel kernels only"),
    ],
)
def test_a_kernel_spec_it_cannot_fork_is_refused(command, problem):
    with pytest.raises(forkserver.ForkServerError, match=problem):
        forkserver._ipykernel_argv(command)
    assert forkserver._ipykernel_argv([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"]) == ["-f", "c.json"]


def test_a_kernel_is_ready_with_its_output_channel_connected(tmp_path):
    # the grading client returns from wait_for_ready without jupyter_client's 0.2 s of quiet on IOPub:
    # the first output of every kernel, printed at once, must still arrive (none lost to a late subscription)
    for number in range(12):
        kernel = Kernel(tmp_path)
        try:
            assert type(kernel.client).__name__ == "GradingKernelClient"
            assert kernel.run(f"print('first words of kernel {number}')") == f"first words of kernel {number}"
        finally:
            kernel.shutdown()


#: Run in a Python environment bound under /tmp: one kernel, what it sees of that environment, as JSON.
IN_TMP_SCRIPT = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tests.sandbox.test_forkserver import Kernel
kernel = Kernel(Path(sys.argv[1]))
try:
    print(kernel.run('''
import json, os, sys
try:
    import gradebook_tools
    masked = False
except ModuleNotFoundError:
    masked = True
import scipy.special  # not imported by the server: read from the environment now
mounts = [line.split() for line in open("/proc/self/mountinfo")]
options = [fields[5] for fields in mounts if fields[4] == sys.prefix]
open("/tmp/scratch.txt", "w").write("the private /tmp works")
print(json.dumps({"prefix": sys.prefix, "masked": masked, "scipy": scipy.special.__file__,
                  "options": options, "tmp": sorted(os.listdir("/tmp"))}))
'''))
finally:
    kernel.shutdown()
"""


def test_a_python_environment_under_tmp_is_bound_again_in_each_kernel(tmp_path):
    """A clone under ``mktemp -d``: the kernel's private /tmp would hide its environment; it is bound again."""
    bound = Path(tempfile.mkdtemp(prefix="python-in-tmp-", dir="/tmp")) / "venv"
    bound.mkdir()
    try:
        # this environment bound at a path under /tmp, in a mount namespace of the grader's own
        script = 'mount --bind "$0" "$1" && shift && exec "$@"'
        binding = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
        python = [str(bound / "bin" / "python"), "-c", IN_TMP_SCRIPT, str(tmp_path), str(REPO)]
        command = [*binding, sys.prefix, str(bound), *python]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": "/tmp"})
        assert run.returncode == 0, run.stdout + run.stderr
        seen = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(bound.parent, ignore_errors=True)
    assert seen["prefix"] == str(bound)
    assert seen["masked"], "the course's code stays masked in the environment bound again"
    assert seen["scipy"].startswith(str(bound) + "/")
    assert seen["options"] and all(option.split(",")[0] == "ro" for option in seen["options"])
    # the private /tmp: the environment's folder, the server's runtime folder, the kernel's own folder,
    # IPython's folder and file
    expected = {bound.parent.name, "scratch.txt", "ipython"}
    if tmp_path.is_relative_to("/tmp"):
        expected.add(tmp_path.relative_to("/tmp").parts[0])
    servers = {name for name in seen["tmp"] if name.startswith(forkserver.BASE_PREFIX)}
    assert len(servers) == 1 and set(seen["tmp"]) == expected | servers
