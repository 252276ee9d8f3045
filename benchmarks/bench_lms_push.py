"""Benchmark: a grade push of 1,000 students x 10 exercises to the test LTI platform, then one with nothing changed.

Builds the synthetic class of ``tests/support/gradebook_factory.py`` (1,000
students, the course's ten exercises, ~4 % missing submissions, ~5 % of the
explanations still waiting for a grader), starts the test platform of
``tests/lms/platform.py`` on 127.0.0.1 (a thread of this process) with those
students as learners, maps them with ``lms roster --apply``, then times

1. the first push: the token, the line item list, ten line items created, and
   one score request per submission, each recorded in the push log right after
   the platform accepts it;
2. a second push with nothing changed: it must send no score.

Prints the time and the number of HTTP requests of each step. Run:
``.venv/bin/python benchmarks/bench_lms_push.py [--students 1000] [--scores-per-transaction 1]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradebook_tools.course.config import open_course
from gradebook_tools.lms.keys import load_private_key, public_jwks
from gradebook_tools.lms.service import push_grades, sync_roster
from tests.lms.conftest import CLIENT_ID, lti_config, write_key
from tests.lms.platform import Platform, member
from tests.support.gradebook_factory import COURSE_SECTIONS, build_synthetic_class


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument(
        "--scores-per-transaction", type=int, default=1, help="c.LTI.scores_per_transaction (default 1, as shipped)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_lms_") as folder:
        root = Path(folder) / "course"
        secrets = Path(folder) / "secrets"
        root.mkdir()
        secrets.mkdir()
        started = time.perf_counter()
        build_synthetic_class(root, args.students)
        print(f"built the class: {args.students} students x 10 exercises in {time.perf_counter() - started:.1f} s")
        key_file = write_key(secrets)
        members = [
            member(f"u-{number:04d}", f"s{number:04d}", f"First{number:04d}", f"Last{number:04d}")
            for number in range(1, args.students + 1)
        ]
        with Platform(CLIENT_ID, public_jwks(load_private_key(key_file)), members=members, page_size=100) as platform:
            (root / "nbgrader_config.py").write_text(
                f"c = get_config()\nc.CourseSections.sections = {COURSE_SECTIONS!r}\n" + lti_config(platform, key_file),
                encoding="utf-8",
            )
            course = open_course(root)
            started = time.perf_counter()
            result = sync_roster(course, apply=True)
            print(
                f"roster: {len(result.diff.learners)} learners mapped in {time.perf_counter() - started:.1f} s, "
                f"{len(platform.received)} requests"
            )
            for label in ("first push", "second push, nothing changed"):
                before_requests, before_scores = len(platform.received), platform.score_posts()
                started = time.perf_counter()
                report, requests = push_grades(course)
                elapsed = time.perf_counter() - started
                scores = platform.score_posts() - before_scores
                print(
                    f"{label}: {elapsed:.1f} s, {requests} HTTP requests ({len(platform.received) - before_requests} "
                    f"received), {scores} scores sent ({scores / elapsed:.0f}/s), {report.unchanged} unchanged, "
                    f"{len(report.created)} line items created, {len(report.rejected)} refused"
                )
            pending = sum(1 for doc in platform.final_scores().values() if doc["gradingProgress"] == "PendingManual")
            print(f"the platform holds {len(platform.final_scores())} scores ({pending} PendingManual)")
            if report.sent:
                print("FAIL: the second push sent scores")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
