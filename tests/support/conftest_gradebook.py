"""A small hand-built class with exact expected numbers, as pytest fixtures.

``tests/conftest.py`` registers this module as a pytest plugin, so its fixtures
serve every test module.

Three assignments, four students (points: test cells are code, ``explanation``
is graded by hand)::

              ex01_a /10          ex02_b /10      ex04_c /10
    ada       4+4+2 = 10          8+2 = 10        6+2+2 = 10
    bob       4+0+pending = 4,    missing         6+0+1 = 7
              late penalty 1 -> 3
    cyd       0+4+1 = 5           8+1 = 9         missing
    dan       0+0+1 = 1,          0+0 = 0         0+2+2 = 4
              late penalty 2 -> 0

Sections: mechanics = ex01_a, ex02_b; theory = ex04_c and ex05_absent (not in
the gradebook). Roster: ada and bob in lab-A, cyd in lab-B, zed (unknown) in
lab-B; dan is not on it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gradebook_factory import (
    PENDING,
    add_assignment,
    add_graded_submission,
    new_gradebook,
    quick_gradebooks,
)

SECTIONS = {"mechanics": ["ex01_a", "ex02_b"], "theory": ["ex04_c", "ex05_absent"]}

CONFIG = f"""c = get_config()
c.CourseSections.sections = {SECTIONS!r}
c.ExportApp.plugin_class = "gradebook_tools.exports.SectionCsvExportPlugin"
"""

ROSTER = """student_id,section,first_name,last_name,email
ada,lab-A,Ada,Lovelace,ada@example.edu
bob,lab-A,Bob,Babbage,
cyd,lab-B,Cyd,Charisse,
zed,lab-B,Zed,Unknown,
"""


def build_hand_class(folder: Path, db_url: str | None = None) -> Path:
    """Write the gradebook (``db_url``, else ``gradebook.db``), ``nbgrader_config.py`` and ``roster.csv``."""
    with new_gradebook(folder, db_url) as gradebook:
        for student, first, last in [
            ("ada", "Ada", "Lovelace"),
            ("bob", "Bob", "Babbage"),
            ("cyd", "Cyd", "Charisse"),
            ("dan", "Dan", "Dennett"),
        ]:
            gradebook.add_student(student, first_name=first, last_name=last)
        add_assignment(
            gradebook, "ex01_a", [("test_f", 4, "code"), ("test_answer", 4, "code"), ("explanation", 2, "markdown")]
        )
        add_assignment(gradebook, "ex02_b", [("test_g", 8, "code"), ("explanation", 2, "markdown")])
        add_assignment(
            gradebook, "ex04_c", [("test_h", 6, "code"), ("test_answer", 2, "code"), ("explanation", 2, "markdown")]
        )
        grade = add_graded_submission
        grade(gradebook, "ex01_a", "ada", {"test_f": 4, "test_answer": 4, "explanation": 2})
        grade(gradebook, "ex02_b", "ada", {"test_g": 8, "explanation": 2})
        grade(gradebook, "ex04_c", "ada", {"test_h": 6, "test_answer": 2, "explanation": 2})
        grade(gradebook, "ex01_a", "bob", {"test_f": 4, "test_answer": 0, "explanation": PENDING}, late_penalty=1.0)
        grade(gradebook, "ex04_c", "bob", {"test_h": 6, "test_answer": 0, "explanation": 1})
        grade(gradebook, "ex01_a", "cyd", {"test_f": 0, "test_answer": 4, "explanation": 1})
        grade(gradebook, "ex02_b", "cyd", {"test_g": 8, "explanation": 1})
        grade(gradebook, "ex01_a", "dan", {"test_f": 0, "test_answer": 0, "explanation": 1}, late_penalty=2.0)
        grade(gradebook, "ex02_b", "dan", {"test_g": 0, "explanation": 0})
        grade(gradebook, "ex04_c", "dan", {"test_h": 0, "test_answer": 2, "explanation": 2})
    (folder / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return folder / "gradebook.db"


@pytest.fixture(scope="module")
def hand_course(tmp_path_factory) -> Path:
    """A course folder with the hand-built class (shared by a module's tests: read-only)."""
    folder = tmp_path_factory.mktemp("hand_course")
    build_hand_class(folder)
    return folder


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server's bin folder (Debian's ``postgresql`` package), if any."""
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(initdbs[-1]).parent if initdbs else None


@pytest.fixture(scope="session", autouse=True)
def _quick_gradebooks() -> Iterator[None]:
    """The whole session stamps new gradebooks quickly (:func:`tests.support.gradebook_factory.quick_gradebooks`)."""
    with quick_gradebooks():
        yield


@pytest.fixture(scope="module")
def postgres_url():
    """URL of a throw-away PostgreSQL server on a Unix socket; skips without one."""
    bin_folder = postgres_bin()
    if bin_folder is None:
        pytest.skip("no PostgreSQL server binaries (Debian package postgresql)")
    pytest.importorskip("psycopg")
    folder = Path(tempfile.mkdtemp(prefix="gradebook_pg_"))
    # the server refuses to run as root: run it as the postgres user then
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(folder, "postgres", "postgres")
    data, log = folder / "data", folder / "server.log"

    def server(*args: str) -> None:
        subprocess.run(as_user + [str(bin_folder / args[0]), *args[1:]], check=True, capture_output=True, timeout=120)

    try:
        server("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        server("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-o", f"-k {folder} -c listen_addresses='' -F", "start")
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"cannot start PostgreSQL: {error.stderr.decode(errors='replace')[-300:]}")
    yield f"postgresql+psycopg://postgres@/postgres?host={folder}"
    server("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
    shutil.rmtree(folder, ignore_errors=True)
