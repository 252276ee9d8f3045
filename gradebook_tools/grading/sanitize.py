"""Sanitizing fixes for submissions that nbgrader's own preprocessors choke on."""
from __future__ import annotations

from nbgrader import preprocessors, utils


class DeduplicateIds(preprocessors.DeduplicateIds):
    """nbgrader's DeduplicateIds, leaving the copies plain cells.

    Upstream empties a copy's ``nbgrader`` metadata, which later crashes
    ``OverwriteCells`` and aborts the whole notebook (nbgrader issue #1083).
    Dropping the key keeps the copy as an ordinary, ungraded cell.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader.get("grade_id")
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times: grading the last one", grade_id)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources
