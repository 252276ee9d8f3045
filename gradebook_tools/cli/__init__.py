"""The ``gradebook-tools`` command line: parses, calls the library, prints.

:mod:`.registry` holds the exit codes and the ``@command`` decorator, :mod:`.main` the parser;
each other module here is one family of commands.
"""

from gradebook_tools.cli.main import main
from gradebook_tools.cli.registry import (
    EXIT_BAD_INPUT,
    EXIT_COURSE_PROBLEM,
    EXIT_EMPTY_CLASS,
    EXIT_NO_GRADEBOOK,
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_UNKNOWN_NAME,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_COURSE_PROBLEM",
    "EXIT_EMPTY_CLASS",
    "EXIT_NO_GRADEBOOK",
    "EXIT_OK",
    "EXIT_SOME_FAILED",
    "EXIT_UNKNOWN_NAME",
    "EXIT_USAGE",
    "main",
]
