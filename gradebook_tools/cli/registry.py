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
from typing import Any

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


def course_options(parser: argparse.ArgumentParser, *, below_command: bool = False) -> None:
    """``--course`` and ``--db``.

    Parameters
    ----------
    parser
        A command's parser, or (``below_command``) the parser of one of its actions.
    below_command
        On an action's parser (``calendar set``) the options carry no default of their own:
        argparse copies every value of an action's parser, defaults included, over what the
        command's parser already read, so ``calendar --course X set`` would lose ``X``. The
        command's parser holds the defaults; either position then works.
    """
    parser.add_argument(
        "--course",
        default=argparse.SUPPRESS if below_command else ".",
        type=Path,
        help="course folder holding nbgrader_config.py (default: .)",
    )
    parser.add_argument(
        "--db",
        default=argparse.SUPPRESS if below_command else None,
        help="gradebook URL or SQLite path (default: nbgrader's, CourseDirectory.db_url or <course>/gradebook.db)",
    )


def add_actions(
    parser: argparse.ArgumentParser, dest: str, required: bool = False
) -> Callable[..., argparse.ArgumentParser]:
    """The actions of a command (``calendar set``, ``extension grant``): a function that adds one.

    Each action's parser takes the course options too, without defaults of its own
    (:func:`course_options`), so they may come before or after the action's name.
    The command itself must register :func:`course_options`.

    Returns
    -------
    callable
        ``add(name, **add_parser_arguments)``, returning the action's parser.
    """
    actions = parser.add_subparsers(dest=dest, metavar="ACTION", required=required)

    def add(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        action: argparse.ArgumentParser = actions.add_parser(name, **kwargs)
        course_options(action, below_command=True)
        return action

    return add


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
