"""Sanitizing fixes for submissions that nbgrader's own preprocessors choke on."""

from __future__ import annotations

import functools
import json
import logging
import pkgutil
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jsonschema
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader import preprocessors, utils
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError, SchemaTooOldError, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator

from gradebook_tools.course.cells import grade_id
from gradebook_tools.grading import checks

#: Key of nbgrader's ``resources`` where the grader leaves its notes on a notebook (plain sentences,
#: written by the grader, never by the kernel); the grading engine records them with the outcome.
NOTES_KEY = "gradebook_tools_notes"


def metadata_problem(cell: NotebookNode) -> str | None:
    """Why a cell's nbgrader metadata is malformed (wrong types, unknown version), or None.

    nbgrader's own schema decides (version and JSON schema); a malformed cell
    aborts nbgrader's whole run otherwise (``SchemaTooNewError`` stops every
    student after it).
    """
    metadata = cell.get("metadata", {}).get("nbgrader")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return "its nbgrader metadata is not a mapping"
    version = metadata.get("schema_version")
    if type(version) is not int or version != MetadataValidator.schema_version:
        return f"its nbgrader metadata has an unknown schema_version {str(version)[:20]!r}"
    try:
        error = _schema_error(json.dumps(metadata, sort_keys=True))
    except (TypeError, ValueError):  # not JSON data at all (a notebook read from JSON always is)
        error = "it is not JSON data"
    if error:
        return f"its nbgrader metadata is malformed ({error})"
    if not isinstance(metadata.get("grade_id", ""), str):
        return "its grade_id is not text"
    return None


@functools.lru_cache(maxsize=4096)
def _schema_error(metadata_json: str) -> str:
    """The first schema error of one cell's metadata (as JSON text), or "": a class's cells repeat."""
    error = next(_schema_validator().iter_errors(json.loads(metadata_json)), None)
    return "" if error is None else str(error.message).splitlines()[0][:120]


@functools.cache
def _schema_validator():
    """nbgrader's JSON schema of cell metadata, compiled once.

    (nbgrader's own validator calls ``jsonschema.validate``, which checks the
    schema itself again on every cell: most of its cost.)
    """
    schema = MetadataValidator().schema
    return jsonschema.validators.validator_for(schema)(schema)


class _CompiledSchemaValidator(BaseMetadataValidator):
    """nbgrader's cell check with the schema compiled once (``jsonschema.validate`` re-checks it per cell)."""

    def validate_cell(self, cell) -> None:
        if "nbgrader" not in cell.metadata:
            return
        version = cell.metadata["nbgrader"].get("schema_version", 0)
        if version < self.schema_version:
            raise SchemaTooOldError(
                f"Outdated schema version: {version} (expected {self.schema_version})", version, self.schema_version
            )
        if version > self.schema_version:
            raise SchemaTooNewError(
                f"Schema version is too new: {version} (expected {self.schema_version})", version, self.schema_version
            )
        _schema_validator().validate(cell.metadata["nbgrader"])


class _MetadataValidator(MetadataValidator, _CompiledSchemaValidator):
    """nbgrader's validator (its own per-cell rules), checking the schema through the compiled one."""


class CheckCellMetadata(preprocessors.CheckCellMetadata):
    """nbgrader's CheckCellMetadata: the same checks and errors, with less work a notebook."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        try:
            _cell_validator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            message = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(message)
            raise ValidationError(message) from None
        return nb, resources


@functools.cache
def _cell_validator() -> _MetadataValidator:
    return _MetadataValidator()


class RepairMetadata(preprocessors.NbGraderPreprocessor):
    """Make cells with malformed nbgrader metadata plain cells, first of the sanitizing chain.

    The release's graded and answer cells are then missing, and ``OverwriteCells``
    (with ``add_missing_cells``) restores them from the gradebook: the notebook is
    graded as if those cells had been deleted, and the rest of the class is not
    stopped by one damaged notebook.
    """

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        for index, cell in enumerate(nb.cells):
            problem = metadata_problem(cell)
            if problem:
                self.log.warning("Cell %d: %s; it was made a plain cell", index + 1, problem)
                del cell.metadata["nbgrader"]
        return nb, resources


class DeduplicateIds(preprocessors.DeduplicateIds):
    """nbgrader's DeduplicateIds, leaving the copies plain cells.

    Upstream empties a copy's ``nbgrader`` metadata, which later crashes
    ``OverwriteCells`` and aborts the whole notebook (nbgrader issue #1083).
    Dropping the key keeps the copy as an ordinary, ungraded cell.
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], cell_index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        name = grade_id(cell)
        if name in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times: grading the last one", name)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(name)
        return cell, resources


class OverwriteCells(preprocessors.OverwriteCells):
    """nbgrader's OverwriteCells, with the release's flags restored and unknown cells left plain cells.

    - Before nbgrader's own checks, every cell whose ``grade_id`` the gradebook
      knows gets the release's ``grade``, ``solution``, ``locked``, ``task``,
      ``points`` and cell type (:func:`restore_release_flags`): a student's copy
      decides none of them. Upstream believes some: a test cell flipped to
      ``solution: true`` fails with "Inconsistent checksums" and leaves every
      test cell for manual grading; a test cell marked ``grade: false`` or an
      answer cell marked ``grade: true`` fails with ``MissingEntry``.
    - Upstream deletes only the ``grade_id`` of a cell the gradebook does not
      know (one copied from another exercise, say), which crashes
      ``add_missing_cells`` and aborts the notebook. Dropping the whole
      ``nbgrader`` key keeps it an ordinary cell.
    - The release is read from the gradebook once per notebook, not once per cell.
    """

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        identity = resources["nbgrader"]
        self.notebook_id, self.assignment_id = identity["notebook"], identity["assignment"]
        self.db_url = identity["db_url"]
        self.gradebook = Gradebook(self.db_url)
        with self.gradebook:
            self.release = ReleaseDefinitions(self.gradebook, self.notebook_id, self.assignment_id)
            restore_release_flags(nb, self.release, self.log)
            for index, cell in enumerate(nb.cells):
                nb.cells[index], resources = self.preprocess_cell(cell, resources, index)
            if self.add_missing_cells:
                nb, resources = self.add_missing_grade_cells(nb, resources)
                nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], cell_index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """The release's checksum on every known cell, and a locked cell's source back if it changed."""
        metadata = cell.metadata.get("nbgrader")
        name = metadata.get("grade_id") if isinstance(metadata, dict) else None
        if name is None:
            return cell, resources
        source = self.release.source.get(name)
        if source is None:
            self.log.warning("Cell '%s' does not exist in the database: it was made a plain cell", name)
            del cell.metadata["nbgrader"]
            return cell, resources
        metadata["checksum"] = source.checksum
        if source.locked:
            checksum = utils.compute_checksum(cell)
            if checksum != source.checksum:
                self.report_change(name, "checksum", source.checksum, checksum)
                cell.source = source.source
                if utils.compute_checksum(cell) != source.checksum:
                    raise RuntimeError(f"Inconsistent checksums for cell {name}")
        return cell, resources

    def add_missing_grade_cells(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """Restore missing graded and answer cells, each after its nearest present predecessor.

        Upstream restores graded cells only, and fails when the cell before a
        missing one is itself missing (a whole notebook of another exercise).
        """
        points, answers = self.release.points, self.release.solutions
        position = {grade_id(cell): index for index, cell in enumerate(nb.cells)}
        after = -1  # index of the last restored-or-present cell
        for source_cell in self.release.cells:
            name = source_cell.name
            if name not in points and name not in answers:
                continue
            if name in position:
                after = position[name]
                continue
            self.log.warning("Missing cell %s encountered, adding it back to the notebook", name)
            cell = self.missing_cell_transform(source_cell, points.get(name, 0), is_solution=name in answers)
            if name not in points:  # an autograded answer cell carries no points of its own
                cell["metadata"]["nbgrader"]["grade"] = False
                del cell["metadata"]["nbgrader"]["points"]
            nb.cells.insert(after + 1, cell)
            after += 1
            position = {grade_id(c): i for i, c in enumerate(nb.cells)}
        return nb, resources


class RefuseLinks(preprocessors.NbGraderPreprocessor):
    """Never let a link in ``submitted/`` reach the grading, first of the sanitizing chain.

    nbgrader follows links: it reads a linked notebook's target (the source
    notebook with its solutions, a classmate's) and copies the targets of linked
    extra files into ``autograded/`` (the gradebook, ``/etc/shadow``). A linked
    notebook, or a link on the way to it, fails this submission with the reason;
    the copies of linked or special extra files are removed before any kernel
    starts. (``gradebook-tools grade`` never reads links in the first place.)
    """

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        from nbgrader.coursedir import CourseDirectory

        identity = resources["nbgrader"]
        coursedir = CourseDirectory(parent=self)
        folder = Path(coursedir.format_path(coursedir.submitted_directory, identity["student"], identity["assignment"]))
        notebook = folder / f"{identity['notebook']}.ipynb"
        root = Path(coursedir.root).resolve()
        for path in [notebook, *notebook.parents]:
            if path == root or root not in path.parents:
                break
            if path.is_symlink():
                raise ValueError(
                    f"{path.relative_to(root)} is a symbolic link, not the student's own file: "
                    "the submission was not graded"
                )
        if not Path(resources["metadata"]["path"]).resolve() == folder.resolve():
            return nb, resources  # the autograding pass: the sanitized copy is the grader's own
        autograded = Path(
            coursedir.format_path(coursedir.autograded_directory, identity["student"], identity["assignment"])
        )
        for entry in folder.rglob("*"):
            if entry.is_symlink() or not (entry.is_file() or entry.is_dir()):
                copy = autograded / entry.relative_to(folder)
                if copy.exists() and not copy.is_symlink() and copy.is_file():
                    copy.unlink()
                self.log.warning("%s is not a regular file: it was left out", entry.relative_to(folder))
        return nb, resources


# ---------------------------------------------------------------- the release's flags and exercise


def _exercise_ids(notebook_id: str) -> frozenset[str]:
    """The ``grade_id``s that name a notebook's graded work: its test cells and the answer cells they check."""
    try:
        found = checks.checks_for(notebook_id)
    except checks.UnknownNotebook:
        return frozenset()
    return frozenset(found) | frozenset(check.target for check in found.values())


@functools.cache
def _exclusive_ids() -> dict[str, frozenset[str]]:
    """Notebook id -> the ids of its graded work that no other notebook of the course uses."""
    names = [module.name for module in pkgutil.iter_modules(checks.__path__) if not module.name.startswith("_")]
    ids = {name: _exercise_ids(name) for name in names}
    return {
        name: own - frozenset().union(*(other for other_name, other in ids.items() if other_name != name))
        for name, own in ids.items()
    }


def other_exercise(notebook_id: str, submitted_ids: Iterable[str]) -> str | None:
    """The exercise whose notebook this is when it is not ``notebook_id``'s, else None.

    Decided by the graded cells only another exercise has (``answer`` and
    ``explanation``, shared by every exercise, decide nothing): the notebook is
    another exercise's when more of that exercise's own cells are in it than of
    ``notebook_id``'s.
    """
    exclusive = _exclusive_ids()
    if notebook_id not in exclusive:
        return None
    submitted = set(submitted_ids)
    own = len(submitted & exclusive[notebook_id])
    count, other = max(
        ((len(submitted & ids), name) for name, ids in exclusive.items() if name != notebook_id), default=(0, None)
    )
    return other if count > own else None


def other_exercise_reason(notebook_id: str, other: str) -> str:
    """The sentence the student, the instructor and the feedback read."""
    return (
        f"this is {other}'s notebook, submitted as {notebook_id}: it was not graded; "
        f"every graded cell of {notebook_id} was restored empty and scores 0"
    )


def _release_cell(source_cell: ReleasedCell, points: float | None, solution: bool, task: bool):
    """A cell exactly as the release had it (its checksum matches): a restored, empty cell."""
    metadata = {
        "grade": points is not None and not task,
        "grade_id": source_cell.name,
        "locked": bool(source_cell.locked),
        "schema_version": 3,
        "solution": solution,
        "checksum": source_cell.checksum,
    }
    if points is not None:
        metadata["points"] = points
    if task:
        metadata["task"] = True
    make = new_code_cell if source_cell.cell_type == "code" else new_markdown_cell
    return make(source=source_cell.source, metadata={"nbgrader": metadata})


@dataclass(frozen=True)
class ReleasedCell:
    """One cell of the release as the gradebook stores it (nbgrader's ``SourceCell``, as plain data)."""

    name: str
    cell_type: str
    locked: bool
    source: str
    checksum: str


class ReleaseDefinitions:
    """The release's cells of one notebook, read once from an open gradebook."""

    def __init__(self, gradebook: Gradebook, notebook_id: str, assignment_id: str) -> None:
        notebook = gradebook.find_notebook(notebook_id, assignment_id)
        self.points = {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
        self.tasks = {cell.name: float(cell.max_score) for cell in notebook.task_cells}
        self.solutions = {cell.name for cell in notebook.solution_cells}
        self.cells = [
            ReleasedCell(cell.name, cell.cell_type, bool(cell.locked), cell.source, cell.checksum)
            for cell in notebook.source_cells
        ]
        self.source = {cell.name: cell for cell in self.cells}

    def flags(self, name: str) -> dict:
        """The nbgrader flags the release gave cell ``name``."""
        points = self.points.get(name, self.tasks.get(name))
        flags: dict[str, Any] = {
            "grade": name in self.points,
            "solution": name in self.solutions,
            "locked": self.source[name].locked,
            "task": name in self.tasks,
        }
        if points is not None:
            flags["points"] = points
        return flags


class RefuseOtherExercise(preprocessors.NbGraderPreprocessor):
    """Refuse another exercise's notebook whole, early in the sanitizing chain.

    The ``answer`` and ``explanation`` cells have the same ``grade_id`` in every
    exercise: left in place, the other exercise's answer would be checked here
    and its essay shown to a TA under this exercise's score. Instead every cell
    is replaced by the release's graded, answer and locked cells exactly as
    released (they score 0; an unchanged manual answer needs no TA), after one
    plain cell that says why. The reason goes to the log and to the grader's notes.
    """

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        notebook_id = resources["nbgrader"]["notebook"]
        ids = [grade_id(cell) for cell in nb.cells if isinstance(cell.get("metadata", {}).get("nbgrader"), dict)]
        other = other_exercise(notebook_id, [name for name in ids if isinstance(name, str)])
        if other is None:
            return nb, resources
        reason = other_exercise_reason(notebook_id, other)
        self.log.error("%s/%s: %s", resources["nbgrader"]["student"], notebook_id, reason)
        notes = resources.setdefault(NOTES_KEY, [])
        if reason not in notes:
            notes.append(reason)
        identity = resources["nbgrader"]
        with Gradebook(identity["db_url"]) as gradebook:
            release = ReleaseDefinitions(gradebook, notebook_id, identity["assignment"])
        cells = [new_markdown_cell(f"**Not graded:** {reason}.")]
        for source_cell in release.cells:
            flags = release.flags(source_cell.name)
            cells.append(_release_cell(source_cell, flags.get("points"), flags["solution"], flags["task"]))
        nb.cells = cells
        return nb, resources


def restore_release_flags(
    nb: NotebookNode, release: ReleaseDefinitions, log: logging.Logger | logging.LoggerAdapter[Any]
) -> None:
    """Give every cell whose ``grade_id`` the release knows the release's nbgrader flags and cell type.

    A student's copy says which cells are tests, answers, locked or worth what;
    here ``grade``, ``solution``, ``locked``, ``task``, ``points`` and the cell
    type come from the gradebook (the cells ``generate_assignment`` stored), so
    the notebook is graded as released. Of two cells with one ``grade_id``
    (one of them unflagged, so nbgrader's ``DeduplicateIds`` let it pass) the
    first is kept and the later one made a plain cell.
    """
    seen = set()
    for index, cell in enumerate(nb.cells):
        metadata = cell.get("metadata", {}).get("nbgrader")
        name = metadata.get("grade_id") if isinstance(metadata, dict) else None
        if not isinstance(name, str) or name not in release.source:
            continue
        if name in seen:
            log.warning("Cell %d: a second cell %s; it was made a plain cell", index + 1, name)
            del cell.metadata["nbgrader"]
            continue
        seen.add(name)
        changed = _restore(cell, metadata, release.flags(name), release.source[name].cell_type)
        if changed:
            log.warning("Cell %d (%s): %s restored from the release", index + 1, name, ", ".join(changed))


def _restore(cell, metadata: dict, flags: dict, cell_type: str) -> list[str]:
    changed: list[str] = []
    for key in ("grade", "solution", "locked", "task"):
        if key == "task" and not flags[key]:
            if "task" in metadata:
                del metadata["task"]
                changed.append(key)
        elif metadata.get(key) is not flags[key]:
            metadata[key] = flags[key]
            changed.append(key)
    points, have = flags.get("points"), metadata.get("points")
    if points is None and "points" in metadata:
        del metadata["points"]
        changed.append("points")
    elif points is not None and (type(have) not in (int, float) or float(cast(float, have)) != points):
        metadata["points"] = points
        changed.append("points")
    if metadata.get("cell_type", cell_type) != cell_type:
        metadata["cell_type"] = cell_type
    if cell.cell_type != cell_type and cell_type in ("code", "markdown"):
        _retype(cell, cell_type)
        changed.append("cell type")
    return changed


def _retype(cell, cell_type: str) -> None:
    """Make ``cell`` a code or markdown cell, as nbgrader's ``OverwriteCells.update_cell_type`` does."""
    cell.cell_type = cell_type
    if cell_type == "code":
        cell.outputs, cell.execution_count = [], None
        cell.pop("attachments", None)  # a code cell has none in nbformat's schema
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
