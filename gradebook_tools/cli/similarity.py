"""The similarity report: ``similarity`` (ranked pairs, a side-by-side page, review decisions).

Commands start fast: copydetect, nbgrader and the gradebook are imported when the command runs.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from gradebook_tools.cli.registry import EXIT_BAD_INPUT, EXIT_OK, command, course_options
from gradebook_tools.course.errors import EmptyClassError, UnknownNameError


def _similarity_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="assignment (exercise) id")
    parser.add_argument(
        "--past",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a past term's submissions, laid out as DIR/<student>/<assignment>/*.ipynb (repeatable); "
        "its authors are past:<DIR name>/<student>",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="what to print (default: text)")
    parser.add_argument(
        "--out", type=Path, help="the side-by-side page (default: reports/similarity-<assignment>.html)"
    )
    parser.add_argument("--top", type=int, default=100, help="pairs listed and shown side by side (default: 100)")
    parser.add_argument(
        "--mark",
        nargs=3,
        metavar=("A", "B", "DECISION"),
        help="record a review decision on the pair A, B: reviewed, benign or referred (then exit)",
    )
    parser.add_argument("--note", default="", help="with --mark: the reviewer's note")


_ASSIGNMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _printable(text: str) -> str:
    """A student id for the terminal: control characters shown escaped, never sent to it."""
    return text if text.isprintable() else repr(text)


@command(course_options, _similarity_options)
def similarity(args: argparse.Namespace) -> int:
    """Rank students' code by similarity, with a side-by-side page.

    Example: gradebook-tools similarity ex01_response_only_sft --past ../2025/submitted --format json
    """
    if not _ASSIGNMENT_ID.fullmatch(args.assignment):
        # it becomes a folder name and a glob pattern
        print(f"error: {args.assignment!r} is not an assignment id (letters, digits, . _ -)", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.mark:
        return _mark(args)
    from gradebook_tools.similarity.page import write_page
    from gradebook_tools.similarity.report import build_report

    for folder in args.past:
        if not folder.is_dir():
            print(f"error: --past {folder}: not a folder", file=sys.stderr)
            return EXIT_BAD_INPUT
    report = build_report(args.course, args.assignment, args.past, args.db, regions_for=max(args.top, 0))
    if not report.submissions:
        if not any(Path(args.course).glob(f"*/*/{args.assignment}")) and not any(
            Path(args.course).glob(f"*/{args.assignment}")
        ):
            raise UnknownNameError(f"no assignment {args.assignment!r} in {args.course}")
        raise EmptyClassError(f"no readable submission of {args.assignment} to compare")
    out = args.out or Path(args.course) / "reports" / f"similarity-{args.assignment}.html"
    write_page(report, out, top=max(args.top, 0))
    if args.format == "json":
        report.write_json(sys.stdout)
        return EXIT_OK
    from gradebook_tools.cli.text_tables import format_table

    rows = []
    for rank, match in enumerate(report.matches[: max(args.top, 0)], start=1):
        decision = review.decision if (review := report.review(match)) else ""
        rows.append([str(rank), _printable(match.a), _printable(match.b), f"{match.score:.2f}", decision])
    print(f"{len(report.submissions)} authors, {len(report.matches)} pairs share code beyond the release")
    if rows:
        print(format_table(["rank", "a", "b", "score", "decision"], rows, 5))
    print("A match is a reason to look, not a verdict.")
    print(f"page: {out}")
    return EXIT_OK


def _mark(args: argparse.Namespace) -> int:
    from gradebook_tools.course.config import open_course
    from gradebook_tools.gradebook.scores import open_gradebook
    from gradebook_tools.similarity.reviews import DECISIONS, record_review

    a, b, decision = args.mark
    if decision not in DECISIONS or not a or not b or a == b:
        print(f"error: --mark A B DECISION: two different authors and one of {', '.join(DECISIONS)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    engine = open_gradebook(open_course(args.course, args.db).db_url)
    try:
        record_review(engine, args.assignment, a, b, decision, args.note)
    finally:
        engine.dispose()
    print(f"{args.assignment}: {_printable(a)} and {_printable(b)} marked {decision}")
    return EXIT_OK
