"""A warm Dask worker keeps nothing of one student for the next (issue 16, property 8).

A real ``dask scheduler`` and one ``dask worker`` (one slot) on 127.0.0.1 grade
a class with ``gradebook-tools grade --scheduler``: every task goes to the same
warm grading process. Every submission is hostile and a probe at once: its
answer cell first looks for anything an earlier submission left (files in
``/tmp``, ``/dev/shm``, its folder and home, an IPython start-up script, an
environment variable, a process) and fails its answer if it finds any; then it
leaves all of these behind. Every student must score full marks, and nothing
of them may be left on the machine afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import psutil
import pytest

from tests.engine.test_cluster import dask_cluster
from tests.support.course import REPO, fill_answers, grade_id, nbgrader, read_notebook, solution_code
from tests.support.grading_class import gradebook_scores, gradebook_tools, recorded_outcomes, sqlite_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.cluster,
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0, reason="sandboxed kernels need root"),
]

EXERCISE = "ex01_response_only_sft"
MARK = "trace-of-a-classmate"
STUDENTS = ("first", "second", "third", "fourth")

PROBE_THEN_LEAVE_TRACES = f"""
import glob, os, subprocess
MARK = {MARK!r}
found = []
for folder in ("/tmp", "/dev/shm", os.getcwd(), os.path.expanduser("~")):
    found += glob.glob(os.path.join(folder, "**", MARK + "*"), recursive=True)
found += [name for name in os.environ if name.startswith("TRACE_OF_A_CLASSMATE")]
if "TRACE_FROM_STARTUP" in globals():
    found.append("an IPython start-up script ran")
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if MARK.encode() in open(f"/proc/{{pid}}/cmdline", "rb").read():
            found.append(f"process {{pid}}")
    except OSError:
        pass
if found:
    raise RuntimeError(f"an earlier submission left {{found}}")
for folder in ("/tmp", "/dev/shm", os.getcwd()):
    with open(os.path.join(folder, MARK + "-file"), "w") as file:
        file.write("left behind")
startup = os.path.join(os.environ.get("IPYTHONDIR", "/tmp/ipython"), "profile_default", "startup")
os.makedirs(startup, exist_ok=True)
with open(os.path.join(startup, "00-" + MARK + ".py"), "w") as file:
    file.write("TRACE_FROM_STARTUP = True\\n")
os.environ["TRACE_OF_A_CLASSMATE"] = "1"
subprocess.Popen(["/bin/sh", "-c", "sleep 600", MARK], start_new_session=True)
"""


def build_class(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text() + "\nc.Execute.timeout = 60\n")
    shutil.copytree(REPO / "source" / EXERCISE, root / "source" / EXERCISE)
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=root)
    release = read_notebook(root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    good = fill_answers(release, solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb")))
    hostile = nbformat.from_dict(good)
    for cell in hostile.cells:
        if grade_id(cell) == "answer":
            cell.source = PROBE_THEN_LEAVE_TRACES + "\n" + cell.source
    for student in STUDENTS:
        folder = root / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        nbformat.write(hostile, folder / f"{EXERCISE}.ipynb")


def traces_running() -> list[int]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if MARK in " ".join(process.info["cmdline"] or ()):
            found.append(process.pid)
    return found


def test_a_warm_dask_worker_hands_nothing_of_a_student_to_the_next(tmp_path):
    course = tmp_path / "course"
    build_class(course)
    worker_tmp = Path(tempfile.mkdtemp(prefix="gw-", dir="/tmp"))  # short: kernels' socket paths must fit
    try:
        with dask_cluster(tmp_path / "cluster", workers=1, worker_env={"TMPDIR": str(worker_tmp)}) as cluster:
            result = gradebook_tools("grade", "--quiet", "--scheduler", cluster.address, cwd=course)
            running_while_up = traces_running()
            left_in_tmp = [str(p) for p in worker_tmp.rglob(f"*{MARK}*")]
            logs = cluster.logs()
        assert result.returncode == 0, result.stdout + result.stderr + logs
        outcomes = recorded_outcomes(sqlite_url(course))
        assert {student: outcome[0] for student, outcome in outcomes.items()} == dict.fromkeys(STUDENTS, "graded")
        scores = gradebook_scores(sqlite_url(course))
        assert {student: scores[student]["score"] for student in STUDENTS} == dict.fromkeys(STUDENTS, 8.0), scores
        assert running_while_up == [], "no process of a graded kernel outlives it on the worker"
        assert left_in_tmp == [], "nothing a kernel wrote reaches the worker's temporary folder"
        assert traces_running() == []
        assert str(worker_tmp) not in Path("/proc/self/mountinfo").read_text(), "the worker unmounted its kernels'"
    finally:
        subprocess.run(["umount", "--lazy", "--recursive", "--quiet", str(worker_tmp)], check=False)
        for point in reversed(sorted(p for p in mounted_below(worker_tmp))):
            subprocess.run(["umount", "--lazy", point], check=False)
        shutil.rmtree(worker_tmp, ignore_errors=True)


def mounted_below(folder: Path) -> list[str]:
    return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(folder) in line]
