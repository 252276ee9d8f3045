"""Sanitizing fixes for submissions that nbgrader's own preprocessors choke on."""
from __future__ import annotations

from nbgrader import preprocessors, utils

from ..cells import grade_id


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
