"""The course's calendar and ledger: ``calendar``, ``extension``, ``history``.

Commands start fast: nbgrader and the gradebook modules are imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from gradebook_tools.cli.registry import EXIT_BAD_INPUT, EXIT_OK, add_actions, command, course_options

if TYPE_CHECKING:
    from gradebook_tools.gradebook.calendar import Calendar
    from gradebook_tools.gradebook.late_policy import CourseLatePenalty


def _course_db(args: argparse.Namespace) -> str:
    from gradebook_tools.course.config import open_course

    return _url(open_course(args.course, args.db).db_url)


def _url(db: str) -> str:
    """A gradebook URL; a plain path is an SQLite file."""
    from pathlib import Path

    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


def _time(text: str):
    from gradebook_tools.gradebook.calendar import parse_time

    try:
        return parse_time(text)
    except (ValueError, OverflowError) as error:
        raise argparse.ArgumentTypeError(f'not a date and time: {text!r} (e.g. "2027-02-01 17:00")') from error


def _dry_run_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="list whose scores would change and by how much; change nothing"
    )


def _apply(args: argparse.Namespace, change, why: str, students=None, assignments=None) -> int:
    """Open the course, make ``change`` and re-apply the late policy; print the score changes."""
    from gradebook_tools.course.config import open_course
    from gradebook_tools.gradebook.extensions import change_calendar, check_names
    from gradebook_tools.gradebook.late_policy import course_policy
    from gradebook_tools.gradebook.scores import open_gradebook

    course = open_course(args.course, args.db)
    db_url = _url(course.db_url)
    open_gradebook(db_url).dispose()  # refuses a missing gradebook before nbgrader would create one
    check_names(db_url, set(students or ()), set(assignments or ()))
    policy = course_policy(course.config)
    changes = change_calendar(
        db_url, course.course_id, policy, change, why, students, assignments, dry_run=args.dry_run
    )
    print(render_changes(changes, args.dry_run))
    return EXIT_OK


def render_changes(changes: list, dry_run: bool) -> str:
    """The score changes of a calendar change, one line a submission."""
    verb = "would change" if dry_run else "changed"
    if not changes:
        return f"no score {verb}" + (" (dry run: nothing was changed)" if dry_run else "")
    lines = [f"{len(changes)} score(s) {verb}:"] + [f"  {change.line()}" for change in changes]
    if dry_run:
        lines.append("dry run: nothing was changed")
    return "\n".join(lines)


# ---------------------------------------------------------------- calendar


def _calendar_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--student", help="this student's own calendar: due dates with extensions, late days")
    action = add_actions(parser, "action")
    setter = action("set", help="set an exercise's due date, opening time, or whether it is assigned")
    setter.add_argument("assignment")
    setter.add_argument("--due", type=_time, help='due date, e.g. "2027-02-01 17:00" (UTC unless an offset is given)')
    setter.add_argument("--no-due", action="store_true", help="remove the due date")
    setter.add_argument("--opens", type=_time, help="assigned from this time on (default: now)")
    setter.add_argument(
        "--not-assigned", action="store_true", help="take it off the calendar: not handed out, never missing"
    )
    _dry_run_option(setter)


@command(course_options, _calendar_options)
def calendar(args: argparse.Namespace) -> int:
    """Due dates and what is assigned; `calendar set` changes them.

    Example: gradebook-tools calendar set ex01_response_only_sft --due "2027-02-01 17:00"
    """
    if args.action == "set":
        return _calendar_set(args)
    from gradebook_tools.course.config import open_course
    from gradebook_tools.gradebook.calendar import read_calendar
    from gradebook_tools.gradebook.late_policy import course_policy
    from gradebook_tools.gradebook.scores import open_gradebook

    course = open_course(args.course, args.db)
    engine = open_gradebook(course.db_url)
    try:
        calendar_ = read_calendar(engine)
    finally:
        engine.dispose()
    print(render_calendar(calendar_, course_policy(course.config), args.student))
    return EXIT_OK


def _calendar_set(args: argparse.Namespace) -> int:
    from gradebook_tools.gradebook.calendar import set_calendar

    if args.due and args.no_due:
        print("error: --due and --no-due exclude each other", file=sys.stderr)
        return EXIT_BAD_INPUT

    def change(connection) -> None:
        set_calendar(
            connection,
            args.assignment,
            due=args.due,
            clear_due=args.no_due,
            opens=args.opens,
            assigned=False if args.not_assigned else None,
        )

    what = f"due {args.due:%Y-%m-%d %H:%M} UTC" if args.due else "calendar changed"
    return _apply(args, change, f"calendar: {args.assignment} {what}", assignments={args.assignment})


def render_calendar(calendar_: Calendar, policy: CourseLatePenalty, student: str | None = None) -> str:
    """The calendar as a table; for one student, their own due dates and late days."""
    from gradebook_tools.cli.text_tables import format_table
    from gradebook_tools.gradebook.extensions import late_days_left

    rows = []
    for name, entry in sorted(calendar_.entries.items()):
        assigned = entry.is_assigned(calendar_.in_use)
        state = (
            "assigned" if assigned else ("opens " + f"{entry.opens:%Y-%m-%d %H:%M}" if entry.opens else "not assigned")
        )
        due = f"{entry.due:%Y-%m-%d %H:%M}" if entry.due else "no due date"
        row = [name, state, due]
        if student:
            own = calendar_.due_for(student, name)
            extension = calendar_.extensions.get((student, name))
            days = calendar_.late_days.get((student, name), (0, False))[0]
            notes = [extension.describe()] if extension else []
            if days:
                notes.append(f"{days} late day(s)")
            row += [f"{own:%Y-%m-%d %H:%M}" if own else "", "; ".join(notes)]
        rows.append(row)
    headers = ["assignment", "state", "class due (UTC)"] + (["your due (UTC)", "because"] if student else [])
    lines = [format_table(headers, rows, text_columns=len(headers))]
    if not calendar_.in_use:
        lines.append("no calendar yet: every exercise counts as assigned (gradebook-tools calendar set ID --due ...)")
    lines.append(f"late policy: {policy.describe()}")
    if student:
        accommodation = calendar_.accommodations.get(student)
        if accommodation:
            lines.append(f"{student}: accommodation +{accommodation.hours:g} h on every exercise")
        left = late_days_left(policy, calendar_.late_days_used(student))
        if left is not None:
            lines.append(f"{student}: {left} of {policy.late_days} late day(s) left")
    return "\n".join(lines)


# ---------------------------------------------------------------- extensions


def _extension_options(parser: argparse.ArgumentParser) -> None:
    action = add_actions(parser, "action", required=True)
    grant = action("grant", help="more time for one student on one exercise")
    grant.add_argument("student")
    grant.add_argument("assignment")
    when = grant.add_mutually_exclusive_group(required=True)
    when.add_argument("--until", type=_time, help="a fixed due date: stays put when the class's due date moves")
    when.add_argument("--hours", type=float, help="hours after the class's due date: moves with it")
    grant.add_argument("--reason", required=True, help="why (recorded in the ledger)")
    revoke = action("revoke", help="remove a student's extension on an exercise")
    revoke.add_argument("student")
    revoke.add_argument("assignment")
    revoke.add_argument("--reason", default="", help="why (recorded in the ledger)")
    accommodate = action("accommodate", help="+N hours on every exercise for one student (0 removes)")
    accommodate.add_argument("student")
    accommodate.add_argument("--hours", type=float, required=True)
    accommodate.add_argument("--reason", default="", help="why (recorded in the ledger)")
    late_days = action("late-days", help="spend a student's late days on an exercise (on request)")
    late_days.add_argument("student")
    late_days.add_argument("assignment")
    late_days.add_argument("days", type=int)
    action("list", help="every extension, accommodation and late day")
    for sub in (grant, revoke, accommodate, late_days):
        _dry_run_option(sub)


@command(course_options, _extension_options)
def extension(args: argparse.Namespace) -> int:
    """Extensions, accommodations, late days; penalties re-applied.

    Example: gradebook-tools extension grant ada ex01_response_only_sft --hours 48 --reason "medical"
    """
    from gradebook_tools.gradebook import calendar as cal
    from gradebook_tools.gradebook.ledger import current_who

    if args.action == "list":
        return _extension_list(args)
    if args.action == "grant":
        grant = cal.Extension(
            args.student, args.assignment, args.until, args.hours, args.reason, current_who(), cal.utc_now()
        )
        return _apply(
            args,
            lambda connection: cal.grant_extension(connection, grant),
            f"extension granted: {grant.describe()} ({args.reason})",
            {args.student},
            {args.assignment},
        )
    if args.action == "revoke":

        def revoke(connection) -> None:
            if not cal.revoke_extension(connection, args.student, args.assignment):
                from gradebook_tools.course.errors import UnknownNameError

                raise UnknownNameError(f"{args.student} has no extension on {args.assignment}")

        reason = f" ({args.reason})" if args.reason else ""
        return _apply(args, revoke, f"extension revoked{reason}", {args.student}, {args.assignment})
    if args.action == "accommodate":
        accommodation = (
            cal.Accommodation(args.student, args.hours, args.reason, current_who(), cal.utc_now())
            if args.hours
            else None
        )
        reason = f" ({args.reason})" if args.reason else ""
        return _apply(
            args,
            lambda connection: cal.set_accommodation(connection, accommodation, args.student),
            f"accommodation: +{args.hours:g} h on every exercise{reason}",
            {args.student},
        )

    def request(connection) -> None:
        stored = cal.read_calendar(connection).late_days
        spent = {name: value for (who, name), value in stored.items() if who == args.student}
        spent[args.assignment] = (args.days, True)
        cal.write_late_days(connection, args.student, spent)

    return _apply(
        args, request, f"{args.days} late day(s) requested on {args.assignment}", {args.student}, {args.assignment}
    )


def _extension_list(args: argparse.Namespace) -> int:
    from gradebook_tools.cli.text_tables import format_table
    from gradebook_tools.course.config import open_course
    from gradebook_tools.gradebook.calendar import read_calendar
    from gradebook_tools.gradebook.extensions import late_days_left
    from gradebook_tools.gradebook.late_policy import course_policy
    from gradebook_tools.gradebook.scores import open_gradebook

    course = open_course(args.course, args.db)
    engine = open_gradebook(course.db_url)
    try:
        calendar_ = read_calendar(engine)
    finally:
        engine.dispose()
    policy = course_policy(course.config)
    rows = [
        [
            e.student,
            e.assignment,
            e.describe(),
            f"{calendar_.due_for(e.student, e.assignment) or '':%Y-%m-%d %H:%M}"
            if calendar_.due_for(e.student, e.assignment)
            else "",
            e.reason,
            e.granted_by,
        ]
        for e in sorted(calendar_.extensions.values(), key=lambda e: (e.student, e.assignment))
    ]
    print(
        format_table(["student", "assignment", "extension", "due (UTC)", "reason", "granted by"], rows, 6)
        if rows
        else "no extensions"
    )
    for student, accommodation in sorted(calendar_.accommodations.items()):
        print(f"{student}: accommodation +{accommodation.hours:g} h on every exercise ({accommodation.reason})")
    if policy.late_days:
        students = sorted({who for who, _ in calendar_.late_days})
        for student in students:
            spent = ", ".join(
                f"{name} {days}"
                for (who, name), (days, _) in sorted(calendar_.late_days.items())
                if who == student and days
            )
            left = late_days_left(policy, calendar_.late_days_used(student))
            print(f"{student}: late days spent {spent or 'none'}; {left} of {policy.late_days} left")
    return EXIT_OK


# ---------------------------------------------------------------- history


def _history_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--student", help="only this student's changes")
    parser.add_argument("--assignment", help="only this assignment's changes")
    parser.add_argument("--format", choices=("text", "csv", "json"), default="text", help="output format")


@command(course_options, _history_options)
def history(args: argparse.Namespace) -> int:
    """Every score change in the ledger: when, who, old, new, why.

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
