"""Grading throughput: the project's `grade` command against plain `nbgrader autograde`.

Builds a synthetic class (complete, partly done and blank submissions of every
exercise), grades one copy with `gradebook-tools grade` (sandboxed, and again
with two workers) and another with plain `nbgrader autograde <id>` per exercise
with the sandbox opted out, checks that every score is identical, and prints
the times and ratios. The target: the sandbox costs at most 1.3 times plain
nbgrader.

Example::

    python benchmarks/bench_grading.py --students 50
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gradebook_tools.nbgrader_run import nbgrader_env, run_nbgrader  # noqa: E402
from gradebook_tools.cells import grade_id  # noqa: E402
from gradebook_tools.submissions import fill_answers, solution_code  # noqa: E402


def build_course(root: Path, exercises: list[str], students: int) -> None:
    shutil.copy(REPO / "nbgrader_config.py", root)
    for exercise in exercises:
        shutil.copytree(REPO / "source" / exercise, root / "source" / exercise)
        result = run_nbgrader("generate_assignment", exercise, "--force", cwd=root)
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


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=nbgrader_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 7):
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def all_scores(root: Path) -> dict[tuple[str, str, str], float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {
            (assignment.name, submission.student.id, grade.name): grade.score
            for assignment in gradebook.assignments
            for submission in assignment.submissions
            for notebook in submission.notebooks
            for grade in notebook.grades
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--exercises", type=int, default=10, help="how many of the ten exercises")
    args = parser.parse_args()
    exercises = sorted(p.name for p in (REPO / "source").iterdir() if p.is_dir())[: args.exercises]
    notebooks = args.students * len(exercises)
    with tempfile.TemporaryDirectory() as scratch:
        runs = {name: Path(scratch) / name for name in ("plain", "grade", "grade-2-jobs")}
        for root in runs.values():
            root.mkdir()
            build_course(root, exercises, args.students)
        python = sys.executable
        times = {
            "plain": sum(
                timed([python, "-m", "nbgrader", "autograde", e, "--TrustedExecute.sandbox=False"], runs["plain"])
                for e in exercises
            ),
            "grade": timed([python, "-m", "gradebook_tools", "grade", "--quiet", "--no-feedback"], runs["grade"]),
            "grade-2-jobs": timed(
                [python, "-m", "gradebook_tools", "grade", "--quiet", "--no-feedback", "--jobs", "2"],
                runs["grade-2-jobs"],
            ),
        }
        reference = all_scores(runs["plain"])
        for name in ("grade", "grade-2-jobs"):
            if all_scores(runs[name]) != reference:
                sys.exit(f"scores differ between plain nbgrader and {name}")
    print(f"{args.students} students x {len(exercises)} exercises = {notebooks} notebooks; identical scores")
    print(f"{'run':<36}{'seconds':>9}{'s/notebook':>12}{'vs plain':>10}")
    labels = {
        "plain": "nbgrader autograde, no sandbox",
        "grade": "gradebook-tools grade (sandboxed)",
        "grade-2-jobs": "gradebook-tools grade --jobs 2",
    }
    for name, seconds in times.items():
        print(f"{labels[name]:<36}{seconds:9.1f}{seconds / notebooks:12.2f}{seconds / times['plain']:10.2f}")
    ratio = times["grade"] / times["plain"]
    print(f"sandbox overhead: {ratio:.2f}x plain nbgrader (target <= 1.3x): {'met' if ratio <= 1.3 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
