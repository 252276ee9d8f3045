"""Run a notebook's hidden checks against the notebook itself, without a gradebook.

For authors: every test cell of a source notebook must pass against its own
solution before the assignment is released.

Example::

    python -m gradebook_tools.grading.selfcheck source/ex01_response_only_sft/ex01_response_only_sft.ipynb
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from gradebook_tools.course.cells import is_graded_test_cell
from gradebook_tools.grading.execute import TrustedExecute


def selfcheck(path: Path, student: str = "selfcheck") -> list[tuple[str, bool, str]]:
    """``(grade_id, passed, verdict text)`` for every graded test cell of the notebook."""
    notebook = nbformat.read(path, as_version=4)
    notebook_id = path.stem
    resources = {
        "nbgrader": {"assignment": path.parent.name, "notebook": notebook_id, "student": student},
        "metadata": {"path": str(path.parent)},
    }
    executed, _ = TrustedExecute().preprocess(notebook, resources)
    results = []
    for cell in executed.cells:
        if is_graded_test_cell(cell):
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            passed = not any(o.output_type == "error" for o in cell.outputs)
            results.append((cell.metadata.nbgrader["grade_id"], passed, text))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a source notebook's solution against its hidden checks.")
    parser.add_argument("notebooks", nargs="+", type=Path, help="source notebooks (source/<id>/<id>.ipynb)")
    parser.add_argument("--student", default="selfcheck", help="student id that seeds the hidden inputs")
    args = parser.parse_args(argv)
    failures = 0
    for path in args.notebooks:
        for grade_id, passed, text in selfcheck(path, args.student):
            failures += not passed
            print(f"{'PASS' if passed else 'FAIL'} {path.stem} {grade_id}")
            if not passed:
                print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
