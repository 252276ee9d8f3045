"""Looking at a submission before nbgrader does, to say clearly what is wrong with it.

nbgrader repairs much on its own (restored, de-duplicated or retyped cells) and
fails on the rest (a file that is not a notebook). Here every such problem gets
one plain sentence, which the instructor sees in the summary and the student in
feedback. The submission is inspected as the bytes read once by
:func:`gradebook_tools.course.files.read_submission`, never from disk again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import nbformat

from gradebook_tools.course.files import SubmittedFiles
from gradebook_tools.grading.sanitize import metadata_problem, other_exercise, other_exercise_reason

#: Files nbgrader itself writes or reads beside the notebooks: never an "extra file".
NBGRADER_FILES = {"timestamp.txt", "submission_secret.txt"}


@dataclass
class Inspection:
    """What was found in one student's submission of one assignment."""

    fatal: list[str] = field(default_factory=list)  # nbgrader cannot grade it
    notes: list[str] = field(default_factory=list)  # graded, but the student should know
    fingerprint: str = ""


def graded_cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(grade_id, cell_type)`` of every cell with well-formed nbgrader metadata, in order."""
    return [
        (cell.metadata["nbgrader"]["grade_id"], cell.cell_type)
        for cell in notebook.cells
        if metadata_problem(cell) is None
        and isinstance(cell.metadata.get("nbgrader"), dict)
        and "grade_id" in cell.metadata["nbgrader"]
    ]


def inspect_submission(submitted: SubmittedFiles, expected: dict[str, dict[str, str]]) -> Inspection:
    """Inspect a submission against ``expected``: notebook name -> {grade_id: cell type} of the release."""
    inspection = Inspection(fingerprint=submitted.fingerprint, notes=list(submitted.skipped))
    files = submitted.files
    if not any(f"{name}.ipynb" in files for name in expected):
        names = ", ".join(f"{name}.ipynb" for name in expected)
        inspection.fatal.append(f"no notebook was submitted (expected {names}): it scores 0")
        return inspection
    for name, release_ids in expected.items():
        content = files.get(f"{name}.ipynb")
        if content is None:
            inspection.notes.append(f"{name}.ipynb was not submitted: it scores 0")
            continue
        try:
            notebook = nbformat.reads(content.decode("utf-8"), as_version=4)
            notebook.cells  # noqa: B018 - a foreign JSON file has none
        except (json.JSONDecodeError, UnicodeDecodeError, nbformat.reader.NotJSONError) as error:
            inspection.fatal.append(f"{name}.ipynb is not a readable notebook ({_first_line(error)}): it scores 0")
            continue
        except Exception as error:  # noqa: BLE001 - nbformat raises many kinds on foreign files
            inspection.fatal.append(f"{name}.ipynb is not a Jupyter notebook ({_first_line(error)}): it scores 0")
            continue
        if not isinstance(notebook.cells, list) or not all(isinstance(c, dict) for c in notebook.cells):
            inspection.fatal.append(f"{name}.ipynb is not a Jupyter notebook (its cells are not a list): it scores 0")
            continue
        damaged = [str(i + 1) for i, cell in enumerate(notebook.cells) if metadata_problem(cell)]
        if damaged:
            inspection.notes.append(
                f"{name}.ipynb: cells {', '.join(damaged[:5])} had damaged nbgrader metadata "
                "and were treated as deleted"
            )
        cells = graded_cells(notebook)
        other = other_exercise(name, [grade_id for grade_id, _ in cells])
        if other:  # refused whole, as the sanitizing chain of a plain `nbgrader autograde` does
            inspection.fatal.append(other_exercise_reason(name, other))
            continue
        inspection.notes += _cell_problems(name, cells, release_ids)
    for path in sorted(files):
        stem, _, suffix = path.rpartition(".")
        if path in NBGRADER_FILES or (suffix == "ipynb" and stem in expected):
            continue
        inspection.notes.append(f"extra file {path} was ignored")
    return inspection


def _cell_problems(name: str, submitted: list[tuple[str, str]], release: dict[str, str]) -> list[str]:
    ids = [grade_id for grade_id, _ in submitted]
    missing = [cell for cell in release if cell not in ids]
    foreign = [cell for cell in ids if cell not in release]
    if foreign and missing and len(foreign) >= len(missing):  # its own cells replaced by strangers
        return [
            f"{name}.ipynb looks like another exercise's notebook (cells {', '.join(foreign[:3])}, ...): "
            "this exercise's cells were restored empty and score 0"
        ]
    notes = []
    if missing:
        notes.append(f"{name}.ipynb: graded cells {', '.join(missing)} were deleted and restored from the release")
    duplicated = sorted({cell for cell in ids if ids.count(cell) > 1})
    if duplicated:
        notes.append(f"{name}.ipynb: graded cells {', '.join(duplicated)} were duplicated; only the last copy counts")
    retyped = sorted({g for g, kind in submitted if g in release and kind != release[g]})
    if retyped:
        notes.append(f"{name}.ipynb: cells {', '.join(retyped)} were changed to another cell type and were restored")
    return notes


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]
