"""The course's calendar and ledger: ``calendar``, ``extension``, ``history``.

Commands start fast: nbgrader and the gradebook modules are imported when a command runs.
"""

from __future__ import annotations

import argparse

from gradebook_tools.cli.registry import EXIT_OK, command, course_options


def _course_db(args: argparse.Namespace) -> str:
    from gradebook_tools.course.config import open_course

    return open_course(args.course, args.db).db_url


# ---------------------------------------------------------------- history


def _history_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--student", help="only this student's changes")
    parser.add_argument("--assignment", help="only this assignment's changes")
    parser.add_argument("--format", choices=("text", "csv", "json"), default="text", help="output format")


@command(course_options, _history_options)
def history(args: argparse.Namespace) -> int:
    """Every score change recorded in the gradebook's ledger: when, who, student, assignment, cell, old, new, why.

    Example: gradebook-tools history --student ada --format csv
    """
    from gradebook_tools.gradebook.ledger import read_ledger
    from gradebook_tools.gradebook.scores import open_gradebook

    engine = open_gradebook(_course_db(args))
    try:
        entries = read_ledger(engine, student=args.student, assignment=args.assignment)
    finally:
        engine.dispose()
    print(render_history(entries, args.format), end="")
    return EXIT_OK


def render_history(entries: list, output_format: str) -> str:
    """The ledger's entries as text, CSV (neutralized for spreadsheets) or JSON."""
    import csv
    import io
    import json

    from gradebook_tools.gradebook.ledger import PUBLIC_KEYS

    public = [entry.public() for entry in entries]
    if output_format == "json":
        return json.dumps(public, indent=2) + "\n"
    if output_format == "csv":
        from gradebook_tools.exports.formats import spreadsheet_safe

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(PUBLIC_KEYS)
        for row in public:
            writer.writerow([spreadsheet_safe(_shown(row[key])) for key in PUBLIC_KEYS])
        return out.getvalue()
    from gradebook_tools.cli.text_tables import format_table

    if not public:
        return "the ledger holds no change yet\n"
    rows = [[_shown(row[key]) for key in PUBLIC_KEYS] for row in public]
    return format_table(list(PUBLIC_KEYS), rows, text_columns=len(PUBLIC_KEYS)) + "\n"


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("\n", " ")
