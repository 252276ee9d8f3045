"""The ``gradebook-tools`` command line: parses, calls the library, prints."""

from gradebook_tools.cli.commands import main

__all__ = ["main"]
