"""Benchmark: the per-section report against ``nbgrader export`` as the class grows.

Builds synthetic gradebooks of 100, 300 and 1,000 students x 10 assignments
(through nbgrader's models, see ``tests/support/gradebook_factory.py``), then times in
the same run

- the per-section report: open the gradebook, read every score with the
  aggregate queries of :mod:`gradebook_tools.gradebook.scores`, build the per-section
  table and render it for the terminal (the ``table`` command without the
  interpreter start-up);
- nbgrader's own export (``CsvExportPlugin``, what ``nbgrader export`` runs),
  up to 300 students (it takes minutes beyond);

and checks that every student's total is identical in both. Prints the times,
the ratio, and how each grows with the class (the exponent k of time ~ n^k
between two sizes).

Why nbgrader's export is slow (cProfile on 300 students, 53 s in all): for
each of the 3,000 (assignment, student) pairs it runs ``find_submission`` (9 s)
and then reads ``submission.score`` and ``submission.late_submission_penalty``,
deferred column properties that each issue one more query, a correlated
subquery summing the ``grade`` table: 5,744 such loads, 43 s, of which 36 s in
SQLite itself. SQLite answers each by scanning ``grade`` (``EXPLAIN QUERY
PLAN``: ``SCAN grade``; its only index is ``UNIQUE (cell_id, notebook_id)``,
useless for ``notebook_id`` alone), so the cost per pair grows with the class
and the whole export with about the square of the class size. The report
instead runs four grouped queries whatever the class size.

Run: ``.venv/bin/python benchmarks/bench_sections.py [--sizes 100 300 1000] [--export-up-to 300]``
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradebook_tools.cli.text_tables import render_section_table  # noqa: E402
from gradebook_tools.course.config import CourseSections  # noqa: E402
from gradebook_tools.gradebook.scores import open_gradebook, read_class_scores  # noqa: E402
from gradebook_tools.gradebook.sections import section_table  # noqa: E402
from tests.support.gradebook_factory import COURSE_SECTIONS, build_synthetic_class, gradebook_url  # noqa: E402

#: Targets of the project's issue.
TARGET_RATIO_AT_300 = 50.0
TARGET_SECONDS_AT_1000 = 2.0


def time_section_report(db_url: str, repeats: int = 5) -> tuple[float, dict[str, float]]:
    """Best of ``repeats`` wall times of the per-section report, and the totals it found."""
    course = CourseSections(sections=COURSE_SECTIONS)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        engine = open_gradebook(db_url)
        table = section_table(read_class_scores(engine), course)
        render_section_table(table)
        engine.dispose()
        best = min(best, time.perf_counter() - start)
    return best, {row.student.id: row.overall.points for row in table.rows}


def time_nbgrader_export(db_url: str, folder: Path) -> tuple[float, dict[str, float]]:
    """Wall time of nbgrader's CSV export, and every student's total from its CSV."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    destination = folder / "grades.csv"
    start = time.perf_counter()
    with Gradebook(db_url) as gradebook:
        CsvExportPlugin(to=str(destination)).export(gradebook)
    elapsed = time.perf_counter() - start
    totals: dict[str, float] = defaultdict(float)
    with open(destination, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            totals[row["student_id"]] += float(row["score"])
    return elapsed, dict(totals)


def growth(times: dict[int, float]) -> str:
    """Exponent k of time ~ n^k between consecutive sizes."""
    sizes = sorted(times)
    return (
        ", ".join(
            f"{a}->{b}: k={math.log(times[b] / times[a]) / math.log(b / a):.2f}"
            for a, b in zip(sizes, sizes[1:], strict=False)
        )
        or "(one size)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument(
        "--export-up-to", type=int, default=300, help="time nbgrader export only up to this many students"
    )
    args = parser.parse_args(argv)

    ours: dict[int, float] = {}
    theirs: dict[int, float] = {}
    totals_equal = True
    print(f"{'students':>8}  {'build s':>8}  {'report s':>9}  {'nbgrader export s':>18}  {'ratio':>7}  totals")
    with tempfile.TemporaryDirectory(prefix="bench_sections_") as tmp:
        for size in args.sizes:
            folder = Path(tmp) / f"class_{size}"
            folder.mkdir()
            start = time.perf_counter()
            build_synthetic_class(folder, size, seed=size)
            built = time.perf_counter() - start
            db_url = gradebook_url(folder)
            ours[size], our_totals = time_section_report(db_url)
            line = f"{size:>8}  {built:>8.1f}  {ours[size]:>9.3f}"
            if size <= args.export_up_to:
                theirs[size], nbgrader_totals = time_nbgrader_export(db_url, folder)
                same = our_totals.keys() == nbgrader_totals.keys() and all(
                    math.isclose(our_totals[s], nbgrader_totals[s], abs_tol=1e-9) for s in our_totals
                )
                totals_equal &= same
                line += (
                    f"  {theirs[size]:>18.2f}  {theirs[size] / ours[size]:>6.0f}x"
                    f"  {'identical' if same else 'DIFFERENT'}"
                )
            else:
                line += f"  {'(skipped)':>18}  {'':>7}"
            print(line, flush=True)

    print(f"\ngrowth of the per-section report: {growth(ours)}")
    print(f"growth of nbgrader export:        {growth(theirs)}")
    verdicts = [("totals identical to nbgrader export", totals_equal)]
    if 300 in ours and 300 in theirs:
        verdicts.append(
            (
                f"at least {TARGET_RATIO_AT_300:g}x faster than nbgrader export at 300 students "
                f"({theirs[300] / ours[300]:.0f}x)",
                theirs[300] / ours[300] >= TARGET_RATIO_AT_300,
            )
        )
    if 1000 in ours:
        verdicts.append(
            (
                f"under {TARGET_SECONDS_AT_1000:g} s at 1,000 students ({ours[1000]:.3f} s)",
                ours[1000] < TARGET_SECONDS_AT_1000,
            )
        )
    for text, met in verdicts:
        print(f"{'met' if met else 'MISSED'}: {text}")
    return 0 if all(met for _, met in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
