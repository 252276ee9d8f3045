"""``nbgrader collect`` that takes a submission only from the student it claims to be from.

nbgrader's filesystem exchange names a submission by the student id the
submitting user *wrote* (``--CourseDirectory.student_id=B``); upstream
``collect`` only warns when the folder's owner differs ("cheating attempt?")
and then collects it, so any student can submit, or overwrite a submission,
in a classmate's name. Here a folder of the exchange's ``inbound/`` is
collected only when it, and everything in it, belongs to the Unix user of the
student it claims (:attr:`OwnerCheckedCollect.unix_users`; by default the user
of the same name) and holds no link. A refused folder is left out *before*
the latest submission is chosen, so it never replaces an earlier one, and is
recorded with its reason (``gradebook-tools status --problems``).

Where every student's server runs as one Unix user (the usual JupyterHub
images), the filesystem cannot tell students apart: collect then refuses to
run unless the instructor sets
``c.OwnerCheckedCollect.shared_uid_anyone_can_submit_as_anyone = True``.

Configured in ``nbgrader_config.py``::

    c.ExchangeFactory.collect = "gradebook_tools.exchange.collect.OwnerCheckedCollect"
"""

from __future__ import annotations

import glob
import os
import pwd
import stat
from collections import defaultdict

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect
from traitlets import Bool, Dict, Unicode

from gradebook_tools.course.student_ids import student_id_problem
from gradebook_tools.gradebook.outcomes import StatusStore

SHARED_UID_TRAIT = "shared_uid_anyone_can_submit_as_anyone"


class OwnerCheckedCollect(ExchangeCollect):
    """nbgrader's ``ExchangeCollect``, refusing every submission not owned by the student it names."""

    unix_users = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help="Student id -> the Unix user whose notebook server submits for that student. "
        "A student not listed submits as the Unix user of the same name.",
    ).tag(config=True)

    shared_uid_anyone_can_submit_as_anyone = Bool(
        False,
        help="Collect from an exchange where every submission belongs to one Unix user (all students' servers "
        "run as one uid). Such an exchange cannot tell students apart: any student can submit, and overwrite "
        "a submission, in any classmate's name. Off: collect refuses to run on such an exchange.",
    ).tag(config=True)

    def init_src(self) -> None:
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        shared = self._shared_owner()
        if shared is not None and not self.shared_uid_anyone_can_submit_as_anyone:
            self.fail(
                f"every submission in {self.inbound_path} belongs to one Unix user ({shared}): this exchange cannot "
                "tell students apart, so any student could submit, or overwrite a submission, in a classmate's name. "
                "Give each student a Unix user of their own (docs/course_workflow.md), or accept the risk with "
                f"--OwnerCheckedCollect.{SHARED_UID_TRAIT}=True"
            )
        if shared is not None:
            self.log.warning(
                "every submission belongs to the Unix user %s: collecting without telling students apart (%s=True)",
                shared,
                SHARED_UID_TRAIT,
            )
        student = self.coursedir.student_id or "*"
        pattern = os.path.join(glob.escape(self.inbound_path), f"{student}+{self.coursedir.assignment_id}+*")
        accepted = []
        for path in sorted(glob.glob(pattern)):
            record = self._record(path)
            problem = record.get("problem") or self._refusal(path, record["username"], check_owner=shared is None)
            if problem:
                self._refuse(record, problem)
            else:
                accepted.append(record)
        self.src_records = self._latest(accepted)

    # ------------------------------------------------------------ which folders

    def _record(self, path: str) -> dict:
        """nbgrader's record of an inbound folder; a name nbgrader cannot read is refused, not fatal.

        (Upstream stops the whole collect on one folder named ``B+<id>+not-a-time``:
        any student could stop the class's collection.)
        """
        try:
            return self._path_to_record(path)
        except Exception:  # noqa: BLE001 - a folder's name is the submitter's data
            name = os.path.basename(path)
            return {
                "username": name.split("+", 1)[0],
                "filename": name,
                "timestamp": None,
                "problem": "its name holds no readable time of submission",
            }

    def _latest(self, records: list[dict]) -> list[dict]:
        """Per student the latest accepted submission (before the due date with ``--before-duedate``)."""
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
            try:
                self.duedate = gradebook.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        by_student: dict[str, list[dict]] = defaultdict(list)
        for record in records:
            by_student[record["username"]].append(record)
        chosen = []
        for student_records in by_student.values():
            ordered = self._sort_by_timestamp(student_records)
            if self.duedate is not None and self.before_duedate:
                on_time = [record for record in ordered if record["timestamp"] <= self.duedate]
                ordered = on_time or ordered
            chosen.append(ordered[0])
        return chosen

    def _shared_owner(self) -> str | None:
        """The one Unix user owning every submission in ``inbound/`` when that is how the exchange is used, or None.

        That is: two or more students' submissions, all owned by one uid, and
        none of those students (but the owner) has a Unix user of their own,
        as where every server runs as ``jovyan``. One student who submitted in
        a classmate's name (the classmate has a user) is not this case: that
        folder is refused on its own.
        """
        owners, students = set(), set()
        for entry in os.scandir(self.inbound_path):
            try:
                owners.add(entry.stat(follow_symlinks=False).st_uid)
            except OSError:
                continue
            students.add(entry.name.split("+", 1)[0])
        if len(students) < 2 or len(owners) != 1:
            return None
        owner = owners.pop()
        if any(uid is not None and uid != owner for uid in map(self._expected_uid, students)):
            return None
        return _user_name(owner)

    def _expected_uid(self, student: str) -> int | None:
        try:
            return pwd.getpwnam(self.unix_users.get(student, student)).pw_uid
        except KeyError:
            return None

    def _refusal(self, path: str, student: str, check_owner: bool) -> str | None:
        """Why the folder ``path``, claiming ``student``, is not collected; None to collect it."""
        problem = student_id_problem(student)
        if problem:
            return f"the student id {student[:80]!r} {problem}"
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode):
            return "it is not a folder (a link or a file), so it is nobody's own submission"
        if not check_owner:
            return _link_inside(path)
        uid = self._expected_uid(student)
        user = self.unix_users.get(student, student)
        if uid is None:
            return f"no Unix user {user!r} submits for {student} (c.OwnerCheckedCollect.unix_users)"
        if info.st_uid != uid:
            return f"it claims to be submitted by {student} but belongs to the Unix user {_user_name(info.st_uid)}"
        for folder, names, files in os.walk(path):
            for name in names + files:
                entry = os.lstat(os.path.join(folder, name))
                if stat.S_ISLNK(entry.st_mode):
                    return f"it holds a link ({os.path.relpath(os.path.join(folder, name), path)[:120]})"
                if entry.st_uid != uid:
                    return (
                        f"it holds {os.path.relpath(os.path.join(folder, name), path)[:120]}, which belongs to "
                        f"the Unix user {_user_name(entry.st_uid)}, not to {user}"
                    )
        return None

    def _refuse(self, record: dict, problem: str) -> None:
        assignment = self.coursedir.assignment_id
        reason = f"submission {record['filename'][:200]} was refused by collect: {problem}; it was not collected"
        self.log.warning("%s", reason)
        StatusStore(self.coursedir.db_url).record_refused(
            record["filename"][:512], assignment, record["username"][:128], reason
        )


def _link_inside(path: str) -> str | None:
    for folder, names, files in os.walk(path):
        for name in names + files:
            if os.path.islink(os.path.join(folder, name)):
                return f"it holds a link ({os.path.relpath(os.path.join(folder, name), path)[:120]})"
    return None


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
