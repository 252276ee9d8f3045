"""Benchmarks of the calendar and the ledger (figures, not timed tests).

1. Extension on a graded class of 1,000 students (target: under a second): a real
   SQLite gradebook of 1,000 graded submissions (10 test cells each, timestamps
   spread over three days around the due date) built through nbgrader's models,
   then timed:

   - ``extension grant`` for one student (one submission's penalty re-applied);
   - ``calendar set --due`` moving the class's due date (every submission's
     penalty re-applied: about 900 of them change, each with a ledger entry);
   - the same move as a ``--dry-run`` (planned, rolled back).

   Each is the library call the command makes (``change_calendar``), without
   the interpreter's start-up; the gradebook is rebuilt for each repeat.

2. The ledger's overhead on the grading engine's write path: the coordinator is
   the only writer of ``gradebook-tools grade``; for each graded submission it
   calls ``write_result`` (``apply_snapshot``: 10 grades and the late penalty through
   nbgrader's models). Timed for N submissions in a process without the ledger and
   in one with it installed, and compared with the CPU cost of grading a notebook
   (``--grading-cpu``, default 0.31 CPU-s, README's 50 x 10 figure) to give the
   overhead on a grading run.

Run: ``.venv/bin/python benchmarks/bench_calendar.py [--students 1000] [--writes 300] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]
# nbgrader stamps a new gradebook with the version the `alembic` command beside this interpreter prints
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

from nbgrader.api import Gradebook  # noqa: E402
from sqlalchemy import update  # noqa: E402

from tests.support.gradebook_factory import (  # noqa: E402
    DUE,
    add_assignment,
    add_submission_rows,
    assignment_layouts,
)

CELLS = [(f"q{i}", 1.0, "code") for i in range(10)]


def build_class(folder: Path, students: int) -> str:
    """A graded class: one exercise, ``students`` submissions, timestamps from 24 h early to 48 h late."""
    from nbgrader.api import SubmittedAssignment

    db_url = f"sqlite:///{folder / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add_assignment(gradebook, "ex01", CELLS, duedate=DUE)
        layout = assignment_layouts(gradebook)["ex01"]
        for index in range(students):
            gradebook.db.add(__import__("nbgrader.api").api.Student(id=f"s{index:04d}"))
        gradebook.db.commit()
        for index in range(students):
            add_submission_rows(gradebook, layout, f"s{index:04d}", {name: 1.0 for name, _, _ in CELLS})
        gradebook.db.commit()
        for index in range(students):
            stamp = DUE + datetime.timedelta(hours=(index % 72) - 24, minutes=7)
            gradebook.db.execute(
                update(SubmittedAssignment)
                .where(SubmittedAssignment.student_id == f"s{index:04d}")
                .values(timestamp=stamp)
            )
        gradebook.db.commit()
    gradebook.engine.dispose()
    return db_url


def time_extensions(students: int, repeats: int) -> None:
    from gradebook_tools.gradebook import calendar as cal
    from gradebook_tools.gradebook.extensions import change_calendar
    from gradebook_tools.gradebook.late_policy import CourseLatePenalty

    policy = CourseLatePenalty(percent_per_day=10, max_percent=50)
    figures: dict[str, list[float]] = {"grant one": [], "move due (dry run)": [], "move due": []}
    counts: dict[str, int] = {}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-calendar-") as scratch:
            db_url = build_class(Path(scratch), students)
            change_calendar(db_url, "", policy, lambda c: cal.set_calendar(c, "ex01", due=DUE), "setup")
            steps = [
                (
                    "grant one",
                    lambda c: cal.grant_extension(c, cal.Extension("s0030", "ex01", None, 48.0, "bench")),
                    {"s0030"},
                    {"ex01"},
                    False,
                ),
                (
                    "move due (dry run)",
                    lambda c: cal.set_calendar(c, "ex01", due=DUE + datetime.timedelta(hours=30)),
                    None,
                    {"ex01"},
                    True,
                ),
                (
                    "move due",
                    lambda c: cal.set_calendar(c, "ex01", due=DUE + datetime.timedelta(hours=30)),
                    None,
                    {"ex01"},
                    False,
                ),
            ]
            for name, change, who, what, dry in steps:
                start = time.perf_counter()
                changes = change_calendar(db_url, "", policy, change, f"bench {name}", who, what, dry_run=dry)
                figures[name].append(time.perf_counter() - start)
                counts[name] = len(changes)
    print(f"extensions on a graded class of {students} students (SQLite, {repeats} repeat(s), min / median):")
    for name, values in figures.items():
        print(
            f"  {name:<20} {min(values):6.3f} s / {statistics.median(values):6.3f} s"
            f"   ({counts[name]} score(s) changed)"
        )


def write_path(writes: int, ledger_on: bool) -> tuple[float, float]:
    """Wall and CPU seconds for the coordinator's ``apply_snapshot`` of ``writes`` graded submissions."""
    from gradebook_tools.gradebook.snapshot import apply_snapshot

    if ledger_on:
        from gradebook_tools.gradebook import ledger

        ledger.install()
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as scratch:
        db_url = f"sqlite:///{Path(scratch) / 'gradebook.db'}"
        with Gradebook(db_url) as gradebook, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            add_assignment(gradebook, "ex01", CELLS, duedate=DUE)
            for index in range(writes):
                gradebook.add_student(f"s{index:04d}")
            snapshot = {
                "timestamp": DUE.isoformat(),
                "notebooks": {
                    "ex01": {
                        "late_submission_penalty": 0.5,
                        "grades": {name: {"auto_score": 1.0, "needs_manual_grade": False} for name, _, _ in CELLS},
                        "comments": {},
                    }
                },
            }
            start, cpu = time.perf_counter(), time.process_time()
            for index in range(writes):
                apply_snapshot(gradebook, "ex01", f"s{index:04d}", snapshot, ("auto_score", "needs_manual_grade"), ())
            elapsed = (time.perf_counter() - start, time.process_time() - cpu)
        gradebook.engine.dispose()
    return elapsed


def time_ledger(writes: int, repeats: int, grading_cpu: float) -> None:
    results: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    for _ in range(repeats):  # interleaved: both modes see the same load of the shared machine
        for mode in ("off", "on"):
            output = subprocess.run(
                [sys.executable, __file__, "--write-path", mode, "--writes", str(writes)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            results[mode].append((float(output[0]), float(output[1])))
    print(f"ledger on the coordinator's write path ({writes} graded submissions x 10 grades, min of {repeats}):")
    for index, unit in ((1, "CPU"), (0, "wall")):
        off = min(run[index] for run in results["off"]) / writes
        on = min(run[index] for run in results["on"]) / writes
        extra = on - off
        print(
            f"  {unit:>4}: {off * 1000:6.2f} ms a submission without the ledger, {on * 1000:6.2f} ms with it "
            f"(+{extra * 1000:.2f} ms); on a grading run at {grading_cpu:g} CPU-s a notebook: "
            f"+{extra / grading_cpu * 100:.2f} %"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--grading-cpu", type=float, default=0.31)
    parser.add_argument("--write-path", choices=("off", "on"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_path:
        print(*write_path(args.writes, args.write_path == "on"))
        return
    time_extensions(args.students, args.repeats)
    time_ledger(args.writes, args.repeats, args.grading_cpu)


if __name__ == "__main__":
    main()
