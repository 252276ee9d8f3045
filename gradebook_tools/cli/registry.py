"""The command line's registry: exit codes, the ``@command`` decorator and the options commands share.

Each module of :mod:`gradebook_tools.cli` that defines commands registers them here when
:mod:`gradebook_tools.cli.main` imports it; a command is one function whose docstring's first
line is its one-line help and the rest (an example) its description.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Exit codes: what went wrong, for scripts.
EXIT_OK = 0
EXIT_USAGE = 2  # argparse's own
EXIT_NO_GRADEBOOK = 3
EXIT_UNKNOWN_NAME = 4
EXIT_EMPTY_CLASS = 5
EXIT_BAD_INPUT = 6
EXIT_SOME_FAILED = 7  # grade: some submissions could not be graded (each has a recorded reason)
EXIT_COURSE_PROBLEM = 8  # grade: the course's set-up (config, gradebook, release, tools) stopped grading

DEFAULT_REPORT = "reports/sections.html"


@dataclass(frozen=True)
class Command:
    name: str
    run: Callable[[argparse.Namespace], int]
    arguments: tuple[Callable[[argparse.ArgumentParser], None], ...]


COMMANDS: dict[str, Command] = {}


#: A command: parsed arguments in, exit code out.
Run = Callable[[argparse.Namespace], int]


def command(*arguments: Callable[[argparse.ArgumentParser], None]) -> Callable[[Run], Run]:
    """Register a subcommand named after the function (``_`` becomes ``-``).

    Parameters
    ----------
    arguments
        Functions that add options to the subcommand's parser.
    """

    def register(run: Run) -> Run:
        name = run.__name__.rstrip("_").replace("_", "-")
        COMMANDS[name] = Command(name, run, arguments)
        return run

    return register


def course_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--course", default=".", type=Path, help="course folder holding nbgrader_config.py (default: .)"
    )
    parser.add_argument(
        "--db",
        help="gradebook URL or SQLite path (default: nbgrader's, CourseDirectory.db_url or <course>/gradebook.db)",
    )


def roster_option(parser: argparse.ArgumentParser) -> None:
    # every command that reads a class takes the roster option, and the calendar's scope
    parser.add_argument(
        "--whole-term",
        action="store_true",
        help="count every exercise of the gradebook (default: only those the calendar has handed out so far)",
    )
    parser.add_argument(
        "--roster",
        type=Path,
        help="roster CSV (student_id,class_section[,first_name,last_name,email]) read instead of "
        "the one imported with `roster import`",
    )


def filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--section", help="only this curriculum section")
    parser.add_argument("--student", action="append", help="only this student (repeatable)")


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
