"""Benchmark: the similarity report of 1,000 students on one exercise (ex01_response_only_sft).

Writes a synthetic class (``tests/similarity/synthetic_class.py``: each
student's cells drawn from six independently written solutions, names renamed
per student, so many pairs share whole functions, the hard case for the
comparison) into a scratch course, then times, as an instructor would run it,
``gradebook-tools similarity ex01_response_only_sft --format json`` (a fresh
process: reading the notebooks, fingerprinting, comparing, the page of the top
100 pairs) and prints wall and CPU time, peak memory, pairs found and the
page's size. CPU time is the figure to compare on a shared machine.

Run: ``.venv/bin/python benchmarks/bench_similarity.py [--students 1000] [--runs 1]``
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.similarity.synthetic_class import EXERCISE, RELEASE, synthetic_solutions, write_class  # noqa: E402


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_memory_mb() -> float:
    """Largest resident set of a finished child process so far (Linux counts KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-similarity-"))
    try:
        course = scratch / "course"
        course.mkdir()
        shutil.copy(REPO / "nbgrader_config.py", course)
        (course / "release" / EXERCISE).mkdir(parents=True)
        shutil.copy(RELEASE, course / "release" / EXERCISE)
        started = time.perf_counter()
        write_class(course / "submitted", synthetic_solutions(args.students))
        print(f"wrote {args.students} synthetic submissions in {time.perf_counter() - started:.1f} s")
        command = [sys.executable, "-m", "gradebook_tools", "similarity", EXERCISE, "--format", "json"]
        for run in range(1, args.runs + 1):
            cpu, started = children_cpu(), time.perf_counter()
            result = subprocess.run(command, cwd=course, capture_output=True, text=True, check=True)
            wall, cpu = time.perf_counter() - started, children_cpu() - cpu
            pairs = json.loads(result.stdout)
            page = course / "reports" / f"similarity-{EXERCISE}.html"
            print(
                f"run {run}: {args.students} students, {len(pairs)} pairs sharing code: "
                f"{wall:.1f} s wall, {cpu:.1f} s CPU, peak memory {peak_memory_mb():.0f} MB; "
                f"page {page.stat().st_size / 1e6:.1f} MB"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
