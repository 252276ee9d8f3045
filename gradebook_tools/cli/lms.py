"""The LMS commands: ``lms jwks``, ``lms roster [--apply]``, ``lms push [--assignment A ...] [--dry-run]``.

LTI 1.3 Advantage with the platform configured as ``c.LTI`` traits in
``nbgrader_config.py`` (docs/lms.md). Heavy imports (PyJWT, httpx, SQLAlchemy)
happen when a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys

from gradebook_tools.cli.registry import (
    EXIT_BAD_INPUT,
    EXIT_COURSE_PROBLEM,
    EXIT_OK,
    EXIT_SOME_FAILED,
    add_actions,
    command,
    course_options,
)


def _lms_options(parser: argparse.ArgumentParser) -> None:
    action = add_actions(parser, "lms_action", required=True)
    jwks = action("jwks", help="print the tool's public key set (JWKS) to register with the platform")
    jwks.add_argument("--pem", action="store_true", help="the public key in PEM instead (Moodle's 'RSA key')")
    roster = action("roster", help="compare the platform's class list (NRPS) with the course roster; --apply writes it")
    roster.add_argument("--apply", action="store_true", help="write the differences to the roster and gradebook")
    push = action("push", help="send the changed scores to the platform's gradebook (AGS)")
    push.add_argument("--assignment", action="append", help="only this exercise (repeatable)")
    push.add_argument("--dry-run", action="store_true", help="print the requests it would send and send nothing")


@command(course_options, _lms_options)
def lms(args: argparse.Namespace) -> int:
    """Grades to the LMS, the class list from it (LTI 1.3 Advantage).

    Example: gradebook-tools lms push --dry-run   (then without --dry-run; see docs/lms.md to register the tool)
    """
    from gradebook_tools.course.config import open_course
    from gradebook_tools.lms.config import LmsError

    course = open_course(args.course, args.db)
    try:
        if args.lms_action == "jwks":
            from gradebook_tools.lms.service import jwks, public_key_pem

            print(public_key_pem(course).rstrip() if args.pem else json.dumps(jwks(course), indent=2))
            return EXIT_OK
        if args.lms_action == "roster":
            return _roster(course, args.apply)
        return _push(course, args.assignment, args.dry_run)
    except LmsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_COURSE_PROBLEM


def _roster(course, apply: bool) -> int:
    from gradebook_tools.lms.platform_client import excerpt
    from gradebook_tools.lms.service import sync_roster

    result = sync_roster(course, apply=apply)
    diff = result.diff
    for learner in diff.new:
        name = excerpt(" ".join(part for part in (learner.first_name, learner.last_name) if part), 80)
        print(f"new: {learner.student_id} ({name or 'no name'}; platform user {learner.user_id!r})")
    for student_id in diff.gone:
        print(f"gone: {student_id} (no learner of the platform maps to this student; kept in the gradebook)")
    for student_id, old, new in diff.renamed:
        print(f"renamed: {student_id}: {excerpt(old, 80) or '(no name)'} -> {excerpt(new, 80)}")
    for student_id, old, new in diff.section_changes:
        print(f"class section: {student_id}: {excerpt(old, 80)} -> {excerpt(new, 80)}")
    for student_id, field, value in diff.id_changed:
        print(
            f"note: {student_id}'s {field} on the platform is now {value!r}; the recorded mapping to "
            f"{student_id!r} is kept"
        )
    for message in diff.skipped + (result.messages or []):
        print(f"skipped: {message}")
    print(
        f"{len(diff.learners)} learner(s) on the platform ({len(diff.new_mappings)} newly mapped), "
        f"{diff.not_students} other member(s) (staff, test users, inactive) left out; "
        f"{len(diff.new)} new, {len(diff.gone)} gone, {len(diff.renamed)} renamed, "
        f"{len(diff.section_changes)} class section change(s)"
    )
    if result.imported is not None:
        imported = result.imported
        print(
            f"applied: {len(imported.added)} added, {len(imported.updated)} updated, "
            f"{len(imported.unchanged)} unchanged in the gradebook"
        )
    elif not diff.unchanged:
        print("nothing written: run again with --apply to write these differences")
    return EXIT_BAD_INPUT if diff.skipped or result.messages else EXIT_OK


def _push(course, assignments: list[str] | None, dry: bool) -> int:
    from gradebook_tools.lms.service import push_grades

    report, requests = push_grades(course, assignments, dry=dry)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.not_mapped:
        print(
            f"not sent: {len(report.not_mapped)} student(s) with work but no platform mapping: "
            f"{', '.join(report.not_mapped)} (run `gradebook-tools lms roster --apply`)",
            file=sys.stderr,
        )
    if dry:
        for line in report.requests:
            print(line)
        print(
            f"dry run: {len(report.requests)} request(s) listed, none sent; "
            f"{report.unchanged} score(s) unchanged since the last push",
            file=sys.stderr,
        )
        return EXIT_OK
    for rejected in report.rejected:
        print(f"refused by the platform: {rejected}", file=sys.stderr)
    print(
        f"line items: {len(report.created)} created, {len(report.updated)} updated; scores: {report.sent} sent, "
        f"{report.unchanged} unchanged, {report.confirmed} confirmed from an interrupted push, "
        f"{len(report.rejected)} refused; {requests} HTTP request(s)"
    )
    return EXIT_SOME_FAILED if report.rejected else EXIT_OK
