"""`open_course`, the one way the tools open a course, agrees with nbgrader's own CourseDirectory."""

from __future__ import annotations

from nbgrader.coursedir import CourseDirectory

from gradebook_tools.course.config import open_course
from tests.support.course import REPO


def nbgraders_url(root) -> str:
    course = open_course(root)
    return CourseDirectory(config=course.config, root=str(course.root)).db_url


def test_the_default_gradebook_is_nbgraders(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text())
    assert open_course(tmp_path).db_url == nbgraders_url(tmp_path) == f"sqlite:///{tmp_path}/gradebook.db"


def test_a_configured_gradebook_is_nbgraders(tmp_path):
    url = "postgresql+psycopg://grader@/course?host=/run/postgresql"
    (tmp_path / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = {url!r}\n")
    assert open_course(tmp_path).db_url == nbgraders_url(tmp_path) == url


def test_a_gradebook_given_on_the_command_line_wins(tmp_path):
    assert open_course(tmp_path, "sqlite:////elsewhere.db").db_url == "sqlite:////elsewhere.db"


def test_the_course_id_and_sections_come_from_the_config():
    course = open_course(REPO)
    assert course.course_id == CourseDirectory(config=course.config).course_id == "alignment-monitoring"
    assert "mechanics" in course.sections.sections
