"""``gradebook-tools checks-report`` and ``mistakes``: the catalogue of mistakes against the checks and the class."""

from __future__ import annotations

import argparse

from gradebook_tools.cli.registry import EXIT_OK, command, course_options, roster_option


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("exercise", nargs="?", help="one exercise id (default: every exercise of the course)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")


@command(_report_options)
def checks_report(args: argparse.Namespace) -> int:
    """Print which catalogued mistakes each hidden check catches.

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


def _mistakes_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable)")


@command(course_options, roster_option, _mistakes_options)
def mistakes(args: argparse.Namespace) -> int:
    """Count the named mistakes per exercise and class section.

    Example: gradebook-tools mistakes --assignment ex02_bradley_terry --roster roster.csv
    """
    from pathlib import Path

    from nbgrader.coursedir import CourseDirectory

    from gradebook_tools.cli.commands import load_class
    from gradebook_tools.course.config import open_course
    from gradebook_tools.course.errors import UnknownNameError
    from gradebook_tools.gradebook.items import count_named_mistakes, named_mistakes_in

    data = load_class(args)
    names = data.scores.assignment_names
    unknown = [name for name in args.assignment or () if name not in names]
    if unknown:
        raise UnknownNameError(f"unknown assignment(s): {', '.join(unknown)}; the gradebook has: {', '.join(names)}")
    chosen = [name for name in names if not args.assignment or name in args.assignment]
    course = open_course(args.course, args.db)
    coursedir = CourseDirectory(config=course.config, root=str(course.root))
    named = {}
    for student in data.scores.students:
        for assignment in chosen:
            folder = Path(coursedir.format_path(coursedir.autograded_directory, student.id, assignment))
            found: dict[str, str] = {}
            for notebook in sorted(folder.glob("*.ipynb")) if folder.is_dir() else ():
                for identifier, about in named_mistakes_in(notebook).items():
                    found.setdefault(identifier, about)
            if found:
                named[(student.id, assignment)] = found
    counts = count_named_mistakes(named, data.class_section_of)
    if not counts:
        print("no catalogued mistake was named in the graded submissions")
    for count in counts:
        print(f"{count.assignment}\t{count.section}\t{count.students}\t{count.mistake}: {count.about}")
    return EXIT_OK
