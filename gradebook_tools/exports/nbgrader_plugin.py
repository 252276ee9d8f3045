"""The ``nbgrader export`` plugin: nbgrader's CSV, plus the per-section CSV next to it.

``nbgrader_config.py`` names it ``gradebook_tools.exports.SectionCsvExportPlugin``
(:mod:`gradebook_tools.exports` finds it here on use). It extends nbgrader's
``CsvExportPlugin``, which imports nbgrader, so it lives apart from the
writers, which the ``gradebook-tools export`` command uses without nbgrader.
"""

from __future__ import annotations

from nbgrader.api import Gradebook
from nbgrader.plugins import CsvExportPlugin
from traitlets import Bool, Unicode

from gradebook_tools.course.config import CourseSections
from gradebook_tools.exports.formats import sections_path_for, write_section_csv
from gradebook_tools.gradebook.class_data import read_class
from gradebook_tools.gradebook.scores import ClassScores
from gradebook_tools.gradebook.sections import section_table


class SectionCsvExportPlugin(CsvExportPlugin):  # type: ignore[misc]  # nbgrader is untyped
    """``nbgrader export`` plugin: nbgrader's CSV plus the per-section CSV.

    The curriculum sections come from ``c.CourseSections`` in the same
    ``nbgrader_config.py``. ``--to`` still names nbgrader's CSV (default
    ``grades.csv``); the per-section CSV goes to :attr:`sections_to`, with the
    names of the gradebook and, once a roster was imported
    (``gradebook-tools roster import``), a ``class_section`` column. Its data
    cells are neutralized for spreadsheets (:func:`gradebook_tools.exports.formats.spreadsheet_safe`);
    nbgrader's own CSV is written by nbgrader, unchanged.
    """

    sections_to = Unicode("", help="Where to write the per-section CSV (default: <to>_sections.csv).").tag(config=True)

    write_nbgrader_csv = Bool(True, help="Also write nbgrader's own per-assignment CSV (slow for large classes).").tag(
        config=True
    )

    def export(self, gradebook: Gradebook) -> None:
        if self.write_nbgrader_csv:
            super().export(gradebook)
        destination = self.sections_to or sections_path_for(self.to or "grades.csv")
        data = read_class(gradebook.engine, CourseSections(parent=self), warn=self.log.warning)
        scores = data.scores
        if self.assignment:
            wanted = {str(name) for name in self.assignment}
            scores.assignments = [a for a in scores.assignments if a.name in wanted]
        table = section_table(scores, data.course, self._known_students(scores))
        self.log.info("Exporting per-section grades to %s", destination)
        with open(destination, "w", encoding="utf-8", newline="") as out:
            write_section_csv(table, out, data.class_section_of)

    def _known_students(self, scores: ClassScores) -> list[str] | None:
        """The ``--student`` filter, less (and warning about) ids the gradebook lacks."""
        if not self.student:
            return None
        known = {student.id for student in scores.students}
        unknown = [str(s) for s in self.student if str(s) not in known]
        if unknown:
            self.log.warning("Not in the gradebook, left out of the per-section CSV: %s", ", ".join(unknown))
        return [str(s) for s in self.student if str(s) in known]
