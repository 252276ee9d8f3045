"""The three LMS operations on a course: the public key set, the roster sync and the grade push."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy.engine import Engine

from gradebook_tools.course.config import Course
from gradebook_tools.course.errors import GradebookError
from gradebook_tools.gradebook.roster_store import ImportReport, import_roster, read_class_sections
from gradebook_tools.gradebook.scores import open_gradebook, read_class_scores, read_students
from gradebook_tools.lms.config import LTI, LmsConfigError, key_file_problem, load_lti
from gradebook_tools.lms.keys import load_private_key, public_jwks, public_pem
from gradebook_tools.lms.platform_client import SCOPE_MEMBERSHIP, PlatformClient
from gradebook_tools.lms.push import PUSH_SCOPES, PushReport, dry_run, exercises_of, push
from gradebook_tools.lms.roster_sync import RosterDiff, compare_roster, fetch_members, roster_of
from gradebook_tools.lms.store import LmsStore


def tool_key(course: Course, lti: LTI) -> RSAPrivateKey:
    """The tool's private key, from ``c.LTI.private_key_file`` outside the course folder."""
    lti.require("private_key_file")
    path = Path(lti.private_key_file).expanduser()
    problem = key_file_problem(course.root, path)
    if problem:
        raise LmsConfigError(problem)
    return load_private_key(path)


def jwks(course: Course) -> dict[str, Any]:
    """The public key set to register with the platform."""
    return public_jwks(tool_key(course, load_lti(course)))


def public_key_pem(course: Course) -> str:
    """The public key in PEM, for a platform that asks for a key rather than a key set."""
    return public_pem(tool_key(course, load_lti(course)))


@dataclass
class RosterResult:
    diff: RosterDiff
    imported: ImportReport | None = None
    #: Problems of single learners found by the roster's own checks.
    messages: list[str] | None = None


def _existing_gradebook(db_url: str) -> Engine | None:
    try:
        return open_gradebook(db_url)
    except GradebookError:
        return None


def sync_roster(course: Course, apply: bool = False, log: Callable[[str], None] | None = None) -> RosterResult:
    """Read the platform's class list, compare it with the course's; with ``apply``, write it."""
    lti = load_lti(course)
    lti.require("client_id", "token_url", "memberships_url")
    key = tool_key(course, lti)
    with PlatformClient(lti, key, [SCOPE_MEMBERSHIP], log=log) as client:
        members = fetch_members(client, lti.memberships_url)
    engine = _existing_gradebook(course.db_url)
    if engine is None:
        students, sections, recorded = [], None, {}
    else:
        with engine.connect() as connection:
            students = read_students(connection)
        sections = read_class_sections(engine)
        recorded = LmsStore(engine).members()
        engine.dispose()
    diff = compare_roster(members, recorded, students, sections, lti)
    roster = roster_of(diff, sections, lti)
    result = RosterResult(diff, messages=roster.messages)
    if apply:
        result.imported = import_roster(roster, course.db_url, course.course_id)
        engine = open_gradebook(course.db_url)
        try:
            applied = set(roster.entries)
            LmsStore(engine).record_members(
                {user: mapping for user, mapping in diff.new_mappings.items() if mapping[0] in applied}
            )
        finally:
            engine.dispose()
    return result


def push_grades(
    course: Course,
    assignments: list[str] | None = None,
    dry: bool = False,
    log: Callable[[str], None] | None = None,
    client_factory: Callable[..., PlatformClient] = PlatformClient,
) -> tuple[PushReport, int]:
    """Push the changed scores (``dry``: only say which requests); return the report and the requests sent."""
    lti = load_lti(course)
    lti.require("client_id", "token_url", "lineitems_url")
    engine = open_gradebook(course.db_url)
    try:
        store = LmsStore(engine)
        scores = read_class_scores(engine)
        exercises = exercises_of(scores, course.root, assignments)
        pointless = [
            a.name for a in scores.assignments if a.max_score <= 0 and (not assignments or a.name in assignments)
        ]
        if dry:
            report, sent = dry_run(lti, store, exercises, scores, datetime.datetime.now(datetime.UTC)), 0
        else:
            key = tool_key(course, lti)
            with client_factory(lti, key, PUSH_SCOPES, log=log) as client:
                try:
                    report = push(client, lti, store, exercises, scores)
                finally:
                    sent = client.requests_sent
        report.warnings += [f"{name} has no graded cells (0 points): no line item, nothing sent" for name in pointless]
        return report, sent
    finally:
        engine.dispose()
