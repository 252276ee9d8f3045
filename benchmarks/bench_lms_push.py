"""Benchmark: a grade push of 1,000 students x 10 exercises to the test LTI platform, then one with nothing changed.

Builds the synthetic class of ``tests/support/gradebook_factory.py`` (1,000
students, the course's ten exercises, ~4 % missing submissions, ~5 % of the
explanations still waiting for a grader), starts the test platform of
``tests/lms/platform.py`` on 127.0.0.1 (a process of its own) with those
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
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gradebook_tools.course.config import open_course
from gradebook_tools.lms.keys import load_private_key, public_jwks
from gradebook_tools.lms.service import push_grades, sync_roster
from tests.lms.conftest import CLIENT_ID, lti_config, write_key
from tests.lms.platform import member
from tests.support.gradebook_factory import COURSE_SECTIONS, build_synthetic_class


def start_platform(folder: Path, key_file: Path, members: list[dict]) -> tuple[subprocess.Popen, SimpleNamespace]:
    """The test platform in a process of its own, so that its work does not slow the tool's process."""
    (folder / "jwks.json").write_text(json.dumps(public_jwks(load_private_key(key_file))), encoding="utf-8")
    (folder / "members.json").write_text(json.dumps(members), encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.lms.platform",
            CLIENT_ID,
            str(folder / "jwks.json"),
            str(folder / "members.json"),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, SimpleNamespace(**json.loads(process.stdout.readline()))


def stats(platform: SimpleNamespace) -> dict[str, int]:
    return httpx.get(f"{platform.url}/_test/stats").json()


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
        process, platform = start_platform(Path(folder), key_file, members)
        try:
            (root / "nbgrader_config.py").write_text(
                f"c = get_config()\nc.CourseSections.sections = {COURSE_SECTIONS!r}\n"
                + lti_config(platform, key_file, scores_per_transaction=args.scores_per_transaction),
                encoding="utf-8",
            )
            course = open_course(root)
            started = time.perf_counter()
            result = sync_roster(course, apply=True)
            print(
                f"roster: {len(result.diff.learners)} learners mapped in {time.perf_counter() - started:.1f} s, "
                f"{stats(platform)['received']} requests"
            )
            for label in ("first push", "second push, nothing changed"):
                before = stats(platform)
                started = time.perf_counter()
                report, requests = push_grades(course)
                elapsed = time.perf_counter() - started
                after = stats(platform)
                scores = after["score_posts"] - before["score_posts"]
                print(
                    f"{label} ({args.scores_per_transaction} score(s) per transaction): {elapsed:.1f} s, "
                    f"{requests} HTTP requests ({after['received'] - before['received'] - 1} received), "
                    f"{scores} scores sent ({scores / elapsed:.0f}/s), {report.unchanged} unchanged, "
                    f"{len(report.created)} line items created, {len(report.rejected)} refused"
                )
            final = stats(platform)
            print(
                f"the platform holds {final['scores_held']} scores ({final['pending_manual']} PendingManual) "
                f"in {final['line_items']} line items"
            )
            if report.sent:
                print("FAIL: the second push sent scores")
                return 1
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
