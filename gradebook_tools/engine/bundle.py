"""The course bundle: everything a grading worker needs of the course, and nothing of its students.

A worker grades a submission in a private copy of the course: the course's
``nbgrader_config.py``, a gradebook holding only the assignments' definitions
(notebooks, cells, points, checksums, due dates: copied from the real gradebook,
so checksums and due dates are the gradebook's own), and the files of
``source/<assignment>/`` that nbgrader's autograde copies over the student's.
The bundle is plain bytes with a digest: a worker on another machine unpacks it
once and reuses it for every task that names the same digest.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, select

from gradebook_tools.course.files import read_output_tree

#: nbgrader's tables that define a course's assignments, parents first.
DEFINITION_TABLES = (
    "course",
    "assignment",
    "notebook",
    "base_cell",
    "grade_cells",
    "solution_cells",
    "task_cells",
    "source_cell",
)
CONFIG_NAME = "nbgrader_config.py"
GRADEBOOK_NAME = "gradebook.db"


@dataclass(frozen=True)
class CourseBundle:
    """A course's grading bundle as one compressed archive."""

    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def build_bundle(course: Path, db_url: str, assignments: list[str]) -> CourseBundle:
    """Pack the course's configuration, definitions and source files for ``assignments``."""
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        definitions = Path(tmp) / GRADEBOOK_NAME
        copy_definitions(db_url, f"sqlite:///{definitions}")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
            _add(archive, CONFIG_NAME, (course / CONFIG_NAME).read_bytes())
            _add(archive, GRADEBOOK_NAME, definitions.read_bytes())
            for assignment in sorted(assignments):
                files = read_output_tree(course / "source" / assignment)
                for name in sorted(files):
                    if not name.endswith(".ipynb") and ".ipynb_checkpoints" not in name:
                        _add(archive, f"source/{assignment}/{name}", files[name])
    return CourseBundle(buffer.getvalue())


def _add(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(content), 0o644, 0  # fixed mtime: same course, same digest
    archive.addfile(info, io.BytesIO(content))


def copy_definitions(source_url: str, target_url: str) -> None:
    """Copy the assignment-defining tables of one nbgrader gradebook into a new SQLite one.

    The schema is nbgrader's own, and the alembic stamp the real gradebook's
    (nbgrader would otherwise ask the ``alembic`` command for it, a second each).
    """
    from nbgrader.api import Base
    from sqlalchemy import Column, MetaData, String, Table

    source, target = create_engine(source_url), create_engine(target_url)
    stamp = Table("alembic_version", MetaData(), Column("version_num", String(32), nullable=False))
    try:
        Base.metadata.create_all(target)
        stamp.create(target)
        with source.connect() as reading, target.begin() as writing:
            writing.execute(stamp.insert(), [dict(row._mapping) for row in reading.execute(select(stamp))])
            for name in DEFINITION_TABLES:
                table = Base.metadata.tables[name]
                rows = [dict(row._mapping) for row in reading.execute(select(table))]
                if rows:
                    writing.execute(table.insert(), rows)
    finally:
        source.dispose()
        target.dispose()


_UNPACKED: dict[str, Path] = {}


def unpacked(bundle: CourseBundle) -> Path:
    """A folder holding ``bundle``, unpacked once per process and digest."""
    folder = _UNPACKED.get(bundle.digest)
    if folder is not None and folder.is_dir():
        return folder
    folder = Path(tempfile.mkdtemp(prefix=f"course-bundle-{bundle.digest[:12]}-"))
    with tarfile.open(fileobj=io.BytesIO(bundle.data), mode="r:gz") as archive:
        archive.extractall(folder, filter="data")
    _UNPACKED[bundle.digest] = folder
    return folder


def private_course(bundle_folder: Path, into: Path) -> Path:
    """A fresh course folder in ``into``: the bundle's config, gradebook and source files."""
    shutil.copy(bundle_folder / CONFIG_NAME, into / CONFIG_NAME)
    # a file copy of SQLite is a consistent copy: the bundle is never written
    shutil.copy(bundle_folder / GRADEBOOK_NAME, into / GRADEBOOK_NAME)
    if (bundle_folder / "source").is_dir():
        shutil.copytree(bundle_folder / "source", into / "source", symlinks=True)
    os.chmod(into, 0o700)
    return into
