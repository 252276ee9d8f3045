"""``gradebook-tools``: builds the parser from every registered command, runs one, maps errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys

from gradebook_tools.cli.registry import (
    COMMANDS,
    EXIT_BAD_INPUT,
    EXIT_COURSE_PROBLEM,
    EXIT_EMPTY_CLASS,
    EXIT_NO_GRADEBOOK,
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_UNKNOWN_NAME,
    EXIT_USAGE,
)
from gradebook_tools.course.errors import EmptyClassError, GradebookError, RosterError, UnknownNameError

#: The modules whose ``@command`` functions make up the command line, in the order of ``--help``.
COMMAND_MODULES = (
    "gradebook_tools.cli.commands",
    "gradebook_tools.cli.lms",
    "gradebook_tools.cli.calendar",
    "gradebook_tools.cli.similarity",
    "gradebook_tools.cli.checks_report",
)


def build_parser() -> argparse.ArgumentParser:
    for name in COMMAND_MODULES:
        importlib.import_module(name)
    parser = argparse.ArgumentParser(
        prog="gradebook-tools",
        description="The instructor's view of the nbgrader gradebook, per curriculum and class section.",
        epilog=f"exit codes: {EXIT_OK} ok, {EXIT_USAGE} usage, {EXIT_NO_GRADEBOOK} gradebook missing or "
        f"not nbgrader's, {EXIT_UNKNOWN_NAME} unknown assignment/section/student, "
        f"{EXIT_EMPTY_CLASS} empty class, {EXIT_BAD_INPUT} unreadable roster or refused roster rows, "
        f"{EXIT_SOME_FAILED} some submissions could not be graded, "
        f"{EXIT_COURSE_PROBLEM} the course's set-up stopped grading",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, cmd in COMMANDS.items():
        summary, _, example = (cmd.run.__doc__ or "").strip().partition("\n")
        sub = subparsers.add_parser(
            name,
            help=summary,
            description=f"{summary}\n\n{example.strip()}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for add_arguments in cmd.arguments:
            add_arguments(sub)
        sub.set_defaults(run=cmd.run)
    return parser


#: Library errors -> exit code; the message is printed as it is.
ERROR_EXIT_CODES: list[tuple[type[Exception], int]] = [
    (GradebookError, EXIT_NO_GRADEBOOK),
    (UnknownNameError, EXIT_UNKNOWN_NAME),
    (EmptyClassError, EXIT_EMPTY_CLASS),
    (RosterError, EXIT_BAD_INPUT),
]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except tuple(error for error, _ in ERROR_EXIT_CODES) as error:
        code = next(code for kind, code in ERROR_EXIT_CODES if isinstance(error, kind))
        print(f"error: {error}", file=sys.stderr)
        return code
    except BrokenPipeError:  # `gradebook-tools table | head`
        return EXIT_OK
