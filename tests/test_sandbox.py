"""Hostile submissions fail inside the sandbox and cost only their own points.

A class of hostile students is graded with the real `nbgrader autograde`
(sandbox on, as configured), with an honest student graded after each of them.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.nbgrader_run import nbgrader_env, run_nbgrader
from tests.course import REPO, fill_answers, grade_id, solution_code

# Only root can run kernels as users of their own, which the process limit needs.
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's user switch needs root")

EXERCISE = "ex01_response_only_sft"
LOSS_CELLS = ("test_response_only_loss_values", "test_response_only_loss_edge_cases")
TOKEN = f"sandbox-escape-{uuid.uuid4().hex[:12]}"
OUTSIDE_FILE = Path("/tmp") / f"{TOKEN}.txt"


class Listener:
    """A TCP server on the grader's loopback that records any connection."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


def hostile_cells(course: Path, port: int) -> dict[str, tuple[str, tuple[str, ...], str]]:
    """student -> (code of the response_only_loss cell, test cells it must fail, text its output shows).

    The text is the evidence that the hostile code ran and was stopped.
    """
    source = course / "source" / EXERCISE / f"{EXERCISE}.ipynb"
    loss_from_source = f"""
        import json
        def response_only_loss(logits, targets, response_mask):
            cells = json.load(open({str(source)!r}))["cells"]
            code = next("".join(c["source"]) for c in cells
                        if c["metadata"].get("nbgrader", {{}}).get("grade_id") == "response_only_loss")
            space = {{}}
            exec(code.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""), space)
            return space["response_only_loss"](logits, targets, response_mask)
    """
    loss_from_reference = f"""
        import sys
        def response_only_loss(logits, targets, response_mask):
            sys.path[:0] = [{str(REPO)!r}, {str(course)!r}]
            from gradebook_tools.grading.reference import response_only_loss as reference
            return reference(logits, targets, response_mask)
    """
    wrong = "def response_only_loss(logits, targets, response_mask):\n    return 0.43\n"

    def with_wrong(block: str) -> str:
        return wrong + textwrap.dedent(block)

    cells = {
        "reads-source": (loss_from_source, LOSS_CELLS, ""),
        "imports-reference": (loss_from_reference, LOSS_CELLS, ""),
        "corrupts-gradebook": (with_wrong(f"""
            for path in [{str(course / 'gradebook.db')!r}]:
                try:
                    with open(path, "r+b") as db:
                        db.write(b"corrupted by a student" * 100)
                except OSError as error:
                    print("blocked:", error)
        """), LOSS_CELLS, "blocked: [Errno 2]"),
        "writes-outside": (with_wrong(f"""
            for path in [{str(OUTSIDE_FILE)!r}, {str(course / 'source' / EXERCISE / f'{EXERCISE}.ipynb')!r},
                         {str(course / f'{TOKEN}.txt')!r}]:
                try:
                    open(path, "w").write("{TOKEN}")
                except OSError as error:
                    print("blocked:", error)
        """), LOSS_CELLS, "blocked: [Errno 2]"),
        "opens-socket": (f"""
            import socket
            def response_only_loss(logits, targets, response_mask):
                socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
                return 0.43
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
            except OSError as error:
                print("blocked:", error)
        """, LOSS_CELLS, "blocked: [Errno"),
        "fork-bomb": (with_wrong("""
            import os
            children = 0
            try:
                while True:
                    if os.fork() == 0:
                        while True:
                            try:
                                os.fork()
                            except OSError:
                                pass
                    children += 1
            except OSError as error:
                print("blocked after", children, "children:", error)
        """), LOSS_CELLS, "blocked after"),
        "allocates-too-much": ("""
            import numpy as np
            def response_only_loss(logits, targets, response_mask):
                hoard = np.ones(8 * 1024**3 // 8)
                return float(hoard[0])
            try:
                hoard = bytearray(8 * 1024**3)
            except MemoryError:
                print("blocked: MemoryError")
        """, LOSS_CELLS, "blocked: MemoryError"),
        "prints-hundreds-of-mb": (with_wrong("""
            import sys
            line = "x" * 1_000_000 + "\\n"
            for _ in range(300):
                sys.stdout.write(line)
        """), LOSS_CELLS, "output cut"),
        "infinite-loop": ("""
            def response_only_loss(logits, targets, response_mask):
                while True:
                    pass
            while True:
                pass
        """, LOSS_CELLS, "CellTimeoutError"),
        "background-process": (with_wrong(f"""
            import subprocess
            subprocess.Popen(["sh", "-c", "while true; do sleep 1; done # {TOKEN}"])
            print("started")
        """), LOSS_CELLS, "started"),
    }
    return {student: (textwrap.dedent(code), lost, evidence) for student, (code, lost, evidence) in cells.items()}


@pytest.fixture(scope="module")
def hostile_class(make_course):
    course = make_course([EXERCISE])
    listener = Listener()
    release, solution = course.release(EXERCISE), solution_code(course.source(EXERCISE))
    source_before = (course.root / "source" / EXERCISE / f"{EXERCISE}.ipynb").read_bytes()
    hostile = hostile_cells(course.root, listener.port)
    for number, (student, (code, _, _)) in enumerate(hostile.items()):
        course.submit(f"{number:02d}-{student}", EXERCISE, fill_answers(release, dict(solution, response_only_loss=code)))
        course.submit(f"{number:02d}-{student}-zhonest", EXERCISE, fill_answers(release, solution))
    course.autograde(EXERCISE, "--Execute.timeout=10", "--TrustedExecute.check_timeout=5")
    time.sleep(2)
    listener.close()
    yield course, hostile, listener, source_before
    OUTSIDE_FILE.unlink(missing_ok=True)


def test_each_hostile_submission_loses_its_points(hostile_class):
    course, hostile, _, _ = hostile_class
    for number, (student, (_, lost, _)) in enumerate(hostile.items()):
        scores = course.auto_scores(EXERCISE, f"{number:02d}-{student}")
        assert {cell: scores[cell] for cell in lost} == {cell: 0 for cell in lost}, student


def test_the_hostile_code_ran_and_was_stopped(hostile_class):
    course, hostile, _, _ = hostile_class
    for number, (student, (_, _, evidence)) in enumerate(hostile.items()):
        path = course.root / "autograded" / f"{number:02d}-{student}" / EXERCISE / f"{EXERCISE}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        cell = next(c for c in notebook.cells if grade_id(c) == "response_only_loss")
        shown = json.dumps(cell.outputs)
        assert "SyntaxError" not in shown and "IndentationError" not in shown, student
        assert evidence in shown, f"{student}: {shown[:500]}"


def test_honest_students_graded_after_them_are_untouched(hostile_class):
    course, hostile, _, _ = hostile_class
    maximum = course.max_scores(EXERCISE)
    for number, student in enumerate(hostile):
        assert course.auto_scores(EXERCISE, f"{number:02d}-{student}-zhonest") == maximum, student
    with Gradebook(course.db_url) as gradebook:
        assert len(gradebook.students) == 2 * len(hostile)


def test_nothing_outside_the_working_copy_was_read_or_written(hostile_class):
    course, _, listener, source_before = hostile_class
    assert (course.root / "source" / EXERCISE / f"{EXERCISE}.ipynb").read_bytes() == source_before
    assert not OUTSIDE_FILE.exists()
    assert not (course.root / f"{TOKEN}.txt").exists()
    assert listener.connections == 0


def test_no_process_outlives_its_kernel(hostile_class):
    survivors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if TOKEN.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                survivors.append(pid)
        except OSError:
            continue
    assert survivors == []


def test_a_flood_of_output_is_cut(hostile_class):
    course, hostile, _, _ = hostile_class
    number = list(hostile).index("prints-hundreds-of-mb")
    path = course.root / "autograded" / f"{number:02d}-prints-hundreds-of-mb" / EXERCISE / f"{EXERCISE}.ipynb"
    assert path.stat().st_size < 20 * 1024**2
    assert "output cut" in path.read_text()


def test_grading_stops_with_a_clear_message_without_bubblewrap(make_course):
    course = make_course([EXERCISE])
    course.submit("someone", EXERCISE, course.release(EXERCISE))
    env = dict(nbgrader_env(), PATH=str(Path(sys.executable).parent))  # no bwrap on this PATH
    run = lambda *extra: run_nbgrader("autograde", EXERCISE, *extra, cwd=course.root, env=env, timeout=600)  # noqa: E731
    refused = run()
    assert "apt-get install bubblewrap" in refused.stdout + refused.stderr
    with Gradebook(course.db_url) as gradebook:
        assert gradebook.find_submission(EXERCISE, "someone").score == 0
    assert not (course.root / "autograded" / "someone" / EXERCISE / f"{EXERCISE}.ipynb").exists()
    opted_out = run("--TrustedExecute.sandbox=False", "--force")
    assert opted_out.returncode == 0, opted_out.stderr
    assert course.auto_scores(EXERCISE, "someone") == {cell: 0 for cell in course.max_scores(EXERCISE)}
