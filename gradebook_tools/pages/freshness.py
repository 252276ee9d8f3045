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

The same ``release_feedback`` hands out each student's summary page
(:mod:`gradebook_tools.pages.student_summary`) where nbgrader's own
``fetch_feedback`` finds it, which only looks for ``<hash>.html`` keyed by a
submission the student made (its secret and a notebook's name):

- as the feedback of the ``summary`` pseudo-assignment: it is offered in the
  exchange's outbound folder, each student submits it once, and from then on
  every ``release_feedback`` publishes their current summary under that
  submission, so ``nbgrader fetch_feedback summary`` brings it, whatever became
  of their exercises (graded, failed, missing);
- in place of an exercise page that could not be made (an unreadable or failed
  notebook): ``nbgrader fetch_feedback <id>`` then brings the summary, with the
  reason, under that notebook's name.

A summary is published only under a ``summary`` submission owned by the Unix
user of that student id (:attr:`FreshReleaseFeedback.check_owner`), so nobody
receives another student's summary by submitting in their name.
"""

from __future__ import annotations

import os
import pwd
import stat
import urllib.parse
import warnings
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.exchange.abc.exchange import ExchangeError
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import notebook_hash, parse_utc
from sqlalchemy.exc import SAWarning
from traitlets import Bool, Unicode

from gradebook_tools.course.files import read_output_tree
from gradebook_tools.gradebook.snapshot import Snapshot, read_snapshot, snapshot_digest

#: Suffix of the file beside ``<notebook>.html`` holding the digest of the grades the page shows.
DIGEST_SUFFIX = ".grades-digest"
#: The pseudo-assignment whose feedback is the student's summary page (docs/feedback.md).
SUMMARY_ASSIGNMENT = "summary"
#: What the students fetch and submit once to receive their summary; no cell is graded.
SUMMARY_INVITATION = {
    "cells": [
        {
            "cell_type": "markdown",
            "id": "summary-invitation",
            "metadata": {},
            "source": (
                "# Your course summary\n\n"
                "Submit this notebook once (`nbgrader submit summary`). After that, each time feedback "
                "is released, `nbgrader fetch_feedback summary` brings your summary page: your score "
                "per exercise and section, what to review next, and why a submission is missing or "
                "could not be graded. Nothing here is graded."
            ),
        }
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


class RecordFeedbackGrades(NbGraderPreprocessor):
    """Write ``<notebook>.grades-digest`` beside the page: the digest of the submission's grades now."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
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
    """nbgrader's ``ExchangeReleaseFeedback``, holding back stale pages and handing out the summaries."""

    summary_assignment = Unicode(
        SUMMARY_ASSIGNMENT,
        help="Pseudo-assignment whose feedback is each student's summary page (offered in the outbound folder).",
    ).tag(config=True)
    check_owner = Bool(
        True,
        help=(
            "Publish a summary only under a summary submission owned by the Unix user named like the student. "
            "Switch off only where every user shares one uid (then anyone may submit in another's name)."
        ),
    ).tag(config=True)

    def copy_files(self) -> None:
        stale = self._stale_students()
        if stale:
            excluded = set(filter(None, (self.coursedir.student_id_exclude or "").split(",")))
            self.coursedir.student_id_exclude = ",".join(sorted(excluded | stale))
        if self.coursedir.assignment_id != self.summary_assignment:
            super().copy_files()
            self._summaries_for_pageless_notebooks()
        try:
            self._offer_summary_assignment()
        except ExchangeError:  # e.g. another instructor's outbound folder: the feedback still goes out
            self.log.warning("could not offer the '%s' pseudo-assignment", self.summary_assignment)
        self._summaries_for_summary_submissions()
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

    # ------------------------------------------------------------ summary pages

    def _chosen(self, student: str) -> bool:
        """Whether this run releases for ``student`` (``--student``, ``--CourseDirectory.student_id_exclude``)."""
        only = self.coursedir.student_id
        excluded = set(filter(None, (self.coursedir.student_id_exclude or "").split(",")))
        return (only in ("", "*") or student == only) and student not in excluded

    def _summary_page(self, student: str) -> Path | None:
        from gradebook_tools.pages.student_summary import summary_path

        page = summary_path(self.coursedir, student)
        return page if page.is_file() and not page.is_symlink() else None

    def _publish(self, page: Path, secret: str, notebook_id: str, what: str) -> None:
        """Write ``page`` to ``<outbound feedback>/<hash>.html``, where ``fetch_feedback`` looks (atomically)."""
        checksum = notebook_hash(secret=secret, notebook_id=notebook_id)
        partial = Path(self.dest_path) / f"{checksum}-tmp.html"
        partial.write_text(self._links_as_fetched(page), encoding="utf-8")
        partial.chmod(0o644)
        os.replace(partial, Path(self.dest_path) / f"{checksum}.html")
        self.log.info("Released the summary page as %s", what)

    def _links_as_fetched(self, page: Path) -> str:
        """The summary page with its links to the exercise reports as the student's fetch_feedback lays them out.

        The page links ``<id>/<notebook>.html`` beside it in ``feedback/<student>/``;
        a fetched copy sits in ``<id or summary>/feedback/<timestamp>/`` and each
        report in ``<id>/feedback/<submission's timestamp>/``, all at the same depth.
        """
        text = page.read_text(encoding="utf-8")
        for stamp in sorted(page.parent.glob("*/timestamp.txt")):
            assignment = stamp.parent.name
            timestamp = urllib.parse.quote(stamp.read_text(encoding="utf-8").strip())
            text = text.replace(f'href="{assignment}/', f'href="../../../{assignment}/feedback/{timestamp}/')
        return text

    def _summaries_for_pageless_notebooks(self) -> None:
        """Each submitted notebook without an exercise page (it could not be graded) gets the summary instead."""
        assignment = self.coursedir.assignment_id
        submitted = Path(self.coursedir.format_path(self.coursedir.submitted_directory, ".", "."))
        for folder in sorted(submitted.glob(f"*/{assignment}")):
            student = folder.parent.name
            secret_file = folder / "submission_secret.txt"
            page = self._summary_page(student)
            if not self._chosen(student) or page is None or not secret_file.is_file():
                continue
            feedback = Path(self.coursedir.format_path(self.coursedir.feedback_directory, student, assignment))
            for notebook in sorted(folder.glob("*.ipynb")):
                if not (feedback / f"{notebook.stem}.html").is_file():
                    secret = secret_file.read_text(encoding="utf-8")
                    self._publish(page, secret, notebook.stem, f"'{student}' feedback on {assignment}/{notebook.stem}")

    def _offer_summary_assignment(self) -> None:
        """``<exchange>/<course>/outbound/summary/summary.ipynb``, for the students to fetch and submit once."""
        import json

        group = self.coursedir.groupshared
        # the folders and modes nbgrader's release_assignment makes: students can then submit it
        shared = stat.S_ISGID | stat.S_IWGRP if group else 0
        self.ensure_directory(os.path.join(self.course_path, "outbound"), 0o755 | shared)
        inbound = stat.S_ISGID | 0o733 | (stat.S_IRGRP if group else 0)
        self.ensure_directory(os.path.join(self.course_path, "inbound"), inbound)
        offered = Path(self.course_path) / "outbound" / self.summary_assignment
        notebook = offered / f"{self.summary_assignment}.ipynb"
        if notebook.is_file():
            return
        offered.mkdir(exist_ok=True)
        offered.chmod(0o755)
        notebook.write_text(json.dumps(SUMMARY_INVITATION, indent=1), encoding="utf-8")
        notebook.chmod(0o644)
        self.log.info("Offered the '%s' pseudo-assignment: %s", self.summary_assignment, offered)

    def _summary_submissions(self) -> dict[str, Path]:
        """The newest ``summary`` submission in the inbound folder of each student (owned by them when checked)."""
        newest: dict[str, tuple] = {}
        inbound = Path(self.course_path) / "inbound"
        for folder in inbound.glob(f"*+{self.summary_assignment}+*"):
            parts = folder.name.split("+")
            student, timestamp = parts[0], parts[2]
            if self.check_owner and _owner(folder) != student:
                self.log.warning("Ignored %s: not owned by the Unix user %r", folder.name, student)
                continue
            try:
                when = parse_utc(timestamp)
            except (ValueError, OverflowError):
                continue
            if student not in newest or when > newest[student][0]:
                newest[student] = (when, folder)
        return {student: folder for student, (_, folder) in newest.items()}

    def _summaries_for_summary_submissions(self) -> None:
        """Every chosen student who submitted ``summary`` gets their current summary page as its feedback."""
        for student, submission in sorted(self._summary_submissions().items()):
            page = self._summary_page(student)
            secret_file = submission / "submission_secret.txt"
            if not self._chosen(student) or page is None or not secret_file.is_file():
                continue
            secret = secret_file.read_text(encoding="utf-8")
            # fetch_feedback looks for one page per notebook the student submitted (normally summary.ipynb)
            for notebook in sorted(submission.glob("*.ipynb")):
                self._publish(page, secret, notebook.stem, f"'{student}' feedback on {self.summary_assignment}")


def _owner(path: Path) -> str | None:
    """Name of the Unix user owning ``path`` (None when the uid has no name)."""
    try:
        return pwd.getpwuid(path.lstat().st_uid).pw_name
    except KeyError:
        return None
