"""Sanitizing fixes for submissions that nbgrader's own preprocessors choke on."""

from __future__ import annotations

import functools
import json
import traceback
from pathlib import Path

import jsonschema
from nbgrader import preprocessors, utils
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError, SchemaTooOldError, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator

from gradebook_tools.course.cells import grade_id


def metadata_problem(cell) -> str | None:
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
    """nbgrader's CheckCellMetadata: the same checks and errors, ~0.03 CPU-s less a notebook."""

    def preprocess(self, nb, resources):
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

    def preprocess(self, nb, resources):
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

    def preprocess_cell(self, cell, resources, cell_index):
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
    """nbgrader's OverwriteCells, leaving cells unknown to the gradebook plain cells.

    Upstream deletes only the ``grade_id`` of such a cell (one copied from
    another exercise, say), which crashes ``add_missing_cells`` and aborts the
    notebook. Dropping the whole ``nbgrader`` key keeps it an ordinary cell.
    """

    def add_missing_grade_cells(self, nb, resources):
        """Restore missing graded and answer cells, each after its nearest present predecessor.

        Upstream restores graded cells only, and fails when the cell before a
        missing one is itself missing (a whole notebook of another exercise).
        """
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        points = {cell.name: cell.max_score for cell in source.grade_cells}
        answers = {cell.name for cell in source.solution_cells}
        position = {grade_id(cell): index for index, cell in enumerate(nb.cells)}
        after = -1  # index of the last restored-or-present cell
        for source_cell in source.source_cells:
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

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        nbgrader_metadata = cell.metadata.get("nbgrader")
        if nbgrader_metadata is not None and "grade_id" not in nbgrader_metadata:
            del cell.metadata["nbgrader"]
        return cell, resources


class RefuseLinks(preprocessors.NbGraderPreprocessor):
    """Never let a link in ``submitted/`` reach the grading, first of the sanitizing chain.

    nbgrader follows links: it reads a linked notebook's target (the source
    notebook with its solutions, a classmate's) and copies the targets of linked
    extra files into ``autograded/`` (the gradebook, ``/etc/shadow``). A linked
    notebook, or a link on the way to it, fails this submission with the reason;
    the copies of linked or special extra files are removed before any kernel
    starts. (``gradebook-tools grade`` never reads links in the first place.)
    """

    def preprocess(self, nb, resources):
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
