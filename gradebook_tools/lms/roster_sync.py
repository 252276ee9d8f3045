"""The class list from the platform (NRPS), mapped to course student ids and compared with the course roster.

Only learners count: a member is a student when one of their roles is
``Learner`` and none is staff (``Instructor``, ``TeachingAssistant``,
``Mentor``, ``ContentDeveloper``, ``Administrator``, ``Manager``, ``Officer``)
or the platform's test user (``TestUser``), and their status is ``Active``.

A learner's course student id comes from the first member field of
``c.LTI.student_id_fields`` that has a value (login or username, else email),
checked like every student id (:func:`gradebook_tools.course.student_ids.student_id_problem`).
Once applied, the mapping is recorded (:class:`~gradebook_tools.lms.store.LmsStore`)
and used from then on: a login changed on the platform is reported, not
followed. Names and sections are data: they go through the roster's own
checks (:func:`gradebook_tools.gradebook.roster.parse_roster`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from gradebook_tools.course.student_ids import student_id_problem
from gradebook_tools.gradebook.roster import Roster, parse_roster
from gradebook_tools.gradebook.scores import StudentInfo
from gradebook_tools.lms.config import LTI
from gradebook_tools.lms.platform_client import MEDIA_MEMBERSHIP_CONTAINER, PlatformClient, PlatformError, excerpt

#: Role names (the last part of an LIS role URI, or a short name) that are never students.
STAFF_ROLES = frozenset(
    {
        "Instructor",
        "TeachingAssistant",
        "Mentor",
        "ContentDeveloper",
        "Administrator",
        "Manager",
        "Officer",
        "TestUser",
    }
)
LEARNER_ROLE = "Learner"

#: Most pages of members followed (a platform looping its ``next`` link stops here).
MAX_PAGES = 10_000


def role_names(role: str) -> set[str]:
    """The names in a role: ``.../membership/Instructor#TeachingAssistant`` -> {Instructor, TeachingAssistant}."""
    return {part for part in re.split(r"[#/:]", role) if part}


def is_learner(member: dict[str, Any]) -> bool:
    """Whether a member (NRPS) is an active learner and nothing else the course must keep apart."""
    if str(member.get("status", "Active")) != "Active":
        return False
    roles = member.get("roles")
    if not isinstance(roles, list):
        return False
    names = set().union(*(role_names(str(role)) for role in roles)) if roles else set()
    return LEARNER_ROLE in names and not names & STAFF_ROLES


def fetch_members(client: PlatformClient, url: str) -> list[dict[str, Any]]:
    """Every member of the context, following ``Link: rel="next"`` pages."""
    members: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            return members
        response = client.request("GET", next_url, accept=MEDIA_MEMBERSHIP_CONTAINER)
        try:
            page = response.json()
        except ValueError:
            raise PlatformError(
                f"{next_url} did not answer with JSON: is c.LTI.memberships_url the course's NRPS endpoint?"
            ) from None
        batch = page.get("members") if isinstance(page, dict) else None
        if not isinstance(batch, list):
            raise PlatformError(f"{next_url} answered without a members list: check c.LTI.memberships_url")
        members.extend(member for member in batch if isinstance(member, dict) and member.get("user_id"))
        next_url = response.links.get("next", {}).get("url")
    raise PlatformError(f"{url}: more than {MAX_PAGES} pages of members; the platform's next links loop")


@dataclass(frozen=True)
class Learner:
    """A learner as the platform describes them, mapped to a course student id."""

    user_id: str
    student_id: str
    mapped_by: str
    first_name: str
    last_name: str
    email: str
    class_section: str | None


@dataclass
class RosterDiff:
    """How the platform's class list differs from the course's."""

    learners: list[Learner] = field(default_factory=list)
    #: Learners whose student id the gradebook does not have yet.
    new: list[Learner] = field(default_factory=list)
    #: Gradebook students no learner of the platform maps to (kept: they own submissions).
    gone: list[str] = field(default_factory=list)
    #: (student id, name in the gradebook, name on the platform)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    #: (student id, section in the course, section on the platform)
    section_changes: list[tuple[str, str, str]] = field(default_factory=list)
    #: Learners that cannot be mapped, one sentence each.
    skipped: list[str] = field(default_factory=list)
    #: Mapped learners whose login changed on the platform (the recorded mapping is kept).
    id_changed: list[tuple[str, str, str]] = field(default_factory=list)
    #: Members that are not students (staff, test users, inactive, excluded).
    not_students: int = 0
    #: user id -> (student id, field), mappings made now (recorded by ``--apply``).
    new_mappings: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def unchanged(self) -> bool:
        """Whether applying would change nothing (gone students are kept, so they do not count)."""
        return not (self.new or self.renamed or self.section_changes or self.new_mappings)


def _text(member: dict[str, Any], name: str) -> str:
    value = member.get(name)
    return value.strip() if isinstance(value, str) else ""


def _who(member: dict[str, Any]) -> str:
    name = excerpt(_text(member, "name"), 60)
    return f"user {excerpt(str(member.get('user_id')), 80)!r}" + (f" ({name})" if name else "")


def _candidate_id(member: dict[str, Any], fields: list[str]) -> tuple[str, str] | None:
    for name in fields:
        value = _text(member, name)
        if value:
            return value, name
    return None


def _full_name(first: str, last: str) -> str:
    return " ".join(part for part in (first, last) if part)


def compare_roster(
    members: list[dict[str, Any]],
    recorded: dict[str, str],
    students: list[StudentInfo],
    class_sections: dict[str, str] | None,
    lti: LTI,
) -> RosterDiff:
    """Map the platform's learners to student ids and compare them with the gradebook's students.

    Parameters
    ----------
    members
        The platform's members (NRPS), all roles.
    recorded
        Platform user id -> student id, as recorded by earlier applies.
    students
        The gradebook's students.
    class_sections
        Student id -> class section in the course (None: no roster imported).
    """
    diff = RosterDiff()
    known = {student.id: student for student in students}
    sections = class_sections or {}
    taken = {student_id: user_id for user_id, student_id in recorded.items()}
    excluded = set(lti.excluded_user_ids)
    for member in members:
        user_id = str(member["user_id"])
        if user_id in excluded or not is_learner(member):
            diff.not_students += 1
            continue
        candidate = _candidate_id(member, list(lti.student_id_fields))
        if user_id in recorded:
            student_id, mapped_by = recorded[user_id], "recorded"
            if candidate and candidate[0] != student_id:
                diff.id_changed.append((student_id, candidate[1], excerpt(candidate[0], 130)))
        elif candidate is None:
            diff.skipped.append(
                f"{_who(member)} has none of the fields {', '.join(lti.student_id_fields)}: "
                "set c.LTI.student_id_fields to a field the platform sends"
            )
            continue
        else:
            student_id, mapped_by = candidate
            problem = student_id_problem(student_id)
            if problem:
                diff.skipped.append(f"{_who(member)}: {mapped_by} {excerpt(student_id, 130)!r} {problem}")
                continue
            if student_id in taken:
                diff.skipped.append(
                    f"{_who(member)}: {mapped_by} {student_id!r} is already the student id of platform user "
                    f"{taken[student_id]!r}; not mapped (two accounts with one login?)"
                )
                continue
            taken[student_id] = user_id
            diff.new_mappings[user_id] = (student_id, mapped_by)
        platform_section = _text(member, lti.class_section_field) if lti.class_section_field else ""
        learner = Learner(
            user_id=user_id,
            student_id=student_id,
            mapped_by=mapped_by,
            first_name=_text(member, "given_name"),
            last_name=_text(member, "family_name"),
            email=_text(member, "email"),
            class_section=platform_section or None,
        )
        diff.learners.append(learner)
        student = known.get(student_id)
        if student is None:
            diff.new.append(learner)
            continue
        old_name = _full_name(student.first_name, student.last_name)
        new_name = _full_name(learner.first_name, learner.last_name)
        if new_name and new_name != old_name:
            diff.renamed.append((student_id, old_name, new_name))
        old_section = sections.get(student_id)
        if learner.class_section and learner.class_section != old_section:
            diff.section_changes.append((student_id, old_section or "(none)", learner.class_section))
    mapped = {learner.student_id for learner in diff.learners}
    diff.gone = sorted(student_id for student_id in known if student_id not in mapped)
    return diff


def roster_of(diff: RosterDiff, class_sections: dict[str, str] | None, lti: LTI) -> Roster:
    """The learners as a course roster, checked like a roster file (bad names become messages)."""
    sections = class_sections or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student_id", "section", "first_name", "last_name", "email", "lms_user_id"])
    for learner in diff.learners:
        section = learner.class_section or sections.get(learner.student_id) or lti.default_class_section
        writer.writerow(
            [learner.student_id, section, learner.first_name, learner.last_name, learner.email, learner.user_id]
        )
    return parse_roster(buffer.getvalue().splitlines(keepends=True), source="the platform's class list")
