"""Feedback pages that know which grades they show, and a ``release_feedback`` that checks it.

After manual grading in the formgrader, an exercise page shows the old score
until it is regenerated. :class:`RecordFeedbackGrades` (in the
``generate_feedback`` chain, so plain ``nbgrader generate_feedback`` and
``gradebook-tools grade`` alike) writes beside each page a digest of the grades
it was made from. :func:`page_is_current` compares it with the gradebook now:
``gradebook-tools grade`` and ``gradebook-tools feedback`` regenerate exactly the
pages that are not, and :class:`FreshReleaseFeedback` (``c.ExchangeFactory.
release_feedback``) releases the current pages, holds back each stale one, and
then fails naming the command that fixes them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.preprocessors import NbGraderPreprocessor
from sqlalchemy.exc import SAWarning

from gradebook_tools.course.files import read_output_tree
from gradebook_tools.gradebook.snapshot import Snapshot, read_snapshot, snapshot_digest

#: Suffix of the file beside ``<notebook>.html`` holding the digest of the grades the page shows.
DIGEST_SUFFIX = ".grades-digest"


class RecordFeedbackGrades(NbGraderPreprocessor):
    """Write ``<notebook>.grades-digest`` beside the page: the digest of the submission's grades now."""

    def preprocess(self, nb, resources):
        identity = resources["nbgrader"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            with Gradebook(identity["db_url"]) as gradebook:
                digest = snapshot_digest(read_snapshot(gradebook, identity["assignment"], identity["student"]))
        resources.setdefault("outputs", {})[identity["notebook"] + DIGEST_SUFFIX] = digest.encode()
        return nb, resources


def page_is_current(gradebook: Gradebook, feedback_folder: Path, assignment: str, student: str) -> bool:
    """Whether every page in ``feedback_folder`` was made from the grades the gradebook holds now."""
    return pages_show(feedback_folder, read_snapshot(gradebook, assignment, student))


def pages_show(feedback_folder: Path, snapshot: Snapshot | None) -> bool:
    """Whether every page in ``feedback_folder`` was made from the grades of ``snapshot`` (:func:`read_snapshot`)."""
    files = read_output_tree(feedback_folder)
    digests = {name: content for name, content in files.items() if name.endswith(DIGEST_SUFFIX)}
    if not digests:
        return False
    current = snapshot_digest(snapshot).encode()
    return all(digest == current for digest in digests.values())


class FreshReleaseFeedback(ExchangeReleaseFeedback):
    """nbgrader's ``ExchangeReleaseFeedback``, holding back pages whose grades changed since."""

    def copy_files(self):
        stale = self._stale_students()
        if stale:
            excluded = set(filter(None, (self.coursedir.student_id_exclude or "").split(",")))
            self.coursedir.student_id_exclude = ",".join(sorted(excluded | stale))
        super().copy_files()
        if stale:
            self.fail(
                f"feedback not released for {', '.join(sorted(stale))}: their grades changed after the "
                "pages were made; run `gradebook-tools feedback`, then release_feedback again"
            )

    def _stale_students(self) -> set[str]:
        assignment = self.coursedir.assignment_id
        only = self.coursedir.student_id if self.coursedir.student_id not in ("", "*") else None
        root = Path(self.coursedir.format_path(self.coursedir.feedback_directory, ".", "."))
        stale = set()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
                for folder in sorted(root.glob(f"*/{assignment}")):
                    student = folder.parent.name
                    if (only is None or student == only) and not page_is_current(
                        gradebook, folder, assignment, student
                    ):
                        stale.add(student)
        return stale
