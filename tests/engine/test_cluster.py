"""`gradebook-tools grade --scheduler` on a real Dask cluster on 127.0.0.1: the grades of local grading.

Each test starts its own ``dask scheduler`` and two ``dask worker`` processes
(the .venv's ``dask`` command, one slot each: ``--nthreads 1 --resources
sandbox=1``, ``DASK_DISTRIBUTED__WORKER__DAEMON=False``), every one in a process
group of its own, and stops them at the end. The same class of submissions is
graded in copies of one course: on this machine, and on the cluster; the
gradebooks and the recorded outcomes must be identical.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from gradebook_tools.cli import EXIT_COURSE_PROBLEM, EXIT_SOME_FAILED
from gradebook_tools.course.nbgrader_run import nbgrader_env
from tests.support.grading_class import (
    EXERCISE,
    FULL_MARKS,
    PARTLY_WRONG_MARKS,
    STATES,
    gradebook_scores,
    gradebook_tools,
    recorded_outcomes,
    sqlite_url,
    submit_class,
    write_course,
)

# one xdist worker for the whole module: its fixtures grade the class once
pytestmark = [pytest.mark.slow, pytest.mark.cluster, pytest.mark.xdist_group("cluster")]

DASK = Path(sys.executable).parent / "dask"
START_TIMEOUT = 180  # seconds for the scheduler and workers to come up on a loaded machine
STOP_TIMEOUT = 20  # seconds for a process group to stop after SIGTERM, before SIGKILL

#: A worker preload standing in for a submission that kills its worker every time it is graded:
#: the student's kernel cannot (it runs in the sandbox, under another uid, in its own PID namespace).
KILLER = "a-worker-killer"
FAULT_PRELOAD = f'''"""Fault injection (tests/engine/test_cluster.py): {KILLER!r} on a Dask worker kills it.

Whatever task runs on a worker where {KILLER!r}'s task is (running or queued) waits
(up to 10 s) until QUEUED grading tasks are there, then kills the worker process: Dask,
which cannot tell which task killed its worker, counts the death against all of them.
"""
import os
import signal
import time

from distributed import get_worker

import gradebook_tools.engine.dask as cluster

QUEUED = {{queued}}
_grade_on_worker = cluster.grade_on_worker


def grading_tasks(worker):
    """The GradingTask of every task on this worker."""
    try:
        specs = [ts.run_spec for ts in list(worker.state.tasks.values())]
    except RuntimeError:  # the worker's event loop changed its tasks meanwhile
        return []
    args = [getattr(spec, "args", None) or (None,) for spec in specs]
    return [arg[0] for arg in args if hasattr(arg[0], "student")]


def grade_on_worker(task, bundle, task_timeout):
    worker = get_worker()
    if any(t.student == {KILLER!r} for t in [task, *grading_tasks(worker)]):
        deadline = time.monotonic() + 10
        while len(grading_tasks(worker)) < QUEUED and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGKILL)
    return _grade_on_worker(task, bundle, task_timeout)


def dask_setup(worker):
    cluster.grade_on_worker = grade_on_worker
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cluster_env(**extra: str) -> dict[str, str]:
    """The environment of the Dask processes: this interpreter's bin first; workers may start processes."""
    return {**nbgrader_env(), "DASK_DISTRIBUTED__WORKER__DAEMON": "False", **extra}


@dataclass
class Cluster:
    address: str
    folder: Path
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in sorted(self.folder.glob("*.log"))
        )


def _start(folder: Path, name: str, args: list[str], env: dict[str, str], wrapper=()) -> subprocess.Popen:
    log = open(folder / f"{name}.log", "w")  # noqa: SIM115 - the child holds it; closed right after start
    try:
        return subprocess.Popen(
            [*wrapper, str(DASK), *args],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        log.close()


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process and its process group: SIGTERM, then SIGKILL what is left after :data:`STOP_TIMEOUT`.

    The group's other processes (grading processes, their fork servers) get the same time as the
    leader to finish their clean-up (unmounting their kernels' filesystems) before the SIGKILL.
    """
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and _group_alive(process.pid):
        process.poll()  # reap the leader, so that its group can empty
        time.sleep(0.1)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=STOP_TIMEOUT)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def dask_cluster(
    folder: Path,
    workers: int = 2,
    preload: Path | None = None,
    scheduler_env: dict | None = None,
    tls: Path | None = None,
    worker_wrapper=(),
    worker_env: dict | None = None,
):
    """A real ``dask scheduler`` and ``workers`` ``dask worker`` processes on 127.0.0.1.

    ``tls``: a folder with ``cert.pem`` and ``key.pem`` (:func:`make_certificate`), used by every
    process and as their CA; ``worker_wrapper``: a command prefix for the workers; ``worker_env``:
    their environment on top of :func:`cluster_env`.
    """
    folder.mkdir(parents=True)
    protocol, security = ("tls", tls_options(tls)) if tls else ("tcp", [])
    address = f"{protocol}://127.0.0.1:{free_port()}"
    scheduler = _start(
        folder,
        "scheduler",
        [
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            address.rsplit(":", 1)[1],
            "--protocol",
            protocol,
            "--no-dashboard",
            *security,
        ],
        cluster_env(**(scheduler_env or {})),
    )
    cluster = Cluster(address, folder, scheduler)
    try:
        for index in range(workers):
            args = [
                "worker",
                address,
                "--name",
                f"worker-{index}",
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--resources",
                "sandbox=1",
                "--no-dashboard",
                "--death-timeout",
                "60",
                "--local-directory",
                str(folder / f"worker-{index}"),
                *security,
            ]
            if preload:
                args += ["--preload", str(preload)]
            cluster.workers.append(
                _start(folder, f"worker-{index}", args, cluster_env(**(worker_env or {})), worker_wrapper)
            )
        waiting = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from distributed import Client\n"
                f"with Client({address!r}, timeout={START_TIMEOUT}) as client:\n"
                f"    client.wait_for_workers({workers}, timeout={START_TIMEOUT})",
            ],
            env=cluster_env(**(tls_client_env(tls) if tls else {})),
            capture_output=True,
            text=True,
            timeout=2 * START_TIMEOUT + 30,
        )
        assert waiting.returncode == 0, f"the Dask cluster did not start:\n{waiting.stderr[-2000:]}\n{cluster.logs()}"
        yield cluster
    finally:
        for process in [*cluster.workers, scheduler]:
            stop_group(process)


def make_certificate(folder: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (``cert.pem``, ``key.pem``): every process's and their CA."""
    folder.mkdir(parents=True)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=grading-cluster-test",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return folder


def tls_options(tls: Path) -> list[str]:
    return [
        "--tls-ca-file",
        str(tls / "cert.pem"),
        "--tls-cert",
        str(tls / "cert.pem"),
        "--tls-key",
        str(tls / "key.pem"),
    ]


def tls_client_env(tls: Path) -> dict[str, str]:
    """Dask's configuration of a TLS client, as docs/grading_cluster.md gives it to the coordinator."""
    return {
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(tls / "cert.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(tls / "cert.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(tls / "key.pem"),
    }


def copy_course(base: Path, to: Path) -> Path:
    """A copy of the course with its gradebook (SQLite: a file copy of a database nobody writes)."""
    shutil.copytree(base, to, symlinks=True)
    return to


@pytest.fixture(scope="module")
def base_course(tmp_path_factory) -> Path:
    root = write_course(tmp_path_factory.mktemp("cluster") / "base")
    submit_class(root)
    return root


@pytest.fixture(scope="module")
def local_grading(base_course, tmp_path_factory):
    """The class graded on this machine: (course, gradebook scores, recorded outcomes)."""
    course = copy_course(base_course, tmp_path_factory.mktemp("local") / "course")
    started = time.monotonic()
    result = gradebook_tools("grade", "--quiet", cwd=course)
    print(f"local grading: {time.monotonic() - started:.1f} s")
    assert result.returncode == EXIT_SOME_FAILED, result.stdout + result.stderr
    return course, gradebook_scores(sqlite_url(course)), recorded_outcomes(sqlite_url(course))


def test_local_grading_is_what_the_class_deserves(local_grading):
    """The reference the cluster is held to is itself right: exact scores and outcomes."""
    _, scores, outcomes = local_grading
    assert {student: state for student, (state, _, _) in outcomes.items()} == STATES

    def autograded(student):
        return {cell: points for cell, (points, _) in scores[student]["cells"].items() if cell in FULL_MARKS}

    assert autograded("good-a") == autograded("good-b") == autograded("late") == FULL_MARKS
    assert autograded("partly-wrong") == PARTLY_WRONG_MARKS
    assert autograded("kernel-dies") == dict(FULL_MARKS, test_answer=0.0)
    assert autograded("invalid-json") == dict.fromkeys(FULL_MARKS, 0.0)
    assert scores["late"]["late_penalty"] == 8.0  # the course's penalty: late work scores zero
    assert scores["good-a"]["late_penalty"] == 0.0
    assert "kernel died" in outcomes["kernel-dies"][1]
    assert "not a readable notebook" in outcomes["invalid-json"][1]


def test_cluster_grades_like_this_machine(base_course, local_grading, tmp_path):
    _, local_scores, local_outcomes = local_grading
    course = copy_course(base_course, tmp_path / "course")
    with dask_cluster(tmp_path / "dask") as cluster:
        started = time.monotonic()
        result = gradebook_tools("grade", "--quiet", "--scheduler", cluster.address, cwd=course)
        print(f"cluster grading: {time.monotonic() - started:.1f} s")
    assert result.returncode == EXIT_SOME_FAILED, result.stdout + result.stderr + cluster.logs()
    assert gradebook_scores(sqlite_url(course)) == local_scores
    assert recorded_outcomes(sqlite_url(course)) == local_outcomes
    for student, state in STATES.items():  # the coordinator wrote the folders from the workers' results
        assert (course / "autograded" / student / EXERCISE / f"{EXERCISE}.ipynb").is_file() == (state == "graded")
        assert (course / "feedback" / student / EXERCISE / f"{EXERCISE}.html").is_file() == (state == "graded")


def test_the_cluster_holds_a_window_of_submissions_at_a_time(base_course, local_grading, tmp_path):
    """With room for two submissions in flight, the class is sent two at a time and graded the same."""
    from gradebook_tools.engine.coordinator import BatchGrader
    from gradebook_tools.engine.dask import DaskRunner

    _, local_scores, local_outcomes = local_grading
    course = copy_course(base_course, tmp_path / "course")
    sent, back, most = 0, 0, 0

    class Counting(DaskRunner):
        def run(self, tasks, bundle, started=None):
            nonlocal sent, back, most

            def count_sent(task):
                nonlocal sent, most
                sent += 1
                most = max(most, sent - back)

            for result in super().run(tasks, bundle, started=count_sent):
                back += 1
                yield result

    with dask_cluster(tmp_path / "dask") as cluster:
        runner = Counting(cluster.address, in_flight=2)
        BatchGrader(course, sqlite_url(course), runner=runner).run([EXERCISE])
    assert (sent, most) == (len(STATES) - 1, 2)  # invalid-json is refused before any task: one less
    assert gradebook_scores(sqlite_url(course)) == local_scores
    assert recorded_outcomes(sqlite_url(course)) == local_outcomes


def grading_kernels(worker: subprocess.Popen) -> list[psutil.Process]:
    """The sandboxes (bubblewrap processes) below a ``dask worker`` process: a task is running there."""
    try:
        return [p for p in psutil.Process(worker.pid).children(recursive=True) if p.name() == "bwrap"]
    except psutil.NoSuchProcess:
        return []


def test_a_worker_killed_mid_run_changes_no_grade(base_course, local_grading, tmp_path):
    """SIGKILL one worker's process group while it grades: Dask re-runs its tasks on the other worker."""
    _, local_scores, local_outcomes = local_grading
    course = copy_course(base_course, tmp_path / "course")
    with dask_cluster(tmp_path / "dask") as cluster, open(tmp_path / "grade.log", "w") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "gradebook_tools", "grade", "--quiet", "--scheduler", cluster.address],
            cwd=course,
            env=nbgrader_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            victim, graded = None, []
            deadline = time.monotonic() + 900
            while victim is None and run.poll() is None and time.monotonic() < deadline:
                graded = [o for o in recorded_outcomes(sqlite_url(course)).values() if o[0] == "graded"]
                if graded:  # the first result has landed; kill a worker that is grading right now
                    victim = next((w for w in cluster.workers if grading_kernels(w)), None)
                time.sleep(0.2)
            assert victim is not None, "no worker was grading after the first result: " + cluster.logs()
            process = psutil.Process(victim.pid)
            orphans = [process, *process.children(recursive=True)]
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait(timeout=STOP_TIMEOUT)
            run.wait(timeout=1500)
        finally:
            if run.poll() is None:
                stop_group(run)
        assert len(graded) < sum(state == "graded" for state in STATES.values()), "killed mid-run"
        assert run.returncode == EXIT_SOME_FAILED, (tmp_path / "grade.log").read_text() + cluster.logs()
        # nothing of the killed worker lives on: its forkserver, task process and kernel died with it
        _, alive = psutil.wait_procs(orphans, timeout=STOP_TIMEOUT)
        assert not alive, alive
    assert gradebook_scores(sqlite_url(course)) == local_scores
    assert recorded_outcomes(sqlite_url(course)) == local_outcomes


def test_a_coordinator_killed_mid_run_resumes_on_the_cluster(base_course, local_grading, tmp_path):
    """SIGKILL the grade command after its first result; the next run grades only the rest, as locally."""
    _, local_scores, local_outcomes = local_grading
    course = copy_course(base_course, tmp_path / "course")
    with dask_cluster(tmp_path / "dask") as cluster:
        run = subprocess.Popen(
            [sys.executable, "-m", "gradebook_tools", "grade", "--quiet", "--scheduler", cluster.address],
            cwd=course,
            env=nbgrader_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline, graded = time.monotonic() + 900, []
            while not graded and run.poll() is None and time.monotonic() < deadline:
                graded = [s for s, o in recorded_outcomes(sqlite_url(course)).items() if o[0] == "graded"]
                time.sleep(0.2)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)  # the coordinator, mid-run
            run.wait(timeout=STOP_TIMEOUT)
        interrupted = recorded_outcomes(sqlite_url(course))
        assert graded and len(interrupted) < len(STATES), f"killed mid-run: {interrupted}"
        resumed = gradebook_tools("grade", "--quiet", "--scheduler", cluster.address, cwd=course)
    assert resumed.returncode == EXIT_SOME_FAILED, resumed.stdout + resumed.stderr + cluster.logs()
    assert f"({len(interrupted)} unchanged since the last run" in resumed.stdout  # not graded twice
    assert gradebook_scores(sqlite_url(course)) == local_scores
    assert recorded_outcomes(sqlite_url(course)) == local_outcomes


def test_a_submission_that_kills_every_worker_is_recorded_failed(base_course, local_grading, tmp_path):
    """Dask gives up on a task after its workers died under it (here: after 2 deaths) with KilledWorker.

    The kill is injected by a worker preload keyed to the student's name: a real
    submission cannot reach its worker from inside the sandbox. One worker, which
    its nanny restarts, and the whole class queued on it with the culprit (the
    injected kill waits for that): every death counts against every queued task
    and loses the only copy of the course bundle on the cluster. The culprit alone is recorded failed; the class is
    graded exactly as on this machine.
    """
    _, local_scores, local_outcomes = local_grading
    course = tmp_path / "course"
    shutil.copytree(base_course, course)
    shutil.copytree(course / "submitted" / "good-a", course / "submitted" / KILLER)
    preload = tmp_path / "fault_preload.py"
    tasks = sum(state == "graded" for state in STATES.values()) + 1  # the unreadable one is no task
    preload.write_text(FAULT_PRELOAD.format(queued=tasks))
    with dask_cluster(
        tmp_path / "dask",
        workers=1,
        preload=preload,
        scheduler_env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"},
    ) as cluster:
        result = gradebook_tools("grade", "--quiet", "--scheduler", cluster.address, cwd=course)
        given_up = (cluster.folder / "scheduler.log").read_text().count("workers died while trying to run it")
    assert result.returncode == EXIT_SOME_FAILED, result.stdout + result.stderr + cluster.logs()
    # the premise: Dask gave up on innocent submissions too (the culprit's first and its lone try, and more)
    assert given_up > 2, cluster.logs()
    outcomes, scores = recorded_outcomes(sqlite_url(course)), gradebook_scores(sqlite_url(course))
    state, reason, _ = outcomes.pop(KILLER)
    assert state == "failed"
    assert "killed the grading workers again and again (KilledWorker)" in reason and "scores 0" in reason
    assert KILLER in result.stdout  # the summary names it with its reason
    assert all(points == 0 for points, _ in scores.pop(KILLER)["cells"].values())
    assert outcomes == local_outcomes
    assert scores == local_scores


def small_class(base_course: Path, course: Path, students: list[str]) -> Path:
    """A copy of the course with only ``students``' submissions."""
    shutil.copytree(base_course, course, ignore=shutil.ignore_patterns("submitted"))
    submit_class(course, students)
    return course


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_grading_over_tls(base_course, local_grading, tmp_path):
    """The scheduler and workers speak TLS only; the coordinator gets its certificate from Dask's configuration."""
    _, local_scores, local_outcomes = local_grading
    students = ["good-a", "kernel-dies"]
    course = small_class(base_course, tmp_path / "course", students)
    tls = make_certificate(tmp_path / "tls")
    with dask_cluster(tmp_path / "dask", workers=1, tls=tls) as cluster:
        assert cluster.address.startswith("tls://")
        refused = gradebook_tools("grade", "--quiet", "--scheduler", cluster.address, cwd=course)
        run = subprocess.run(
            [sys.executable, "-m", "gradebook_tools", "grade", "--quiet", "--scheduler", cluster.address],
            cwd=course,
            env=dict(nbgrader_env(), **tls_client_env(tls)),
            capture_output=True,
            text=True,
            timeout=1500,
        )
    # without a certificate the coordinator cannot even connect, and says so in one line
    assert refused.returncode == EXIT_COURSE_PROBLEM, refused.stdout + refused.stderr
    assert f"cannot reach the Dask scheduler at {cluster.address}" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run.returncode == 0, run.stdout + run.stderr + cluster.logs()
    assert recorded_outcomes(sqlite_url(course)) == {s: local_outcomes[s] for s in students}
    assert gradebook_scores(sqlite_url(course)) == {s: local_scores[s] for s in students}


FAILING_BWRAP = """#!/bin/sh
echo "bwrap: No permissions to create new namespace" >&2
exit 1
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("bwrap") is None,
    reason="needs root and unshare: the worker gets a private mount namespace with a failing bwrap",
)
def test_a_worker_that_cannot_sandbox_stops_the_run(base_course, tmp_path):
    """A worker whose bubblewrap cannot make namespaces (a container without user namespaces) fails no student.

    The worker runs in a mount namespace of its own where ``bwrap`` is a script
    failing as Debian's does without user namespaces; nothing else on the machine sees it.
    """
    course = small_class(base_course, tmp_path / "course", ["good-a"])
    fake = tmp_path / "bwrap"
    fake.write_text(FAILING_BWRAP)
    fake.chmod(0o755)
    bwrap = os.path.realpath(shutil.which("bwrap"))
    wrapper = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'mount --bind "$0" {bwrap} && exec "$@"',
        str(fake),
    ]
    with dask_cluster(tmp_path / "dask", workers=1, worker_wrapper=wrapper) as cluster:
        result = gradebook_tools("grade", "--quiet", "--scheduler", cluster.address, cwd=course)
    assert result.returncode == EXIT_COURSE_PROBLEM, result.stdout + result.stderr + cluster.logs()
    assert "nothing was recorded against a student" in result.stderr
    assert "bubblewrap cannot make a sandbox on this machine" in result.stderr
    assert "No permissions to create new namespace" in result.stderr
    assert recorded_outcomes(sqlite_url(course)) == {}
    assert not (course / "autograded").exists() or not any((course / "autograded").iterdir())


def test_a_daemonic_worker_stops_the_run(base_course, tmp_path):
    """Dask's default daemonic workers cannot start the task's process: one line names the setting."""
    course = small_class(base_course, tmp_path / "course", ["good-a"])
    with dask_cluster(tmp_path / "dask", workers=1, worker_env={"DASK_DISTRIBUTED__WORKER__DAEMON": "True"}) as cluster:
        result = gradebook_tools("grade", "--quiet", "--scheduler", cluster.address, cwd=course)
    assert result.returncode == EXIT_COURSE_PROBLEM, result.stdout + result.stderr + cluster.logs()
    assert "start grading workers with DASK_DISTRIBUTED__WORKER__DAEMON=False" in result.stderr
    assert "Traceback" not in result.stderr
    assert recorded_outcomes(sqlite_url(course)) == {}
