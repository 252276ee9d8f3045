"""Grading throughput: `gradebook-tools grade` against the plain nbgrader way, side by side.

Builds a synthetic class (complete, partly done and blank submissions of every
exercise) in identical course copies, then grades and writes feedback:

- plain: `nbgrader autograde <id> --TrustedExecute.sandbox=False` then
  `nbgrader generate_feedback <id>`, per exercise, as an instructor runs it;
- grade: `gradebook-tools grade` with the full sandbox, out of the box (one
  task per submission, as many at once as the machine has cores, and one).

- with ``--baseline REV``, both ways again with an earlier commit's code,
  course and checks, run from an archive of that commit, so a change's cost
  (and the ratio before it) is measured beside today's in the same run;
  ``--ways`` picks a subset.

It checks that every score is identical between plain and grade, and prints wall
time, the ratio, and CPU-seconds per notebook counted by a cgroup around each run
(processes inside bubblewrap escape getrusage). Repeats give min and median (the
machine is shared). Target: grade >= 8x faster than plain on 50 students x 10
exercises.

Example::

    python benchmarks/bench_grading.py --students 50 --repeats 1 --baseline 9ee9a1c
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

from cgroup_cpu import Measurement, measure  # noqa: E402

from gradebook_tools.course.cells import grade_id  # noqa: E402
from gradebook_tools.course.config import load_course_sections  # noqa: E402
from gradebook_tools.course.nbgrader_run import nbgrader_env  # noqa: E402
from gradebook_tools.course.submissions import fill_answers, solution_code  # noqa: E402


def build_course(root: Path, exercises: list[str], students: int, code: Path = REPO) -> None:
    """A course of ``code``'s exercises and config, with a synthetic class submitted."""
    root.mkdir()
    shutil.copy(code / "nbgrader_config.py", root)
    env = code_env(code)
    for exercise in exercises:
        shutil.copytree(code / "source" / exercise, root / "source" / exercise)
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", exercise, "--force"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            sys.exit(result.stderr)
        release = nbformat.read(root / "release" / exercise / f"{exercise}.ipynb", as_version=4)
        solution = solution_code(nbformat.read(root / "source" / exercise / f"{exercise}.ipynb", as_version=4))
        functions = [grade_id(c) for c in release.cells if grade_id(c) in solution and grade_id(c) != "explanation"]
        for number in range(students):
            kind = number % 5  # 3 complete, 1 partly done, 1 blank in every 5
            answers = {} if kind == 4 else dict(solution)
            if kind == 3:
                answers.pop(functions[-1])
            folder = root / "submitted" / f"student{number:03d}" / exercise
            folder.mkdir(parents=True)
            nbformat.write(fill_answers(release, answers), folder / f"{exercise}.ipynb")


def all_scores(root: Path) -> dict[tuple[str, str, str], float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {
            (assignment.name, submission.student.id, grade.name): grade.score
            for assignment in gradebook.assignments
            for submission in assignment.submissions
            for notebook in submission.notebooks
            for grade in notebook.grades
        }


def code_env(code: Path) -> dict[str, str]:
    """nbgrader's environment with ``code``'s gradebook_tools first on the path."""
    return dict(nbgrader_env(), PYTHONPATH=os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")])))


def plain_run(root: Path, exercises: list[str], code: Path = REPO) -> Measurement:
    python, total = sys.executable, Measurement(0.0, 0.0)
    for exercise in exercises:
        for command in (["autograde", exercise, "--TrustedExecute.sandbox=False"], ["generate_feedback", exercise]):
            step = measure([python, "-m", "nbgrader", *command], root, code_env(code))
            total = Measurement(total.wall + step.wall, total.cpu + step.cpu)
    return total


def grade_run(root: Path, code: Path = REPO) -> Measurement:
    return measure([sys.executable, "-m", "gradebook_tools", "grade", "--quiet"], root, code_env(code), (0, 7))


def unpack(revision: str, into: Path) -> Path:
    """The tree of ``revision`` of this repository, unpacked (no .git) under ``into``."""
    into.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--exercises", type=int, default=10, help="how many of the course's exercises")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each way (min and median)")
    parser.add_argument("--baseline", metavar="REV", help="also grade with this earlier commit's code and course")
    parser.add_argument(
        "--ways",
        help="comma-separated subset of plain, grade, plain@base, grade@base (default: all; @base needs --baseline)",
    )
    args = parser.parse_args()
    sections = load_course_sections(REPO).sections
    exercises = [e for section in sections.values() for e in section][: args.exercises]
    notebooks = args.students * len(exercises)
    ways = ["plain", "grade"] + (["plain@base", "grade@base"] if args.baseline else [])
    if args.ways:
        chosen = args.ways.split(",")
        if unknown := set(chosen) - set(ways):
            parser.error(f"unknown or unavailable ways: {', '.join(sorted(unknown))}")
        ways = [way for way in ways if way in chosen]
    runs: dict[str, list[Measurement]] = {way: [] for way in ways}
    with tempfile.TemporaryDirectory() as scratch:
        baseline = unpack(args.baseline, Path(scratch) / "baseline-code") if args.baseline else None
        for repeat in range(args.repeats):
            for way in ways:
                kind, code = way.split("@")[0], baseline if way.endswith("@base") else REPO
                root = Path(scratch) / f"{way}-{repeat}"
                build_course(root, exercises, args.students, code)
                runs[way].append(plain_run(root, exercises, code) if kind == "plain" else grade_run(root, code))
                twin = Path(scratch) / f"{way.replace('grade', 'plain')}-{repeat}"
                if kind == "grade" and twin.exists() and all_scores(root) != all_scores(twin):
                    sys.exit(f"scores differ between plain nbgrader and gradebook-tools grade ({way})")
                shutil.rmtree(root / "autograded", ignore_errors=True)
    print(
        f"{args.students} students x {len(exercises)} exercises = {notebooks} notebooks, grades and feedback; "
        f"scores identical between plain and grade of the same code; {args.repeats} run(s) each"
    )
    print(f"{'way':<62}{'wall min':>10}{'median':>9}{'CPU-s/notebook':>16}")
    labels = {
        "plain": "nbgrader autograde + generate_feedback, no sandbox",
        "grade": "gradebook-tools grade (sandboxed, default workers)",
        "plain@base": f"nbgrader autograde + generate_feedback at {args.baseline}",
        "grade@base": f"gradebook-tools grade at {args.baseline}",
    }
    best = {way: min(measured, key=lambda m: m.wall) for way, measured in runs.items()}
    for way, measured in runs.items():
        walls = [m.wall for m in measured]
        cpu = min(m.cpu for m in measured) / notebooks
        print(f"{labels[way]:<62}{min(walls):10.1f}{statistics.median(walls):9.1f}{cpu:16.2f}")
    for suffix, name in (("", "today"), ("@base", args.baseline)):
        if f"plain{suffix}" in best and f"grade{suffix}" in best:
            ratio = best[f"plain{suffix}"].wall / best[f"grade{suffix}"].wall
            print(f"grade is {ratio:.1f}x faster than plain nbgrader ({name}; target >= 8x)")
    if "grade" in best and "grade@base" in best:
        wall = best["grade"].wall / best["grade@base"].wall - 1
        cpu = min(m.cpu for m in runs["grade"]) / min(m.cpu for m in runs["grade@base"]) - 1
        print(f"grade against {args.baseline}: wall {wall:+.1%}, CPU {cpu:+.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
