"""The course's commands: reading the gradebook (table, groups, items, export, roster, report) and grading.

Every command is one function registered with :func:`~gradebook_tools.cli.registry.command`.

Commands start fast: this module imports only the standard library and
:mod:`gradebook_tools.course.errors` at the top; each command imports what it needs
(nbgrader, matplotlib, the grading engine) when it runs, so that ``--help``
and the reading commands do not pay for them (``tests/cli/test_startup.py``,
``benchmarks/bench_startup.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gradebook_tools.cli.registry import (
    DEFAULT_REPORT,
    EXIT_BAD_INPUT,
    EXIT_COURSE_PROBLEM,
    EXIT_OK,
    EXIT_SOME_FAILED,
    command,
    course_options,
    filter_options,
    roster_option,
    warn,
)
from gradebook_tools.course.errors import GradebookError, RosterError, UnknownNameError

if TYPE_CHECKING:
    from gradebook_tools.gradebook.class_data import ClassData
    from gradebook_tools.gradebook.items import ItemStats
    from gradebook_tools.gradebook.sections import SectionTable


# ---------------------------------------------------------------- loading


def load_class(args: argparse.Namespace) -> ClassData:
    """The course's sections, the gradebook's scores and the roster.

    See :func:`gradebook_tools.gradebook.class_data.load_class`.
    """
    from gradebook_tools.gradebook.class_data import load_class as load

    whole_term = getattr(args, "whole_term", False)
    return load(args.course, args.db, getattr(args, "roster", None), warn=warn, whole_term=whole_term)


def build_table(args: argparse.Namespace, data: ClassData) -> SectionTable:
    from gradebook_tools.gradebook.sections import only_section, section_table

    table = section_table(data.scores, data.course, getattr(args, "student", None))
    if table.not_in_gradebook:
        warn(f"configured but not in the gradebook yet: {', '.join(table.not_in_gradebook)}")
    if getattr(args, "section", None):
        table = only_section(table, args.section)
    return table


def item_analysis(data: ClassData, table: SectionTable, assignments: list[str]) -> list[ItemStats]:
    """Item statistics of some assignments, students ranked by their total in ``table``."""
    from gradebook_tools.gradebook.items import analyse_items
    from gradebook_tools.gradebook.scores import read_cell_grades

    totals = {row.student.id: row.overall.points for row in table.rows}
    return analyse_items(read_cell_grades(data.engine), totals, assignments)


# ---------------------------------------------------------------- commands


@command(course_options, filter_options, roster_option)
def table(args: argparse.Namespace) -> int:
    """Print points and percentage per student and curriculum section.

    Example: gradebook-tools table --section mechanics --roster roster.csv
    """
    from gradebook_tools.cli.text_tables import render_section_table

    data = load_class(args)
    print(render_section_table(build_table(args, data), data.class_section_of))
    return EXIT_OK


@command(course_options, roster_option)
def groups(args: argparse.Namespace) -> int:
    """Print n, mean, median, sd per class and curriculum section.

    Example: gradebook-tools groups --roster roster.csv
    """
    from gradebook_tools.cli.text_tables import render_group_summaries
    from gradebook_tools.gradebook.sections import OVERALL, WHOLE_CLASS, group_summaries

    data = load_class(args)
    if data.class_section_of is None:
        warn("no roster imported and no --roster given: the whole class is one group")
    table_ = build_table(args, data)
    summaries = group_summaries(table_, data.class_section_of or {})
    if data.class_section_of is None:
        summaries = {WHOLE_CLASS: summaries[WHOLE_CLASS]}
    print(render_group_summaries(summaries, table_.section_names + [OVERALL]))
    return EXIT_OK


def _item_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable)")


@command(course_options, _item_options)
def items(args: argparse.Namespace) -> int:
    """Print the item analysis per exercise and graded test cell.

    Example: gradebook-tools items --assignment ex02_bradley_terry
    """
    from gradebook_tools.cli.text_tables import render_items

    data = load_class(args)
    names = data.scores.assignment_names
    if args.assignment:
        unknown = [name for name in args.assignment if name not in names]
        if unknown:
            raise UnknownNameError(
                f"unknown assignment(s): {', '.join(unknown)}; the gradebook has: {', '.join(names)}"
            )
        names = [name for name in names if name in args.assignment]
    print(render_items(item_analysis(data, build_table(args, data), names)))
    return EXIT_OK


def _export_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=["csv", "canvas", "json"],
        default="csv",
        help="csv: per-section table; canvas: Canvas gradebook import; json: for scripts",
    )
    parser.add_argument("--to", default="-", help="output file (default: standard output)")


@command(course_options, filter_options, roster_option, _export_options)
def export(args: argparse.Namespace) -> int:
    """Write the per-section table as CSV, Canvas CSV or JSON.

    Example: gradebook-tools export --format canvas --roster roster.csv --to canvas.csv
    """
    from gradebook_tools.exports import formats as exports

    data = load_class(args)
    table_ = build_table(args, data)
    out = sys.stdout if args.to == "-" else open(args.to, "w", encoding="utf-8", newline="")
    try:
        if args.format == "csv":
            exports.write_section_csv(table_, out, data.class_section_of)
        elif args.format == "canvas":
            exports.write_canvas_csv(table_, out, data.class_section_of)
        else:
            exports.write_json(_json_data(table_, data), out)
    finally:
        if out is not sys.stdout:
            out.close()
    if out is not sys.stdout:
        print(f"wrote {args.to}", file=sys.stderr)
    return EXIT_OK


def _json_data(table_: SectionTable, data: ClassData) -> dict:
    from gradebook_tools.exports.formats import table_json
    from gradebook_tools.gradebook.sections import group_summaries

    return table_json(
        table_,
        data.class_section_of,
        group_summaries(table_, data.class_section_of or {}),
        item_analysis(data, table_, data.scores.assignment_names),
    )


def _roster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["import", "show"],
        help="import: add or update the file's students in the gradebook; "
        "show: list the students as the gradebook has them",
    )
    parser.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="roster CSV for import: student_id,class_section[,first_name,last_name,email,lms_user_id]",
    )


@command(course_options, _roster_options)
def roster(args: argparse.Namespace) -> int:
    """Import the class roster into the gradebook, or list it.

    Example: gradebook-tools roster import roster.csv   (again after any change: it is idempotent)
    """
    from gradebook_tools.cli.text_tables import format_table
    from gradebook_tools.course.config import open_course
    from gradebook_tools.gradebook.roster import read_roster
    from gradebook_tools.gradebook.roster_store import import_roster, read_class_sections
    from gradebook_tools.gradebook.scores import open_gradebook, read_students

    course = open_course(args.course, args.db)
    db_url = course.db_url
    if args.action == "show":
        engine = open_gradebook(db_url)
        with engine.connect() as connection:
            students = read_students(connection)
        sections = read_class_sections(engine) or {}
        rows = [[s.id, s.last_name, s.first_name, s.email, sections.get(s.id, "")] for s in students]
        print(format_table(["student", "last name", "first name", "email", "class section"], rows, 5))
        print(f"{len(rows)} students")
        return EXIT_OK
    if args.file is None:
        raise RosterError("roster import needs the roster file: gradebook-tools roster import roster.csv")
    if not args.db and not (args.course / "nbgrader_config.py").is_file():
        raise GradebookError(
            f"{args.course.resolve()} is not a course folder (no nbgrader_config.py): "
            "run in the course root, or pass --course or --db"
        )
    parsed = read_roster(args.file)
    for message in parsed.messages:
        print(message)
    report = import_roster(parsed, db_url, course.course_id)
    bad = len(parsed.messages)
    print(
        f"imported {args.file}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged" + (f"; {bad} bad row(s) not imported (listed above)" if bad else "")
    )
    if report.not_on_roster:
        print(
            f"{len(report.not_on_roster)} gradebook student(s) not on the roster (kept): "
            f"{', '.join(report.not_on_roster)}"
        )
    return EXIT_BAD_INPUT if bad else EXIT_OK


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"HTML file to write (default: <course>/{DEFAULT_REPORT}); PNG plots go next to it",
    )


@command(course_options, roster_option, _report_options)
def report(args: argparse.Namespace) -> int:
    """Print the per-section table, write the HTML report and plots.

    Example: gradebook-tools report --roster roster.csv --out reports/sections.html
    """
    from gradebook_tools.cli.text_tables import render_section_table
    from gradebook_tools.pages.report import write_report

    data = load_class(args)
    table_ = build_table(args, data)
    print(render_section_table(table_, data.class_section_of))
    items_ = item_analysis(data, table_, data.scores.assignment_names)
    written = write_report(args.out or args.course / DEFAULT_REPORT, table_, items_, data.class_section_of)
    print(f"\nHTML report: {written.html}")
    print(f"plots: {', '.join(str(path) for path in written.plots)}")
    return EXIT_OK


# ---------------------------------------------------------------- batch grading


def _runner_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs", type=int, default=0, help="submissions graded at once on this machine (default: its cores and one)"
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="grade on a Dask cluster, e.g. tcp://host:8786 (docs/grading_cluster.md)"
    )
    parser.add_argument(
        "--task-timeout",
        type=float,
        default=3600,
        metavar="SECONDS",
        help="stop grading one submission after this long (default: 3600)",
    )


def _grade_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "assignments", nargs="*", metavar="ASSIGNMENT", help="assignments to grade (default: every one in release/)"
    )
    _runner_options(parser)
    parser.add_argument("--force", action="store_true", help="grade again what is unchanged since last time")
    parser.add_argument("--no-feedback", dest="feedback", action="store_false", help="write no feedback pages")
    parser.add_argument("--quiet", action="store_true", help="no progress bar; only problems and the summary")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="grade in a scratch copy and list whose scores would change; change nothing",
    )


def _course_db(args: argparse.Namespace) -> str:
    from gradebook_tools.course.config import open_course

    return open_course(args.course, args.db).db_url


def _grading_runner(args: argparse.Namespace):
    from gradebook_tools.engine.grade_course import make_runner

    return make_runner(args.jobs, args.scheduler, args.task_timeout)


@command(course_options, _grade_options)
def grade(args: argparse.Namespace) -> int:
    """Autograde and give feedback on everything submitted.

    Example: gradebook-tools grade ex01_response_only_sft
    """
    from gradebook_tools.engine.grade_course import CourseProblem, course_root, released_assignments

    try:
        course = course_root(args.course)
    except CourseProblem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_COURSE_PROBLEM
    released_assignments(course, args.assignments)  # an unknown name stops here, before any worker starts
    try:
        runner = _grading_runner(args)  # first: local workers get ready while nbgrader is imported here
    except CourseProblem as problem:
        print(f"error: grading could not start, nothing was recorded: {problem}", file=sys.stderr)
        return EXIT_COURSE_PROBLEM

    from gradebook_tools.cli.text_tables import render_outcomes, render_score_changes
    from gradebook_tools.engine.grade_course import grade_course
    from gradebook_tools.engine.progress import ProgressBar

    bar = None if args.quiet else ProgressBar("grading")
    try:
        run = grade_course(
            course,
            args.db,
            args.assignments,
            runner=runner,
            force=args.force,
            feedback=args.feedback,
            progress=bar.update if bar else None,
            dry_run=args.dry_run,
        )
    except CourseProblem as problem:
        print(
            f"error: the course's set-up stopped grading, nothing was recorded against a student: {problem}",
            file=sys.stderr,
        )
        return EXIT_COURSE_PROBLEM
    finally:
        if bar:
            bar.close()
    if run.changes is not None:
        print(render_outcomes(run.outcomes, quiet=args.quiet))
        print(render_score_changes(run.changes))
        return EXIT_OK
    for assignment in run.added:
        print(f"{assignment}: added to the gradebook from source/ (its release matches)")
    print(render_outcomes(run.outcomes, quiet=args.quiet))
    return EXIT_SOME_FAILED if run.any_failed else EXIT_OK


def _status_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", help="only this assignment")
    parser.add_argument("--problems", action="store_true", help="only submissions with a reason")


@command(course_options, _status_options)
def status(args: argparse.Namespace) -> int:
    """Print the recorded outcome of every submission.

    Example: gradebook-tools status --problems
    """
    from gradebook_tools.cli.text_tables import format_table
    from gradebook_tools.gradebook.outcomes import StatusStore
    from gradebook_tools.gradebook.scores import open_gradebook

    store = StatusStore(open_gradebook(_course_db(args)))
    # submissions the exchange refused (another student's name) are listed beside the outcomes
    records = sorted(
        store.all(args.assignment) + store.refused(args.assignment), key=lambda r: (r.assignment, r.student)
    )
    if args.problems:
        records = [r for r in records if r.reason]
    if not records:
        print("nothing recorded yet (run: gradebook-tools grade)")
        return EXIT_OK
    rows = [[r.assignment, r.student, r.state, r.updated.strftime("%Y-%m-%d %H:%M"), r.reason] for r in records]
    print(format_table(["assignment", "student", "state", "updated", "reason"], rows, 5))
    return EXIT_OK


@command(course_options, _runner_options)
def feedback(args: argparse.Namespace) -> int:
    """Remake the feedback pages whose grades changed since.

    Example: gradebook-tools feedback   (then: nbgrader release_feedback <id>)
    """
    from gradebook_tools.engine.grade_course import CourseProblem, grade_course

    try:
        run = grade_course(args.course, args.db, runner=_grading_runner(args), regrade=False)
    except CourseProblem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_COURSE_PROBLEM
    print(
        f"{run.feedback_refreshed} exercise feedback page(s) regenerated where grades changed "
        f"({len(run.outcomes)} submissions checked); {len(run.summaries)} student summaries written"
    )
    return EXIT_OK
