"""Hostile submissions fail inside the sandbox and cost only their own points.

A class of hostile students is graded with the real `nbgrader autograde`
(sandbox on, as configured), with an honest student graded after each of them,
then `nbgrader generate_feedback`. A classmate graded earlier keeps their grades.

Two tables: students whose attack must cost them the function they attacked with
(`hostile_cells`), and students with a correct solution who attack the working
copy the kernel runs in (`working_copy_cells`: links in place of their notebook,
600 MiB of ballast, planted files and links). These keep every point: the
working copy is thrown away with the kernel, and nothing of it reaches the
grader's folders.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.course.nbgrader_run import nbgrader_env, run_nbgrader
from tests.support.course import REPO, fill_answers, grade_id, solution_code

# Only root can run kernels as users of their own, which the process limit needs.
pytestmark = [
    pytest.mark.needs_root("the sandbox's user switch"),
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.xdist_group("sandbox"),
]

EXERCISE = "ex01_response_only_sft"
NOTEBOOK = f"{EXERCISE}.ipynb"
LOSS_CELLS = ("test_response_only_loss_values", "test_response_only_loss_edge_cases")
TOKEN = f"sandbox-escape-{uuid.uuid4().hex[:12]}"
OUTSIDE_FILE = Path("/tmp") / f"{TOKEN}.txt"
#: A file outside the course that a student links their notebook to: it must keep its bytes.
OUTSIDE_TARGET = Path("/tmp") / f"{TOKEN}-target.txt"
#: Graded alone before the class; a student links their notebook to this one's submission.
CLASSMATE = "aa-classmate"
#: A file of the planting student's submission, read by relative path in the kernel.
STUDENT_DATA = ("my-data.txt", "rows of the student's own data\n")


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
        "corrupts-gradebook": (
            with_wrong(f"""
            for path in [{str(course / "gradebook.db")!r}]:
                try:
                    with open(path, "r+b") as db:
                        db.write(b"corrupted by a student" * 100)
                except OSError as error:
                    print("blocked:", error)
        """),
            LOSS_CELLS,
            "blocked: [Errno 2]",
        ),
        "writes-outside": (
            with_wrong(f"""
            for path in [{str(OUTSIDE_FILE)!r}, {str(course / "source" / EXERCISE / f"{EXERCISE}.ipynb")!r},
                         {str(course / f"{TOKEN}.txt")!r}]:
                try:
                    open(path, "w").write("{TOKEN}")
                except OSError as error:
                    print("blocked:", error)
        """),
            LOSS_CELLS,
            "blocked: [Errno 2]",
        ),
        "opens-socket": (
            f"""
            import socket
            def response_only_loss(logits, targets, response_mask):
                socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
                return 0.43
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
            except OSError as error:
                print("blocked:", error)
        """,
            LOSS_CELLS,
            "blocked: [Errno",
        ),
        "fork-bomb": (
            with_wrong("""
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
        """),
            LOSS_CELLS,
            "blocked after",
        ),
        "allocates-too-much": (
            """
            import numpy as np
            def response_only_loss(logits, targets, response_mask):
                hoard = np.ones(8 * 1024**3 // 8)
                return float(hoard[0])
            try:
                hoard = bytearray(8 * 1024**3)
            except MemoryError:
                print("blocked: MemoryError")
        """,
            LOSS_CELLS,
            "blocked: MemoryError",
        ),
        "prints-hundreds-of-mb": (
            with_wrong("""
            import sys
            line = "x" * 1_000_000 + "\\n"
            for _ in range(300):
                sys.stdout.write(line)
        """),
            LOSS_CELLS,
            "output cut",
        ),
        "infinite-loop": (
            """
            def response_only_loss(logits, targets, response_mask):
                while True:
                    pass
            while True:
                pass
        """,
            LOSS_CELLS,
            "CellTimeoutError",
        ),
        "background-process": (
            with_wrong(f"""
            import subprocess
            subprocess.Popen(["sh", "-c", "while true; do sleep 1; done # {TOKEN}"])
            print("started")
        """),
            LOSS_CELLS,
            "started",
        ),
    }
    return {student: (textwrap.dedent(code), lost, evidence) for student, (code, lost, evidence) in cells.items()}


def working_copy_cells(course: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """student -> (code run after a correct response_only_loss, texts its output shows).

    Each attack worked before the kernel had a working copy of its own: the grader
    wrote the autograded notebook through the link, and feedback copied what the
    kernel left in the folder.
    """

    def relink(target: Path) -> str:
        return f"""
            import os
            os.remove({NOTEBOOK!r})
            os.symlink({str(target)!r}, {NOTEBOOK!r})
            print("linked:", os.readlink({NOTEBOOK!r}))
        """

    source = course / "source" / EXERCISE / NOTEBOOK
    data_name, data_text = STUDENT_DATA
    planted = sorted([NOTEBOOK, data_name, "passwd-link", "planted", "planted.html", "root-link", "source-link.ipynb"])
    cells = {
        "links-notebook-to-gradebook": (relink(course / "gradebook.db"), (f"linked: {course / 'gradebook.db'}",)),
        "links-notebook-to-classmate": (
            relink(course / "submitted" / CLASSMATE / EXERCISE / NOTEBOOK),
            (f"linked: {course / 'submitted' / CLASSMATE / EXERCISE / NOTEBOOK}",),
        ),
        "links-notebook-outside": (relink(OUTSIDE_TARGET), (f"linked: {OUTSIDE_TARGET}",)),
        "writes-600-mib": (
            """
            block = b"x" * 1024**2
            written = 0
            try:
                for part in range(10):
                    with open(f"ballast-{part}.bin", "wb") as ballast:
                        for _ in range(60):
                            ballast.write(block)
                            ballast.flush()
                            written += 1
            except OSError as error:
                print("stopped after", written, "MiB:", error.strerror)
            """,
            ("No space left on device",),
        ),
        "plants-files": (
            f"""
            import os
            print("read:", open({data_name!r}).read().strip())
            open({data_name!r}, "w").write("rewritten by the kernel")
            os.makedirs("planted/deeper")
            open("planted/deeper/notes.txt", "w").write("{TOKEN}")
            open("planted.html", "w").write("<script>alert('{TOKEN}')</script>")
            os.symlink("/etc/passwd", "passwd-link")
            os.symlink({str(source)!r}, "source-link.ipynb")
            os.symlink("/", "root-link")
            print("planted:", sorted(os.listdir(".")))
            """,
            (f"read: {data_text.strip()}", f"planted: {planted}"),
        ),
    }
    return {student: (textwrap.dedent(code), evidence) for student, (code, evidence) in cells.items()}


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry below ``folder``: a file's bytes, a link's target, a folder's marker (links never followed)."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            entries[name] = f"link to {os.readlink(path)}"
        elif path.is_dir():
            entries[name] = "folder"
        else:
            entries[name] = path.read_bytes()
    return entries


@pytest.fixture(scope="module")
def hostile_class(make_course):
    course = make_course([EXERCISE])
    listener = Listener()
    release, solution = course.release(EXERCISE), solution_code(course.source(EXERCISE))
    course.submit(CLASSMATE, EXERCISE, fill_answers(release, solution))
    course.autograde(EXERCISE, f"--student={CLASSMATE}")
    classmate_grades = course.auto_scores(EXERCISE, CLASSMATE)
    OUTSIDE_TARGET.write_text(f"outside the course {TOKEN}\n")
    source_before = (course.root / "source" / EXERCISE / f"{EXERCISE}.ipynb").read_bytes()
    hostile = hostile_cells(course.root, listener.port)
    for number, (student, (code, _, _)) in enumerate(hostile.items()):
        hostile_answers = dict(solution, response_only_loss=code)
        course.submit(f"{number:02d}-{student}", EXERCISE, fill_answers(release, hostile_answers))
        course.submit(f"{number:02d}-{student}-zhonest", EXERCISE, fill_answers(release, solution))
    working_copy = working_copy_cells(course.root)
    for number, (student, (code, _)) in enumerate(working_copy.items(), start=len(hostile)):
        attack = solution["response_only_loss"] + "\n" + code
        attacker = fill_answers(release, dict(solution, response_only_loss=attack))
        course.submit(f"{number:02d}-{student}", EXERCISE, attacker)
        course.submit(f"{number:02d}-{student}-zhonest", EXERCISE, fill_answers(release, solution))
        if student == "plants-files":
            name, text = STUDENT_DATA
            (course.root / "submitted" / f"{number:02d}-{student}" / EXERCISE / name).write_text(text)
    before = {
        "submitted": tree(course.root / "submitted"),
        "source": tree(course.root / "source"),
        "outside": OUTSIDE_TARGET.read_bytes(),
    }
    course.autograde(EXERCISE, "--Execute.timeout=10", "--TrustedExecute.check_timeout=5")
    time.sleep(2)
    listener.close()
    feedback = run_nbgrader("generate_feedback", EXERCISE, cwd=course.root, timeout=1800)
    assert feedback.returncode == 0, feedback.stdout + feedback.stderr
    yield course, hostile, listener, source_before, working_copy, before, classmate_grades
    OUTSIDE_FILE.unlink(missing_ok=True)
    OUTSIDE_TARGET.unlink(missing_ok=True)


def _working_copy_students(working_copy: dict, hostile: dict):
    """(hostile student, their honest neighbour) of the working-copy table."""
    for number, student in enumerate(working_copy, start=len(hostile)):
        yield f"{number:02d}-{student}", f"{number:02d}-{student}-zhonest"


def test_each_hostile_submission_loses_its_points(hostile_class):
    course, hostile, *_ = hostile_class
    for number, (student, (_, lost, _)) in enumerate(hostile.items()):
        scores = course.auto_scores(EXERCISE, f"{number:02d}-{student}")
        assert {cell: scores[cell] for cell in lost} == {cell: 0 for cell in lost}, student


def test_the_hostile_code_ran_and_was_stopped(hostile_class):
    course, hostile, *_ = hostile_class
    for number, (student, (_, _, evidence)) in enumerate(hostile.items()):
        path = course.root / "autograded" / f"{number:02d}-{student}" / EXERCISE / f"{EXERCISE}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        cell = next(c for c in notebook.cells if grade_id(c) == "response_only_loss")
        shown = json.dumps(cell.outputs)
        assert "SyntaxError" not in shown and "IndentationError" not in shown, student
        assert evidence in shown, f"{student}: {shown[:500]}"


def test_honest_students_graded_after_them_are_untouched(hostile_class):
    course, hostile, *_ = hostile_class
    maximum = course.max_scores(EXERCISE)
    for number, student in enumerate(hostile):
        assert course.auto_scores(EXERCISE, f"{number:02d}-{student}-zhonest") == maximum, student
    with Gradebook(course.db_url) as gradebook:
        assert len(gradebook.students) == 2 * len(hostile) + 2 * len(hostile_class[4]) + 1


def test_nothing_outside_the_working_copy_was_read_or_written(hostile_class):
    course, _, listener, source_before, *_ = hostile_class
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
    course, hostile, *_ = hostile_class
    number = list(hostile).index("prints-hundreds-of-mb")
    path = course.root / "autograded" / f"{number:02d}-prints-hundreds-of-mb" / EXERCISE / f"{EXERCISE}.ipynb"
    assert path.stat().st_size < 20 * 1024**2
    assert "output cut" in path.read_text()


def test_attacks_on_the_working_copy_ran_and_cost_nothing(hostile_class):
    course, hostile, _, _, working_copy, _, _ = hostile_class
    maximum = course.max_scores(EXERCISE)
    pairs = zip(_working_copy_students(working_copy, hostile), working_copy.values(), strict=True)
    for (student, honest), (_, evidence) in pairs:
        assert course.auto_scores(EXERCISE, student) == maximum, student
        assert course.auto_scores(EXERCISE, honest) == maximum, honest
        notebook = nbformat.read(course.root / "autograded" / student / EXERCISE / NOTEBOOK, as_version=4)
        cell = next(c for c in notebook.cells if grade_id(c) == "response_only_loss")
        shown = "".join(output.get("text", "") for output in cell.outputs)
        for text in evidence:
            assert text in shown, f"{student}: {shown[:500]}"


def test_autograded_and_feedback_hold_only_what_the_grader_wrote(hostile_class):
    """The same regular files as the honest neighbour's: no link, no planted file, no ballast."""
    course, hostile, _, _, working_copy, before, _ = hostile_class
    for student, honest in _working_copy_students(working_copy, hostile):
        for folder in ("autograded", "feedback"):
            theirs, reference = course.root / folder / student / EXERCISE, course.root / folder / honest / EXERCISE
            extra = {STUDENT_DATA[0]} if student.endswith("plants-files") else set()  # their own file
            assert sorted(p.name for p in theirs.iterdir()) == sorted({p.name for p in reference.iterdir()} | extra)
            for path in theirs.rglob("*"):
                assert path.is_file() and not path.is_symlink(), path
        notebook = course.root / "autograded" / student / EXERCISE / NOTEBOOK
        assert nbformat.read(notebook, as_version=4).cells, student
    planter = next(s for s, _ in _working_copy_students(working_copy, hostile) if s.endswith("plants-files"))
    assert (course.root / "autograded" / planter / EXERCISE / STUDENT_DATA[0]).read_text() == STUDENT_DATA[1]
    for folder in ("autograded", "feedback"):
        for path in (course.root / folder).rglob("*"):
            assert not path.is_symlink(), path
            assert "ballast" not in path.name and "planted" not in path.name, path


def test_submitted_source_and_the_outside_file_keep_their_bytes(hostile_class):
    course, *_, before, _ = hostile_class
    assert tree(course.root / "submitted") == before["submitted"]
    assert tree(course.root / "source") == before["source"]
    assert OUTSIDE_TARGET.read_bytes() == before["outside"]


def test_a_classmate_graded_earlier_keeps_their_grades(hostile_class):
    course, *_, classmate_grades = hostile_class
    assert classmate_grades == course.max_scores(EXERCISE)
    gradebook = course.root / "gradebook.db"
    assert gradebook.is_file() and not gradebook.is_symlink()
    with sqlite3.connect(gradebook) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert course.auto_scores(EXERCISE, CLASSMATE) == classmate_grades


def test_a_submission_larger_than_the_working_copy_is_refused_alone(make_course):
    course = make_course([EXERCISE])
    release, solution = course.release(EXERCISE), solution_code(course.source(EXERCISE))
    for student in ("big", "fine"):
        course.submit(student, EXERCISE, fill_answers(release, solution))
    (course.root / "submitted" / "big" / EXERCISE / "ballast.bin").write_bytes(b"x" * 300_000)
    run = run_nbgrader("autograde", EXERCISE, "--SandboxedKernelManager.working_copy_limit=200000", cwd=course.root)
    assert "the submission's files take more than 200000 bytes" in run.stdout + run.stderr
    assert course.auto_scores(EXERCISE, "fine") == course.max_scores(EXERCISE)
    with Gradebook(course.db_url) as gradebook:
        assert gradebook.find_submission(EXERCISE, "big").score == 0
    assert not (course.root / "autograded" / "big" / EXERCISE).exists()


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
