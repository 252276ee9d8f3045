"""The exchange is part of the course: its root is configured, and the documented commands move a notebook."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from traitlets.config import Config

from tests.support.course import REPO, nbgrader


def course_config() -> Config:
    config = Config()
    exec((REPO / "nbgrader_config.py").read_text(encoding="utf-8"), {"get_config": lambda: config})
    return config


def test_the_course_names_an_absolute_exchange_root_and_how_to_create_it():
    root = course_config().Exchange.root
    assert root == "/srv/nbgrader/exchange"
    text = (REPO / "nbgrader_config.py").read_text(encoding="utf-8")
    assert f"install -d -m 1777 {root}" in text
    assert "JupyterHub" in text
    workflow = (REPO / "docs" / "course_workflow.md").read_text(encoding="utf-8")
    assert f"install -d -m 1777 {root}" in workflow
    assert f'c.Exchange.root = "{root}"' in workflow


@pytest.mark.slow
def test_release_fetch_submit_collect_with_the_documented_commands(tmp_path):
    """The commands of docs/course_workflow.md, with a scratch exchange created as documented."""
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o1777)
    os.chmod(exchange, 0o1777)  # the umask would take bits away
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o1777
    course, student = tmp_path / "course", tmp_path / "student"
    course.mkdir()
    student.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    exercise = "ex02_bradley_terry"
    shutil.copytree(REPO / "source" / exercise, course / "source" / exercise)
    root = f"--Exchange.root={exchange}"

    nbgrader("generate_assignment", exercise, "--force", cwd=course)
    nbgrader("release_assignment", exercise, root, cwd=course)
    assert (exchange / "alignment-monitoring" / "outbound" / exercise / f"{exercise}.ipynb").is_file()

    nbgrader("fetch_assignment", exercise, "--course", "alignment-monitoring", root, cwd=student)
    fetched = student / exercise / f"{exercise}.ipynb"
    assert fetched.read_bytes() == (course / "release" / exercise / f"{exercise}.ipynb").read_bytes()
    validated = nbgrader("validate", str(fetched), cwd=student, check=False)
    assert "NotImplementedError" in validated.stdout + validated.stderr  # the blank release fails its tests

    nbgrader("submit", exercise, "--course", "alignment-monitoring", root, cwd=student)
    nbgrader("collect", exercise, root, cwd=course)
    collected = list((course / "submitted").glob(f"*/{exercise}/{exercise}.ipynb"))
    assert [path.read_bytes() for path in collected] == [fetched.read_bytes()]


def test_students_config_snippet_of_the_workflow_is_valid_nbgrader_config():
    workflow = (REPO / "docs" / "course_workflow.md").read_text(encoding="utf-8")
    snippet = workflow.split("cat > /etc/jupyter/nbgrader_config.py <<'EOF'\n", 1)[1].split("\nEOF", 1)[0]
    config = Config()
    exec(snippet, {"get_config": lambda: config})
    course = course_config()
    assert config.Exchange.root == course.Exchange.root
    assert config.CourseDirectory.course_id == course.CourseDirectory.course_id
    assert Path(config.Exchange.root).is_absolute()
