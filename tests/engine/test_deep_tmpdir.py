"""A grader's deep ``TMPDIR`` is the machine's set-up, never a student's failure (issue 16, property 1).

A Unix socket's path holds at most 107 bytes. Kernels' sockets (and
multiprocessing's, for the engine's workers) go in the grader's temporary
folder only when they fit there, else in ``/tmp``
(:func:`gradebook_tools.sandbox.runtime_folder.socket_root`):

- ``gradebook-tools grade`` (fork-server kernels in workers as root) and plain
  ``nbgrader autograde`` (a bubblewrap per kernel) grade a small class with a
  ``TMPDIR`` of about 150 bytes: every student gets exactly the scores of a
  normal run, read back from the gradebook;
- where no short folder is writable either (``/tmp`` and ``/var/tmp``
  read-only, in a mount namespace of the test's own), ``gradebook-tools
  grade`` stops with the cause and what to do, and no student is recorded:
  whether the workers' socket (a ``TMPDIR`` of 150 bytes) or only the
  kernels' (60 bytes) is what cannot be made.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gradebook_tools.cli import EXIT_COURSE_PROBLEM
from gradebook_tools.course.nbgrader_run import nbgrader_env, run_nbgrader
from gradebook_tools.sandbox.forkserver import BASE_PREFIX
from tests.support.grading_class import (
    EXERCISE,
    FULL_MARKS,
    PARTLY_WRONG_MARKS,
    gradebook_scores,
    recorded_outcomes,
    sqlite_url,
    submit_class,
    write_course,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.needs_root("kernels' users and runtime filesystems, and a mount namespace with a read-only /tmp"),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="kernels run in bubblewrap"),
]

STUDENTS = ["good-a", "partly-wrong"]
#: The class's exact automatic scores.
EXPECTED = {"good-a": FULL_MARKS, "partly-wrong": PARTLY_WRONG_MARKS}


def deep_folder(parent: Path, length: int) -> Path:
    """A folder below ``parent`` whose path takes ``length`` bytes."""
    folder = parent
    while len(str(folder)) < length - 10:
        folder = folder / "deeper"
    folder = Path(str(folder) + "/" + "d" * (length - len(str(folder)) - 1))
    folder.mkdir(parents=True)
    assert len(str(folder)) == length
    return folder


def autograded(course: Path) -> dict[str, dict[str, float]]:
    scores = gradebook_scores(sqlite_url(course))
    return {
        student: {cell: points for cell, (points, _) in record["cells"].items() if cell in FULL_MARKS}
        for student, record in scores.items()
    }


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = write_course(tmp_path / "course")
    submit_class(root, STUDENTS)
    return root


def test_a_deep_tmpdir_grades_every_student_exactly_with_the_engine(course, tmp_path):
    tmpdir = deep_folder(tmp_path / "tmp", 150)
    result = subprocess.run(
        [sys.executable, "-m", "gradebook_tools", "grade", "--quiet"],
        cwd=course,
        env={**nbgrader_env(), "TMPDIR": str(tmpdir)},
        capture_output=True,
        text=True,
        timeout=1500,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    outcomes = recorded_outcomes(sqlite_url(course))
    assert {student: state for student, (state, _, _) in outcomes.items()} == dict.fromkeys(STUDENTS, "graded")
    assert autograded(course) == EXPECTED
    # the kernels' runtime folders were made elsewhere, and no mount is left in TMPDIR
    assert not [p for p in tmpdir.iterdir() if p.name.startswith(("sandboxed-kernel-", BASE_PREFIX, "pymp-"))]
    assert str(tmpdir) not in Path("/proc/self/mountinfo").read_text()


def test_a_deep_tmpdir_grades_every_student_exactly_with_plain_nbgrader(course, tmp_path):
    tmpdir = deep_folder(tmp_path / "tmp", 150)

    result = run_nbgrader("autograde", EXERCISE, cwd=course, env={**nbgrader_env(), "TMPDIR": str(tmpdir)})

    assert result.returncode == 0, result.stdout + result.stderr
    assert autograded(course) == EXPECTED
    assert not [p for p in tmpdir.iterdir() if p.name.startswith(("sandboxed-kernel-", BASE_PREFIX))]


#: Run a command in a mount namespace where /tmp and /var/tmp are read-only, and ``$0`` and ``$1`` are not.
READ_ONLY_SHORT_FOLDERS = """
set -e
for folder in /tmp /var/tmp; do
    mount --bind "$folder" "$folder"
    mount -o remount,bind,ro "$folder"
done
for folder in "$0" "$1"; do
    mount --bind "$folder" "$folder"
    mount -o remount,bind,rw "$folder"
done
shift
exec "$@"
"""


@pytest.fixture
def short_base():
    """A folder with a short path, for a ``TMPDIR`` of 60 bytes (the test's own folder is longer already)."""
    folder = Path(tempfile.mkdtemp(prefix="gt-", dir="/var/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(
    ("length", "socket"),
    [(150, "/listener-"), (60, "/kernel-")],
    ids=["the-workers-socket", "the-kernels-sockets"],
)
def test_where_no_socket_fits_the_run_stops_with_the_cause_and_records_no_student(
    course, tmp_path, short_base, length, socket
):
    tmpdir = deep_folder(short_base, length)
    command = [sys.executable, "-m", "gradebook_tools", "grade", "--quiet"]
    in_namespace = ["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY_SHORT_FOLDERS]
    result = subprocess.run(
        [*in_namespace, str(tmp_path), str(short_base), *command],
        cwd=course,
        env={**nbgrader_env(), "TMPDIR": str(tmpdir)},
        capture_output=True,
        text=True,
        timeout=1500,
    )

    assert result.returncode == EXIT_COURSE_PROBLEM, result.stdout + result.stderr
    assert f"cannot make a Unix socket at {tmpdir}/" in result.stderr
    assert socket in result.stderr.split(f"cannot make a Unix socket at {tmpdir}/")[1].split(":")[0]
    assert "more than the 107 a socket's address holds" in result.stderr
    assert "set TMPDIR to a shorter folder (e.g. /tmp) and grade again" in result.stderr
    assert "nothing was recorded" in result.stderr
    assert recorded_outcomes(sqlite_url(course)) == {}
    assert gradebook_scores(sqlite_url(course)) == {}
    assert not (course / "autograded").exists()
