"""Benchmark: how long a whole ``gradebook-tools`` process takes, start-up included.

Times, as an instructor's shell would see them (a fresh interpreter each run),
``python -c pass`` for reference, then

- ``gradebook-tools --help``;
- ``table``, ``report`` and ``export --format csv`` on a synthetic class of
  1,000 students x 10 exercises;
- ``table`` on a synthetic class of 10,000 students x 10 exercises;

and prints the minimum and the median of several runs of each, and the median
CPU time (user + system) of the process, which a busy machine does not inflate
the way it inflates wall time, beside the goals of the course's issue (on the 2-core machine, idle: ``--help`` < 0.3 s,
``report`` < 3 s, ``table`` at 10,000 students < 3 s). The synthetic
gradebooks come from ``tests/support/gradebook_factory.py`` (the 10,000-student one
takes a minute or two to build; ``--keep DIR`` builds them once and reuses them).

Run: ``.venv/bin/python benchmarks/bench_startup.py [--runs 5] [--keep build/bench-startup]``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.gradebook_factory import build_synthetic_class  # noqa: E402

#: Goals of the issue, whole process, seconds.
GOALS = {"--help": 0.3, "report (1,000)": 3.0, "table (10,000)": 3.0}


def command_line() -> list[str]:
    """``gradebook-tools`` as installed next to this interpreter, else ``python -m gradebook_tools``."""
    script = Path(sys.executable).parent / "gradebook-tools"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gradebook_tools"]


def class_folder(root: Path, students: int) -> Path:
    """A course folder with the course's config and a synthetic gradebook of ``students``."""
    folder = root / f"class_{students}"
    if not (folder / "gradebook.db").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        build_synthetic_class(folder, students)
        print(
            f"  built a synthetic gradebook of {students:,} students in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    shutil.copy(REPO / "nbgrader_config.py", folder)
    return folder


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_runs(argv: list[str], runs: int, cwd: Path) -> tuple[list[float], list[float]]:
    """Wall and CPU times of ``runs`` whole processes; fails loudly if the command does."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu, started = _children_cpu(), time.perf_counter()
        result = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - cpu)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return walls, cpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default: 5)")
    parser.add_argument("--keep", type=Path, help="build the gradebooks here and reuse them (default: a temp dir)")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_startup_"))
    tools = command_line()
    print("building the synthetic classes", flush=True)
    small, large = class_folder(root, 1000), class_folder(root, 10000)
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"], small),
        ("--help", tools + ["--help"], small),
        ("table (1,000)", tools + ["table"], small),
        ("report (1,000)", tools + ["report", "--out", str(root / "report" / "sections.html")], small),
        ("export (1,000)", tools + ["export", "--format", "csv", "--to", str(root / "grades.csv")], small),
        ("table (10,000)", tools + ["table"], large),
    ]
    print(f"\nwhole-process wall time over {args.runs} runs ({' '.join(tools)}):\n")
    print(f"load average before: {' '.join(f'{load:.1f}' for load in os.getloadavg())} ({os.cpu_count()} cores)\n")
    print(f"{'command':<18}{'min':>9}{'median':>9}{'cpu':>9}   goal (on the median wall time)")
    for name, command, cwd in cases:
        walls, cpus = time_runs(command, args.runs, cwd)
        best, median = min(walls), statistics.median(walls)
        goal = GOALS.get(name)
        verdict = "" if goal is None else f"< {goal:g} s: {'met' if median < goal else 'NOT met'}"
        print(f"{name:<18}{best:>8.3f}s{median:>8.3f}s{statistics.median(cpus):>8.3f}s   {verdict}", flush=True)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
