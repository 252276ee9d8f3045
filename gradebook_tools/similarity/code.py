"""What is compared: the code a student wrote in a notebook's solution cells, and what the release gave them.

Only code cells that nbgrader marks as solution cells (``nbgrader.solution``)
count as the student's own; the released notebook's code (signatures,
docstrings, ``raise NotImplementedError()``, imports, worked examples) is the
boilerplate every student starts from and is removed from the comparison.
Markdown answers are not compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

#: IPython magics and shell escapes are not Python: pygments would read them as errors.
_MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)


@dataclass(frozen=True)
class Submission:
    """One author's code for one assignment: a student of this class, or ``past:<term>/<student>``."""

    author: str
    code: str
    #: Where it was read from (for the page).
    origin: str
    #: True for a past term's submission (compared with this class only).
    past: bool = False


def solution_code(notebook: nbformat.NotebookNode) -> str:
    """The sources of the notebook's solution code cells, in order, one blank line apart."""
    cells = [
        _MAGIC.sub("", cell.source)
        for cell in notebook.cells
        if cell.cell_type == "code" and (cell.get("metadata", {}).get("nbgrader") or {}).get("solution")
    ]
    return "\n\n".join(cell.strip("\n") for cell in cells if cell.strip()) + "\n"


def all_code(notebook: nbformat.NotebookNode) -> str:
    """Every code cell's source (the released notebook: what every student starts from)."""
    return "\n\n".join(_MAGIC.sub("", cell.source) for cell in notebook.cells if cell.cell_type == "code") + "\n"


def read_notebook(path: Path) -> nbformat.NotebookNode | None:
    """The notebook at ``path``, or None when it is a link, not a file, or not a readable notebook."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 (a student's file: any way of being unreadable means "skip it")
        return None


def submission_code(folder: Path) -> str | None:
    """Solution code of every notebook in ``folder`` (sorted by name); None when none is readable."""
    notebooks = [read_notebook(path) for path in sorted(folder.glob("*.ipynb"))]
    readable = [solution_code(notebook) for notebook in notebooks if notebook is not None]
    return "\n".join(readable) if readable else None


def release_code(folder: Path) -> str:
    """The code of the released notebooks in ``folder`` ("" when there is no release).

    Each notebook's code cells, then its solution cells joined as
    :func:`solution_code` joins a student's (so that code spanning two
    untouched solution cells is boilerplate too).
    """
    notebooks = [read_notebook(path) for path in sorted(folder.glob("*.ipynb"))]
    return "\n".join(all_code(nb) + "\n" + solution_code(nb) for nb in notebooks if nb is not None)


def class_submissions(students_root: Path, assignment: str, past_term: str | None = None) -> list[Submission]:
    """The submissions laid out as ``<students_root>/<student>/<assignment>/*.ipynb``.

    A folder's name is the student id, whatever it holds (it is data: escaped
    in the page, a bound parameter in the database). Hidden folders, links and
    submissions without a readable notebook are left out.
    """
    found = []
    for folder in sorted(students_root.glob(f"*/{assignment}")):
        student = folder.parent.name
        if folder.is_symlink() or folder.parent.is_symlink() or student.startswith("."):
            continue
        code = submission_code(folder)
        if code is None:
            continue
        author = student if past_term is None else f"past:{past_term}/{student}"
        found.append(Submission(author, code, str(folder), past=past_term is not None))
    return found
