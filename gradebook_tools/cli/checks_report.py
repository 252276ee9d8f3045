"""``gradebook-tools checks-report``: how strong the hidden checks are against the catalogued mistakes."""

from __future__ import annotations

import argparse

from gradebook_tools.cli.registry import EXIT_OK, command


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("exercise", nargs="?", help="one exercise id (default: every exercise of the course)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")


@command(_report_options)
def checks_report(args: argparse.Namespace) -> int:
    """Print, per hidden check, which catalogued mistakes it catches and which survive it.

    Example: gradebook-tools checks-report ex02_bradley_terry --format json
    """
    import json
    import pkgutil

    from gradebook_tools.course.errors import UnknownNameError
    from gradebook_tools.grading import checks
    from gradebook_tools.grading.mistakes.strength import exercise_strength, render_text

    known = sorted(info.name for info in pkgutil.iter_modules(checks.__path__))
    if args.exercise is not None and args.exercise not in known:
        raise UnknownNameError(f"unknown exercise {args.exercise!r}; the course's checks cover: {', '.join(known)}")
    reports = [exercise_strength(exercise) for exercise in ([args.exercise] if args.exercise else known)]
    if args.format == "json":
        print(json.dumps([report.as_json() for report in reports], indent=2))
    else:
        print(render_text(reports), end="")
    return EXIT_OK
