"""The similarity report of one assignment: who is compared, the ranked pairs and the decisions on them."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gradebook_tools.similarity.code import Submission, class_submissions, release_code
from gradebook_tools.similarity.matching import GUARANTEE, NOISE, Match, rank_pairs
from gradebook_tools.similarity.reviews import Review, pair_key, read_reviews

if TYPE_CHECKING:
    from nbgrader.coursedir import CourseDirectory


@dataclass
class SimilarityReport:
    """Everything ``gradebook-tools similarity`` prints or writes."""

    assignment: str
    #: Folder the class's submissions were read from (``submitted/`` or ``autograded/``).
    source: str
    submissions: dict[str, Submission]
    matches: list[Match]
    #: Past terms compared with the class, by name.
    past_terms: list[str] = field(default_factory=list)
    reviews: dict[tuple[str, str], Review] = field(default_factory=dict)
    noise: int = NOISE
    guarantee: int = GUARANTEE

    def review(self, match: Match) -> Review | None:
        return self.reviews.get(pair_key(match.a, match.b))

    def ranked_json(self) -> list[dict]:
        """The pairs, most similar first, as ``{"a", "b", "score"}`` objects."""
        return [{"a": match.a, "b": match.b, "score": match.score} for match in self.matches]

    def write_json(self, stream: TextIO) -> None:
        """:meth:`ranked_json` as JSON text, written pair by pair (a class of 1,000 has 500,000 pairs)."""
        stream.write("[")
        for number, match in enumerate(self.matches):
            stream.write(",\n " if number else "\n ")
            stream.write(json.dumps({"a": match.a, "b": match.b, "score": match.score}))
        stream.write("\n]\n" if self.matches else "]\n")


def class_folder(course_root: Path, assignment: str, coursedir: CourseDirectory | None = None) -> tuple[str, Path]:
    """Where the class's submissions are: ``submitted/`` when any is there, else ``autograded/``."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = coursedir or CourseDirectory(root=str(course_root))
    for name in (coursedir.submitted_directory, coursedir.autograded_directory):
        folder = Path(coursedir.root) / name
        if any(folder.glob(f"*/{assignment}")):
            return name, folder
    return coursedir.submitted_directory, Path(coursedir.root) / coursedir.submitted_directory


def build_report(
    course_root: Path | str,
    assignment: str,
    past: list[Path] | None = None,
    db_url: str | None = None,
    regions_for: int = 100,
) -> SimilarityReport:
    """Compare the class's code on ``assignment`` with itself and with every past term in ``past``.

    Parameters
    ----------
    course_root
        Folder holding ``nbgrader_config.py``.
    assignment
        The assignment (exercise) id.
    past
        Folders laid out like ``submitted/`` (``<student>/<assignment>/*.ipynb``);
        their authors are ``past:<folder name>/<student>``.
    db_url
        Gradebook holding the review decisions; nbgrader's when None. A course
        without a gradebook has no decisions yet.
    """
    from nbgrader.coursedir import CourseDirectory

    from gradebook_tools.course.config import open_course

    course = open_course(course_root, db_url)
    coursedir = CourseDirectory(config=course.config, root=str(course.root))
    source, folder = class_folder(course.root, assignment, coursedir)
    submissions = class_submissions(folder, assignment)
    terms = []
    for term_folder in past or []:
        term = Path(term_folder).resolve().name
        terms.append(term)
        submissions += class_submissions(Path(term_folder), assignment, past_term=term)
    released = release_code(Path(coursedir.root) / coursedir.release_directory / assignment)
    matches = rank_pairs(submissions, released, regions_for=regions_for)
    return SimilarityReport(
        assignment=assignment,
        source=source,
        submissions={submission.author: submission for submission in submissions},
        matches=matches,
        past_terms=terms,
        reviews=_reviews(course.db_url, assignment),
    )


def _reviews(db_url: str, assignment: str) -> dict[tuple[str, str], Review]:
    from sqlalchemy.exc import SAWarning

    from gradebook_tools.course.errors import GradebookError
    from gradebook_tools.gradebook.scores import open_gradebook

    try:
        engine = open_gradebook(db_url)
    except GradebookError:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            return read_reviews(engine, assignment)
    finally:
        engine.dispose()
