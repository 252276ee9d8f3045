"""Which assignments make up each curriculum section, read as nbgrader reads its config.

The mapping lives in the course's ``nbgrader_config.py`` as traits of
:class:`CourseSections`, next to nbgrader's own settings::

    c.CourseSections.sections = {"mechanics": ["ex01_response_only_sft", ...], ...}
    c.CourseSections.weights = {"mechanics": 0.3, ...}   # optional
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from traitlets import Dict, Float, List, Unicode
from traitlets.config import Config, Configurable
from traitlets.config.loader import PyFileConfigLoader

#: The file nbgrader reads in the course root.
CONFIG_FILE = "nbgrader_config.py"


class CourseSections(Configurable):
    """The curriculum sections of the course and their optional weights."""

    sections = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        help="Curriculum section name -> list of assignment ids, in teaching order.",
    ).tag(config=True)

    weights = Dict(
        key_trait=Unicode(),
        value_trait=Float(),
        help=(
            "Optional weight of each curriculum section in the overall percentage. "
            "Empty: the overall percentage is total points over total maximum."
        ),
    ).tag(config=True)

    def section_of(self) -> dict[str, str]:
        """Map each configured assignment id to its curriculum section."""
        return {assignment: section for section, assignments in self.sections.items() for assignment in assignments}

    def problems(self) -> list[str]:
        """Describe inconsistencies of the configuration, one sentence each."""
        problems = []
        seen: dict[str, str] = {}
        for section, assignments in self.sections.items():
            for assignment in assignments:
                if assignment in seen:
                    problems.append(
                        f"assignment {assignment!r} is in both sections {seen[assignment]!r} and {section!r}"
                    )
                seen.setdefault(assignment, section)
        for section, weight in self.weights.items():
            if section not in self.sections:
                problems.append(f"weight given for unknown section {section!r}")
            if weight < 0:
                problems.append(f"weight of section {section!r} is negative ({weight})")
        if self.weights and set(self.weights) != set(self.sections):
            unweighted = sorted(set(self.sections) - set(self.weights))
            if unweighted:
                problems.append(f"sections without a weight: {', '.join(unweighted)}")
        return problems


def load_course_config(course_root: Path | str = ".") -> Config:
    """Read ``nbgrader_config.py`` of a course the way nbgrader does.

    Parameters
    ----------
    course_root
        Folder holding ``nbgrader_config.py``. A missing file gives an empty
        configuration.

    Returns
    -------
    traitlets.config.Config
    """
    path = Path(course_root) / CONFIG_FILE
    if not path.is_file():
        return Config()
    loader = PyFileConfigLoader(CONFIG_FILE, path=str(path.parent.resolve()))
    return loader.load_config()


def load_course_sections(course_root: Path | str = ".") -> CourseSections:
    """The :class:`CourseSections` configured for a course.

    Examples
    --------
    >>> load_course_sections("/nonexistent").sections
    {}
    """
    return CourseSections(config=load_course_config(course_root))


def configured_db_url(config: Config, course_root: Path | str = ".") -> str:
    """The gradebook URL nbgrader would use: ``CourseDirectory.db_url`` or ``gradebook.db``."""
    url = config.get("CourseDirectory", {}).get("db_url")
    if url:
        return str(url)
    return f"sqlite:///{(Path(course_root) / 'gradebook.db').resolve()}"


@dataclass(frozen=True)
class Course:
    """A course folder as nbgrader sees it: its root, its configuration and its gradebook's URL."""

    root: Path
    config: Config
    db_url: str

    @property
    def course_id(self) -> str:
        return str(self.config.get("CourseDirectory", {}).get("course_id", ""))  # nbgrader's default

    @property
    def sections(self) -> CourseSections:
        return CourseSections(config=self.config)


def open_course(root: Path | str = ".", db: str | None = None) -> Course:
    """The one way every tool opens a course: ``nbgrader_config.py`` read as nbgrader reads it.

    ``db`` (a URL) overrides the gradebook nbgrader would use. The URL is
    nbgrader's own rule (``CourseDirectory.db_url``, default ``<root>/gradebook.db``),
    computed without importing nbgrader so that commands start fast;
    ``tests/course/test_course_config.py`` pins it to nbgrader's ``CourseDirectory``.
    """
    root = Path(root).resolve()
    config = load_course_config(root)
    return Course(root, config, db or configured_db_url(config, root))
